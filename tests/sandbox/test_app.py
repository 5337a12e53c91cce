"""Behaviour of the Order Desk sandbox, exercised over real HTTP with ``requests``."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pytest
import requests

from airflow_orderdesk.sandbox import SandboxServer, SandboxSettings

if TYPE_CHECKING:
    from pathlib import Path

    from .conftest import Api

FIRST_ORDER = "925086"  # demo order for shop order 1001
RUSH_ITEM = "1844722"  # its item without metadata
CARDS_ITEM = "1844721"  # its item with testIdField = testId
NEW, PREPARED, CLOSED = 21654, 21655, 21656


def assert_error(response: requests.Response, status: int, message: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["status"] == "error"
    assert body["execution_time"].endswith(" seconds")
    if message is not None:
        assert body["message"] == message
    return body


def seed(api: Api, order: dict[str, Any]) -> dict[str, Any]:
    response = api.control("POST", "/orders", json=order)
    assert response.status_code == 200, response.text
    stored: dict[str, Any] = response.json()["order"]
    return stored


# -- auth ---------------------------------------------------------------------------------------------


def test_right_credentials_connect_successfully(api: Api) -> None:
    response = api.get("/test")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "success"
    assert body["message"] == "Connection Successful"
    assert len(body["current_date_time"]) == 19
    assert body["execution_time"].endswith(" seconds")


@pytest.mark.parametrize(
    "headers",
    [
        {"ORDERDESK-STORE-ID": "10001", "ORDERDESK-API-KEY": "wrong-key"},
        {"ORDERDESK-STORE-ID": "99999", "ORDERDESK-API-KEY": "sandbox-api-key-0123456789"},
        {"ORDERDESK-STORE-ID": "10001"},
        {},
    ],
    ids=["wrong-key", "wrong-store", "missing-key", "no-headers"],
)
def test_wrong_or_missing_credentials_get_the_auth_error_envelope(
    sandbox: SandboxServer, headers: dict[str, str]
) -> None:
    response = requests.get(f"{sandbox.api_url}/test", headers=headers, timeout=10)

    assert_error(response, 401)


def test_auth_error_status_is_settable(api: Api) -> None:
    api.control("PATCH", "/config", json={"auth_error_status": 403})

    response = api.session.get(api.url("/test"), headers={"ORDERDESK-API-KEY": "nope"}, timeout=10)

    assert_error(response, 403)


def test_auth_applies_to_unknown_routes_too(sandbox: SandboxServer) -> None:
    response = requests.get(f"{sandbox.api_url}/no-such-thing", timeout=10)

    assert_error(response, 401)


# -- store and PHP-style output ------------------------------------------------------------------------


def test_store_reports_timezone_and_folders_as_an_id_to_name_map(api: Api) -> None:
    store = api.get("/store").json()["store"]

    assert store["id"] == "10001"
    assert store["name"] == "Sandbox Print Shop"
    assert store["settings"]["timezone"] == "America/New_York"
    assert store["folders"] == {"21654": "New", "21655": "Prepared", "21656": "Closed", "21657": "Canceled"}


def test_output_follows_php_habits(api: Api) -> None:
    response = api.get(f"/orders/{FIRST_ORDER}")
    order = response.json()["order"]
    cards, rush = order["order_items"]

    assert order["id"] == FIRST_ORDER
    assert order["folder_id"] == NEW
    assert order["order_total"] == "63.40"
    assert order["order_metadata"] == []
    assert cards["id"] == CARDS_ITEM
    assert cards["price"] == "39.90"
    assert cards["metadata"]["testIdField"] == "testId"
    assert cards["metadata"]["hiResUrl2"].startswith("https://")
    assert rush["metadata"] == []
    assert rush["variation_list"] == []
    # json_encode escapes slashes; the decoded value is the same.
    assert "https:\\/\\/files.example.com" in response.text


def test_single_order_reads_carry_the_timing_in_the_message(api: Api) -> None:
    body = api.get(f"/orders/{FIRST_ORDER}").json()

    assert body["message"].startswith("Execution took ")


# -- searching orders -------------------------------------------------------------------------------


def test_search_by_source_id_is_exact_by_default(api: Api) -> None:
    body = api.get("/orders", params={"source_id": "1001"}).json()

    assert [order["source_id"] for order in body["orders"]] == ["1001"]
    assert body["total_records"] == "1"
    assert body["records_returned"] == 1
    assert body["limit"] == 50
    assert body["offset"] == 0


def test_search_by_source_id_can_match_partially(api: Api) -> None:
    api.control("PATCH", "/config", json={"partial_source_id": True})

    body = api.get("/orders", params={"source_id": "1001"}).json()

    assert sorted(order["source_id"] for order in body["orders"]) == ["1001", "10010"]


def test_split_order_returns_both_orders_with_the_same_source_id(api: Api) -> None:
    body = api.get("/orders", params={"source_id": "1002", "folder_name": "New"}).json()

    assert body["total_records"] == "2"
    assert {order["source_id"] for order in body["orders"]} == {"1002"}


def test_search_without_match_is_an_empty_success(api: Api) -> None:
    body = api.get("/orders", params={"source_id": "does-not-exist"}).json()

    assert body["status"] == "success"
    assert body["orders"] == []
    assert body["total_records"] == "0"


def test_search_filters_by_folder_list_and_email_together(api: Api) -> None:
    body = api.get(
        "/orders", params={"folder_id": f"{PREPARED},{CLOSED}", "email": "LEE.CHEN@example.com"}
    ).json()

    assert [order["source_id"] for order in body["orders"]] == ["10010"]


def test_search_pages_and_sorts(api: Api) -> None:
    first = api.get("/orders", params={"limit": 4, "order": "ASC"}).json()
    second = api.get("/orders", params={"limit": 4, "offset": 4, "order": "ASC"}).json()

    added = [order["date_added"] for order in first["orders"] + second["orders"]]
    assert first["total_records"] == "6"
    assert (first["records_returned"], second["records_returned"]) == (4, 2)
    assert added == sorted(added)
    assert second["offset"] == 4


def test_search_limit_above_500_is_a_validation_error(api: Api) -> None:
    assert_error(api.get("/orders", params={"limit": 501}), 422)


def test_search_dates_are_read_in_the_store_time_zone(api: Api) -> None:
    # 04:30 UTC on 10 March is 23:30 on 9 March in New York (UTC-5 then).
    seed(
        api, {"source_id": "TZ-1", "date_added": "2024-03-10 04:30:00", "date_updated": "2024-03-10 04:30:00"}
    )

    evening_before = api.get(
        "/orders",
        params={"search_start_date": "2024-03-09 23:00:00", "search_end_date": "2024-03-09 23:59:59"},
    ).json()
    utc_day = api.get(
        "/orders",
        params={"search_start_date": "2024-03-10 00:00:00", "search_end_date": "2024-03-10 23:59:59"},
    ).json()
    modified = api.get(
        "/orders", params={"modified_start_date": "2024-03-09", "modified_end_date": "2024-03-09"}
    ).json()

    assert [order["source_id"] for order in evening_before["orders"]] == ["TZ-1"]
    assert utc_day["orders"] == []
    assert [order["source_id"] for order in modified["orders"]] == ["TZ-1"]


# -- orders -------------------------------------------------------------------------------------------


def test_create_order_assigns_ids_and_lands_in_new(api: Api) -> None:
    response = api.post(
        "/orders",
        json={"source_id": "2001", "email": "a@example.com", "order_items": [{"name": "Mug", "price": 12}]},
    )

    assert response.status_code == 200
    order = response.json()["order"]
    assert order["folder_id"] == NEW
    assert order["order_items"][0]["id"].isdigit()
    assert order["order_items"][0]["price"] == "12.00"
    assert api.get(f"/orders/{order['id']}").json()["order"]["source_id"] == "2001"


def test_put_order_is_a_full_replace(api: Api) -> None:
    response = api.put(
        f"/orders/{FIRST_ORDER}",
        json={
            "source_id": "1001",
            "order_items": [{"id": CARDS_ITEM, "name": "Cards"}, {"name": "New line"}],
        },
    )

    assert response.status_code == 200
    order = api.get(f"/orders/{FIRST_ORDER}").json()["order"]
    assert order["email"] == ""
    assert order["shipping_method"] == ""
    assert order["folder_id"] == NEW
    names = {item["id"]: item["name"] for item in order["order_items"]}
    assert names[CARDS_ITEM] == "Cards"
    assert RUSH_ITEM not in names
    assert "New line" in names.values()
    assert order["order_items"][0]["metadata"] == []


def test_delete_order_removes_it(api: Api) -> None:
    assert api.delete(f"/orders/{FIRST_ORDER}").json()["message"] == "Order Deleted"

    assert_error(api.get(f"/orders/{FIRST_ORDER}"), 404, "Order Not Found")


def test_unknown_order_gets_the_not_found_status(api: Api) -> None:
    assert_error(api.get("/orders/1001"), 404, "Order Not Found")
    api.control("PATCH", "/config", json={"not_found_status": 400})
    assert_error(api.get("/orders/1001"), 400, "Order Not Found")


def test_order_history_note_is_appended_and_returned(api: Api) -> None:
    response = api.post(f"/orders/{FIRST_ORDER}/order-history", json={"note": "Print files delivered"})

    assert response.status_code == 200
    history = response.json()["order"]["order_history"]
    assert history[-1]["note"] == "Print files delivered"
    assert len(history[-1]["date_added"]) == 19
    assert_error(api.post(f"/orders/{FIRST_ORDER}/order-history", json={"note": ""}), 422)


def test_move_orders_by_folder_name_changes_folder_and_date_updated(api: Api) -> None:
    before = api.get(f"/orders/{FIRST_ORDER}").json()["order"]

    response = api.post(
        "/move-orders",
        json={"order_id_list": [int(FIRST_ORDER), "925087"], "destination_folder_name": "Prepared"},
    )

    body = response.json()
    assert body["message"] == "2 Orders Moved"
    assert body["results"][0] == {
        "order_id": FIRST_ORDER,
        "message": "Order Moved",
        "original_folder_id": NEW,
    }
    after = api.get(f"/orders/{FIRST_ORDER}").json()["order"]
    assert after["folder_id"] == PREPARED
    assert after["date_updated"] > before["date_updated"]


def test_move_orders_by_folder_id(api: Api) -> None:
    response = api.post(
        "/move-orders", json={"order_id_list": [FIRST_ORDER], "destination_folder_id": CLOSED}
    )

    assert response.json()["message"] == "1 Orders Moved"
    assert api.get(f"/orders/{FIRST_ORDER}").json()["order"]["folder_id"] == CLOSED


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"order_id_list": [FIRST_ORDER], "destination_folder_name": "Prepard"}, "Folder Not Found: Prepard"),
        ({"order_id_list": [FIRST_ORDER], "destination_folder_id": 1}, "Folder Not Found: 1"),
        (
            {
                "order_id_list": [FIRST_ORDER],
                "destination_folder_id": PREPARED,
                "destination_folder_name": "Closed",
            },
            None,
        ),
        ({"order_id_list": [], "destination_folder_name": "Closed"}, None),
    ],
    ids=["unknown-name", "unknown-id", "both", "no-orders"],
)
def test_invalid_moves_are_validation_errors(api: Api, body: dict[str, Any], message: str | None) -> None:
    assert_error(api.post("/move-orders", json=body), 422, message)


def test_post_with_method_override_is_treated_as_put(api: Api) -> None:
    response = api.post(
        f"/orders/{FIRST_ORDER}/order-items/{RUSH_ITEM}",
        json={"name": "Overridden"},
        headers={"X-HTTP-Method-Override": "PUT"},
    )

    assert response.json()["message"] == "Order Item Updated"
    assert api.control("GET", "/requests").json()["requests"][-1]["method"] == "PUT"


# -- order items --------------------------------------------------------------------------------------


def test_item_list_get_add_and_delete(api: Api) -> None:
    listed = api.get(f"/orders/{FIRST_ORDER}/order-items").json()
    added = api.post(f"/orders/{FIRST_ORDER}/order-items", json={"name": "Envelopes", "quantity": "2"}).json()
    new_id = added["order_item"]["id"]
    fetched = api.get(f"/orders/{FIRST_ORDER}/order-items/{new_id}").json()
    deleted = api.delete(f"/orders/{FIRST_ORDER}/order-items/{new_id}").json()

    assert [item["id"] for item in listed["order_items"]] == [CARDS_ITEM, RUSH_ITEM]
    assert added["message"] == "Order Item Added"
    assert fetched["order_item"]["quantity"] == 2
    assert deleted["message"] == "Order Item Deleted"
    assert_error(api.get(f"/orders/{FIRST_ORDER}/order-items/{new_id}"), 404, "Order Item Not Found")


def test_item_of_another_order_is_not_found(api: Api) -> None:
    assert_error(api.get(f"/orders/925087/order-items/{CARDS_ITEM}"), 404, "Order Item Not Found")


def test_item_put_in_replace_mode_resets_fields_left_out(api: Api) -> None:
    response = api.put(
        f"/orders/{FIRST_ORDER}/order-items/{CARDS_ITEM}", json={"metadata": {"hiResUrl": "https://x/1.pdf"}}
    )

    assert response.json()["message"] == "Order Item Updated"
    item = api.get(f"/orders/{FIRST_ORDER}/order-items/{CARDS_ITEM}").json()["order_item"]
    assert item["metadata"] == {"hiResUrl": "https://x/1.pdf"}
    assert item["name"] == ""
    assert item["price"] == "0.00"
    assert item["quantity"] == 1
    assert item["delivery_type"] == "ship"
    assert item["variation_list"] == []


def test_item_put_in_merge_mode_keeps_fields_left_out(api: Api) -> None:
    api.control("PATCH", "/config", json={"item_put_mode": "merge"})

    api.put(
        f"/orders/{FIRST_ORDER}/order-items/{CARDS_ITEM}", json={"metadata": {"hiResUrl": "https://x/1.pdf"}}
    )

    item = api.get(f"/orders/{FIRST_ORDER}/order-items/{CARDS_ITEM}").json()["order_item"]
    assert item["name"] == "Business Cards - Premium Matte, 500 pcs"
    assert item["price"] == "39.90"
    assert item["metadata"]["testIdField"] == "testId"
    assert item["metadata"]["hiResUrl"] == "https://x/1.pdf"


def test_complete_item_put_round_trips_in_both_modes(api: Api) -> None:
    for mode in ("replace", "merge"):
        api.control("PATCH", "/config", json={"item_put_mode": mode})
        item = api.get(f"/orders/{FIRST_ORDER}/order-items/{CARDS_ITEM}").json()["order_item"]
        item["metadata"] = {**item["metadata"], f"url_{mode}": "https://x"}

        api.put(f"/orders/{FIRST_ORDER}/order-items/{CARDS_ITEM}", json=item)

        stored = api.get(f"/orders/{FIRST_ORDER}/order-items/{CARDS_ITEM}").json()["order_item"]
        assert stored == item


def test_item_put_accepts_empty_list_as_empty_metadata(api: Api) -> None:
    response = api.put(
        f"/orders/{FIRST_ORDER}/order-items/{RUSH_ITEM}", json={"name": "Rush", "metadata": []}
    )

    assert response.status_code == 200


def test_item_write_bumps_order_date_updated(api: Api) -> None:
    before = api.get(f"/orders/{FIRST_ORDER}").json()["order"]["date_updated"]

    api.put(f"/orders/{FIRST_ORDER}/order-items/{RUSH_ITEM}", json={"name": "Rush"})

    assert api.get(f"/orders/{FIRST_ORDER}").json()["order"]["date_updated"] > before


@pytest.mark.parametrize(
    "body",
    [
        {"metadata": {"nested": {"a": 1}}},
        {"metadata": "text"},
        {"price": "ten"},
        {"quantity": 1.5},
        {"delivery_type": "teleport"},
        {"variation_list": [1, 2]},
        {"id": "12"},
    ],
    ids=[
        "nested-metadata",
        "metadata-string",
        "price-text",
        "quantity-fraction",
        "delivery",
        "variations",
        "id",
    ],
)
def test_item_put_with_wrong_types_is_a_validation_error(api: Api, body: dict[str, Any]) -> None:
    assert_error(api.put(f"/orders/{FIRST_ORDER}/order-items/{CARDS_ITEM}", json=body), 422)


# -- bodies and routes --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"{not json", "Invalid JSON in request body"),
        (b"[1, 2]", "Request body must be a JSON object"),
        (b'{"a": "' + b"x" * (1024 * 1024) + b'"}', None),
    ],
    ids=["invalid-json", "not-an-object", "too-large"],
)
def test_bad_bodies_get_the_validation_envelope(api: Api, data: bytes, message: str | None) -> None:
    response = api.put(
        f"/orders/{FIRST_ORDER}/order-items/{CARDS_ITEM}",
        data=data,
        headers={"Content-Type": "application/json"},
    )

    assert_error(response, 422, message)


def test_get_with_content_type_is_refused(api: Api) -> None:
    assert_error(api.get("/test", headers={"Content-Type": "application/json"}), 422)


@pytest.mark.parametrize("path", ["/nope", "/orders/", "/orders/925086/shipments", ""])
def test_unknown_routes_get_the_not_found_envelope(api: Api, path: str) -> None:
    assert_error(api.get(path), 404, "Unknown route")


def test_unsupported_method_gets_an_envelope(api: Api) -> None:
    assert_error(api.request("PATCH", f"/orders/{FIRST_ORDER}", json={}), 405)


# -- rate limit ---------------------------------------------------------------------------------------


def test_bucket_refuses_the_request_after_the_burst(api: Api) -> None:
    api.control("PATCH", "/config", json={"burst": 3, "refill_per_second": 1.0})

    responses = [api.get("/test") for _ in range(4)]

    assert [response.status_code for response in responses] == [200, 200, 200, 429]
    assert [int(response.headers["X-Tokens-Remaining"]) for response in responses] == [2, 1, 0, 0]
    limited = assert_error(responses[3], 429, "Rate limit exceeded")
    assert limited["status"] == "error"
    assert int(responses[3].headers["X-Retry-After"]) >= 1


def test_failed_requests_cost_a_token_and_control_routes_none(api: Api) -> None:
    api.control("PATCH", "/config", json={"burst": 2, "refill_per_second": 0.5})

    first = api.session.get(api.url("/test"), headers={"ORDERDESK-API-KEY": "wrong"}, timeout=10)
    for _ in range(5):
        assert api.control("GET", "/config").status_code == 200
    second = api.get("/orders/1")

    assert first.status_code == 401
    assert first.headers["X-Tokens-Remaining"] == "1"
    assert second.headers["X-Tokens-Remaining"] == "0"
    assert api.get("/test").status_code == 429


def test_bucket_refills_over_time(api: Api) -> None:
    api.control("PATCH", "/config", json={"burst": 1, "refill_per_second": 20.0})

    assert api.get("/test").status_code == 200
    time.sleep(0.1)

    assert api.get("/test").status_code == 200


def test_unmetered_sandbox_sends_no_token_count(api: Api) -> None:
    assert "X-Tokens-Remaining" not in api.get("/test").headers


# -- faults -------------------------------------------------------------------------------------------


def _fault_everything(api: Api, kind: str, **extra: Any) -> None:
    response = api.control("PATCH", "/config", json={"fault_rate": 1.0, "fault_kinds": [kind], **extra})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("kind", ["500", "502", "503"])
def test_status_faults_answer_with_that_status_and_the_envelope(api: Api, kind: str) -> None:
    _fault_everything(api, kind)

    assert_error(api.get("/test"), int(kind))


def test_malformed_json_fault_is_a_200_that_does_not_parse(api: Api) -> None:
    _fault_everything(api, "malformed_json")

    response = api.get("/test")

    assert response.status_code == 200
    with pytest.raises(requests.exceptions.JSONDecodeError):
        response.json()


def test_html_error_fault_is_a_502_html_page(api: Api) -> None:
    _fault_everything(api, "html_error")

    response = api.get("/test")

    assert response.status_code == 502
    assert response.headers["Content-Type"].startswith("text/html")
    assert "502 Bad Gateway" in response.text


def test_error_200_fault_is_an_error_envelope_with_status_200(api: Api) -> None:
    _fault_everything(api, "error_200")

    response = api.get("/test")

    assert response.status_code == 200
    assert response.json() == {"status": "error", "message": "Simulated failure"}


def test_drop_fault_breaks_the_body_off_and_requests_raises_chunked_encoding_error(api: Api) -> None:
    _fault_everything(api, "drop")

    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        api.get("/test")
    # The connection broke, not the server: the next request is answered normally.
    api.control("PATCH", "/config", json={"fault_rate": 0.0})
    assert api.get("/test").status_code == 200


def test_slow_fault_delays_the_answer(api: Api) -> None:
    _fault_everything(api, "slow", slow_seconds=0.3)

    with pytest.raises(requests.exceptions.ReadTimeout):
        api.get("/test", timeout=0.1)
    started = time.monotonic()
    response = api.get("/test")

    assert response.status_code == 200
    assert time.monotonic() - started >= 0.3


def test_fault_before_write_leaves_the_order_unchanged(api: Api) -> None:
    _fault_everything(api, "503")

    api.put(f"/orders/{FIRST_ORDER}/order-items/{RUSH_ITEM}", json={"name": "Changed"})

    raw = api.control("GET", f"/orders/{FIRST_ORDER}").json()["order"]
    assert raw["order_items"][1]["name"] == "Rush Production (24 h)"


@pytest.mark.parametrize("kind", ["503", "drop"])
def test_fault_after_write_applies_the_write_and_loses_the_answer(api: Api, kind: str) -> None:
    _fault_everything(api, kind, fault_after_write=True)

    try:
        response = api.put(f"/orders/{FIRST_ORDER}/order-items/{RUSH_ITEM}", json={"name": "Changed"})
        assert response.status_code == 503
    except requests.exceptions.ChunkedEncodingError:
        assert kind == "drop"

    raw = api.control("GET", f"/orders/{FIRST_ORDER}").json()["order"]
    assert raw["order_items"][1]["name"] == "Changed"


def test_faults_repeat_from_the_seed(api: Api) -> None:
    api.control(
        "PATCH", "/config", json={"fault_rate": 0.5, "fault_kinds": ["500", "error_200"], "fault_seed": 7}
    )

    def run() -> list[str | None]:
        for _ in range(12):
            api.get("/test")
        return [entry["fault"] for entry in api.control("GET", "/requests").json()["requests"]]

    first = run()
    api.control("POST", "/reset", json={})
    second = run()

    assert first == second
    assert None in first
    assert {"500", "error_200"} & set(first)


def test_fault_settings_are_validated(api: Api) -> None:
    response = api.control("PATCH", "/config", json={"fault_kinds": ["teapot"]})

    assert response.status_code == 422
    assert api.control("GET", "/config").json()["config"]["fault_kinds"][0] == "500"


# -- control routes -----------------------------------------------------------------------------------


def test_request_log_records_effective_requests_with_the_key_hidden(api: Api) -> None:
    api.get("/orders", params={"source_id": "1001"})
    api.put(f"/orders/{FIRST_ORDER}/order-items/{RUSH_ITEM}", json={"name": "Rush"})
    api.control("GET", "/config")

    entries = api.control("GET", "/requests").json()["requests"]

    assert [(entry["seq"], entry["method"], entry["path"]) for entry in entries] == [
        (1, "GET", "/orders"),
        (2, "PUT", f"/orders/{FIRST_ORDER}/order-items/{RUSH_ITEM}"),
    ]
    assert entries[0]["query"] == {"source_id": "1001"}
    assert entries[0]["body"] is None
    assert entries[1]["body"] == {"name": "Rush"}
    assert entries[1]["status"] == 200
    assert entries[1]["fault"] is None
    assert entries[1]["headers"]["orderdesk-api-key"] == "***"
    assert entries[1]["headers"]["orderdesk-store-id"] == "10001"


def test_request_log_filters_and_clears(api: Api) -> None:
    api.get(f"/orders/{FIRST_ORDER}")
    api.put(f"/orders/{FIRST_ORDER}/order-items/{RUSH_ITEM}", json={"name": "Rush"})
    api.get("/store")

    puts = api.control("GET", "/requests", params={"method": "put"}).json()["requests"]
    orders = api.control("GET", "/requests", params={"path_prefix": "/orders/"}).json()["requests"]
    api.control("DELETE", "/requests")

    assert [entry["method"] for entry in puts] == ["PUT"]
    assert len(orders) == 2
    assert api.control("GET", "/requests").json()["requests"] == []


def test_reset_wipes_orders_and_log_and_can_skip_demo_data(api: Api) -> None:
    api.post("/orders", json={"source_id": "X-1"})

    empty = api.control("POST", "/reset", json={"demo_data": False}).json()

    assert empty["orders"] == 0
    assert api.get("/orders").json()["total_records"] == "0"
    assert len(api.control("GET", "/requests").json()["requests"]) == 1
    assert api.control("POST", "/reset", json={"demo_data": True}).json()["orders"] == 6


def test_config_can_be_read_and_changed_but_not_the_database(api: Api) -> None:
    changed = api.control("PATCH", "/config", json={"item_put_mode": "merge", "store_name": "Other"}).json()

    assert changed["config"]["item_put_mode"] == "merge"
    assert api.get("/store").json()["store"]["name"] == "Other"
    assert api.control("PATCH", "/config", json={"db": "/tmp/x.db"}).status_code == 422
    assert api.control("PATCH", "/config", json={"burst": "many"}).status_code == 422


def test_seeded_order_keeps_chosen_ids_dates_and_metadata(api: Api) -> None:
    stored = seed(
        api,
        {
            "id": 500,
            "source_id": "S-1",
            "folder_name": "Prepared",
            "date_added": "2023-01-02 03:04:05",
            "order_items": [
                {"name": "Poster", "metadata": {"ccProjectId": "p-1"}},
                {"id": 77, "name": "Card"},
            ],
        },
    )

    assert stored["id"] == 500
    assert stored["folder_id"] == PREPARED
    assert stored["date_added"] == "2023-01-02 03:04:05"
    assert stored["order_items"][1]["id"] == 77
    order = api.get("/orders/500").json()["order"]
    assert order["order_items"][0]["metadata"] == {"ccProjectId": "p-1"}
    assert order["date_added"] == "2023-01-02 03:04:05"
    raw = api.control("GET", "/orders/500").json()["order"]
    assert raw["order_items"][1] == {**raw["order_items"][1], "id": 77, "metadata": {}}


def test_seeding_an_existing_id_is_refused(api: Api) -> None:
    response = api.control("POST", "/orders", json={"id": int(FIRST_ORDER)})

    assert response.status_code == 422


def test_raw_order_of_unknown_id_is_404(api: Api) -> None:
    assert api.control("GET", "/orders/42").status_code == 404


# -- pages --------------------------------------------------------------------------------------------


def test_order_page_shows_items_metadata_with_links_and_escapes(api: Api) -> None:
    seed(
        api,
        {
            "id": 600,
            "source_id": "<b>S</b>",
            "order_items": [
                {"id": 601, "name": "A & B", "metadata": {"url": "https://x/a?b=1&c=2", "n": "<i>"}}
            ],
        },
    )

    response = requests.get(f"{api.server.base_url}/orders/view/600", timeout=10)

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    page = response.text
    assert page.startswith("<!DOCTYPE html>")
    assert "&lt;b&gt;S&lt;/b&gt;" in page
    assert "A &amp; B" in page
    assert '<a href="https://x/a?b=1&amp;c=2">' in page
    assert "&lt;i&gt;" in page
    assert "<td>New</td>" in page


def test_order_page_of_unknown_order_is_a_404_page(api: Api) -> None:
    response = requests.get(f"{api.server.base_url}/orders/view/12345", timeout=10)

    assert response.status_code == 404
    assert "not found" in response.text


def test_files_dir_is_served_read_only_without_escaping_it(api: Api, tmp_path: Path) -> None:
    (tmp_path / "art").mkdir()
    (tmp_path / "art" / "front.pdf").write_bytes(b"%PDF-1.4 demo")
    api.control("PATCH", "/config", json={"files_dir": str(tmp_path)})
    base = api.server.base_url

    served = requests.get(f"{base}/files/art/front.pdf", timeout=10)
    escaped = requests.get(f"{base}/files/..%2F..%2Fetc%2Fpasswd", timeout=10)
    missing = requests.get(f"{base}/files/art/back.pdf", timeout=10)

    assert served.content == b"%PDF-1.4 demo"
    assert escaped.status_code == 404
    assert missing.status_code == 404


# -- concurrency and the server object ----------------------------------------------------------------


def test_concurrent_item_merges_are_serialised_and_none_is_lost(api: Api) -> None:
    api.control("PATCH", "/config", json={"item_put_mode": "merge"})
    url = api.url(f"/orders/{FIRST_ORDER}/order-items/{CARDS_ITEM}")
    headers = dict(api.session.headers)

    def put(number: int) -> int:
        body = {"metadata": {f"key{number}": str(number)}}
        return requests.put(url, json=body, headers=headers, timeout=10).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(put, range(24)))

    metadata = api.get(f"/orders/{FIRST_ORDER}/order-items/{CARDS_ITEM}").json()["order_item"]["metadata"]
    assert statuses == [200] * 24
    assert {f"key{number}" for number in range(24)} <= metadata.keys()
    assert metadata["testIdField"] == "testId"


def test_item_ids_stay_unique_across_the_store(api: Api) -> None:
    copy = {"source_id": "dup", "order_items": [{"id": CARDS_ITEM, "name": "Copy"}]}

    response = api.post("/orders", json=copy)

    assert_error(response, 422)
    assert api.get("/orders", params={"source_id": "dup"}).json()["orders"] == []


def test_server_on_a_free_port_exposes_its_addresses_and_in_process_controls() -> None:
    settings = SandboxSettings(store_id="4242", api_key="k-1", demo_data=False, burst=0)
    with SandboxServer(settings) as server:
        assert server.port > 0
        assert server.base_url == f"http://127.0.0.1:{server.port}"
        assert server.api_url == f"{server.base_url}/api/v2"
        assert (server.store_id, server.api_key) == ("4242", "k-1")
        server.seed_order({"id": 9, "source_id": "S-9"})
        server.configure(not_found_status=410)

        headers = {"ORDERDESK-STORE-ID": "4242", "ORDERDESK-API-KEY": "k-1"}
        found = requests.get(f"{server.api_url}/orders/9", headers=headers, timeout=10)
        missing = requests.get(f"{server.api_url}/orders/10", headers=headers, timeout=10)

        assert found.json()["order"]["source_id"] == "S-9"
        assert missing.status_code == 410
        assert [entry["path"] for entry in server.requests()] == ["/orders/9", "/orders/10"]
        assert server.settings.not_found_status == 410
        assert server.reset() == 0
        base_url = server.base_url

    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"{base_url}/_sandbox/config", timeout=2)


def test_non_ascii_text_is_escaped_like_php(api: Api) -> None:
    seed(api, {"id": 700, "source_id": "Ü-1", "order_items": [{"id": 701, "name": "Café Poster"}]})

    response = api.get("/orders/700")

    assert "\\u00dc-1" in response.text
    assert response.json()["order"]["order_items"][0]["name"] == "Café Poster"
