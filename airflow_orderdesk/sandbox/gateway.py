"""The front door of the sandbox's ``/api/v2``: rate limit, auth, faults and the request log.

Everything here happens around the routes rather than in them, the way Order Desk's own front end
meters and checks a request before any endpoint sees it. The gateway is a plain ASGI middleware because
two of its jobs need the raw channel: replaying a body it has already read, and breaking a connection
in the middle of an answer.

The steps for each API request:

1. ``X-HTTP-Method-Override`` on a POST turns it into the named method.
2. One token is taken from the store's bucket, errors included; none left means 429.
3. The body is read (at most 1 MiB is kept) and a fault is drawn.
4. Unless a fault replaces it, the request is checked (store id and key, body rules) and routed.
5. The answer goes out with ``X-Tokens-Remaining`` and is recorded in the request log.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import math
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from airflow_orderdesk.sandbox.envelopes import STARTED_SCOPE_KEY, error_body, execution_time
from airflow_orderdesk.sandbox.faults import send_fault
from airflow_orderdesk.sandbox.php import php_json_bytes

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from airflow_orderdesk.sandbox.runtime import Sandbox
    from airflow_orderdesk.sandbox.settings import SandboxSettings

__all__ = ["API_PREFIX", "MAX_BODY_BYTES", "ApiGateway"]

API_PREFIX = "/api/v2"
#: The largest request body the sandbox accepts.
MAX_BODY_BYTES = 1024 * 1024

_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_OVERRIDABLE = frozenset({"PUT", "DELETE"})

logger = logging.getLogger(__name__)


@dataclass
class _Answer:
    """An answer held back so that headers can be added to it or a fault can replace it."""

    status: int
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytes = b""


def _json_answer(status: int, content: Any, headers: list[tuple[bytes, bytes]] | None = None) -> _Answer:
    body = php_json_bytes(content)
    base = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    return _Answer(status, base + (headers or []), body)


def is_api_path(path: str) -> bool:
    """Whether a request path lies under the API prefix."""
    return path == API_PREFIX or path.startswith(API_PREFIX + "/")


class ApiGateway:
    """
    ASGI middleware that meters, checks, faults and records every ``/api/v2`` request.

    :param app: the application behind the gateway (routing and handlers).
    :param sandbox: the live sandbox whose settings, bucket, faults and log are used.
    """

    def __init__(self, app: ASGIApp, sandbox: Sandbox) -> None:
        self.app = app
        self.sandbox = sandbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_api_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        settings = self.sandbox.settings
        headers = {
            name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]
        }
        method = scope["method"]
        override = headers.get("x-http-method-override", "").strip().upper()
        if method == "POST" and override in _OVERRIDABLE:
            method = override
        scope = {**scope, "method": method, STARTED_SCOPE_KEY: started}
        record = {
            "time": datetime.now(UTC).isoformat(),
            "method": method,
            "path": scope["path"][len(API_PREFIX) :],
            "query": dict(parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)),
            "headers": headers,
        }

        bucket = self.sandbox.bucket
        wait = bucket.try_take()
        body, too_large = await _read_body(receive)
        parsed = _parse_or_none(body) if not too_large else None
        if wait > 0:
            retry_after = max(1, math.ceil(wait))
            answer = _json_answer(
                429,
                error_body("Rate limit exceeded", started),
                [(b"x-retry-after", str(retry_after).encode())],
            )
            await self._send(send, answer, settings)
            self.sandbox.log.append(**record, body=parsed, status=429, fault=None)
            return

        fault = self.sandbox.faults.draw(settings.fault_rate, settings.fault_kinds)
        after_write = fault is not None and settings.fault_after_write and method in _WRITE_METHODS
        if fault == "slow" and not after_write:
            await asyncio.sleep(settings.slow_seconds)
        if fault is not None and fault != "slow" and not after_write:
            status = await send_fault(
                fault,
                send,
                execution_time=execution_time(started),
                extra_headers=self._meter_headers(settings),
            )
            self.sandbox.log.append(**record, body=parsed, status=status, fault=fault)
            return

        answer = await self._answer(scope, receive, headers, body, too_large, settings, started)
        if fault == "slow" and after_write:
            await asyncio.sleep(settings.slow_seconds)
        if fault is not None and fault != "slow":
            # The write has been applied; the client now gets a fault instead of its answer.
            status = await send_fault(
                fault,
                send,
                execution_time=execution_time(started),
                extra_headers=self._meter_headers(settings),
                body=answer.body,
                status=answer.status,
            )
        else:
            status = answer.status
            await self._send(send, answer, settings)
        self.sandbox.log.append(**record, body=parsed, status=status, fault=fault)

    def _meter_headers(self, settings: SandboxSettings) -> list[tuple[bytes, bytes]]:
        # Without metering there is no meaningful figure, and a 0 would make clients wait for nothing.
        if not settings.rate_limited:
            return []
        return [(b"x-tokens-remaining", str(self.sandbox.bucket.remaining()).encode())]

    async def _send(self, send: Send, answer: _Answer, settings: SandboxSettings) -> None:
        headers = [
            (name, value) for name, value in answer.headers if name.lower() != b"x-tokens-remaining"
        ] + self._meter_headers(settings)
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": answer.body, "more_body": False})

    async def _answer(
        self,
        scope: Scope,
        receive: Receive,
        headers: dict[str, str],
        body: bytes,
        too_large: bool,
        settings: SandboxSettings,
        started: float,
    ) -> _Answer:
        refusal = _refuse(scope["method"], headers, body, too_large, settings)
        if refusal is not None:
            status, message = refusal
            return _json_answer(status, error_body(message, started))

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        answer = _Answer(500)

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer.status = message["status"]
                answer.headers = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                answer.body += message.get("body", b"")

        try:
            await self.app(scope, replay, capture)
        except Exception:
            # A bug in a handler: the client still gets the error envelope, the log gets the trace.
            logger.exception("Unhandled error while answering %s %s", scope["method"], scope["path"])
            return _json_answer(500, error_body("Internal Server Error", started))
        return answer


def _refuse(
    method: str, headers: dict[str, str], body: bytes, too_large: bool, settings: SandboxSettings
) -> tuple[int, str] | None:
    """The status and message for a request refused before routing, or ``None`` to let it through."""
    store_id = headers.get("orderdesk-store-id")
    api_key = headers.get("orderdesk-api-key")
    if store_id is None or api_key is None:
        return settings.auth_error_status, "Missing ORDERDESK-STORE-ID or ORDERDESK-API-KEY header"
    # compare_digest on both, so neither the id nor the key leaks through the answer's timing.
    id_ok = hmac.compare_digest(store_id.strip().encode(), settings.store_id.encode())
    key_ok = hmac.compare_digest(api_key.strip().encode(), settings.api_key.encode())
    if not (id_ok and key_ok):
        return settings.auth_error_status, "Invalid Store ID or API Key"
    if too_large:
        return settings.validation_error_status, f"Request body is larger than {MAX_BODY_BYTES} bytes"
    if method in ("GET", "HEAD") and (body or "content-type" in headers):
        return settings.validation_error_status, "A GET request must not carry a body or a Content-Type"
    return None


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    """
    Read the whole request body, keeping at most :data:`MAX_BODY_BYTES` of it.

    The rest is read and thrown away rather than left unread, so the client can finish sending and
    receive the refusal instead of a reset connection.

    :return: the body kept, and whether the body was larger than the limit.
    """
    chunks: list[bytes] = []
    size = 0
    too_large = False
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            too_large = True
        elif chunk:
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return (b"" if too_large else b"".join(chunks)), too_large


def _parse_or_none(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None
