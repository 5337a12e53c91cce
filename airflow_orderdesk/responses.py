"""Reading Order Desk's answers: envelopes, error statuses, and which failures are worth another try.

Order Desk reports errors two ways: an HTTP error status, or HTTP 200 with ``"status": "error"`` in the
body. Both become one of the typed errors of :mod:`airflow_orderdesk.exceptions`, carrying the status
and Order Desk's own message, so that callers and retry logic never parse text.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from airflow_orderdesk.exceptions import (
    OrderDeskAPIError,
    OrderDeskAuthenticationError,
    OrderDeskMalformedResponseError,
    OrderDeskNotFoundError,
    OrderDeskRateLimitError,
    OrderDeskServerError,
    OrderDeskValidationError,
)

__all__ = ["error_for_status", "is_worth_retrying", "read_envelope", "retry_after_seconds"]

#: Order Desk's messages are short; anything longer is a page from a proxy, which we never echo whole.
_MESSAGE_LIMIT = 200


def error_for_status(status_code: int) -> type[OrderDeskAPIError]:
    """The error type for an HTTP status that is not a success."""
    if status_code in (401, 403):
        return OrderDeskAuthenticationError
    if status_code == 404:
        return OrderDeskNotFoundError
    if status_code == 429:
        return OrderDeskRateLimitError
    if status_code >= 500:
        return OrderDeskServerError
    if 400 <= status_code < 500:
        return OrderDeskValidationError
    return OrderDeskMalformedResponseError


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MESSAGE_LIMIT else text[: _MESSAGE_LIMIT - 3] + "..."


def read_envelope(status_code: int, body: bytes, *, method: str = "", endpoint: str = "") -> dict[str, Any]:
    """
    Check one answer and return its JSON object.

    :param status_code: the HTTP status.
    :param body: the raw body.
    :param method: the request's method, for the error message.
    :param endpoint: the request's endpoint, for the error message.
    :raises OrderDeskAPIError: the subclass that fits the status, or
        :class:`~airflow_orderdesk.exceptions.OrderDeskMalformedResponseError` for a success whose body is
        not a JSON object.
    """
    try:
        envelope: Any = json.loads(body) if body else None
    except ValueError:
        envelope = None

    message = ""
    if isinstance(envelope, Mapping) and envelope.get("message") is not None:
        message = _short(str(envelope["message"]))

    if not 200 <= status_code < 300:
        if not message:
            # An HTML error page from a proxy or a load balancer: say what it was, not what it said.
            message = "no Order Desk error message (the body was not Order Desk's JSON)"
        raise error_for_status(status_code)(status_code, message, method=method, endpoint=endpoint)

    if not isinstance(envelope, Mapping):
        kind = "empty" if not body else "not a JSON object"
        raise OrderDeskMalformedResponseError(
            status_code, f"the answer was {kind}", method=method, endpoint=endpoint
        )
    if envelope.get("status") == "error":
        raise OrderDeskValidationError(
            status_code,
            message or "Order Desk reported an error without a message",
            method=method,
            endpoint=endpoint,
        )
    return dict(envelope)


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """
    How long Order Desk asked us to wait, from ``X-Retry-After`` or else the standard ``Retry-After``.

    Only a number of seconds is understood; an HTTP date or garbage counts as not said.
    """
    for name in ("X-Retry-After", "Retry-After"):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value)
        except ValueError:
            continue
        if math.isfinite(seconds) and seconds >= 0:
            return seconds
    return None


def is_worth_retrying(error: OrderDeskAPIError) -> bool:
    """
    Whether the same request may succeed later: an outage or an answer garbled on the way.

    A 429 is handled apart (it is always retried, after the wait Order Desk asks for). Other 4xx and a
    ``"status": "error"`` under HTTP 200 are Order Desk's considered answer and would only repeat.
    """
    if isinstance(error, OrderDeskServerError):
        return True
    return isinstance(error, OrderDeskMalformedResponseError) and 200 <= error.status < 300
