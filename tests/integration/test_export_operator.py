"""OrderDeskExportOperator against the sandbox: the decided cases and every step of the export."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pytest
import structlog
from airflow.sdk.exceptions import AirflowSkipException

from airflow_orderdesk.exceptions import (
    OrderDeskConfigurationError,
    OrderDeskItemNotFoundError,
    OrderDeskOrderNotFoundError,
)
from airflow_orderdesk.hooks.orderdesk import OrderDeskHook
from airflow_orderdesk.operators.orderdesk import OrderDeskExportOperator
from airflow_orderdesk.payloads import ITEM_WRITABLE_FIELDS

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from airflow_orderdesk.sandbox import SandboxServer

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("orderdesk_conn_id")]

#: Demo order 925086 (shop order "1001") and its item 1844721, found by testIdField = testId.
BUSINESS_CARDS: dict[str, Any] = {
    "order_lookup_id": "1001",
    "order_item_lookup_name": "testIdField",
    "order_item_lookup_value": "testId",
}
SIGNED_URL = "https://files.example.com/cc/7f3a9c21/hires.pdf?X-Amz-Signature=5e3cr3t5ignature"
NON_ASCII = "Café Müller \N{EN DASH} 東京"


class FakeTI:
    """The part of a task instance the operator uses: it records what is pushed to XCom."""

    dag_id, task_id, run_id, map_index = "tests", "task", "manual__test", -1

    def __init__(self) -> None:
        self.xcom: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcom[key] = value


def export(ti: FakeTI | None = None, *, read_back: bool = False, **arguments: Any) -> dict[str, Any]:
    """Run an export; with the operator's default read-back only where a test asks, as it takes a second."""
    if not read_back:
        arguments = {"verify_writes": False, **arguments}
    operator = OrderDeskExportOperator(task_id="export", **arguments)
    context: Any = {"ti": ti or FakeTI()}
    return operator.execute(context)


def stored_item(sandbox: SandboxServer, order_id: int, item_id: int) -> dict[str, Any]:
    """An item as the sandbox holds it, read without a request that would show in the log."""
    return sandbox.sandbox.state.get_item(order_id, item_id)


def seed_single_item_order(sandbox: SandboxServer, source_id: str, **item: Any) -> tuple[int, int]:
    """A new order with one item; returns the order's and the item's ids."""
    order = sandbox.seed_order({"source_id": source_id, "order_items": [item]})
    return order["id"], order["order_items"][0]["id"]


def reads_order(request: dict[str, Any], order_path: str) -> bool:
    """Whether a logged request read the order at ``order_path``; a search reads every order it finds."""
    path = request["path"]
    return request["method"] == "GET" and (
        path in ("/orders", order_path) or path.startswith(f"{order_path}/")
    )


def writes(sandbox: SandboxServer) -> list[dict[str, Any]]:
    return sandbox.requests(method="PUT") + sandbox.requests(method="POST")


@pytest.fixture
def log_lines(caplog: pytest.LogCaptureFixture) -> Iterator[Callable[[], list[str]]]:
    """Every line logged during the test, from Airflow's structlog loggers and the standard library's."""
    caplog.set_level(logging.DEBUG)
    with structlog.testing.capture_logs() as captured:
        yield lambda: [str(entry["event"]) for entry in captured] + [r.getMessage() for r in caplog.records]


# -- the cases decided in the spec ------------------------------------------------------------------


def test_orders_the_server_matches_only_partially_are_not_written(sandbox: SandboxServer) -> None:
    sandbox.configure(partial_source_id=True)
    # Make order "10010" a real trap: its item would match the item lookup too.
    sandbox.sandbox.state.update_item(
        925089, 1844725, {"metadata": {"testIdField": "testId"}}, merge=True, now=sandbox.sandbox.now_text()
    )

    summary = export(**BUSINESS_CARDS, data={"hiResUrl": SIGNED_URL})

    assert [order["order_id"] for order in summary["orders"]] == ["925086"]
    assert "hiResUrl" not in stored_item(sandbox, 925089, 1844725)["metadata"]
    assert [put["path"] for put in sandbox.requests(method="PUT")] == ["/orders/925086/order-items/1844721"]


def test_every_order_sharing_the_source_id_is_written(sandbox: SandboxServer) -> None:
    summary = export(order_lookup_id="1002", data={"hiResUrl": SIGNED_URL})

    assert sorted(order["order_id"] for order in summary["orders"]) == ["925087", "925088"]
    assert stored_item(sandbox, 925087, 1844723)["metadata"]["hiResUrl"] == SIGNED_URL
    assert stored_item(sandbox, 925088, 1844724)["metadata"]["hiResUrl"] == SIGNED_URL
    assert summary["totals"]["updated"] == 2


def test_every_matching_item_of_an_order_is_written(sandbox: SandboxServer) -> None:
    order = sandbox.seed_order(
        {
            "source_id": "2001",
            "order_items": [
                {"name": "Front", "metadata": {"ccProjectId": "p-1"}},
                {"name": "Back", "metadata": {"ccProjectId": "p-1"}},
                {"name": "Other", "metadata": {"ccProjectId": "p-2"}},
            ],
        }
    )
    front, back, other = (item["id"] for item in order["order_items"])

    summary = export(
        order_lookup_id="2001",
        order_item_lookup_name="ccProjectId",
        order_item_lookup_value="p-1",
        data={"hiResUrl": SIGNED_URL},
    )

    assert [item["item_id"] for item in summary["orders"][0]["items"]] == [str(front), str(back)]
    assert stored_item(sandbox, order["id"], front)["metadata"]["hiResUrl"] == SIGNED_URL
    assert stored_item(sandbox, order["id"], back)["metadata"]["hiResUrl"] == SIGNED_URL
    assert "hiResUrl" not in stored_item(sandbox, order["id"], other)["metadata"]


def test_no_matching_item_fails_listing_the_values_the_lookup_key_has(sandbox: SandboxServer) -> None:
    arguments = {**BUSINESS_CARDS, "order_item_lookup_value": "testID"}

    with pytest.raises(OrderDeskItemNotFoundError, match="'testId'") as raised:
        export(**arguments, data={"hiResUrl": SIGNED_URL})

    assert "'testID'" in str(raised.value)
    assert writes(sandbox) == []


def test_an_order_of_several_items_without_an_item_lookup_fails_asking_for_one(
    sandbox: SandboxServer,
) -> None:
    with pytest.raises(OrderDeskItemNotFoundError, match="order_item_lookup_name") as raised:
        export(order_lookup_id="1001", data={"hiResUrl": SIGNED_URL})

    assert "925086 has 2 items" in str(raised.value)
    assert writes(sandbox) == []


@pytest.mark.parametrize("empty", [None, ""])
def test_empty_values_are_left_out_by_default(sandbox: SandboxServer, empty: str | None) -> None:
    before = stored_item(sandbox, 925086, 1844721)["metadata"]["hiResUrl2"]

    summary = export(**BUSINESS_CARDS, data={"hiResUrl": SIGNED_URL, "hiResUrl2": empty})

    assert stored_item(sandbox, 925086, 1844721)["metadata"]["hiResUrl2"] == before
    assert summary["orders"][0]["items"][0]["keys_set"] == ["hiResUrl"]


@pytest.mark.parametrize("empty", [None, ""])
def test_empty_values_blank_the_key_when_skipping_is_off(sandbox: SandboxServer, empty: str | None) -> None:
    summary = export(**BUSINESS_CARDS, data={"hiResUrl2": empty}, skip_empty_values=False)

    assert stored_item(sandbox, 925086, 1844721)["metadata"]["hiResUrl2"] == ""
    assert summary["orders"][0]["items"][0]["keys_set"] == ["hiResUrl2"]


def test_nothing_is_written_when_nothing_would_change(sandbox: SandboxServer) -> None:
    current = stored_item(sandbox, 925086, 1844721)["metadata"]["hiResUrl2"]

    summary = export(**BUSINESS_CARDS, data={"hiResUrl2": current}, history_note="Print files attached")

    assert summary["orders"][0]["items"][0]["status"] == "unchanged"
    assert summary["orders"][0]["items"][0]["keys_unchanged"] == ["hiResUrl2"]
    assert summary["totals"]["unchanged"] == 1
    assert writes(sandbox) == []


def test_data_holding_the_item_lookup_key_is_refused_before_any_request(sandbox: SandboxServer) -> None:
    with pytest.raises(OrderDeskConfigurationError, match="order_item_lookup_name") as raised:
        export(**BUSINESS_CARDS, data={"testIdField": "other", "hiResUrl": SIGNED_URL})

    assert raised.value.field == "data['testIdField']"
    assert sandbox.requests() == []


def test_a_missing_order_fails_naming_the_lookup(sandbox: SandboxServer) -> None:
    with pytest.raises(OrderDeskOrderNotFoundError, match="source_id '9999'"):
        export(order_lookup_id="9999", data={"hiResUrl": SIGNED_URL})
    assert writes(sandbox) == []


def test_a_missing_order_skips_the_task_when_asked(sandbox: SandboxServer) -> None:
    ti = FakeTI()

    with pytest.raises(AirflowSkipException, match="source_id '9999'"):
        export(ti, order_lookup_id="9999", data={"hiResUrl": SIGNED_URL}, skip_missing_orders=True)

    assert writes(sandbox) == []
    assert ti.xcom == {}


def test_a_missing_internal_id_fails_like_a_missing_source_id() -> None:
    with pytest.raises(OrderDeskOrderNotFoundError, match="order_id '999999'"):
        export(order_lookup_id=999999, order_lookup_type="order_id", data={"hiResUrl": SIGNED_URL})


# -- the steps of an export -------------------------------------------------------------------------


def test_a_bad_argument_stops_the_export_before_any_request(sandbox: SandboxServer) -> None:
    with pytest.raises(OrderDeskConfigurationError, match=r"data\['preview'\]"):
        export(**BUSINESS_CARDS, data={"hiResUrl": SIGNED_URL, "preview": {"url": SIGNED_URL}})
    assert sandbox.requests() == []


def test_orders_are_searched_by_source_id(sandbox: SandboxServer) -> None:
    summary = export(**BUSINESS_CARDS, data={"hiResUrl": SIGNED_URL}, dry_run=True)

    (search,) = sandbox.requests(method="GET")
    assert search["path"] == "/orders"
    assert search["query"]["source_id"] == "1001"
    assert summary["lookup"] == {"type": "source_id", "value": "1001"}


def test_an_order_is_found_by_its_internal_id_with_one_request(sandbox: SandboxServer) -> None:
    summary = export(
        order_lookup_id=925086,
        order_lookup_type="order_id",
        order_item_lookup_name="testIdField",
        order_item_lookup_value="testId",
        data={"hiResUrl": SIGNED_URL},
    )

    assert [(get["path"], get["query"]) for get in sandbox.requests(method="GET")] == [("/orders/925086", {})]
    assert summary["orders"][0]["source_id"] == "1001"
    assert stored_item(sandbox, 925086, 1844721)["metadata"]["hiResUrl"] == SIGNED_URL


def test_the_item_lookup_ignores_white_space_around_the_stored_value(sandbox: SandboxServer) -> None:
    order_id, item_id = seed_single_item_order(
        sandbox, "2002", name="Mug", metadata={"ccProjectId": "  Mug-Front\t"}
    )

    export(
        order_lookup_id="2002",
        order_item_lookup_name="ccProjectId",
        order_item_lookup_value="Mug-Front",
        data={"hiResUrl": SIGNED_URL},
    )

    assert stored_item(sandbox, order_id, item_id)["metadata"]["hiResUrl"] == SIGNED_URL


def test_the_item_lookup_keeps_case(sandbox: SandboxServer) -> None:
    seed_single_item_order(sandbox, "2002", name="Mug", metadata={"ccProjectId": "Mug-Front"})

    with pytest.raises(OrderDeskItemNotFoundError, match="'Mug-Front'"):
        export(
            order_lookup_id="2002",
            order_item_lookup_name="ccProjectId",
            order_item_lookup_value="mug-front",
            data={"hiResUrl": SIGNED_URL},
        )
    assert writes(sandbox) == []


def test_metadata_sent_as_an_empty_list_is_merged_as_an_empty_map(
    sandbox: SandboxServer, orderdesk_conn_id: str
) -> None:
    order_id, item_id = seed_single_item_order(sandbox, "2003", name="Rush fee", metadata={})
    raw = OrderDeskHook(orderdesk_conn_id).request("GET", f"orders/{order_id}")["order"]
    assert raw["order_items"][0]["metadata"] == []  # the PHP quirk the merge must survive

    export(order_lookup_id="2003", data={"hiResUrl": SIGNED_URL})

    (put,) = sandbox.requests(method="PUT")
    assert put["body"]["metadata"] == {"hiResUrl": SIGNED_URL}
    assert stored_item(sandbox, order_id, item_id)["metadata"] == {"hiResUrl": SIGNED_URL}


def test_the_put_carries_the_complete_item_with_merged_metadata(
    sandbox: SandboxServer, orderdesk_conn_id: str
) -> None:
    before = OrderDeskHook(orderdesk_conn_id).get_order_item(925086, 1844721)

    export(**BUSINESS_CARDS, data={"hiResUrl": SIGNED_URL, "hiResUrl2": "https://files.example.com/b.pdf"})

    (put,) = sandbox.requests(method="PUT")
    assert put["path"] == "/orders/925086/order-items/1844721"
    assert set(put["body"]) == set(ITEM_WRITABLE_FIELDS)
    for field in set(ITEM_WRITABLE_FIELDS) - {"metadata"}:
        assert put["body"][field] == before[field], field
    assert put["body"]["metadata"] == {
        **before["metadata"],
        "hiResUrl": SIGNED_URL,
        "hiResUrl2": "https://files.example.com/b.pdf",
    }


def test_log_lines_name_order_item_and_keys_but_no_value_or_key(
    sandbox: SandboxServer, log_lines: Callable[[], list[str]]
) -> None:
    export(**BUSINESS_CARDS, data={"hiResUrl": SIGNED_URL}, history_note="Print files attached")

    lines = log_lines()
    assert any("925086" in line and "1844721" in line and "hiResUrl" in line for line in lines)
    for line in lines:
        assert "5e3cr3t5ignature" not in line
        assert "files.example.com" not in line
        assert sandbox.api_key not in line


def test_the_summary_is_json_and_reports_each_order_and_item(sandbox: SandboxServer) -> None:
    summary = export(**BUSINESS_CARDS, data={"hiResUrl": SIGNED_URL, "hiResUrl2": None})

    assert json.loads(json.dumps(summary)) == summary
    (order,) = summary["orders"]
    assert order["order_id"] == "925086"
    assert order["source_id"] == "1001"
    assert order["order_url"] == f"{sandbox.base_url}/orders/view/925086"
    (item,) = order["items"]
    assert item["item_id"] == "1844721"
    assert item["status"] == "updated"
    assert item["keys_set"] == ["hiResUrl"]
    assert summary["totals"] == {"orders": 1, "items": 1, "updated": 1, "unchanged": 0, "planned": 0}


def test_the_order_url_is_pushed_to_xcom_for_the_task_link(sandbox: SandboxServer) -> None:
    ti = FakeTI()

    export(ti, **BUSINESS_CARDS, data={"hiResUrl": SIGNED_URL})

    assert ti.xcom == {"orderdesk_order_url": f"{sandbox.base_url}/orders/view/925086"}


def test_one_history_note_is_added_to_each_order_written(sandbox: SandboxServer) -> None:
    summary = export(
        order_lookup_id="1002", data={"hiResUrl": SIGNED_URL}, history_note="Print files attached"
    )

    notes = sandbox.requests(path_prefix="/orders/", method="POST")
    assert sorted(note["path"] for note in notes) == [
        "/orders/925087/order-history",
        "/orders/925088/order-history",
    ]
    assert {note["body"]["note"] for note in notes} == {"Print files attached"}
    assert [order["history_note"] for order in summary["orders"]] == ["added", "added"]


def test_no_history_note_is_added_when_nothing_changed(sandbox: SandboxServer) -> None:
    arguments = {**BUSINESS_CARDS, "data": {"hiResUrl": SIGNED_URL}, "history_note": "Print files attached"}
    export(**arguments)

    summary = export(**arguments)

    assert len(sandbox.requests(method="POST", path_prefix="/orders/925086/order-history")) == 1
    assert summary["orders"][0]["history_note"] is None


def test_a_dry_run_plans_without_writing_or_noting(sandbox: SandboxServer) -> None:
    summary = export(
        **BUSINESS_CARDS, data={"hiResUrl": SIGNED_URL}, history_note="Print files attached", dry_run=True
    )

    assert summary["dry_run"] is True
    assert summary["orders"][0]["items"][0]["status"] == "planned"
    assert summary["orders"][0]["items"][0]["keys_set"] == ["hiResUrl"]
    assert summary["totals"]["planned"] == 1
    assert writes(sandbox) == []
    assert "hiResUrl" not in stored_item(sandbox, 925086, 1844721)["metadata"]


def test_numbers_and_booleans_are_written_as_text(sandbox: SandboxServer) -> None:
    export(**BUSINESS_CARDS, data={"copies": 3, "ratio": 1.5, "proofed": True, "rush": False})

    metadata = stored_item(sandbox, 925086, 1844721)["metadata"]
    assert {key: metadata[key] for key in ("copies", "ratio", "proofed", "rush")} == {
        "copies": "3",
        "ratio": "1.5",
        "proofed": "true",
        "rush": "false",
    }


@pytest.mark.parametrize(
    "data",
    [
        pytest.param('{"hiResUrl": "https://files.example.com/a.pdf", "copies": 2}', id="json-object"),
        pytest.param(
            "{'hiResUrl': 'https://files.example.com/a.pdf', 'copies': 2}", id="python-dict-literal"
        ),
    ],
)
def test_data_rendered_as_text_is_parsed(sandbox: SandboxServer, data: str) -> None:
    export(**BUSINESS_CARDS, data=data)

    metadata = stored_item(sandbox, 925086, 1844721)["metadata"]
    assert (metadata["hiResUrl"], metadata["copies"]) == ("https://files.example.com/a.pdf", "2")


# -- with the read-back after writing (the default) -------------------------------------------------


def test_a_verified_export_reads_the_order_back_once(sandbox: SandboxServer) -> None:
    summary = export(**BUSINESS_CARDS, data={"hiResUrl": SIGNED_URL}, read_back=True)

    assert summary["orders"][0]["items"][0]["status"] == "updated"
    assert stored_item(sandbox, 925086, 1844721)["metadata"]["hiResUrl"] == SIGNED_URL
    assert len(sandbox.requests(method="PUT")) == 1
    assert len(sandbox.requests(method="GET", path_prefix="/orders/925086")) == 1


def test_non_ascii_values_round_trip_unchanged(sandbox: SandboxServer) -> None:
    export(**BUSINESS_CARDS, data={"customer": NON_ASCII}, read_back=True)

    assert stored_item(sandbox, 925086, 1844721)["metadata"]["customer"] == NON_ASCII
    assert len(sandbox.requests(method="PUT")) == 1  # the read-back found it intact


def test_no_write_of_a_split_order_is_built_on_data_older_than_a_second(sandbox: SandboxServer) -> None:
    # The first part's read-back takes about a second, so by then the second part's search result is
    # stale; writing it anyway could undo a key another task wrote to that item in between.
    export(order_lookup_id="1002", data={"hiResUrl": SIGNED_URL}, read_back=True)

    log = sandbox.requests()
    puts = [index for index, request in enumerate(log) if request["method"] == "PUT"]
    assert len(puts) == 2
    for index in puts:
        order_path = "/".join(log[index]["path"].split("/")[:3])  # /orders/<id>
        last_read = next(read for read in reversed(log[:index]) if reads_order(read, order_path))
        age = datetime.fromisoformat(log[index]["time"]) - datetime.fromisoformat(last_read["time"])
        assert age.total_seconds() < 1.0, log[index]["path"]
    assert stored_item(sandbox, 925087, 1844723)["metadata"]["hiResUrl"] == SIGNED_URL
    assert stored_item(sandbox, 925088, 1844724)["metadata"]["hiResUrl"] == SIGNED_URL
