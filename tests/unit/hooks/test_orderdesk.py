"""Tests of the Order Desk hook against a mocked API: what it sends, what it returns, when it retries."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

import pytest
import requests
import structlog

from airflow_orderdesk import __version__, pacing
from airflow_orderdesk.exceptions import (
    OrderDeskAuthenticationError,
    OrderDeskConfigurationError,
    OrderDeskNotFoundError,
    OrderDeskRateLimitError,
    OrderDeskServerError,
    OrderDeskTransportError,
    OrderDeskValidationError,
)
from airflow_orderdesk.hooks.orderdesk import OrderDeskHook

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from requests_mock import Mocker

API = "https://od.example.test/api/v2"
STORE_ID = "12345"
API_KEY = "key-abcdef-123"
SUCCESS = {"status": "success", "message": "Connection Successful"}


class FakeTime:
    """A clock and a sleep that share one fake time: sleeping moves the clock, nothing really waits."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture(autouse=True)
def _fresh_buckets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pacing, "_buckets", {})


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


def _set_connection(monkeypatch: pytest.MonkeyPatch, **fields: Any) -> None:
    connection = {
        "conn_type": "orderdesk",
        "host": f"{API}/",
        "login": STORE_ID,
        "password": API_KEY,
        "extra": {},
    }
    connection.update(fields)
    monkeypatch.setenv("AIRFLOW_CONN_ORDERDESK_TEST", json.dumps(connection))


@pytest.fixture
def make_hook(monkeypatch: pytest.MonkeyPatch, fake_time: FakeTime) -> Callable[..., OrderDeskHook]:
    """Build a hook on the test connection, its bucket on the fake clock; keywords change the connection."""

    def make(*, max_retries: int = 4, max_rate_limit_wait: float = 120.0, **connection: Any) -> OrderDeskHook:
        _set_connection(monkeypatch, **connection)
        hook = OrderDeskHook(
            "orderdesk_test",
            max_retries=max_retries,
            max_rate_limit_wait=max_rate_limit_wait,
            sleep=fake_time.sleep,
            jitter=lambda: 0.5,
        )
        hook.bucket._clock = fake_time.clock
        return hook

    return make


@pytest.fixture
def hook(make_hook: Callable[..., OrderDeskHook]) -> OrderDeskHook:
    return make_hook()


@pytest.fixture
def structlog_to_caplog() -> Iterator[None]:
    """Send the hook's structlog lines through standard logging, where ``caplog`` sees them."""
    saved = structlog.get_config()
    structlog.configure(
        processors=[structlog.stdlib.PositionalArgumentsFormatter(), structlog.stdlib.render_to_log_kwargs],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
    )
    yield
    structlog.configure(**saved)


def _never_sleep(seconds: float) -> None:
    raise AssertionError(f"the hook slept {seconds} s")


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {"status_code": status, "json": {"status": "error", "message": message}, "headers": headers or {}}


def _ok(**envelope: Any) -> dict[str, Any]:
    return {"status_code": 200, "json": {"status": "success", **envelope}}


def _orders(*source_ids: str, first_id: int = 1) -> list[dict[str, Any]]:
    return [
        {"id": str(first_id + n), "source_id": source_id, "order_items": []}
        for n, source_id in enumerate(source_ids)
    ]


def _read_item() -> dict[str, Any]:
    return {
        "id": "555",
        "order_id": "925086",
        "name": "Poster A3",
        "price": "10",
        "quantity": "2",
        "weight": "0.50",
        "code": "POSTER-A3",
        "delivery_type": "ship",
        "category_code": "",
        "fulfillment_method": "print",
        "variation_list": {"Size": "A3"},
        "metadata": {"proof": "approved"},
    }


# -- what goes on the wire -----------------------------------------------------------------------------


def test_a_get_carries_the_store_headers_and_no_body_headers(
    hook: OrderDeskHook, requests_mock: Mocker
) -> None:
    requests_mock.get(f"{API}/test", json=SUCCESS)

    hook.request("GET", "test")

    headers = requests_mock.last_request.headers
    assert headers["ORDERDESK-STORE-ID"] == STORE_ID
    assert headers["ORDERDESK-API-KEY"] == API_KEY
    assert headers["Accept"] == "application/json"
    assert headers["User-Agent"].startswith(f"airflow-provider-orderdesk/{__version__}")
    assert "Content-Type" not in headers
    assert "Authorization" not in headers
    assert requests_mock.last_request.body is None


@pytest.mark.parametrize(
    ("call", "method", "url"),
    [
        (
            lambda hook: hook.update_order_item("925086", _read_item()),
            "PUT",
            f"{API}/orders/925086/order-items/555",
        ),
        (lambda hook: hook.move_orders(["925086"], folder_id=64), "POST", f"{API}/move-orders"),
        (
            lambda hook: hook.add_order_history("925086", "Printed"),
            "POST",
            f"{API}/orders/925086/order-history",
        ),
    ],
)
def test_a_request_with_a_body_is_sent_as_json_without_authorization(
    hook: OrderDeskHook, requests_mock: Mocker, call: Callable[[OrderDeskHook], Any], method: str, url: str
) -> None:
    requests_mock.register_uri(method, url, json={"status": "success"})

    call(hook)

    headers = requests_mock.last_request.headers
    assert headers["Content-Type"] == "application/json"
    assert headers["ORDERDESK-API-KEY"] == API_KEY
    assert "Authorization" not in headers


def test_extras_are_never_sent_as_headers(
    make_hook: Callable[..., OrderDeskHook], requests_mock: Mocker
) -> None:
    extra = {
        "timeout": "5",
        "rate_limit_burst": 10,
        "rate_limit_per_second": 2,
        "order_page_url": "https://od.example.test/o/{order_id}",
    }
    hook = make_hook(extra=extra)
    requests_mock.get(f"{API}/test", json=SUCCESS)

    hook.request("GET", "test")

    sent = {name.lower() for name in requests_mock.last_request.headers}
    assert sent == {
        "orderdesk-store-id",
        "orderdesk-api-key",
        "accept",
        "user-agent",
        "accept-encoding",
        "connection",
    }
    assert requests_mock.last_request.timeout == (5.0, 5.0)
    assert (hook.bucket.burst, hook.bucket.refill_per_second) == (10, 2.0)
    assert hook.order_url(925086) == "https://od.example.test/o/925086"


@pytest.mark.parametrize("host", [API, f"{API}/", "od.example.test"])
def test_endpoints_join_the_api_url_with_one_slash(
    make_hook: Callable[..., OrderDeskHook], requests_mock: Mocker, host: str
) -> None:
    requests_mock.get(f"{API}/orders/925086", json={"status": "success", "order": {"id": "925086"}})

    make_hook(host=host).get_order("925086")

    assert requests_mock.last_request.url == f"{API}/orders/925086"


def test_an_order_id_is_quoted_so_it_cannot_reach_another_route(
    hook: OrderDeskHook, requests_mock: Mocker
) -> None:
    requests_mock.get(f"{API}/orders/..%2Fstore", json={"status": "success", "order": {"id": "x"}})

    hook.get_order("../store")

    assert requests_mock.last_request.url == f"{API}/orders/..%2Fstore"


@pytest.mark.parametrize("bad_id", ["", " ", ".", ".."])
def test_an_order_id_that_would_resolve_to_another_route_is_refused_before_sending(
    hook: OrderDeskHook, requests_mock: Mocker, bad_id: str
) -> None:
    with pytest.raises(OrderDeskConfigurationError, match=r"^id: "):
        hook.get_order(bad_id)

    assert requests_mock.call_count == 0


def test_an_item_id_of_dot_dot_cannot_turn_an_item_put_into_an_order_put(
    hook: OrderDeskHook, requests_mock: Mocker
) -> None:
    with pytest.raises(OrderDeskConfigurationError, match=r"^id: "):
        hook.update_order_item("925086", {**_read_item(), "id": ".."})

    assert requests_mock.call_count == 0


# -- answers -------------------------------------------------------------------------------------------


def test_a_404_raises_not_found_with_order_desks_message(hook: OrderDeskHook, requests_mock: Mocker) -> None:
    requests_mock.get(f"{API}/orders/1", **_error(404, "Order Not Found"))

    with pytest.raises(OrderDeskNotFoundError) as caught:
        hook.get_order("1")

    assert (caught.value.status, caught.value.message) == (404, "Order Not Found")


def test_an_error_inside_a_200_raises_a_validation_error(hook: OrderDeskHook, requests_mock: Mocker) -> None:
    requests_mock.get(f"{API}/orders/1", json={"status": "error", "message": "Order Not Found"})

    with pytest.raises(OrderDeskValidationError) as caught:
        hook.get_order("1")

    assert (caught.value.status, caught.value.message) == (200, "Order Not Found")


def test_get_order_reads_empty_maps_as_dicts_and_ids_as_text(
    hook: OrderDeskHook, requests_mock: Mocker
) -> None:
    order = {
        "id": 925086,
        "source_id": 1001,
        "folder_id": 64,
        "order_metadata": [],
        "checkout_data": [],
        "order_items": [{"id": 555, "metadata": [], "variation_list": [], "price": "10"}],
    }
    requests_mock.get(f"{API}/orders/925086", json={"status": "success", "order": order})

    result = hook.get_order(925086)

    assert (result["id"], result["source_id"], result["folder_id"]) == ("925086", "1001", "64")
    assert (result["order_metadata"], result["checkout_data"]) == ({}, {})
    assert result["order_items"] == [
        {"id": "555", "metadata": {}, "variation_list": {}, "price": "10"},
    ]


def test_get_order_item_reads_empty_maps_as_dicts(hook: OrderDeskHook, requests_mock: Mocker) -> None:
    item = {"id": 555, "order_id": 925086, "metadata": [], "variation_list": [], "price": "10"}
    requests_mock.get(f"{API}/orders/925086/order-items/555", json={"status": "success", "order_item": item})

    result = hook.get_order_item("925086", 555)

    assert result == {"id": "555", "order_id": "925086", "metadata": {}, "variation_list": {}, "price": "10"}


def test_get_store_gives_folders_by_id_as_text(hook: OrderDeskHook, requests_mock: Mocker) -> None:
    store = {"settings": {"timezone": "Europe/Berlin"}, "folders": {"21654": "New", "21655": "Prepared"}}
    requests_mock.get(f"{API}/store", json={"status": "success", "store": store})

    result = hook.get_store()

    assert result["settings"] == {"timezone": "Europe/Berlin"}
    assert result["folders"] == {"21654": "New", "21655": "Prepared"}
    assert hook.get_folders() == {"21654": "New", "21655": "Prepared"}


def test_a_store_without_folders_or_settings_reads_them_as_empty(
    hook: OrderDeskHook, requests_mock: Mocker
) -> None:
    requests_mock.get(f"{API}/store", json={"status": "success", "store": {"settings": [], "folders": []}})

    assert hook.get_store() == {"settings": {}, "folders": {}}


# -- searching orders ----------------------------------------------------------------------------------


def test_iter_orders_steps_the_offset_by_500_until_a_short_page(
    hook: OrderDeskHook, requests_mock: Mocker
) -> None:
    pages = {0: 500, 500: 500, 1000: 3}

    def answer(request: Any, context: Any) -> dict[str, Any]:
        offset = int(request.qs["offset"][0])
        count = pages[offset]
        return {"status": "success", "orders": _orders(*["x"] * count, first_id=offset)}

    requests_mock.get(f"{API}/orders", json=answer)

    orders = hook.search_orders(folder_id=64, email=None)

    assert len(orders) == 1003
    assert len({order["id"] for order in orders}) == 1003
    queries = [request.qs for request in requests_mock.request_history]
    assert [query["offset"] for query in queries] == [["0"], ["500"], ["1000"]]
    assert all(query["limit"] == ["500"] and query["folder_id"] == ["64"] for query in queries)
    assert all("email" not in query for query in queries)


def test_iter_orders_stops_when_the_server_repeats_a_page(hook: OrderDeskHook, requests_mock: Mocker) -> None:
    page = _ok(orders=_orders(*["x"] * 500))
    requests_mock.get(f"{API}/orders", [page, page, _error(404, "a third page was not expected")])

    orders = list(hook.iter_orders())

    assert len(orders) == 500
    assert requests_mock.call_count == 2


def test_an_empty_search_sends_one_request(hook: OrderDeskHook, requests_mock: Mocker) -> None:
    requests_mock.get(f"{API}/orders", json={"status": "success", "orders": [], "total_records": "0"})

    assert hook.search_orders(source_id="1001") == []
    assert requests_mock.call_count == 1


def test_find_by_source_id_keeps_only_exact_matches(hook: OrderDeskHook, requests_mock: Mocker) -> None:
    requests_mock.get(
        f"{API}/orders", json={"status": "success", "orders": _orders("1001", "10010", "21001")}
    )

    orders = hook.find_orders_by_source_id(1001)

    assert [order["source_id"] for order in orders] == ["1001"]
    assert requests_mock.last_request.qs["source_id"] == ["1001"]


def test_find_by_source_id_keeps_every_order_split_from_the_same_number(
    hook: OrderDeskHook, requests_mock: Mocker
) -> None:
    orders = [*_orders("1001", "10011"), {"id": "9", "source_id": 1001}]
    requests_mock.get(f"{API}/orders", json={"status": "success", "orders": orders})

    found = hook.find_orders_by_source_id("1001")

    assert [order["id"] for order in found] == ["1", "9"]


# -- writes --------------------------------------------------------------------------------------------


def test_update_order_item_puts_the_complete_item_with_the_merged_metadata(
    hook: OrderDeskHook, requests_mock: Mocker
) -> None:
    requests_mock.put(
        f"{API}/orders/925086/order-items/555", json={"status": "success", "message": "Order Item Updated"}
    )
    item = _read_item()

    hook.update_order_item(
        "925086", item, metadata={**item["metadata"], "print_file": "https://f.example.test/1"}
    )

    assert requests_mock.last_request.json() == {
        "name": "Poster A3",
        "price": "10",
        "quantity": "2",
        "weight": "0.50",
        "code": "POSTER-A3",
        "delivery_type": "ship",
        "category_code": "",
        "fulfillment_method": "print",
        "variation_list": {"Size": "A3"},
        "metadata": {"proof": "approved", "print_file": "https://f.example.test/1"},
    }


def test_update_order_item_refuses_an_item_without_id(hook: OrderDeskHook, requests_mock: Mocker) -> None:
    item = {key: value for key, value in _read_item().items() if key != "id"}

    with pytest.raises(OrderDeskConfigurationError, match=r"^item: has no 'id'"):
        hook.update_order_item("925086", item)

    assert requests_mock.call_count == 0


@pytest.mark.parametrize(
    ("folder", "destination"),
    [
        ({"folder_id": "64"}, {"destination_folder_id": 64}),
        ({"folder_id": 64}, {"destination_folder_id": 64}),
        ({"folder_name": "Prepared"}, {"destination_folder_name": "Prepared"}),
    ],
)
def test_move_orders_names_the_folder_one_way(
    hook: OrderDeskHook, requests_mock: Mocker, folder: dict[str, Any], destination: dict[str, Any]
) -> None:
    requests_mock.post(f"{API}/move-orders", json={"status": "success", "message": "2 Orders Moved"})

    hook.move_orders([925086, "925087"], **folder)

    assert requests_mock.last_request.json() == {"order_id_list": ["925086", "925087"], **destination}


@pytest.mark.parametrize("folder", [{}, {"folder_id": 64, "folder_name": "Prepared"}])
def test_move_orders_needs_exactly_one_folder(
    hook: OrderDeskHook, requests_mock: Mocker, folder: dict[str, Any]
) -> None:
    with pytest.raises(OrderDeskConfigurationError, match="exactly one"):
        hook.move_orders(["925086"], **folder)

    assert requests_mock.call_count == 0


def test_add_order_history_posts_the_note(hook: OrderDeskHook, requests_mock: Mocker) -> None:
    requests_mock.post(f"{API}/orders/925086/order-history", json={"status": "success", "order": {}})

    hook.add_order_history(925086, "Print file delivered")

    assert requests_mock.last_request.method == "POST"
    assert requests_mock.last_request.json() == {"note": "Print file delivered"}


# -- rate limit ----------------------------------------------------------------------------------------


def test_a_429_is_waited_out_as_x_retry_after_says(
    hook: OrderDeskHook, requests_mock: Mocker, fake_time: FakeTime
) -> None:
    requests_mock.get(
        f"{API}/test", [_error(429, "Too Many Requests", headers={"X-Retry-After": "2"}), _ok()]
    )

    assert hook.request("GET", "test")["status"] == "success"
    assert fake_time.sleeps == [2.0]
    assert requests_mock.call_count == 2


def test_a_standard_retry_after_is_honoured_without_x_retry_after(
    hook: OrderDeskHook, requests_mock: Mocker, fake_time: FakeTime
) -> None:
    requests_mock.get(f"{API}/test", [_error(429, "Too Many Requests", headers={"Retry-After": "3"}), _ok()])

    hook.request("GET", "test")

    assert fake_time.sleeps == [3.0]


def test_429s_beyond_the_longest_wait_raise_a_rate_limit_error(
    make_hook: Callable[..., OrderDeskHook], requests_mock: Mocker, fake_time: FakeTime
) -> None:
    hook = make_hook(max_rate_limit_wait=5)
    too_many = _error(429, "Too Many Requests", headers={"X-Retry-After": "2"})
    requests_mock.get(f"{API}/test", [too_many, too_many, too_many, _ok()])

    with pytest.raises(OrderDeskRateLimitError) as caught:
        hook.request("GET", "test")

    assert caught.value.retry_after == 2.0
    assert fake_time.sleeps == [2.0, 2.0]
    assert requests_mock.call_count == 3


def _no_tokens_left(fake_time: FakeTime, sent_at: list[float]) -> Callable[[Any, Any], dict[str, Any]]:
    """A successful answer that says the store's bucket is empty, noting when each request arrived."""

    def answer(request: Any, context: Any) -> dict[str, Any]:
        sent_at.append(fake_time.now)
        context.headers["X-Tokens-Remaining"] = "0"
        return {"status": "success"}

    return answer


def test_no_tokens_remaining_makes_the_next_request_wait_before_it_is_sent(
    hook: OrderDeskHook, requests_mock: Mocker, fake_time: FakeTime
) -> None:
    sent_at: list[float] = []
    requests_mock.get(f"{API}/test", json=_no_tokens_left(fake_time, sent_at))

    hook.request("GET", "test")
    hook.request("GET", "test")

    assert fake_time.sleeps == [pytest.approx(1 / 3)]
    assert sent_at == [1000.0, pytest.approx(1000 + 1 / 3)]


def test_a_fresh_bucket_lets_20_requests_through_and_the_21st_waits(
    hook: OrderDeskHook, requests_mock: Mocker, fake_time: FakeTime
) -> None:
    requests_mock.get(f"{API}/test", json=SUCCESS)

    for _ in range(20):
        hook.request("GET", "test")
    assert fake_time.sleeps == []

    hook.request("GET", "test")
    assert fake_time.sleeps == [pytest.approx(1 / 3)]
    assert requests_mock.call_count == 21


def test_reserved_tokens_carry_the_next_requests_without_waiting_again(
    hook: OrderDeskHook, requests_mock: Mocker, fake_time: FakeTime
) -> None:
    requests_mock.get(f"{API}/test", json=SUCCESS)
    for _ in range(19):
        hook.request("GET", "test")

    hook.reserve_tokens(2)  # one token left: wait for the second before either request goes out
    assert fake_time.sleeps == [pytest.approx(1 / 3)]
    hook.request("GET", "test")
    hook.request("GET", "test")

    assert fake_time.sleeps == [pytest.approx(1 / 3)]
    assert hook.bucket.remaining() == 0


def test_unspent_reserved_tokens_go_back_to_the_bucket(hook: OrderDeskHook, requests_mock: Mocker) -> None:
    requests_mock.get(f"{API}/test", json=SUCCESS)

    hook.reserve_tokens(5)
    hook.request("GET", "test")
    assert hook.bucket.remaining() == 15
    hook.release_tokens()

    assert hook.bucket.remaining() == 19


def test_a_429_voids_the_reserved_tokens(
    hook: OrderDeskHook, requests_mock: Mocker, fake_time: FakeTime
) -> None:
    requests_mock.get(
        f"{API}/test",
        [_error(429, "Too Many Requests", headers={"X-Retry-After": "2"}), _ok(), _ok()],
    )
    hook.reserve_tokens(3)

    hook.request("GET", "test")
    hook.release_tokens()

    assert requests_mock.call_count == 2
    assert hook.bucket.remaining() <= 1  # nothing was given back after the 429


# -- retries -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_failing_get_is_retried_with_backoff_then_raises_a_server_error(
    hook: OrderDeskHook, requests_mock: Mocker, fake_time: FakeTime, status: int
) -> None:
    requests_mock.get(f"{API}/orders/1", **_error(status, "Internal Error"))

    with pytest.raises(OrderDeskServerError) as caught:
        hook.get_order("1")

    assert caught.value.status == status
    assert requests_mock.call_count == 5
    assert fake_time.sleeps == [0.25, 0.5, 1.0, 2.0]


def test_a_get_succeeds_once_the_server_recovers(
    hook: OrderDeskHook, requests_mock: Mocker, fake_time: FakeTime
) -> None:
    requests_mock.get(f"{API}/test", [_error(503, "Maintenance"), _error(500, "Oops"), _ok()])

    assert hook.request("GET", "test")["status"] == "success"
    assert fake_time.sleeps == [0.25, 0.5]


def test_max_retries_limits_the_attempts(
    make_hook: Callable[..., OrderDeskHook], requests_mock: Mocker
) -> None:
    hook = make_hook(max_retries=1)
    requests_mock.get(f"{API}/test", **_error(500, "Oops"))

    with pytest.raises(OrderDeskServerError):
        hook.request("GET", "test")

    assert requests_mock.call_count == 2


@pytest.mark.parametrize("failure", [requests.ConnectTimeout, requests.ConnectionError, requests.ReadTimeout])
def test_a_get_that_cannot_connect_is_retried_then_raises_a_transport_error(
    hook: OrderDeskHook, requests_mock: Mocker, fake_time: FakeTime, failure: type[Exception]
) -> None:
    requests_mock.get(f"{API}/test", exc=failure)

    with pytest.raises(OrderDeskTransportError, match="after 5 attempt"):
        hook.request("GET", "test")

    assert requests_mock.call_count == 5
    assert fake_time.sleeps == [0.25, 0.5, 1.0, 2.0]


def test_a_malformed_200_on_a_get_is_retried(hook: OrderDeskHook, requests_mock: Mocker) -> None:
    requests_mock.get(f"{API}/test", [{"status_code": 200, "text": "<html>Maintenance</html>"}, _ok()])

    assert hook.request("GET", "test")["status"] == "success"
    assert requests_mock.call_count == 2


def test_an_item_put_is_retried_after_a_503(hook: OrderDeskHook, requests_mock: Mocker) -> None:
    requests_mock.put(f"{API}/orders/925086/order-items/555", [_error(503, "Maintenance"), _ok()])

    hook.update_order_item("925086", _read_item())

    assert requests_mock.call_count == 2
    assert requests_mock.request_history[0].json() == requests_mock.request_history[1].json()


def test_a_move_is_retried_after_a_502(hook: OrderDeskHook, requests_mock: Mocker) -> None:
    requests_mock.post(f"{API}/move-orders", [_error(502, "Bad Gateway"), _ok(message="1 Orders Moved")])

    assert hook.move_orders(["925086"], folder_name="Prepared")["message"] == "1 Orders Moved"
    assert requests_mock.call_count == 2


def test_a_history_note_is_not_sent_twice_after_a_server_error(
    hook: OrderDeskHook, requests_mock: Mocker
) -> None:
    requests_mock.post(f"{API}/orders/925086/order-history", [_error(500, "Oops"), _ok()])

    with pytest.raises(OrderDeskServerError):
        hook.add_order_history("925086", "Printed")

    assert requests_mock.call_count == 1


def test_a_history_note_is_not_sent_twice_after_a_dropped_connection(
    hook: OrderDeskHook, requests_mock: Mocker
) -> None:
    requests_mock.post(f"{API}/orders/925086/order-history", exc=requests.ConnectionError)

    with pytest.raises(OrderDeskTransportError, match="after 1 attempt"):
        hook.add_order_history("925086", "Printed")

    assert requests_mock.call_count == 1


def test_a_history_note_is_sent_again_after_a_429(
    hook: OrderDeskHook, requests_mock: Mocker, fake_time: FakeTime
) -> None:
    requests_mock.post(
        f"{API}/orders/925086/order-history",
        [_error(429, "Too Many Requests", headers={"X-Retry-After": "1"}), _ok()],
    )

    hook.add_order_history("925086", "Printed")

    assert requests_mock.call_count == 2
    assert fake_time.sleeps == [1.0]


@pytest.mark.parametrize(
    ("status", "error_type"),
    [(401, OrderDeskAuthenticationError), (404, OrderDeskNotFoundError), (422, OrderDeskValidationError)],
)
def test_a_client_error_is_never_retried(
    hook: OrderDeskHook, requests_mock: Mocker, fake_time: FakeTime, status: int, error_type: type[Exception]
) -> None:
    requests_mock.get(f"{API}/test", **_error(status, "No"))

    with pytest.raises(error_type):
        hook.request("GET", "test")

    assert requests_mock.call_count == 1
    assert fake_time.sleeps == []


# -- test_connection -----------------------------------------------------------------------------------


def test_test_connection_succeeds_on_get_test(hook: OrderDeskHook, requests_mock: Mocker) -> None:
    requests_mock.get(f"{API}/test", json=SUCCESS)

    assert hook.test_connection() == (True, "Connection Successful")


def test_test_connection_reports_a_wrong_key_without_showing_it(
    hook: OrderDeskHook, requests_mock: Mocker
) -> None:
    requests_mock.get(f"{API}/test", **_error(401, "Invalid API Key"))

    ok, message = hook.test_connection()

    assert not ok
    assert "401" in message
    assert "Invalid API Key" in message
    assert API_KEY not in message


@pytest.mark.parametrize(
    ("connection", "field"),
    [
        ({"login": ""}, "Store ID"),
        ({"password": f" {API_KEY}"}, "API Key"),
        ({"host": "ftp://od.example.test"}, "API URL"),
        ({"extra": {"timeout": "soon"}}, "timeout"),
    ],
)
def test_test_connection_reports_a_broken_connection_without_showing_the_key(
    monkeypatch: pytest.MonkeyPatch, requests_mock: Mocker, connection: dict[str, Any], field: str
) -> None:
    _set_connection(monkeypatch, **connection)
    hook = OrderDeskHook("orderdesk_test", sleep=_never_sleep)

    ok, message = hook.test_connection()

    assert not ok
    assert field in message
    assert API_KEY not in message
    assert requests_mock.call_count == 0


# -- logging -------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("structlog_to_caplog")
def test_the_api_key_appears_in_no_log_line(
    hook: OrderDeskHook, requests_mock: Mocker, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="airflow.task")
    requests_mock.get(
        f"{API}/test",
        [
            _error(500, "Oops"),
            {"exc": requests.ConnectionError},
            _error(429, "Too Many Requests", headers={"X-Retry-After": "2"}),
            _ok(),
        ],
    )

    hook.test_connection()

    messages = [record.getMessage() for record in caplog.records]
    assert any("rate limit" in message for message in messages)
    assert any(f"GET {API}/test (attempt" in message for message in messages)
    assert not [message for message in messages if API_KEY in message]


@pytest.mark.usefixtures("structlog_to_caplog")
@pytest.mark.parametrize(
    ("host", "warned"),
    [("http://od.example.test/api/v2", True), ("http://127.0.0.1:8765/api/v2", False), (API, False)],
)
def test_plain_http_is_warned_about_only_off_the_loopback(
    make_hook: Callable[..., OrderDeskHook], caplog: pytest.LogCaptureFixture, host: str, warned: bool
) -> None:
    make_hook(host=host)

    assert any("plain http" in record.getMessage() for record in caplog.records) is warned


def test_a_reservation_the_server_cannot_cover_is_given_up_so_the_next_request_waits(
    hook: OrderDeskHook, requests_mock: Mocker, fake_time: FakeTime
) -> None:
    """A read and its write reserved together must not go back to back when the store has no token left."""
    sent_at: list[float] = []
    requests_mock.get(f"{API}/test", json=_no_tokens_left(fake_time, sent_at))

    hook.reserve_tokens(2)
    hook.request("GET", "test")
    hook.request("GET", "test")

    assert sent_at == [1000.0, pytest.approx(1000 + 1 / 3)]
    hook.release_tokens()
    assert hook.bucket.remaining() == 0
