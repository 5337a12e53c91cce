"""Real DAG runs with ``dag.test()`` on a SQLite metadata database, exporting into the sandbox."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

import pytest

from tests.airflow_dags import TEST_DAGS, parse_dags
from tests.dags.orderdesk_test_dags import PREVIEW_URL, PRINT_URL

if TYPE_CHECKING:
    from airflow.sdk import DAG

    from airflow_orderdesk.sandbox import SandboxServer


@pytest.fixture(scope="session")
def dags() -> dict[str, DAG]:
    """The test DAGs, parsed by Airflow's DagBag against a freshly migrated metadata database."""
    return parse_dags(TEST_DAGS)


def _xcom(dag_id: str, task_id: str, key: str = "return_value") -> Any:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        row = (
            session.query(XComModel)
            .filter_by(dag_id=dag_id, task_id=task_id, key=key)
            .order_by(XComModel.timestamp.desc())
            .first()
        )
        return None if row is None else row.value


def _item(sandbox: SandboxServer, order_id: int = 925086, item_id: int = 1844721) -> dict[str, Any]:
    """An item as the sandbox stores it, read past the API so the check costs no request."""
    order = sandbox.sandbox.state.get_order(order_id)
    (item,) = [item for item in order["order_items"] if int(item["id"]) == item_id]
    return dict(item)


@pytest.mark.usefixtures("orderdesk_conn_id")
@pytest.mark.parametrize(
    "dag_id",
    [
        "export_fed_by_xcomarg",
        "export_fed_by_xcom_pull_text",
        "export_fed_by_xcom_pull_native",
        "export_whole_data_from_xcom_text",
    ],
)
def test_render_outputs_reach_the_item_metadata(
    dags: dict[str, DAG], sandbox: SandboxServer, dag_id: str
) -> None:
    run = dags[dag_id].test()
    assert run.state == "success"
    metadata = _item(sandbox)["metadata"]
    assert metadata["hiResUrl"] == PRINT_URL
    assert metadata["previewUrl"] == PREVIEW_URL
    assert metadata["testIdField"] == "testId"
    assert _xcom(dag_id, "export", "_link_OrderDeskOrderLink") == f"{sandbox.base_url}/orders/view/925086"
    assert _xcom(dag_id, "export")["totals"]["updated"] == 1


@pytest.mark.usefixtures("orderdesk_conn_id")
def test_the_documented_example_writes_one_link_and_leaves_the_missing_one_alone(
    dags: dict[str, DAG], sandbox: SandboxServer
) -> None:
    item_before = _item(sandbox)
    run = dags["documented_example"].test()
    assert run.state == "success"
    item_after = _item(sandbox)
    assert item_after["metadata"] == {**item_before["metadata"], "hiResUrl": PRINT_URL}
    assert {k: v for k, v in item_after.items() if k != "metadata"} == {
        k: v for k, v in item_before.items() if k != "metadata"
    }
    history = sandbox.sandbox.state.get_order(925086).get("order_history") or []
    assert [note["note"] for note in history] == ["Print files ready"]


@pytest.mark.usefixtures("orderdesk_conn_id")
def test_running_the_same_export_twice_sends_no_second_put(
    dags: dict[str, DAG], sandbox: SandboxServer
) -> None:
    dags["export_fed_by_xcomarg"].test()
    assert len(sandbox.requests(method="PUT")) == 1
    dags["export_fed_by_xcomarg"].test()
    assert len(sandbox.requests(method="PUT")) == 1
    assert _xcom("export_fed_by_xcomarg", "export")["totals"] == {
        "orders": 1,
        "items": 1,
        "updated": 0,
        "unchanged": 1,
        "planned": 0,
    }


def _seed_late_order_after_first_poll(sandbox: SandboxServer) -> threading.Thread:
    """Add the awaited order only once the sensor has looked and not found it."""

    def seed() -> None:
        deadline = time.monotonic() + 30
        while not sandbox.requests(path_prefix="/orders") and time.monotonic() < deadline:
            time.sleep(0.05)
        sandbox.seed_order(
            {
                "source_id": "LATE-7",
                "order_items": [{"name": "Poster", "metadata": {"testIdField": "late-item"}}],
            }
        )

    thread = threading.Thread(target=seed, daemon=True)
    thread.start()
    return thread


@pytest.mark.usefixtures("orderdesk_conn_id")
@pytest.mark.parametrize("mode", ["poke", "reschedule", "deferrable"])
def test_the_sensor_waits_for_a_late_order_in_every_mode(
    dags: dict[str, DAG], sandbox: SandboxServer, mode: str
) -> None:
    seeder = _seed_late_order_after_first_poll(sandbox)
    run = dags[f"wait_for_order_{mode}"].test()
    seeder.join(timeout=5)
    assert run.state == "success"
    searches = sandbox.requests(path_prefix="/orders")
    assert len(searches) >= 2
    assert all(request["query"]["source_id"] == "LATE-7" for request in searches)
    (order_id,) = _xcom(f"wait_for_order_{mode}", "wait")
    assert sandbox.sandbox.state.get_order(int(order_id))["source_id"] == "LATE-7"
