"""The fault matrix: each failure the sandbox can inject, through the export, the move and the sensor.

For each case a task either completes with the right data or fails with one of the provider's typed
errors; retried (as Airflow would, up to ``ATTEMPTS`` tries) it completes; and afterwards no metadata
key is missing or blanked, no history note is doubled, and no order was moved twice. The module prints
a table of what it measured; ``make reliability`` shows it.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from airflow_orderdesk.exceptions import OrderDeskError
from airflow_orderdesk.hooks.orderdesk import OrderDeskHook
from airflow_orderdesk.operators.orderdesk import OrderDeskExportOperator, OrderDeskMoveOrderOperator
from airflow_orderdesk.sandbox import SandboxServer, SandboxSettings
from airflow_orderdesk.sensors.orderdesk import OrderDeskOrderSensor
from tests.reliability.reporting import report

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

ATTEMPTS = 10
PREPARED = 21655
DATA = {
    "hiResUrl": "https://files.example.test/1001/print.pdf",
    "previewUrl": "https://files.example.test/p.png",
}
NOTE = "Print files delivered"
#: The orders of the demo store and the lookup value of one of their items, for batches.
BATCH = {"1001": "testId", "1002": "poster-1002", "10010": "testId-10010", "A-17b": "stickers-a17b"}


@dataclass(frozen=True)
class FaultCase:
    name: str
    config: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)


CASES = [
    FaultCase(
        "429 storm",
        {"burst": 1, "refill_per_second": 4.0},
        {"rate_limit_burst": 50, "rate_limit_per_second": 50},
    ),
    FaultCase("5xx bursts", {"fault_rate": 0.35, "fault_kinds": ("500", "502", "503")}),
    FaultCase(
        "5xx after the write",
        {"fault_rate": 0.35, "fault_kinds": ("500", "502", "503"), "fault_after_write": True},
    ),
    FaultCase(
        "slower than the timeout",
        {"fault_rate": 0.25, "fault_kinds": ("slow",), "slow_seconds": 1.6},
        {"timeout": 1},
    ),
    FaultCase("dropped connections", {"fault_rate": 0.3, "fault_kinds": ("drop",)}),
    FaultCase(
        "dropped after the write", {"fault_rate": 0.3, "fault_kinds": ("drop",), "fault_after_write": True}
    ),
    FaultCase(
        "malformed JSON and HTML pages", {"fault_rate": 0.3, "fault_kinds": ("malformed_json", "html_error")}
    ),
    # Order Desk refuses such a request for good, so each one fails the task: a gentler rate, as in life.
    FaultCase("error status under HTTP 200", {"fault_rate": 0.15, "fault_kinds": ("error_200",)}),
]


@dataclass
class Measured:
    case: str
    task: str
    attempts: int = 0
    typed_failures: int = 0
    faults_injected: int = 0
    keys_lost: int = 0
    notes_doubled: int = 0
    moves_doubled: int = 0


RESULTS: list[Measured] = []


@pytest.fixture(scope="module", autouse=True)
def _report_the_matrix(pytestconfig: pytest.Config) -> Iterator[None]:
    """After the module, print what it measured in pytest's own summary, where ``-s`` is not needed."""
    yield
    if not RESULTS:
        return
    header = (
        "case",
        "task",
        "tries",
        "typed failures",
        "faults",
        "keys lost",
        "notes doubled",
        "moves doubled",
    )
    rows = [
        (
            r.case,
            r.task,
            str(r.attempts),
            str(r.typed_failures),
            str(r.faults_injected),
            str(r.keys_lost),
            str(r.notes_doubled),
            str(r.moves_doubled),
        )
        for r in RESULTS
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in [header, *rows]
    ]
    total = sum(r.faults_injected for r in RESULTS)
    lost = sum(r.keys_lost for r in RESULTS)
    doubled = sum(r.notes_doubled + r.moves_doubled for r in RESULTS)
    lines.append(
        f"{len(RESULTS)} runs, {total} faults injected and survived, {lost} keys lost, {doubled} doubled"
    )
    report(pytestconfig, "Fault matrix", lines)


class TaskInstance:
    """The part of a task instance the operators use; the same identity on every try, as in Airflow."""

    dag_id, run_id, map_index = "fault_matrix", "manual__faults", -1

    def __init__(self, task_id: str) -> None:
        self.task_id = task_id

    def xcom_push(self, key: str, value: Any) -> None: ...


def _with_retries(measured: Measured, attempt: Callable[[], Any]) -> Any:
    """Run a task the way Airflow would: a typed failure is retried, anything else is a bug."""
    last: OrderDeskError | None = None
    for _number in range(ATTEMPTS):
        measured.attempts += 1
        try:
            return attempt()
        except OrderDeskError as error:
            measured.typed_failures += 1
            last = error
    pytest.fail(f"{measured.case} / {measured.task}: still failing after {ATTEMPTS} tries: {last!r}")


def _applied(record: dict[str, Any], after_write: bool) -> bool:
    """Whether the sandbox carried a logged request out, whatever answer the client got."""
    if record["status"] == 429:
        return False
    if record["fault"] is None:
        return 200 <= record["status"] < 300
    return record["fault"] == "slow" or after_write


def _faults(sandbox: SandboxServer) -> int:
    return sum(1 for r in sandbox.requests() if r["fault"] is not None or r["status"] == 429)


@pytest.fixture
def faulty(
    sandbox: SandboxServer, make_connection: Callable[..., str], request: pytest.FixtureRequest
) -> Iterator[tuple[FaultCase, str]]:
    case: FaultCase = request.param
    extra = {"rate_limit_burst": 100000, "rate_limit_per_second": 100000, **case.extra}
    conn_id = make_connection(extra=extra)
    sandbox.configure(fault_seed=2026, **case.config)
    yield case, conn_id
    sandbox.configure(fault_rate=0.0, fault_after_write=False)
    # A slow request the client gave up on is still carried out later; let it land before the next
    # test resets the store, or it would write into that test's fresh data.
    time.sleep(case.config.get("slow_seconds", 0))


#: The demo store's orders of ``BATCH``, by internal id.
BATCH_ORDER_IDS = (925086, 925087, 925088, 925089, 925090)


def _matching_items(sandbox: SandboxServer) -> dict[tuple[int, int], dict[str, Any]]:
    """The items ``BATCH`` writes to, as the sandbox stores them, by (order id, item id)."""
    items = {}
    for order_id in BATCH_ORDER_IDS:
        order = sandbox.sandbox.state.get_order(order_id)
        for item in order["order_items"]:
            if BATCH.get(order["source_id"]) == (item.get("metadata") or {}).get("testIdField"):
                items[(order_id, int(item["id"]))] = dict(item)
    return items


@pytest.mark.parametrize("faulty", CASES, ids=[c.name for c in CASES], indirect=True)
def test_the_export_completes_or_fails_typed_and_loses_nothing(
    sandbox: SandboxServer, faulty: tuple[FaultCase, str]
) -> None:
    case, conn_id = faulty
    measured = Measured(case.name, "export x4")
    before = _matching_items(sandbox)
    for source_id, lookup_value in BATCH.items():
        operator = OrderDeskExportOperator(
            task_id=f"export_{source_id}",
            orderdesk_conn_id=conn_id,
            order_lookup_id=source_id,
            order_item_lookup_name="testIdField",
            order_item_lookup_value=lookup_value,
            data=DATA,
            history_note=NOTE,
        )
        _with_retries(measured, lambda op=operator: op.execute({"ti": TaskInstance(op.task_id)}))

    after = _matching_items(sandbox)
    for key, item in before.items():
        expected = {**item["metadata"], **DATA}
        measured.keys_lost += sum(1 for k, v in expected.items() if after[key]["metadata"].get(k) != v)
        assert after[key]["metadata"] == expected
        assert {k: v for k, v in after[key].items() if k != "metadata"} == {
            k: v for k, v in item.items() if k != "metadata"
        }
    for order_id in {order_id for order_id, _item_id in before}:
        notes = [h["note"] for h in sandbox.sandbox.state.get_order(order_id).get("order_history") or []]
        measured.notes_doubled += max(0, notes.count(NOTE) - 1)
        assert notes.count(NOTE) <= 1
    measured.faults_injected = _faults(sandbox)
    RESULTS.append(measured)


@pytest.mark.parametrize("faulty", CASES, ids=[c.name for c in CASES], indirect=True)
def test_the_move_completes_or_fails_typed_and_moves_once(
    sandbox: SandboxServer, faulty: tuple[FaultCase, str]
) -> None:
    case, conn_id = faulty
    measured = Measured(case.name, "move x4")
    to_move = [
        str(order_id)
        for order_id in BATCH_ORDER_IDS
        if int(sandbox.sandbox.state.get_order(order_id)["folder_id"]) != PREPARED
    ]
    for source_id in BATCH:
        operator = OrderDeskMoveOrderOperator(
            task_id=f"move_{source_id}", orderdesk_conn_id=conn_id, order_lookup_id=source_id
        )
        _with_retries(measured, lambda op=operator: op.execute({"ti": TaskInstance(op.task_id)}))

    after_write = bool(case.config.get("fault_after_write"))
    moves = [
        r for r in sandbox.requests(method="POST", path_prefix="/move-orders") if _applied(r, after_write)
    ]
    moved_ids = [order_id for r in moves for order_id in r["body"]["order_id_list"]]
    for order_id in BATCH_ORDER_IDS:
        assert int(sandbox.sandbox.state.get_order(order_id)["folder_id"]) == PREPARED
    measured.moves_doubled = len(moved_ids) - len(set(moved_ids))
    assert sorted(moved_ids) == sorted(to_move)
    measured.faults_injected = _faults(sandbox)
    RESULTS.append(measured)


@pytest.mark.parametrize("faulty", CASES, ids=[c.name for c in CASES], indirect=True)
def test_the_sensor_finds_the_order_through_the_faults(
    sandbox: SandboxServer, faulty: tuple[FaultCase, str]
) -> None:
    case, conn_id = faulty
    measured = Measured(case.name, "sensor")
    sensor = OrderDeskOrderSensor(
        task_id="wait", orderdesk_conn_id=conn_id, order_lookup_id="A-17b", poke_interval=0.1, timeout=60
    )

    def poke_until_found() -> list[str]:
        for _ in range(10):
            found = sensor.poke({})  # type: ignore[arg-type]
            if found.is_done:
                return list(found.xcom_value)
        raise AssertionError("the order was not found in 10 pokes")

    assert _with_retries(measured, poke_until_found) == ["925090"]
    measured.faults_injected = _faults(sandbox)
    RESULTS.append(measured)


def test_a_batch_survives_the_sandbox_stopping_and_restarting_midway(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = SandboxSettings(db=str(tmp_path / "store.sqlite"), burst=0, refill_per_second=0)
    server = SandboxServer(settings).start()
    port, measured = server.port, Measured("stopped and restarted midway", "export batch")
    monkeypatch.setenv(
        "AIRFLOW_CONN_ORDERDESK_RESTART",
        json.dumps(
            {
                "conn_type": "orderdesk",
                "host": server.api_url,
                "login": server.store_id,
                "password": server.api_key,
            }
        ),
    )
    replacement: list[SandboxServer] = []

    def restart_after_the_first_export() -> None:
        while not any(r["method"] == "PUT" for r in server.requests()):
            time.sleep(0.01)
        server.stop()
        time.sleep(1.5)
        # Same file, same port: demo data is only loaded into an empty store, so the writes are kept.
        replacement.append(SandboxServer(settings, port=port).start())

    restarter = threading.Thread(target=restart_after_the_first_export, daemon=True)
    restarter.start()
    try:
        for source_id, lookup_value in BATCH.items():
            operator = OrderDeskExportOperator(
                task_id=f"export_{source_id}",
                orderdesk_conn_id="orderdesk_restart",
                order_lookup_id=source_id,
                order_item_lookup_name="testIdField",
                order_item_lookup_value=lookup_value,
                data={"hiResUrl": f"https://files.example.test/{source_id}.pdf"},
            )
            _with_retries(measured, lambda op=operator: op.execute({"ti": TaskInstance(op.task_id)}))
        restarter.join(timeout=30)
        assert len(replacement) == 1
        hook = OrderDeskHook("orderdesk_restart")
        for source_id, lookup_value in BATCH.items():
            items = [
                item
                for order in hook.find_orders_by_source_id(source_id)
                for item in order["order_items"]
                if item["metadata"].get("testIdField") == lookup_value
            ]
            assert items
            for item in items:
                assert item["metadata"]["hiResUrl"] == f"https://files.example.test/{source_id}.pdf"
    finally:
        server.close()
        for running in replacement:
            running.close()
    RESULTS.append(measured)
