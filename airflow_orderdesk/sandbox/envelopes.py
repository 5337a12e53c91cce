"""Order Desk's response envelopes: the ``status``/``message`` wrapper around every API answer.

Handlers and the gateway both build answers, so the envelope and the timing text live here once.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from airflow_orderdesk.sandbox.php import PhpJSONResponse

if TYPE_CHECKING:
    from collections.abc import Mapping

    from starlette.requests import Request

__all__ = [
    "STARTED_SCOPE_KEY",
    "error_body",
    "error_response",
    "execution_time",
    "started_at",
    "success_response",
]

#: Scope key under which the gateway notes when a request arrived, for ``execution_time``.
STARTED_SCOPE_KEY = "orderdesk_sandbox.started"


def execution_time(started: float) -> str:
    """The time since ``started`` (a :func:`time.perf_counter` value) as Order Desk words it."""
    return f"{max(0.0, time.perf_counter() - started):.2f} seconds"


def started_at(request: Request) -> float:
    """When the gateway saw the request arrive, or now if it did not see it."""
    started = request.scope.get(STARTED_SCOPE_KEY)
    return started if isinstance(started, float) else time.perf_counter()


def error_body(message: str, started: float) -> dict[str, Any]:
    """The error envelope."""
    return {"status": "error", "message": message, "execution_time": execution_time(started)}


def error_response(
    status_code: int, message: str, started: float, headers: Mapping[str, str] | None = None
) -> PhpJSONResponse:
    """
    An error answer.

    :param status_code: the HTTP status.
    :param message: a sentence a human can read.
    :param started: when the request arrived, a :func:`time.perf_counter` value.
    :param headers: extra response headers.
    """
    return PhpJSONResponse(error_body(message, started), status_code=status_code, headers=headers)


def success_response(
    request: Request,
    fields: Mapping[str, Any],
    *,
    message: str | None = None,
    timing_in_message: bool = False,
) -> PhpJSONResponse:
    """
    A success answer.

    :param request: the request answered, for the timing.
    :param fields: the payload keys (``order``, ``orders``, ...).
    :param message: the human message of a write, if any.
    :param timing_in_message: put the timing into ``message`` ("Execution took ...") instead of
        ``execution_time``, as Order Desk does on some reads; ``message`` must then be ``None``.
    """
    timing = execution_time(started_at(request))
    body: dict[str, Any] = {"status": "success"}
    if timing_in_message:
        body["message"] = f"Execution took {timing}"
    else:
        if message is not None:
            body["message"] = message
        body["execution_time"] = timing
    body.update(fields)
    return PhpJSONResponse(body)
