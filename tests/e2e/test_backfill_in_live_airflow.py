"""
End to end: the sample DAGs in a real ``airflow standalone``, exporting into a sandbox in its own process.

One Airflow (scheduler, DAG processor, triggerer, API server, LocalExecutor workers) and one
``orderdesk-sandbox`` run for the whole module, in a throw-away ``AIRFLOW_HOME``, started by the same
code as ``make airflow`` (``scripts/local_airflow.py``). Everything is driven through the REST API, as
a user would from the UI:

- a three-day backfill of ``orderdesk_render_and_export`` (daily cadence) renders every printable item
  of the orders seeded on those days, writes the links into Order Desk and moves the orders to Prepared;
- backfilling the same days again with "All Runs" writes nothing;
- a triggered ``orderdesk_export_on_render`` run writes exactly one item.

The module takes about 90 s on two idle cores (2 to 3 minutes when other test runs share them).
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest
import requests

from scripts.local_airflow import (
    AirflowClient,
    SandboxProcess,
    admin_password,
    airflow_environment,
    bearer_token,
    free_port,
    log_tail,
    prepare_metadata_db,
    start_sandbox,
    start_standalone,
    stop_process_group,
    wait_until_healthy,
)

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

# Part of every plain `pytest` run (and so of `make test`). The module's Airflow starts inside the first
# test's time, so each test may take longer than the suite's default 300 s; the waits below are shorter.
pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

RENDER_DAG = "orderdesk_render_and_export"
TRIGGERED_DAG = "orderdesk_export_on_render"
LOOKUP_KEY = "testIdField"
PRINT_KEY, PREVIEW_KEY = "hiResUrl", "previewUrl"
NEW_FOLDER, PREPARED_FOLDER = 21654, 21655
PDF_SIGNATURE, PNG_SIGNATURE = b"%PDF", b"\x89PNG\r\n\x1a\n"

#: Seconds allowed for a backfill's runs to finish, and for the scheduler to mark the backfill complete
#: (it looks every 30 s) so that the next one may start.
RUNS_TIMEOUT = 360.0
BACKFILL_COMPLETION_TIMEOUT = 90.0

#: Orders for each of the three backfilled days: the UTC time each was placed and how many printable
#: items it has. The store's time zone is New York, so the times near midnight UTC fall on the previous
#: local day: a run that forgot to translate its interval would hand them to the wrong day or drop them.
DAY_PLANS: tuple[tuple[tuple[str, int], ...], ...] = (
    (("00:20:00", 2), ("13:05:00", 1), ("23:40:00", 2)),
    (("04:00:00", 1), ("18:30:00", 2)),
    (("09:10:00", 2), ("23:55:00", 1)),
)
#: The day before the backfill, half an hour before midnight UTC: inside the first run's search window,
#: which is widened by an hour for daylight-saving changes, but outside its interval.
OUTSIDE_ORDER_TIME = "23:30:00"

#: Task states that end the wait at once: a retry would only come after 30 s or more, and means a failure.
TASK_FAILURES = frozenset({"failed", "upstream_failed", "up_for_retry"})


# -- the sandbox, from outside -------------------------------------------------------------------------


class SandboxControl:
    """
    The sandbox's ``/_sandbox`` control routes and its ``/files/``, over HTTP.

    :param process: the running sandbox.
    :param files_dir: the folder it serves under ``/files/``.
    """

    def __init__(self, process: SandboxProcess, files_dir: Path) -> None:
        self.process = process
        self.files_dir = files_dir
        self.base_url = process.base_url
        self.files_url = f"{process.base_url}/files/"

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = requests.request(method, f"{self.base_url}/_sandbox{path}", timeout=30, **kwargs)
        response.raise_for_status()
        return response.json()

    def seed_order(self, order: dict[str, Any]) -> dict[str, Any]:
        """Store an order exactly as given; returns it as stored, with its new ids."""
        stored: dict[str, Any] = self._call("POST", "/orders", json=order)["order"]
        return stored

    def order(self, order_id: str) -> dict[str, Any]:
        """An order as stored, read past the API so that checking costs no logged request."""
        stored: dict[str, Any] = self._call("GET", f"/orders/{order_id}")["order"]
        return stored

    def requests(self, method: str | None = None, path_prefix: str | None = None) -> list[dict[str, Any]]:
        """The API requests received since the log was last cleared."""
        params = {key: value for key, value in (("method", method), ("path_prefix", path_prefix)) if value}
        records: list[dict[str, Any]] = self._call("GET", "/requests", params=params)["requests"]
        return records

    def clear_requests(self) -> None:
        """Empty the request log."""
        self._call("DELETE", "/requests")


@dataclass(frozen=True)
class SeededOrder:
    """
    An order the test put into the sandbox, as stored at that moment.

    :param day: the UTC day it was placed on.
    :param stored: the order document, items included.
    """

    day: date
    stored: dict[str, Any]

    @property
    def order_id(self) -> str:
        return str(self.stored["id"])

    @property
    def source_id(self) -> str:
        return str(self.stored["source_id"])

    @property
    def printable_items(self) -> list[dict[str, Any]]:
        """Items that carry the lookup key: the DAG renders and exports these."""
        return [item for item in self.stored["order_items"] if LOOKUP_KEY in item["metadata"]]

    @property
    def plain_items(self) -> list[dict[str, Any]]:
        """Items without the lookup key, which nothing may touch."""
        return [item for item in self.stored["order_items"] if LOOKUP_KEY not in item["metadata"]]


@dataclass(frozen=True)
class SeededStore:
    """
    What the sandbox holds for the tests.

    :param days: the three backfilled UTC days, oldest first.
    :param backfilled: the orders placed on those days.
    :param outside: an order just before the first day, which no backfill run may take.
    :param for_trigger: an order on a day no run covers, for the triggered export.
    """

    days: tuple[date, ...]
    backfilled: tuple[SeededOrder, ...]
    outside: SeededOrder
    for_trigger: SeededOrder


def _order_body(source_id: str, placed: datetime, printable: int) -> dict[str, Any]:
    """A shop order in New: ``printable`` business-card items with the lookup key, and gift wrap without."""
    items: list[dict[str, Any]] = [
        {
            "name": f"Business cards {number}",
            "code": "BC-350",
            "quantity": 250,
            "variation_list": {"Paper": "Matte 350gsm", "Corners": "Rounded"},
            "metadata": {LOOKUP_KEY: f"{source_id}-{number}", "ccProjectId": f"cc-{source_id}-{number}"},
        }
        for number in range(1, printable + 1)
    ]
    items.append({"name": "Gift wrap", "code": "GW-1", "quantity": 1, "metadata": {"giftNote": "Thank you!"}})
    return {
        "source_id": source_id,
        "folder_id": NEW_FOLDER,
        "date_added": placed.strftime("%Y-%m-%d %H:%M:%S"),
        "order_items": items,
    }


def _seed(
    sandbox: SandboxControl, source_id: str, day: date, time_of_day: str, printable: int
) -> SeededOrder:
    placed = datetime.combine(day, datetime.strptime(time_of_day, "%H:%M:%S").time(), tzinfo=UTC)
    return SeededOrder(day=day, stored=sandbox.seed_order(_order_body(source_id, placed, printable)))


# -- Airflow, from outside -----------------------------------------------------------------------------


@dataclass(frozen=True)
class LiveAirflow:
    """
    The running Airflow: its REST client, home and log.

    :param client: REST client with an admin token.
    :param home: the ``AIRFLOW_HOME``, where task logs are.
    :param log_path: ``airflow standalone``'s output.
    """

    client: AirflowClient
    home: Path
    log_path: Path

    @contextlib.contextmanager
    def explained_failures(self) -> Iterator[None]:
        """Attach the tail of the standalone's log to any failure inside the block."""
        try:
            yield
        except BaseException as error:
            # The API server's access log (our own polling, mostly) would drown everything else.
            tail = log_tail(self.log_path, 80, leave_out="[http.access]")
            error.add_note(f"--- tail of {self.log_path}, access log left out ---\n{tail}")
            raise

    def unpause(self, dag_id: str) -> None:
        self.client.request("PATCH", f"/dags/{dag_id}", json={"is_paused": False})

    def task_log(self, ti: dict[str, Any]) -> Path:
        """Where a task instance's log is, by Airflow's default ``log_filename_template``."""
        mapped = f"map_index={ti['map_index']}/" if ti["map_index"] >= 0 else ""
        return (
            self.home
            / "logs"
            / f"dag_id={ti['dag_id']}/run_id={ti['dag_run_id']}/task_id={ti['task_id']}"
            / f"{mapped}attempt={max(ti['try_number'], 1)}.log"
        )

    def _task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        answer = self.client.get(f"/dags/{dag_id}/dagRuns/{quote(run_id)}/taskInstances", limit=100)
        instances: list[dict[str, Any]] = answer["task_instances"]
        return instances

    def wait_for_runs(self, dag_id: str, run_ids: list[str], timeout: float = RUNS_TIMEOUT) -> None:
        """
        Wait until every run succeeded; fail at the first failed task, with its state and log.

        A failed task is reported at once rather than after its retries (30 s and more each).
        """
        deadline = time.monotonic() + timeout
        while True:
            runs = [self.client.get(f"/dags/{dag_id}/dagRuns/{quote(run_id)}") for run_id in run_ids]
            if all(run["state"] == "success" for run in runs):
                return
            unfinished = [run for run in runs if run["state"] != "success"]
            instances = [ti for run in unfinished for ti in self._task_instances(dag_id, run["dag_run_id"])]
            broken = [ti for ti in instances if ti["state"] in TASK_FAILURES]
            if broken or any(run["state"] == "failed" for run in runs):
                pytest.fail(self._describe_failure(runs, instances, broken))
            if time.monotonic() > deadline:
                state = self._describe_failure(runs, instances, [])
                pytest.fail(f"runs not finished after {timeout:.0f} s:\n{state}")
            time.sleep(2)

    def _describe_failure(
        self, runs: list[dict[str, Any]], instances: list[dict[str, Any]], broken: list[dict[str, Any]]
    ) -> str:
        lines = [f"run {run['dag_run_id']}: {run['state']}" for run in runs]
        lines += [
            f"  {ti['dag_run_id']} {ti['task_id']}[{ti['map_index']}] {ti['state']} (try {ti['try_number']})"
            for ti in instances
        ]
        for ti in broken:
            log = self.task_log(ti)
            lines += [
                f"--- {ti['task_id']}[{ti['map_index']}] {ti['state']}: log {log} ---",
                log_tail(log, 40),
            ]
        return "\n".join(lines)

    def create_backfill(self, days: tuple[date, ...], reprocess_behavior: str) -> tuple[int, list[str]]:
        """
        Backfill ``orderdesk_render_and_export`` over ``days`` (whole UTC days); return its id and run ids.

        A CronTriggerTimetable picks a backfill's runs by their trigger time, which is the *end* of the data
        interval, while the logical date shown is its start: the day ``d`` is the run triggered at midnight
        after it. So from_date and to_date are the midnights after the first and the last day.
        """
        first_trigger = datetime.combine(days[0] + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
        last_trigger = datetime.combine(days[-1] + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
        backfill = self.client.request(
            "POST",
            "/backfills",
            json={
                "dag_id": RENDER_DAG,
                "from_date": first_trigger.isoformat(),
                "to_date": last_trigger.isoformat(),
                "reprocess_behavior": reprocess_behavior,
                "max_active_runs": 3,
            },
        )
        # The runs exist (for "completed": are cleared and queued again) as soon as the backfill does.
        all_runs = self.client.get(f"/dags/{RENDER_DAG}/dagRuns", limit=100)["dag_runs"]
        runs = [run for run in all_runs if _day_of(run["logical_date"]) in days]
        # One run per day, and of the backfill's own kind (not a scheduled run that took a day first).
        run_days = sorted(str(_day_of(run["logical_date"])) for run in runs)
        assert run_days == [str(day) for day in days], all_runs
        assert {run["run_type"] for run in runs} == {"backfill"}, runs
        return int(backfill["id"]), [str(run["dag_run_id"]) for run in runs]

    def finish_backfill(self, backfill_id: int, run_ids: list[str]) -> list[dict[str, Any]]:
        """Wait until the backfill's runs succeeded and it is closed; return the runs, oldest first."""
        self.wait_for_runs(RENDER_DAG, run_ids)
        self._wait_for_backfill_completion(backfill_id)
        runs = [self.client.get(f"/dags/{RENDER_DAG}/dagRuns/{quote(run_id)}") for run_id in run_ids]
        return sorted(runs, key=lambda run: str(run["logical_date"]))

    def _wait_for_backfill_completion(self, backfill_id: int) -> None:
        # Only one backfill per DAG may be open; the scheduler closes finished ones every 30 s.
        deadline = time.monotonic() + BACKFILL_COMPLETION_TIMEOUT
        while self.client.get(f"/backfills/{backfill_id}")["completed_at"] is None:
            if time.monotonic() > deadline:
                pytest.fail(f"backfill {backfill_id} not marked complete after its runs succeeded")
            time.sleep(2)

    def xcom(self, dag_id: str, run_id: str, task_id: str) -> Any:
        """A task's return value."""
        return self.client.get(
            f"/dags/{dag_id}/dagRuns/{quote(run_id)}/taskInstances/{task_id}/xcomEntries/return_value"
        )["value"]


def _day_of(moment: str | None) -> date | None:
    return None if moment is None else datetime.fromisoformat(moment).astimezone(UTC).date()


def _wait_for_dags(client: AirflowClient, dag_ids: tuple[str, ...], timeout: float = 120.0) -> None:
    """Wait until the DAG processor has parsed every DAG; fail with the import errors if it cannot."""
    deadline = time.monotonic() + timeout
    missing = list(dag_ids)
    while missing:
        errors = client.get("/importErrors")["import_errors"]
        if errors:
            pytest.fail(f"the sample DAGs do not import: {errors}")
        missing = []
        for dag_id in dag_ids:
            try:
                client.get(f"/dags/{dag_id}")
            except RuntimeError:
                missing.append(dag_id)
        if missing and time.monotonic() > deadline:
            pytest.fail(f"DAGs {missing} not parsed after {timeout:.0f} s")
        time.sleep(1)


# -- fixtures ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def e2e_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The module's AIRFLOW_HOME; the sandbox's log and the rendered files live in it too."""
    return tmp_path_factory.mktemp("e2e-airflow-home")


@pytest.fixture(scope="module")
def sandbox(e2e_home: Path) -> Iterator[SandboxControl]:
    """An ``orderdesk-sandbox`` process: empty store, no rate limit, serving the artifacts folder."""
    files_dir = e2e_home / "artifacts"
    process = start_sandbox(
        log_path=e2e_home / "sandbox.log", files_dir=files_dir, extra_args=["--burst", "0", "--no-demo-data"]
    )
    try:
        yield SandboxControl(process, files_dir)
    finally:
        process.stop()


@pytest.fixture(scope="module")
def seeded(sandbox: SandboxControl) -> SeededStore:
    """Orders on the three UTC days before today, one just before them, and one for the triggered run."""
    today = datetime.now(UTC).date()
    days = tuple(today - timedelta(days=back) for back in (3, 2, 1))
    backfilled = tuple(
        _seed(sandbox, f"E2E-{day:%m%d}-{number}", day, time_of_day, printable)
        for day, plan in zip(days, DAY_PLANS, strict=True)
        for number, (time_of_day, printable) in enumerate(plan, start=1)
    )
    outside = _seed(sandbox, "E2E-BEFORE", days[0] - timedelta(days=1), OUTSIDE_ORDER_TIME, 1)
    # Two days before the first backfilled day: no backfill or scheduled run of the test ever covers it.
    for_trigger = _seed(sandbox, "E2E-TRIGGER", days[0] - timedelta(days=2), "12:00:00", 2)
    return SeededStore(days=days, backfilled=backfilled, outside=outside, for_trigger=for_trigger)


@pytest.fixture(scope="module")
def airflow(e2e_home: Path, sandbox: SandboxControl, seeded: SeededStore) -> Iterator[LiveAirflow]:
    """``airflow standalone`` running the sample DAGs daily against the sandbox; stopped at the end."""
    api_port = free_port()
    api_url = f"http://127.0.0.1:{api_port}"
    log_path = e2e_home / "standalone.log"
    env = airflow_environment(
        e2e_home,
        sandbox=sandbox.process,
        artifacts_dir=sandbox.files_dir,
        api_port=api_port,
        cadence="daily",
    )
    prepare_metadata_db(env)
    started_at = datetime.now(UTC)
    standalone = start_standalone(env, log_path=log_path)
    try:
        wait_until_healthy(api_url, standalone, started_at=started_at, timeout=180, log_path=log_path)
        client = AirflowClient(api_url, bearer_token(api_url, admin_password(e2e_home)))
        live = LiveAirflow(client=client, home=e2e_home, log_path=log_path)
        with live.explained_failures():
            _wait_for_dags(client, (RENDER_DAG, TRIGGERED_DAG))
            timetable = client.get(f"/dags/{RENDER_DAG}")["timetable_summary"]
            assert "0 0 * * *" in timetable, (
                f"ORDERDESK_EXPORT_CADENCE=daily did not reach the DAG: {timetable}"
            )
        yield live
    finally:
        stop_process_group(standalone)


@pytest.fixture(scope="module")
def first_backfill(airflow: LiveAirflow, seeded: SeededStore) -> list[dict[str, Any]]:
    """The runs of a first backfill ("Missing Runs") over the three seeded days, all succeeded."""
    with airflow.explained_failures():
        # Created while the DAG is still paused: unpausing a daily DAG with catchup off at once schedules
        # its latest interval (yesterday), and a backfill of missing runs would then leave that day out.
        backfill_id, run_ids = airflow.create_backfill(seeded.days, "none")
        # Backfill runs only start once the DAG is unpaused.
        airflow.unpause(RENDER_DAG)
        return airflow.finish_backfill(backfill_id, run_ids)


# -- tests ---------------------------------------------------------------------------------------------


def _without_metadata(item: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in item.items() if key != "metadata"}


def _assert_served(sandbox: SandboxControl, url: str, signature: bytes) -> None:
    """The link opens: under the sandbox's ``/files/``, with the file the render wrote."""
    assert url.startswith(sandbox.files_url), url
    response = requests.get(url, timeout=30)
    assert response.status_code == 200, url
    assert response.content.startswith(signature), (url, response.content[:16])
    written = sandbox.files_dir / url.removeprefix(sandbox.files_url)
    assert written.is_file(), written
    assert written.read_bytes() == response.content


def test_backfill_renders_and_exports_every_seeded_day(
    airflow: LiveAirflow, sandbox: SandboxControl, seeded: SeededStore, first_backfill: list[dict[str, Any]]
) -> None:
    with airflow.explained_failures():
        # Each run covers exactly one seeded UTC day, and found exactly that day's printable items.
        for run, day in zip(first_backfill, seeded.days, strict=True):
            assert _day_of(run["data_interval_start"]) == day, run
            assert _day_of(run["data_interval_end"]) == day + timedelta(days=1), run
            found = airflow.xcom(RENDER_DAG, run["dag_run_id"], "find_items")
            assert sorted((entry["order"]["id"], entry["item"]["id"]) for entry in found) == sorted(
                (order.order_id, str(item["id"]))
                for order in seeded.backfilled
                if order.day == day
                for item in order.printable_items
            )

        for order in seeded.backfilled:
            stored = sandbox.order(order.order_id)
            assert stored["folder_id"] == PREPARED_FOLDER, order.source_id
            items = {str(item["id"]): item for item in stored["order_items"]}
            for seeded_item in order.printable_items:
                item = items[str(seeded_item["id"])]
                links = {key: item["metadata"].get(key) for key in (PRINT_KEY, PREVIEW_KEY)}
                # The links were added; every other key and field is as the shop left it.
                assert item["metadata"] == {**seeded_item["metadata"], **links}
                assert _without_metadata(item) == _without_metadata(seeded_item)
                _assert_served(sandbox, str(links[PRINT_KEY]), PDF_SIGNATURE)
                _assert_served(sandbox, str(links[PREVIEW_KEY]), PNG_SIGNATURE)
            for seeded_item in order.plain_items:
                assert items[str(seeded_item["id"])] == seeded_item

        # Found by the first run's search, which is widened by an hour, but placed before its interval.
        assert sandbox.order(seeded.outside.order_id) == seeded.outside.stored


def test_backfilling_the_same_days_again_writes_nothing(
    airflow: LiveAirflow, sandbox: SandboxControl, seeded: SeededStore, first_backfill: list[dict[str, Any]]
) -> None:
    with airflow.explained_failures():
        before = {order.order_id: sandbox.order(order.order_id) for order in seeded.backfilled}
        sandbox.clear_requests()

        # "All Runs" in the UI's backfill dialog: the completed runs are cleared and run once more.
        backfill_id, run_ids = airflow.create_backfill(seeded.days, "completed")
        assert sorted(run_ids) == sorted(run["dag_run_id"] for run in first_backfill)
        rerun = airflow.finish_backfill(backfill_id, run_ids)

        for again, first in zip(rerun, first_backfill, strict=True):
            assert datetime.fromisoformat(again["start_date"]) > datetime.fromisoformat(first["end_date"])
        searches = [record for record in sandbox.requests("GET", "/orders") if record["path"] == "/orders"]
        assert len(searches) >= len(seeded.days), "the runs did not search Order Desk again"

        item_puts = [record for record in sandbox.requests("PUT") if "/order-items/" in record["path"]]
        assert item_puts == []
        assert sandbox.requests("POST", "/move-orders") == []
        assert [record for record in sandbox.requests() if record["method"] != "GET"] == []
        assert {order.order_id: sandbox.order(order.order_id) for order in seeded.backfilled} == before


def test_triggered_export_writes_exactly_the_one_item(
    airflow: LiveAirflow, sandbox: SandboxControl, seeded: SeededStore
) -> None:
    order = seeded.for_trigger
    target = order.printable_items[0]
    print_url, preview_url = "https://example.test/p.pdf", "https://example.test/v.png"
    with airflow.explained_failures():
        # Asset-scheduled DAGs start paused too, and a paused DAG's triggered runs stay queued.
        airflow.unpause(TRIGGERED_DAG)
        before = sandbox.order(order.order_id)
        sandbox.clear_requests()

        run = airflow.client.request(
            "POST",
            f"/dags/{TRIGGERED_DAG}/dagRuns",
            json={
                "logical_date": None,
                "conf": {
                    "order_number": order.source_id,
                    "order_item_lookup_name": LOOKUP_KEY,
                    "order_item_lookup_value": target["metadata"][LOOKUP_KEY],
                    "print_url": print_url,
                    "preview_url": preview_url,
                },
            },
        )
        airflow.wait_for_runs(TRIGGERED_DAG, [run["dag_run_id"]])

        puts = sandbox.requests("PUT")
        assert [record["path"] for record in puts] == [f"/orders/{order.order_id}/order-items/{target['id']}"]
        after = sandbox.order(order.order_id)
        items_before = {str(item["id"]): item for item in before["order_items"]}
        items_after = {str(item["id"]): item for item in after["order_items"]}
        written = items_after.pop(str(target["id"]))
        assert written["metadata"] == {
            **items_before.pop(str(target["id"]))["metadata"],
            PRINT_KEY: print_url,
            PREVIEW_KEY: preview_url,
        }
        assert items_after == items_before
        assert after["folder_id"] == before["folder_id"]
