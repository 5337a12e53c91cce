"""Pipeline tasks pasted into DAG files, translated and run with ``dag.test()`` against the sandbox."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.airflow_dags import parse_dags
from tests.dags.orderdesk_pipeline_dags import PRINT_URL

if TYPE_CHECKING:
    from airflow.sdk import DAG

    from airflow_orderdesk.sandbox import SandboxServer

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("orderdesk_conn_id")]

DAG_FILE = Path(__file__).parents[1] / "dags" / "orderdesk_pipeline_dags.py"
ORDER_ID, ITEM_ID, PREPARED = 925086, 1844721, 21655
PROJECT = {"project": {"orderId": "1001"}}


@pytest.fixture(scope="module")
def dags() -> dict[str, DAG]:
    """The pipeline DAGs, parsed by Airflow's DagBag against a freshly migrated metadata database."""
    return parse_dags(DAG_FILE)


def _order(sandbox: SandboxServer) -> dict[str, Any]:
    """The order as the sandbox stores it, read past the API so the check costs no request."""
    return dict(sandbox.sandbox.state.get_order(ORDER_ID))


def _item(sandbox: SandboxServer) -> dict[str, Any]:
    (item,) = [item for item in _order(sandbox)["order_items"] if int(item["id"]) == ITEM_ID]
    return dict(item)


def _without_metadata(item: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in item.items() if key != "metadata"}


def test_the_pasted_documented_example_writes_the_present_link_and_keeps_the_missing_one(
    dags: dict[str, DAG], sandbox: SandboxServer
) -> None:
    before = _item(sandbox)
    assert before["metadata"]["hiResUrl2"]

    run = dags["pipeline_documented_example"].test(run_conf=PROJECT)

    assert run.state == "success"
    after = _item(sandbox)
    assert after["metadata"] == {**before["metadata"], "hiResUrl": PRINT_URL}
    assert _without_metadata(after) == _without_metadata(before)
    (put,) = sandbox.requests(method="PUT")
    assert put["path"].endswith(f"/orders/{ORDER_ID}/order-items/{ITEM_ID}")


def test_a_missing_required_artifact_fails_the_task_and_writes_nothing(
    dags: dict[str, DAG], sandbox: SandboxServer, capfd: pytest.CaptureFixture[str]
) -> None:
    before = _order(sandbox)

    run = dags["pipeline_required_artifact_missing"].test(run_conf=PROJECT)

    assert run.state == "failed"
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states["export-required"] == "failed"
    task_log = capfd.readouterr().out
    assert "data.hiResUrl of pipeline task 'export-required': artifact 'result1' is missing" in task_log
    assert sandbox.requests() == []
    assert _order(sandbox) == before


def test_a_whole_pipeline_exports_then_moves_the_order_to_prepared(
    dags: dict[str, DAG], sandbox: SandboxServer
) -> None:
    dag = dags["pipeline_export_then_move"]
    assert dag.get_task("move").upstream_task_ids == {"export"}

    run = dag.test(run_conf=PROJECT)

    assert run.state == "success"
    assert _item(sandbox)["metadata"]["hiResUrl"] == PRINT_URL
    assert int(_order(sandbox)["folder_id"]) == PREPARED
