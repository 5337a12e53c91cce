"""The export operator's arguments: every unusable one is refused by name before Order Desk is asked."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from airflow_orderdesk.exceptions import OrderDeskConfigurationError
from airflow_orderdesk.operators.orderdesk import OrderDeskExportOperator

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow_orderdesk.sandbox import SandboxServer

pytestmark = pytest.mark.integration

#: Arguments that work: demo order "1001", its item 1844721 (testIdField = testId).
GOOD: dict[str, Any] = {
    "order_lookup_id": "1001",
    "order_item_lookup_name": "testIdField",
    "order_item_lookup_value": "testId",
    "data": {"hiResUrl": "https://files.example.com/cc/hires.pdf"},
}


class FakeTI:
    """The part of a task instance the operator uses: it records what is pushed to XCom."""

    dag_id, task_id, run_id, map_index = "tests", "task", "manual__test", -1

    def __init__(self) -> None:
        self.xcom: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcom[key] = value


def export(**arguments: Any) -> dict[str, Any]:
    operator = OrderDeskExportOperator(task_id="export", verify_writes=False, **{**GOOD, **arguments})
    context: Any = {"ti": FakeTI()}
    return operator.execute(context)


@pytest.fixture
def connections(make_connection: Callable[..., str]) -> None:
    """A working default connection, and one whose store id is not a number."""
    make_connection("orderdesk_default")
    make_connection("orderdesk_bad_store", login="my-store")


@pytest.mark.usefixtures("connections")
@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        pytest.param({"order_lookup_id": None}, "order_lookup_id", id="lookup-id-none"),
        pytest.param({"order_lookup_id": ""}, "order_lookup_id", id="lookup-id-empty"),
        pytest.param({"order_lookup_id": "  \t"}, "order_lookup_id", id="lookup-id-white-space"),
        pytest.param({"order_lookup_id": "None"}, "order_lookup_id", id="lookup-id-rendered-none"),
        pytest.param({"order_lookup_id": ["1001"]}, "order_lookup_id", id="lookup-id-a-list"),
        pytest.param({"order_lookup_id": True}, "order_lookup_id", id="lookup-id-a-boolean"),
        pytest.param({"order_lookup_type": "shop_number"}, "order_lookup_type", id="unknown-lookup-type"),
        pytest.param(
            {"order_lookup_id": "A-17b", "order_lookup_type": "order_id"},
            "order_lookup_id",
            id="internal-id-not-a-number",
        ),
        pytest.param({"order_item_lookup_value": None}, "order_item_lookup_value", id="lookup-name-alone"),
        pytest.param({"order_item_lookup_name": None}, "order_item_lookup_name", id="lookup-value-alone"),
        pytest.param(
            {"order_item_lookup_value": "  "}, "order_item_lookup_value", id="lookup-value-white-space"
        ),
        pytest.param(
            {"order_item_lookup_value": {"id": "testId"}}, "order_item_lookup_value", id="lookup-value-a-dict"
        ),
        pytest.param({"data": ["hiResUrl"]}, "data", id="data-a-list"),
        pytest.param({"data": 42}, "data", id="data-an-int"),
        pytest.param({"data": '["https://a"]'}, "data", id="data-text-holding-a-list"),
        pytest.param({"data": "hiResUrl: https://a"}, "data", id="data-unparseable-text"),
        pytest.param({"data": ""}, "data", id="data-empty-text"),
        pytest.param(
            {"data": {"preview": {"url": "https://a"}}}, "data['preview']", id="nested-mapping-value"
        ),
        pytest.param({"data": {"previews": ["https://a"]}}, "data['previews']", id="list-value"),
        pytest.param({"data": {"": "https://a"}}, "data", id="empty-key"),
        pytest.param({"data": {"  ": "https://a"}}, "data", id="white-space-key"),
        pytest.param({"data": {"testIdField": "other"}}, "data['testIdField']", id="lookup-key-in-data"),
        pytest.param(
            {"data": {"hiResUrl": "https://a\r\nX: y"}}, "data['hiResUrl']", id="control-characters"
        ),
        pytest.param({"data": {"hiResUrl": "x" * 8193}}, "data['hiResUrl']", id="value-too-long"),
        pytest.param({"data": {"k" * 256: "https://a"}}, "data key", id="key-too-long"),
        pytest.param({"data": {"ratio": float("nan")}}, "data['ratio']", id="nan"),
        pytest.param({"history_note": "Files\x00attached"}, "history_note", id="note-control-characters"),
        pytest.param({"history_note": "n" * 1001}, "history_note", id="note-too-long"),
        pytest.param(
            {"orderdesk_conn_id": "orderdesk_nowhere"}, "orderdesk_conn_id", id="unknown-connection"
        ),
        pytest.param(
            {"orderdesk_conn_id": "orderdesk_bad_store"}, "Store ID (login)", id="store-id-not-a-number"
        ),
    ],
)
def test_an_unusable_argument_is_refused_by_name_before_any_request(
    sandbox: SandboxServer, arguments: dict[str, Any], named: str
) -> None:
    with pytest.raises(OrderDeskConfigurationError) as raised:
        export(**arguments)

    assert raised.value.field.startswith(named)
    assert str(raised.value).startswith(named)
    assert sandbox.requests() == []


def test_an_unknown_lookup_type_lists_the_allowed_ones(orderdesk_conn_id: str) -> None:
    with pytest.raises(OrderDeskConfigurationError) as raised:
        export(order_lookup_type="order_number")

    for allowed in ("source_id", "order_id", "OrderId", "ProjectName"):
        assert allowed in str(raised.value)


@pytest.mark.parametrize("spelling", ["OrderId", "ProjectName", "SOURCE_ID", "projectname"])
def test_the_pipeline_spellings_mean_source_id(
    sandbox: SandboxServer, orderdesk_conn_id: str, spelling: str
) -> None:
    summary = export(order_lookup_type=spelling, dry_run=True)

    assert summary["lookup"] == {"type": "source_id", "value": "1001"}
    assert [order["order_id"] for order in summary["orders"]] == ["925086"]
    (search,) = sandbox.requests()
    assert search["query"]["source_id"] == "1001"


@pytest.mark.parametrize(
    ("number", "lookup"),
    [
        pytest.param("00123", {"order_item_lookup_name": None, "order_item_lookup_value": None}, id="00123"),
        pytest.param("A-17b", {"order_item_lookup_value": "stickers-a17b"}, id="A-17b"),
    ],
)
@pytest.mark.parametrize("spelling", ["source_id", "OrderId"])
def test_an_order_number_is_found_as_written(
    sandbox: SandboxServer, orderdesk_conn_id: str, number: str, lookup: dict[str, Any], spelling: str
) -> None:
    summary = export(order_lookup_id=number, order_lookup_type=spelling, **lookup, dry_run=True)

    assert [order["source_id"] for order in summary["orders"]] == [number]
    (search,) = sandbox.requests()
    assert search["query"]["source_id"] == number


def test_a_numeric_order_number_is_looked_up_as_text(sandbox: SandboxServer, orderdesk_conn_id: str) -> None:
    summary = export(order_lookup_id=1001, dry_run=True)

    assert summary["lookup"]["value"] == "1001"
    assert summary["orders"][0]["source_id"] == "1001"


@pytest.mark.parametrize("flag", ["skip_missing_orders", "skip_empty_values", "dry_run", "verify_writes"])
@pytest.mark.parametrize("value", ["False", "yes", 0, None])
def test_a_flag_that_is_not_a_boolean_is_refused_when_the_task_is_defined(flag: str, value: Any) -> None:
    with pytest.raises(OrderDeskConfigurationError) as raised:
        OrderDeskExportOperator(task_id="export", **{**GOOD, flag: value})
    assert raised.value.field == flag
