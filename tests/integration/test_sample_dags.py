"""The sample DAGs in ``dags/``: they parse cleanly, send nothing while parsing, and do their job."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from tests.airflow_dags import SAMPLE_DAGS, parse_dags

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from airflow.sdk import DAG

    from airflow_orderdesk.sandbox import SandboxServer

NEW, PREPARED = 21654, 21655
HOUR = datetime(2026, 11, 30, 14, tzinfo=UTC)


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("artifacts")


@pytest.fixture(scope="module")
def sample_dags(artifacts: Path) -> Iterator[dict[str, DAG]]:
    """The sample DAGs as Airflow parses them, with every network connection refused while parsing."""
    # The render DAG reads where to write from the environment when it is parsed, and again in its tasks.
    os.environ["ORDERDESK_ARTIFACT_BASE"] = artifacts.as_uri()
    yield parse_dags(SAMPLE_DAGS, refuse_network=True)
    del os.environ["ORDERDESK_ARTIFACT_BASE"]


def test_every_file_in_dags_defines_dags_and_none_fails_to_import(sample_dags: dict[str, DAG]) -> None:
    assert set(sample_dags) == {
        "orderdesk_render_and_export",
        "orderdesk_export_on_render",
        "orderdesk_render_upstream",
    }


def test_sample_dags_pass_airflows_own_checks_and_serialise(sample_dags: dict[str, DAG]) -> None:
    from airflow.serialization.serialized_objects import DagSerialization

    for dag in sample_dags.values():
        dag.validate()
        dag.params.validate()
        assert DagSerialization.deserialize_dag(DagSerialization.serialize_dag(dag)).dag_id == dag.dag_id


def test_sample_dags_document_themselves_and_every_param(sample_dags: dict[str, DAG]) -> None:
    for dag in sample_dags.values():
        assert dag.doc_md
        assert "orderdesk" in dag.tags
        for name, param in dag.params.items():
            assert param.description, f"{dag.dag_id}: param {name} has no description"
            assert param.has_value, f"{dag.dag_id}: param {name} has no default"


@pytest.mark.parametrize(
    ("dag_id", "task_ids"),
    [
        ("orderdesk_render_and_export", ["find_items", "export", "move_to_prepared"]),
        ("orderdesk_export_on_render", ["export_to_order_desk"]),
    ],
)
def test_order_desk_tasks_run_in_the_pool_with_exponential_retries(
    sample_dags: dict[str, DAG], dag_id: str, task_ids: list[str]
) -> None:
    for task_id in task_ids:
        task = sample_dags[dag_id].get_task(task_id)
        assert task.pool == "orderdesk"
        assert task.retries >= 1
        assert task.retry_exponential_backoff


def _seed_hour(sandbox: SandboxServer) -> tuple[list[int], list[int]]:
    """Orders added inside ``HOUR`` and, just outside it on both sides, orders of other intervals."""

    def order(source_id: str, minute: int, *items: dict[str, Any]) -> int:
        added = (HOUR + timedelta(minutes=minute)).strftime("%Y-%m-%d %H:%M:%S")
        document = {"source_id": source_id, "folder_id": NEW, "date_added": added, "order_items": list(items)}
        return int(sandbox.seed_order(document)["id"])

    card = {"name": "Business Cards", "price": "39.90", "quantity": 1, "metadata": {"testIdField": "cc-1"}}
    fee = {"name": "Rush fee", "price": "15.00", "quantity": 1, "metadata": {}}
    inside = [order("7001", 0, card, fee), order("7002", 59, {**card, "metadata": {"testIdField": "cc-2"}})]
    outside = [
        order("6999", -1, {**card, "metadata": {"testIdField": "cc-0"}}),
        order("7003", 60, {**card, "metadata": {"testIdField": "cc-3"}}),
    ]
    return inside, outside


@pytest.mark.usefixtures("orderdesk_conn_id")
def test_render_and_export_delivers_one_hours_orders_then_changes_nothing_on_a_rerun(
    sample_dags: dict[str, DAG], sandbox: SandboxServer, artifacts: Path
) -> None:
    inside, outside = _seed_hour(sandbox)
    dag = sample_dags["orderdesk_render_and_export"]

    run = dag.test(logical_date=HOUR + timedelta(hours=1))
    assert run.state == "success"
    for order_id in inside:
        order = sandbox.sandbox.state.get_order(order_id)
        assert int(order["folder_id"]) == PREPARED
        card, *rest = order["order_items"]
        assert card["metadata"]["hiResUrl"].endswith("/print.pdf")
        assert card["metadata"]["previewUrl"].endswith("/preview.png")
        assert all(item["metadata"] in ({}, []) for item in rest)
    assert sorted(path.name for path in artifacts.rglob("*.*")) == sorted(["print.pdf", "preview.png"] * 2)
    assert all(path.read_bytes()[:4] in (b"%PDF", b"\x89PNG") for path in artifacts.rglob("*.*"))
    assert [int(sandbox.sandbox.state.get_order(order_id)["folder_id"]) for order_id in outside] == [NEW, NEW]

    sandbox.sandbox.log.clear()
    assert dag.test(logical_date=HOUR + timedelta(hours=1)).state == "success"
    assert sandbox.requests(method="PUT") == []
    assert sandbox.requests(method="POST") == []


@pytest.mark.usefixtures("orderdesk_conn_id")
def test_export_on_render_writes_the_item_named_in_the_runs_conf(
    sample_dags: dict[str, DAG], sandbox: SandboxServer
) -> None:
    conf = {
        "order_number": "A-17b",
        "order_item_lookup_name": "testIdField",
        "order_item_lookup_value": "stickers-a17b",
        "print_url": "https://renders.example.test/a17b/print.pdf",
        "preview_url": "",
    }
    run = sample_dags["orderdesk_export_on_render"].test(run_conf=conf)
    assert run.state == "success"
    (put,) = sandbox.requests(method="PUT")
    assert put["body"]["metadata"]["testIdField"] == "stickers-a17b"
    assert put["body"]["metadata"]["hiResUrl"] == "https://renders.example.test/a17b/print.pdf"
    assert "previewUrl" not in put["body"]["metadata"]


@pytest.mark.usefixtures("orderdesk_conn_id")
def test_render_and_export_switches_to_one_batch_export_above_the_threshold(
    sample_dags: dict[str, DAG], sandbox: SandboxServer
) -> None:
    inside, _outside = _seed_hour(sandbox)
    dag = sample_dags["orderdesk_render_and_export"]

    run = dag.test(logical_date=HOUR + timedelta(hours=1), run_conf={"batch_threshold": 0})
    assert run.state == "success"
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states["export_batch"] == "success"
    assert states["export"] == "skipped"
    for order_id in inside:
        order = sandbox.sandbox.state.get_order(order_id)
        assert int(order["folder_id"]) == PREPARED
        assert order["order_items"][0]["metadata"]["hiResUrl"].endswith("/print.pdf")
    # The batch found both orders with its search: none was looked up on its own before writing.
    puts = sandbox.requests(method="PUT")
    assert len(puts) == 2
    first_put = min(r["seq"] for r in puts)
    assert not [r for r in sandbox.requests(method="GET", path_prefix="/orders/") if r["seq"] < first_put]
