"""Tests of how Order Desk's answers are checked and turned into typed errors."""

from __future__ import annotations

import json

import pytest
from requests.structures import CaseInsensitiveDict

from airflow_orderdesk.exceptions import (
    OrderDeskAPIError,
    OrderDeskAuthenticationError,
    OrderDeskMalformedResponseError,
    OrderDeskNotFoundError,
    OrderDeskRateLimitError,
    OrderDeskServerError,
    OrderDeskValidationError,
)
from airflow_orderdesk.responses import (
    error_for_status,
    is_worth_retrying,
    read_envelope,
    retry_after_seconds,
)


def _body(**envelope: object) -> bytes:
    return json.dumps(envelope).encode()


# -- error_for_status ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (400, OrderDeskValidationError),
        (401, OrderDeskAuthenticationError),
        (403, OrderDeskAuthenticationError),
        (404, OrderDeskNotFoundError),
        (409, OrderDeskValidationError),
        (422, OrderDeskValidationError),
        (429, OrderDeskRateLimitError),
        (500, OrderDeskServerError),
        (502, OrderDeskServerError),
        (503, OrderDeskServerError),
        (301, OrderDeskMalformedResponseError),
        (302, OrderDeskMalformedResponseError),
        (304, OrderDeskMalformedResponseError),
    ],
)
def test_each_status_maps_to_its_error_type(status: int, error_type: type[OrderDeskAPIError]) -> None:
    assert error_for_status(status) is error_type


# -- read_envelope -------------------------------------------------------------------------------------


def test_a_success_envelope_is_returned() -> None:
    envelope = read_envelope(200, _body(status="success", order={"id": "925086"}))

    assert envelope == {"status": "success", "order": {"id": "925086"}}


@pytest.mark.parametrize(
    ("status", "error_type"),
    [(401, OrderDeskAuthenticationError), (404, OrderDeskNotFoundError), (422, OrderDeskValidationError)],
)
def test_an_error_status_carries_order_desks_message(
    status: int, error_type: type[OrderDeskAPIError]
) -> None:
    with pytest.raises(error_type) as caught:
        read_envelope(
            status, _body(status="error", message="Order Not Found"), method="GET", endpoint="orders/9"
        )

    error = caught.value
    assert (error.status, error.message, error.method, error.endpoint) == (
        status,
        "Order Not Found",
        "GET",
        "orders/9",
    )
    assert str(error) == f"Order Desk answered {status} (GET orders/9): Order Not Found"


def test_an_html_error_page_is_not_echoed() -> None:
    page = b"<html><head><title>502 Bad Gateway</title></head><body>" + b"nginx " * 500 + b"</body></html>"

    with pytest.raises(OrderDeskServerError) as caught:
        read_envelope(502, page)

    assert "<html>" not in str(caught.value)
    assert "nginx" not in str(caught.value)
    assert "not Order Desk's JSON" in caught.value.message


def test_a_long_error_message_is_shortened() -> None:
    with pytest.raises(OrderDeskValidationError) as caught:
        read_envelope(422, _body(status="error", message="x" * 5000))

    assert len(caught.value.message) == 200
    assert caught.value.message.endswith("...")


def test_an_error_inside_a_200_is_a_validation_error_with_status_200() -> None:
    with pytest.raises(OrderDeskValidationError) as caught:
        read_envelope(200, _body(status="error", message="Shipment Not Added"))

    assert caught.value.status == 200
    assert caught.value.message == "Shipment Not Added"


def test_an_error_inside_a_200_without_a_message_is_still_an_error() -> None:
    with pytest.raises(OrderDeskValidationError, match="without a message"):
        read_envelope(200, _body(status="error"))


@pytest.mark.parametrize(
    "body", [b"<html>Maintenance</html>", b'[{"id": "1"}]', b"[]", b"", b'"success"', b'{"status": "succ']
)
def test_a_200_that_is_not_a_json_object_is_malformed(body: bytes) -> None:
    with pytest.raises(OrderDeskMalformedResponseError) as caught:
        read_envelope(200, body)

    assert caught.value.status == 200


# -- retry_after_seconds -------------------------------------------------------------------------------


def test_x_retry_after_is_preferred_over_retry_after() -> None:
    assert retry_after_seconds({"X-Retry-After": "2", "Retry-After": "30"}) == 2.0


def test_retry_after_is_honoured_without_x_retry_after() -> None:
    assert retry_after_seconds({"Retry-After": "3"}) == 3.0


def test_header_names_are_read_whatever_their_case() -> None:
    assert retry_after_seconds(CaseInsensitiveDict({"x-retry-after": "1.5"})) == 1.5


@pytest.mark.parametrize("garbage", ["soon", "Wed, 21 Oct 2015 07:28:00 GMT", "-1", "nan", "inf", ""])
def test_a_garbage_x_retry_after_falls_back_to_retry_after(garbage: str) -> None:
    assert retry_after_seconds({"X-Retry-After": garbage, "Retry-After": "4"}) == 4.0


@pytest.mark.parametrize("headers", [{}, {"X-Retry-After": "soon"}, {"Retry-After": "-5", "X-Other": "1"}])
def test_no_usable_figure_means_none(headers: dict[str, str]) -> None:
    assert retry_after_seconds(headers) is None


# -- is_worth_retrying ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "worth_it"),
    [
        (OrderDeskServerError(500, "boom"), True),
        (OrderDeskServerError(503, "maintenance"), True),
        (OrderDeskMalformedResponseError(200, "not JSON"), True),
        (OrderDeskMalformedResponseError(302, "redirect"), False),
        (OrderDeskValidationError(200, "Shipment Not Added"), False),
        (OrderDeskValidationError(422, "invalid"), False),
        (OrderDeskNotFoundError(404, "Order Not Found"), False),
        (OrderDeskAuthenticationError(401, "bad key"), False),
        (OrderDeskRateLimitError(429, "slow down"), False),
    ],
)
def test_only_outages_and_garbled_answers_are_worth_retrying(
    error: OrderDeskAPIError, worth_it: bool
) -> None:
    assert is_worth_retrying(error) is worth_it
