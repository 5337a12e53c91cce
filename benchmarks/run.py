"""
The provider's benchmark: how many requests an export costs and how much of the rate limit it uses.

Every figure is measured against the local Order Desk sandbox over real HTTP, for two buckets: Order
Desk's own limit (a burst of 20, then 3 requests a second) and a scaled one (200, then 60 a second)
that shows whether the client itself keeps up. The connection's rate figures always match the
sandbox's. Requests are counted from the sandbox's request log, so nothing the client does is missed.

Run it with ``make benchmark`` or ``python benchmarks/run.py [--quick] [--items N]``; a full run takes
about twenty minutes, most of it at Order Desk's real limit, and ``--quick`` about four.
docs/performance.md explains the columns and reads the figures.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from importlib import metadata
from typing import TYPE_CHECKING, Any

import requests

if TYPE_CHECKING:
    from collections.abc import Callable
    from multiprocessing.queues import Queue
    from multiprocessing.synchronize import Barrier

    from airflow_orderdesk.hooks.orderdesk import OrderDeskHook
    from airflow_orderdesk.sandbox import SandboxServer

__all__ = ["BUCKETS", "Bucket", "main"]

#: Where the hook finds its connection: Airflow reads ``AIRFLOW_CONN_<ID>`` for ``orderdesk_default``.
CONNECTION_VARIABLE = "AIRFLOW_CONN_ORDERDESK_DEFAULT"

#: The folder every seeded order is in, and the name the batch searches by.
NEW_FOLDER_ID, NEW_FOLDER_NAME = 21654, "New"

#: The metadata key that identifies each seeded item, as a Customer's Canvas shop writes it.
LOOKUP_KEY = "testIdField"

WORKERS = 4

#: A verified export waits a second after writing, for any concurrent write to land, so a loop of
#: them runs at about one export a second whatever the bucket. More exports than this would only make
#: the run longer, not the figure more exact; ``--quick`` runs a quarter of it.
MOST_VERIFIED_LOOP_EXPORTS = 150

#: A steady window shorter than this says more about timing noise than about pacing.
SHORTEST_STEADY_WINDOW = 3.0

#: Fresh interpreters per variant when timing imports; the median of this many is stable to a few %.
IMPORT_RUNS = 15

TARGET_SINGLE_REQUESTS = 2.0
TARGET_BATCH_REQUESTS = 1.05
TARGET_EFFICIENCY = 0.95
TARGET_REJECTED_SHARE = 0.01
TARGET_IMPORT_RATIO = 1.10


@dataclass(frozen=True)
class Bucket:
    """
    A rate limit the sandbox enforces and the connection declares.

    :param name: how the table names it.
    :param burst: requests the store may send at once.
    :param refill_per_second: requests per second after the burst.
    :param items: entries per row in a full run.
    :param quick_items: entries per row with ``--quick``.
    """

    name: str
    burst: int
    refill_per_second: float
    items: int
    quick_items: int


BUCKETS = (
    Bucket("Order Desk: 20, 3/s", burst=20, refill_per_second=3.0, items=150, quick_items=40),
    Bucket("scaled: 200, 60/s", burst=200, refill_per_second=60.0, items=600, quick_items=160),
)


@dataclass(frozen=True)
class Scenario:
    """
    One way of exporting the entries, and the targets that apply to it.

    :param name: how the table names it.
    :param requests_per_export: the most requests an export may cost, or ``None`` for no target.
    :param no_writes: whether every item is already up to date, so not a single PUT may be sent.
    :param paced: whether the pacing targets apply: sustained rate, no failed export, few 429s.
    :param verified: whether the exports read their orders back (``verify_writes``). The request
        targets price a lookup and a write; a verified row's figure also holds the read-back and the
        reads that keep each write within a second of its data, so it is shown without a target.
    :param rejections_judged: whether the 429 target applies. It is set for processes of one machine,
        which share one bucket; workers on several machines find the store's rate through 429s.
    :param rate_judged: whether the efficiency target applies. A loop of verified single exports waits
        a second after each write by design, so its rate says nothing about pacing.
    """

    name: str
    requests_per_export: float | None = None
    no_writes: bool = False
    paced: bool = True
    verified: bool = False
    rate_judged: bool = True
    rejections_judged: bool = True


SINGLE_UNVERIFIED = Scenario("single exports, verify_writes=False", TARGET_SINGLE_REQUESTS)
SINGLE_VERIFIED = Scenario("single exports, verify_writes=True", verified=True, rate_judged=False)
BATCH_UNVERIFIED = Scenario("batch, verify_writes=False", TARGET_BATCH_REQUESTS)
BATCH_VERIFIED = Scenario("batch, verify_writes=True", verified=True)
BATCH_AGAIN = Scenario("same batch again, all up to date", no_writes=True, paced=False)
WORKERS_UNVERIFIED = Scenario(f"{WORKERS} workers, verify_writes=False", TARGET_SINGLE_REQUESTS)
WORKERS_VERIFIED = Scenario(f"{WORKERS} workers, verify_writes=True", verified=True, rate_judged=False)
WORKERS_APART = Scenario(
    f"{WORKERS} workers on {WORKERS} machines, verify_writes=False", rejections_judged=False
)
NAIVE = Scenario("naive loop: requests, no pacing", paced=False)


# -- the figures of one row ---------------------------------------------------------------------------


@dataclass
class Measurement:
    """
    What one row measured: the exports, their outcome, and every API request the sandbox received.

    :param bucket: the rate limit in force.
    :param scenario: how the entries were exported.
    :param exports: how many entries were exported.
    :param failed: how many of them do not hold their data in the sandbox afterwards.
    :param started: when the first export began.
    :param finished: when the last export ended.
    :param records: the sandbox's request log for the row.
    """

    bucket: Bucket
    scenario: Scenario
    exports: int
    failed: int
    started: datetime
    finished: datetime
    records: list[dict[str, Any]]

    @property
    def seconds(self) -> float:
        """The row's wall time."""
        return (self.finished - self.started).total_seconds()

    @property
    def rejected(self) -> int:
        """Answers that were 429."""
        return sum(1 for record in self.records if record["status"] == 429)

    @property
    def accepted(self) -> int:
        """Requests the sandbox let through its bucket."""
        return len(self.records) - self.rejected

    @property
    def puts(self) -> int:
        """Item writes the sandbox accepted."""
        return sum(1 for record in self.records if record["method"] == "PUT" and record["status"] != 429)

    def breakdown(self) -> str:
        """The requests by kind, for the progress line: what the row spent its requests on."""
        kinds: dict[str, int] = {}
        for record in self.records:
            kind = _kind(record)
            kinds[kind] = kinds.get(kind, 0) + 1
        return ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items()))

    def efficiency(self) -> float:
        """Accepted requests per second over the whole row, as a share of the refill rate."""
        return self.accepted / self.seconds / self.bucket.refill_per_second

    def steady_efficiency(self) -> tuple[float | None, str]:
        """
        The same share once the opening burst is spent, and what window it was measured over.

        The sandbox's bucket is replayed from the request log to find the moment it first ran dry;
        from then on no request could have gone faster than the refill rate. A row whose bucket never
        ran dry was never held back by it, so its whole run is its steady state.
        """
        dry_at = _first_dry_moment(self.records, self.bucket)
        if dry_at is None:
            return self.efficiency(), "whole row: never ran dry"
        window = (self.finished - dry_at).total_seconds()
        if window < SHORTEST_STEADY_WINDOW:
            return None, f"n/a: ran dry only {window:.1f} s before the end"
        accepted = sum(
            1
            for record in self.records
            if record["status"] != 429 and datetime.fromisoformat(record["time"]) > dry_at
        )
        return accepted / window / self.bucket.refill_per_second, f"last {window:.0f} s"


def _kind(record: dict[str, Any]) -> str:
    """What a logged request was, in the words the docs use."""
    if record["status"] == 429:
        return "429s"
    path = record["path"]
    if record["method"] == "PUT":
        return "item writes"
    if path == "/orders":
        return "searches"
    if "/order-items/" in path:
        return "item reads"
    if path.startswith("/orders/"):
        return "order reads"
    if path == "/store":
        return "store reads"
    return f"{record['method']} {path}"


def _first_dry_moment(records: list[dict[str, Any]], bucket: Bucket) -> datetime | None:
    """When the sandbox's bucket, full at the first request, first held less than one token."""
    tokens = float(bucket.burst)
    previous: datetime | None = None
    for record in records:
        arrived = datetime.fromisoformat(record["time"])
        if previous is not None:
            refill = max(0.0, (arrived - previous).total_seconds()) * bucket.refill_per_second
            tokens = min(float(bucket.burst), tokens + refill)
        previous = arrived
        if record["status"] == 429:
            return arrived
        tokens -= 1
        if tokens < 1:
            return arrived
    return None


# -- the sandbox and its orders ------------------------------------------------------------------------


def _entries(count: int) -> list[dict[str, Any]]:
    """The exports of a row: one per seeded order, each writing two links into the order's item."""
    return [
        {
            "order_lookup_id": f"BM-{number:05d}",
            "order_item_lookup_name": LOOKUP_KEY,
            "order_item_lookup_value": f"card-{number:05d}",
            "data": {
                "hiResUrl": f"https://files.example.com/renders/{number:05d}/print.pdf",
                "previewUrl": f"https://files.example.com/renders/{number:05d}/preview.png",
            },
        }
        for number in range(count)
    ]


def _seed(sandbox: SandboxServer, entries: list[dict[str, Any]]) -> dict[str, int]:
    """Start the store over with one order per entry, in New; returns each order number's id."""
    sandbox.reset(demo_data=False)
    order_ids = {}
    for entry in entries:
        order = sandbox.seed_order(
            {
                "source_id": entry["order_lookup_id"],
                "folder_id": NEW_FOLDER_ID,
                "order_items": [
                    {
                        "name": "Business cards, 250",
                        "code": "BC-250",
                        "price": 24.5,
                        "quantity": 1,
                        "metadata": {LOOKUP_KEY: entry["order_item_lookup_value"]},
                    }
                ],
            }
        )
        order_ids[entry["order_lookup_id"]] = int(order["id"])
    return order_ids


def _fill_buckets(sandbox: SandboxServer, bucket: Bucket) -> None:
    """Give the sandbox and this process a full bucket at ``bucket``'s figures."""
    from airflow_orderdesk import pacing

    # Setting the figures, even unchanged, gives the sandbox a new, full bucket.
    sandbox.configure(burst=bucket.burst, refill_per_second=bucket.refill_per_second)
    # The client's bucket is the machine's bucket file (and this process's handle on it); a machine that
    # has not talked to the store yet has no file and starts full, and so does each row here.
    pacing._buckets.clear()
    for stale in pacing.rate_limit_dir().glob("*.bucket"):
        stale.unlink()


def _count_failed(sandbox: SandboxServer, entries: list[dict[str, Any]], order_ids: dict[str, int]) -> int:
    """Entries whose item does not hold every key of their data, read straight from the sandbox's store."""
    failed = 0
    for entry in entries:
        order = sandbox.sandbox.state.get_order(order_ids[entry["order_lookup_id"]])
        stored = order["order_items"][0].get("metadata") or {}
        if any(stored.get(key) != value for key, value in entry["data"].items()):
            failed += 1
    return failed


def _connection(sandbox: SandboxServer, bucket: Bucket) -> str:
    """The ``orderdesk`` connection to the sandbox, declaring the bucket's figures."""
    return json.dumps(
        {
            "conn_type": "orderdesk",
            "host": sandbox.api_url,
            "login": sandbox.store_id,
            "password": sandbox.api_key,
            "extra": {"rate_limit_burst": bucket.burst, "rate_limit_per_second": bucket.refill_per_second},
        }
    )


def _quiet_log() -> logging.Logger:
    """The log the exports write to: warnings only, so the benchmark's own output stays readable."""
    log = logging.getLogger("benchmark.export")
    log.setLevel(logging.WARNING)
    return log


def _connected_hook() -> OrderDeskHook:
    """A hook whose connection is read and whose session is open, so a row times only the exports."""
    from airflow_orderdesk.hooks.orderdesk import OrderDeskHook

    hook = OrderDeskHook()
    hook.session  # noqa: B018 -- opening the session reads and checks the connection
    return hook


# -- the ways of exporting -----------------------------------------------------------------------------


def export_one_by_one(hook: OrderDeskHook, entries: list[dict[str, Any]], verify: bool) -> None:
    """A loop of single exports, as a task per order would run them; a failed export does not stop it."""
    from airflow_orderdesk.exceptions import OrderDeskError
    from airflow_orderdesk.export import ExportRequest, run_export

    log = _quiet_log()
    for entry in entries:
        try:
            run_export(hook, ExportRequest.from_arguments(**entry), log, verify_writes=verify)
        except OrderDeskError as error:
            log.warning("Export of %s failed: %s", entry["order_lookup_id"], error)


def export_in_one_batch(hook: OrderDeskHook, entries: list[dict[str, Any]], verify: bool) -> None:
    """One batch export of every entry, its orders found by a search of the New folder."""
    from airflow_orderdesk.batch import BatchSearch, parse_entries, run_batch_export
    from airflow_orderdesk.exceptions import OrderDeskError

    log = _quiet_log()
    try:
        run_batch_export(
            hook,
            parse_entries(entries, skip_empty_values=True),
            log,
            search=BatchSearch(folders=[NEW_FOLDER_NAME]),
            verify_writes=verify,
        )
    except OrderDeskError as error:
        log.warning("The batch failed: %s", error)


def export_by_hand(api_url: str, store_id: str, api_key: str, entries: list[dict[str, Any]]) -> None:
    """
    What a user would write without the provider: search, then write the merged metadata.

    A 429 is not handled, so it fails the export it answers, as it would in such a script.
    """
    session = requests.Session()
    session.headers.update({"ORDERDESK-STORE-ID": store_id, "ORDERDESK-API-KEY": api_key})
    for entry in entries:
        found = session.get(f"{api_url}/orders", params={"source_id": entry["order_lookup_id"]}, timeout=30)
        if found.status_code != 200:
            continue
        order = found.json()["orders"][0]
        for item in order["order_items"]:
            if item["metadata"].get(LOOKUP_KEY) == entry["order_item_lookup_value"]:
                item["metadata"] = {**item["metadata"], **entry["data"]}
                session.put(f"{api_url}/orders/{order['id']}/order-items/{item['id']}", json=item, timeout=30)


def worker(
    connection: str,
    entries: list[dict[str, Any]],
    verify: bool,
    start: Barrier,
    finished: Queue[float],
    bucket_dir: str | None = None,
) -> None:
    """
    One of the processes sharing the store: its share of single exports, begun with the others.

    :param bucket_dir: a bucket directory of its own, as a worker on another machine has.
    """
    os.environ[CONNECTION_VARIABLE] = connection
    if bucket_dir is not None:
        os.environ["ORDERDESK_RATE_LIMIT_DIR"] = bucket_dir
    hook = _connected_hook()
    start.wait(timeout=300)
    export_one_by_one(hook, entries, verify)
    finished.put(time.time())


def _export_in_workers(
    connection: str, entries: list[dict[str, Any]], verify: bool, apart: bool = False
) -> tuple[float, float]:
    """
    Run the entries in :data:`WORKERS` spawned processes at once; returns when they began and ended.

    :param apart: give each process a bucket directory of its own, as if each ran on its own machine.
    """
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(WORKERS + 1)
    finished: Queue[float] = context.Queue()
    processes = [
        context.Process(
            target=worker,
            args=(connection, entries[n::WORKERS], verify, start, finished),
            kwargs={"bucket_dir": tempfile.mkdtemp(prefix="orderdesk-benchmark-machine-") if apart else None},
        )
        for n in range(WORKERS)
    ]
    for process in processes:
        process.start()
    start.wait(timeout=300)
    began = time.time()
    ended = max(finished.get(timeout=3600) for _ in processes)
    for process in processes:
        process.join(timeout=60)
    if any(process.exitcode != 0 for process in processes):
        raise RuntimeError(f"a worker failed: exit codes {[process.exitcode for process in processes]}")
    return began, ended


# -- running the rows ----------------------------------------------------------------------------------


def _measure(
    sandbox: SandboxServer,
    bucket: Bucket,
    scenario: Scenario,
    entries: list[dict[str, Any]],
    run: Callable[[], tuple[float, float] | None],
    *,
    order_ids: dict[str, int] | None = None,
) -> Measurement:
    """
    Run one row from full buckets and collect its figures.

    :param run: exports the entries; returns when the work began and ended if it was not in this
        process, else ``None`` and the call itself is timed.
    :param order_ids: the orders from an earlier row, to run again on them; by default the store is
        seeded afresh.
    """
    if order_ids is None:
        order_ids = _seed(sandbox, entries)
    _fill_buckets(sandbox, bucket)
    already = len(sandbox.requests())
    began = time.time()
    timed = run()
    ended = time.time()
    if timed is not None:
        began, ended = timed
    measurement = Measurement(
        bucket=bucket,
        scenario=scenario,
        exports=len(entries),
        failed=_count_failed(sandbox, entries, order_ids),
        started=datetime.fromtimestamp(began, UTC),
        finished=datetime.fromtimestamp(ended, UTC),
        records=sandbox.requests()[already:],
    )
    print(
        f"  {scenario.name}: {measurement.exports} exports in {measurement.seconds:.1f} s, "
        f"{measurement.failed} failed; {len(measurement.records)} requests: {measurement.breakdown()}",
        file=sys.stderr,
        flush=True,
    )
    return measurement


def measure_bucket(
    sandbox: SandboxServer, bucket: Bucket, items: int, most_verified: int, only: str = ""
) -> list[Measurement]:
    """
    Every row at one bucket, each from a freshly seeded store and full buckets.

    :param items: entries per row.
    :param most_verified: the most entries the loop of verified single exports runs.
    :param only: run only the rows whose name contains this text.
    """
    print(f"{bucket.name}, {items} entries per row", file=sys.stderr, flush=True)
    os.environ[CONNECTION_VARIABLE] = _connection(sandbox, bucket)
    connection = os.environ[CONNECTION_VARIABLE]
    entries = _entries(items)
    verified_loop = entries[: min(items, most_verified)]
    # A fresh hook per row: a hook keeps the bucket it first used, and each row starts from a full one.
    plan: list[tuple[Scenario, list[dict[str, Any]], Callable[[], tuple[float, float] | None]]] = [
        (SINGLE_UNVERIFIED, entries, lambda: export_one_by_one(_connected_hook(), entries, False)),
        (SINGLE_VERIFIED, verified_loop, lambda: export_one_by_one(_connected_hook(), verified_loop, True)),
        (BATCH_UNVERIFIED, entries, lambda: export_in_one_batch(_connected_hook(), entries, False)),
        (BATCH_VERIFIED, entries, lambda: export_in_one_batch(_connected_hook(), entries, True)),
        (WORKERS_UNVERIFIED, entries, partial(_export_in_workers, connection, entries, False)),
        (WORKERS_VERIFIED, entries, partial(_export_in_workers, connection, entries, True)),
        (WORKERS_APART, entries, partial(_export_in_workers, connection, entries, False, apart=True)),
        (
            NAIVE,
            entries,
            partial(export_by_hand, sandbox.api_url, sandbox.store_id, sandbox.api_key, entries),
        ),
    ]
    rows: list[Measurement] = []
    for scenario, row_entries, run in plan:
        if scenario is BATCH_VERIFIED and only in BATCH_VERIFIED.name + BATCH_AGAIN.name:
            # The same batch, run again on the orders it has just written: every item is up to date.
            order_ids = _seed(sandbox, entries)
            for paired in (BATCH_VERIFIED, BATCH_AGAIN):
                rows.append(_measure(sandbox, bucket, paired, entries, run, order_ids=order_ids))
        elif only in scenario.name:
            rows.append(_measure(sandbox, bucket, scenario, row_entries, run))
    return rows


# -- import cost ---------------------------------------------------------------------------------------

_TIMED_IMPORT = "import time; t = time.perf_counter(); {imports}; print(time.perf_counter() - t)"
_AIRFLOW_ONLY = "import airflow.sdk"
_WITH_PROVIDER = "import airflow.sdk; import airflow_orderdesk.operators.orderdesk"

#: Imports every module of the provider with connecting refused, and prints each attempt it saw.
_NO_CONNECTION_ON_IMPORT = """
import importlib, json, pkgutil, socket
attempts = []
def refuse(self, address, *args):
    attempts.append(repr(address))
    raise OSError("importing the provider must not open a connection")
socket.socket.connect = refuse
socket.socket.connect_ex = refuse
import airflow_orderdesk
modules = [m.name for m in pkgutil.walk_packages(airflow_orderdesk.__path__, "airflow_orderdesk.")]
for name in modules:
    importlib.import_module(name)
print(json.dumps({"modules": len(modules), "attempts": attempts}))
"""


@dataclass(frozen=True)
class ImportCost:
    """
    What importing the provider costs on top of Airflow's task SDK, and whether it touches the network.

    :param airflow_only: median seconds to import ``airflow.sdk`` in a fresh interpreter.
    :param with_provider: median seconds to import it and the provider's operators.
    :param modules: how many provider modules were imported with connecting refused.
    :param connection_attempts: the addresses they tried to connect to; empty is right.
    :param runs: fresh interpreters per variant.
    """

    airflow_only: float
    with_provider: float
    modules: int
    connection_attempts: list[str]
    runs: int

    @property
    def ratio(self) -> float:
        """How many times longer the import takes with the provider."""
        return self.with_provider / self.airflow_only


def _python(code: str, env: dict[str, str]) -> str:
    """Run ``code`` in a fresh interpreter of this environment and return what it printed."""
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300, check=True
    )
    return done.stdout.strip().splitlines()[-1]


def measure_import_cost(runs: int) -> ImportCost:
    """Time both imports in alternating fresh interpreters, after one unrecorded run of each."""
    print(f"import cost, {runs} fresh interpreters each", file=sys.stderr, flush=True)
    env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW_CONN_")}
    airflow_only: list[float] = []
    with_provider: list[float] = []
    for run in range(runs + 1):
        for imports, times in ((_AIRFLOW_ONLY, airflow_only), (_WITH_PROVIDER, with_provider)):
            seconds = float(_python(_TIMED_IMPORT.format(imports=imports), env))
            if run:
                times.append(seconds)
    checked = json.loads(_python(_NO_CONNECTION_ON_IMPORT, env))
    return ImportCost(
        airflow_only=statistics.median(airflow_only),
        with_provider=statistics.median(with_provider),
        modules=checked["modules"],
        connection_attempts=checked["attempts"],
        runs=runs,
    )


# -- the table -----------------------------------------------------------------------------------------

COLUMNS = (
    "bucket",
    "row",
    "exports",
    "time s",
    "exports/s",
    "requests/export",
    "PUTs",
    "429s (share)",
    "failed",
    "efficiency, whole row",
    "efficiency, steady",
)


def _checked(figure: str, target: str | None, met: bool) -> str:
    """A figure with its target beside it, marked when it misses."""
    if target is None:
        return figure
    return f"{figure} ({target})" if met else f"{figure} ({target}) MISSED"


def _row_cells(row: Measurement) -> list[str]:
    """One measurement as table cells, each target beside its figure."""
    scenario = row.scenario
    requests_made = len(row.records)
    per_export = requests_made / row.exports
    share = row.rejected / requests_made if requests_made else 0.0
    steady, window = row.steady_efficiency()
    limit = scenario.requests_per_export
    paced = scenario.paced
    rate_judged = paced and scenario.rate_judged
    whole_cell = f"{row.efficiency():.0%}"
    steady_cell = f"{window}" if steady is None else f"{steady:.0%}, {window}"
    if row.seconds < SHORTEST_STEADY_WINDOW:
        # A row this short is all burst: a rate over it says nothing, and there is no target to miss.
        whole_cell, steady_cell = "n/a", f"n/a: row under {SHORTEST_STEADY_WINDOW:g} s"
        rate_judged = False
    return [
        row.bucket.name,
        scenario.name,
        str(row.exports),
        f"{row.seconds:.1f}",
        f"{(row.exports - row.failed) / row.seconds:.2f}",
        _checked(
            f"{per_export:.3f}" + (" (with read-back)" if scenario.verified else ""),
            None if limit is None else f"≤ {limit:g}",
            per_export <= (limit or 0),
        ),
        _checked(str(row.puts), "= 0" if scenario.no_writes else None, row.puts == 0),
        _checked(
            f"{row.rejected} ({share:.1%})",
            "< 1%" if paced and scenario.rejections_judged else None,
            share < TARGET_REJECTED_SHARE,
        ),
        _checked(str(row.failed), "= 0" if paced else None, row.failed == 0),
        whole_cell,
        _checked(
            steady_cell,
            f"≥ {TARGET_EFFICIENCY:.0%}" if rate_judged else None,
            steady is not None and steady >= TARGET_EFFICIENCY,
        ),
    ]


def _import_cells(cost: ImportCost) -> list[str]:
    """The import cost as a row of the same table, its two medians in the time column."""
    attempts = ", ".join(cost.connection_attempts) or "none"
    return [
        "-",
        f"import airflow.sdk / and the operators (medians of {cost.runs})",
        "-",
        f"{cost.airflow_only:.2f} / {cost.with_provider:.2f}",
        "-",
        _checked(
            f"ratio {cost.ratio:.2f}", f"≤ {TARGET_IMPORT_RATIO:.2f}", cost.ratio <= TARGET_IMPORT_RATIO
        ),
        "-",
        "-",
        "-",
        _checked(
            f"connections opened importing {cost.modules} modules: {attempts}",
            "none",
            not cost.connection_attempts,
        ),
        "-",
    ]


def render_table(rows: list[list[str]]) -> str:
    """A Markdown table, its columns padded so it also reads as plain text."""
    table = [list(COLUMNS), *rows]
    widths = [max(len(line[column]) for line in table) for column in range(len(COLUMNS))]
    lines = [
        "| " + " | ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)) + " |"
        for line in table
    ]
    lines.insert(1, "| " + " | ".join("-" * width for width in widths) + " |")
    return "\n".join(lines)


def machine() -> str:
    """The line that says what the figures were measured on."""
    return (
        f"Machine: {os.cpu_count()} cores, {platform.platform()}, Python {platform.python_version()}, "
        f"Airflow {metadata.version('apache-airflow')}"
    )


# -- the command ---------------------------------------------------------------------------------------


def _use_throwaway_airflow_home() -> None:
    """
    Point Airflow at an empty home before anything imports it, so no developer's home is touched.

    The worker processes inherit the environment, so they use the same home and log only warnings,
    like this process: a line per rate-limit wait would bury the figures.
    """
    os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="orderdesk-benchmark-airflow-")
    # The workers share their rate-limit bucket through files in this directory, as on a real machine.
    os.environ["ORDERDESK_RATE_LIMIT_DIR"] = tempfile.mkdtemp(prefix="orderdesk-benchmark-buckets-")
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "WARNING"


def main(argv: list[str] | None = None) -> int:
    """Measure every row, then print the table, the machine, and how the steady figures are taken."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer entries per row, for a run of minutes")
    parser.add_argument("--items", type=int, help="entries per row at both buckets")
    parser.add_argument("--only", default="", help="run only the rows whose name contains this text")
    arguments = parser.parse_args(argv)
    if arguments.items is not None and arguments.items < WORKERS:
        parser.error(f"--items must be at least {WORKERS}, one per worker")

    _use_throwaway_airflow_home()
    from airflow_orderdesk.sandbox import SandboxServer, SandboxSettings

    started = time.monotonic()
    rows: list[list[str]] = []
    most_verified = MOST_VERIFIED_LOOP_EXPORTS // 4 if arguments.quick else MOST_VERIFIED_LOOP_EXPORTS
    first = BUCKETS[0]
    settings = SandboxSettings(burst=first.burst, refill_per_second=first.refill_per_second, demo_data=False)
    with SandboxServer(settings) as sandbox:
        for bucket in BUCKETS:
            items = arguments.items or (bucket.quick_items if arguments.quick else bucket.items)
            measured = measure_bucket(sandbox, bucket, items, most_verified, arguments.only)
            rows.extend(_row_cells(row) for row in measured)
    rows.append(_import_cells(measure_import_cost(5 if arguments.quick else IMPORT_RUNS)))

    print()
    print(render_table(rows))
    print()
    print(machine())
    print(
        "Efficiency = requests the sandbox accepted per second / the bucket's refill rate. 'Whole row' "
        "includes the opening burst, so it can pass 100%; 'steady' excludes it: it counts from the moment "
        "the sandbox's bucket first ran dry (replayed from its request log) to the row's end."
    )
    print(f"Total run time: {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
