"""The hook against the sandbox over real HTTP: what the unit tests mock, exercised for real."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from airflow_orderdesk.exceptions import OrderDeskAuthenticationError, OrderDeskNotFoundError
from airflow_orderdesk.hooks.orderdesk import OrderDeskHook

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow_orderdesk.sandbox import SandboxServer


def test_test_connection_succeeds_with_the_sandboxs_credentials(orderdesk_conn_id: str) -> None:
    assert OrderDeskHook(orderdesk_conn_id).test_connection() == (True, "Connection Successful")


def test_test_connection_reports_a_wrong_key_without_showing_it(
    sandbox: SandboxServer, make_connection: Callable[..., str]
) -> None:
    conn_id = make_connection(password="wrong-key-987654")
    ok, message = OrderDeskHook(conn_id).test_connection()
    assert not ok
    assert "401" in message
    assert "wrong-key-987654" not in message
    assert sandbox.api_key not in message


def test_a_wrong_key_raises_the_authentication_error(make_connection: Callable[..., str]) -> None:
    with pytest.raises(OrderDeskAuthenticationError) as raised:
        OrderDeskHook(make_connection(password="wrong-key-987654")).get_store()
    assert raised.value.status == 401


def test_requests_carry_the_store_headers_and_no_authorization(
    sandbox: SandboxServer, orderdesk_conn_id: str
) -> None:
    OrderDeskHook(orderdesk_conn_id).get_store()
    (logged,) = sandbox.requests(path_prefix="/store")
    headers = logged["headers"]
    assert headers["orderdesk-store-id"] == sandbox.store_id
    assert headers["orderdesk-api-key"] == "***"  # the sandbox masks the key it received
    assert "authorization" not in headers
    assert "content-type" not in headers
    assert headers["user-agent"].startswith("airflow-provider-orderdesk/")


def test_store_folders_are_read_as_a_map_of_text_ids(orderdesk_conn_id: str) -> None:
    folders = OrderDeskHook(orderdesk_conn_id).get_folders()
    assert sorted(folders.values()) == ["Canceled", "Closed", "New", "Prepared"]
    assert all(isinstance(folder_id, str) and folder_id.isdigit() for folder_id in folders)


def test_empty_metadata_arrives_as_a_list_and_is_read_as_a_map(orderdesk_conn_id: str) -> None:
    hook = OrderDeskHook(orderdesk_conn_id)
    raw = hook.request("GET", "orders/925086")["order"]
    assert raw["order_items"][1]["metadata"] == []  # the PHP quirk, as the sandbox plays it
    assert hook.get_order(925086)["order_items"][1]["metadata"] == {}


def test_source_id_search_keeps_only_exact_matches_when_the_server_matches_partially(
    sandbox: SandboxServer, orderdesk_conn_id: str
) -> None:
    sandbox.configure(partial_source_id=True)
    hook = OrderDeskHook(orderdesk_conn_id)
    assert {order["source_id"] for order in hook.search_orders(source_id="1001")} >= {"1001", "10010"}
    assert [order["source_id"] for order in hook.find_orders_by_source_id("1001")] == ["1001"]


def test_a_split_order_is_found_twice_by_its_source_id(orderdesk_conn_id: str) -> None:
    orders = OrderDeskHook(orderdesk_conn_id).find_orders_by_source_id("1002")
    assert len(orders) == 2
    assert len({order["id"] for order in orders}) == 2


def test_search_follows_every_page(sandbox: SandboxServer, orderdesk_conn_id: str) -> None:
    for number in range(1203):
        sandbox.seed_order({"source_id": "bulk", "order_items": [{"name": f"card {number}", "metadata": {}}]})
    orders = OrderDeskHook(orderdesk_conn_id).find_orders_by_source_id("bulk")
    assert len(orders) == 1203
    assert [request["query"]["offset"] for request in sandbox.requests(path_prefix="/orders")] == [
        "0",
        "500",
        "1000",
    ]


@pytest.mark.parametrize("mode", ["replace", "merge"])
def test_complete_item_update_keeps_every_field_in_both_put_modes(
    sandbox: SandboxServer, orderdesk_conn_id: str, mode: str
) -> None:
    sandbox.configure(item_put_mode=mode)
    hook = OrderDeskHook(orderdesk_conn_id)
    before = hook.get_order_item(925086, 1844721)
    hook.update_order_item(
        925086, before, metadata={**before["metadata"], "hiResUrl": "https://x.test/a.pdf"}
    )
    after = hook.get_order_item(925086, 1844721)
    assert after["metadata"] == {**before["metadata"], "hiResUrl": "https://x.test/a.pdf"}
    assert {key: value for key, value in after.items() if key != "metadata"} == {
        key: value for key, value in before.items() if key != "metadata"
    }


def test_a_partial_item_put_would_blank_fields_in_replace_mode(orderdesk_conn_id: str) -> None:
    # Why the hook always sends the complete item: the sandbox, like a replacing server, blanks the rest.
    hook = OrderDeskHook(orderdesk_conn_id)
    hook.request("PUT", "orders/925086/order-items/1844721", json={"metadata": {"a": "b"}})
    assert hook.get_order_item(925086, 1844721)["name"] == ""


def test_moving_orders_by_folder_name_and_adding_a_history_note(orderdesk_conn_id: str) -> None:
    hook = OrderDeskHook(orderdesk_conn_id)
    folders = {name: folder_id for folder_id, name in hook.get_folders().items()}
    answer = hook.move_orders(["925086"], folder_name="Prepared")
    assert answer["message"] == "1 Orders Moved"
    assert hook.get_order(925086)["folder_id"] == folders["Prepared"]
    note = hook.add_order_history(925086, "Print files delivered")
    assert note["order"]["order_history"][-1]["note"] == "Print files delivered"


def test_an_unknown_order_raises_not_found(orderdesk_conn_id: str) -> None:
    with pytest.raises(OrderDeskNotFoundError):
        OrderDeskHook(orderdesk_conn_id).get_order(999999999)


def test_a_hundred_gets_through_a_small_bucket_meet_almost_no_429s(
    sandbox: SandboxServer, make_connection: Callable[..., str]
) -> None:
    sandbox.configure(burst=5, refill_per_second=5.0)
    hook = OrderDeskHook(make_connection(extra={"rate_limit_burst": 5, "rate_limit_per_second": 5}))
    for _ in range(100):
        assert hook.request("GET", "test")["status"] == "success"
    statuses = [request["status"] for request in sandbox.requests(path_prefix="/test")]
    assert statuses.count(200) == 100
    assert statuses.count(429) < 5


def test_429s_are_waited_out_when_the_connection_overstates_the_limit(
    sandbox: SandboxServer, make_connection: Callable[..., str]
) -> None:
    # The connection believes in a large bucket; the server's 429s and X-Tokens-Remaining correct it.
    sandbox.configure(burst=3, refill_per_second=10.0)
    hook = OrderDeskHook(make_connection(extra={"rate_limit_burst": 50, "rate_limit_per_second": 50}))
    for _ in range(15):
        hook.request("GET", "test")
    statuses = [request["status"] for request in sandbox.requests(path_prefix="/test")]
    assert statuses.count(200) == 15
