"""Injected faults: which request gets one, and how each kind goes out on the wire.

A client has to survive what real networks and a PHP backend do now and then: gateway errors, slow
answers, connections that break mid-answer, bodies that are not JSON, and errors dressed up as a 200.
:class:`FaultPicker` decides from a seeded generator so that a test run repeats exactly;
:func:`send_fault` writes the faulty answer straight to the ASGI channel, because a dropped connection
cannot be expressed as an ordinary response object.
"""

from __future__ import annotations

import logging
import random
import threading
from typing import TYPE_CHECKING

from airflow_orderdesk.sandbox.php import php_json_bytes

if TYPE_CHECKING:
    from collections.abc import Sequence

    from starlette.types import Send

__all__ = [
    "DROP_LOG_MESSAGE",
    "FaultPicker",
    "quiet_dropped_connections",
    "send_fault",
]

#: What uvicorn logs when an app stops in the middle of a response, as a "drop" fault does on purpose.
DROP_LOG_MESSAGE = "ASGI callable returned without completing response."

_STATUS_FAULTS = {"500": 500, "502": 502, "503": 503}

_HTML_ERROR_PAGE = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)

# What PHP prints when a notice escapes into the output: the JSON after it no longer parses.
_MALFORMED_JSON = (
    b"<br />\n<b>Notice</b>:  Undefined index: metadata in <b>/var/www/api/v2/orders.php</b>"
    b" on line <b>212</b><br />\n"
    b'{"status":"success","message":"Execution took 0.01 seconds"}'
)

logger = logging.getLogger(__name__)


class FaultPicker:
    """
    Decides, from a seeded generator, whether a request gets a fault and which one.

    :param seed: the generator's seed; the same seed gives the same sequence of faults.
    """

    def __init__(self, seed: int) -> None:
        self._lock = threading.Lock()
        self._random = random.Random(seed)

    def reseed(self, seed: int) -> None:
        """Start the sequence of decisions over from ``seed``."""
        with self._lock:
            self._random = random.Random(seed)

    def draw(self, rate: float, kinds: Sequence[str]) -> str | None:
        """
        Decide for one request.

        :param rate: the probability of a fault, 0 to 1.
        :param kinds: the faults to choose from.
        :return: the fault kind, or ``None`` for a normal answer.
        """
        with self._lock:
            # Always one draw per request, so the sequence depends only on how many requests came.
            if self._random.random() >= rate or not kinds:
                return None
            return self._random.choice(list(kinds))


def _headers(
    content_type: bytes, length: int, extra: Sequence[tuple[bytes, bytes]]
) -> list[tuple[bytes, bytes]]:
    return [(b"content-type", content_type), (b"content-length", str(length).encode()), *extra]


async def _send_whole(
    send: Send, status: int, content_type: bytes, body: bytes, extra: Sequence[tuple[bytes, bytes]]
) -> None:
    await send(
        {"type": "http.response.start", "status": status, "headers": _headers(content_type, len(body), extra)}
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def send_fault(
    kind: str,
    send: Send,
    *,
    execution_time: str,
    extra_headers: Sequence[tuple[bytes, bytes]] = (),
    body: bytes | None = None,
    status: int = 200,
) -> int:
    """
    Answer a request with a fault instead of (or after) its real answer.

    A ``"drop"`` announces a ``Content-Length``, sends half of the body and stops; uvicorn then closes
    the connection, and an HTTP client sees a body that ended too early. ``"slow"`` is not handled
    here: it only delays the real answer.

    :param kind: one of the fault kinds other than ``"slow"``.
    :param send: the ASGI send channel of the request.
    :param execution_time: the timing text for the error envelope.
    :param extra_headers: headers every answer carries (such as ``X-Tokens-Remaining``).
    :param body: the real answer's body, which a ``"drop"`` cuts short; a stand-in is used without it.
    :param status: the real answer's status, which a ``"drop"`` still sends in full.
    :return: the HTTP status that went out.
    """
    json_type = b"application/json"
    if kind in _STATUS_FAULTS:
        fault_status = _STATUS_FAULTS[kind]
        envelope = {
            "status": "error",
            "message": f"Simulated server error ({fault_status})",
            "execution_time": execution_time,
        }
        await _send_whole(send, fault_status, json_type, php_json_bytes(envelope), extra_headers)
        return fault_status
    if kind == "malformed_json":
        await _send_whole(send, 200, json_type, _MALFORMED_JSON, extra_headers)
        return 200
    if kind == "html_error":
        await _send_whole(send, 502, b"text/html", _HTML_ERROR_PAGE, extra_headers)
        return 502
    if kind == "error_200":
        await _send_whole(
            send,
            200,
            json_type,
            php_json_bytes({"status": "error", "message": "Simulated failure"}),
            extra_headers,
        )
        return 200
    if kind == "drop":
        full = body or php_json_bytes(
            {"status": "success", "message": "Execution took 0.01 seconds", "padding": "x" * 64}
        )
        headers = _headers(json_type, len(full), extra_headers)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": full[: len(full) // 2], "more_body": True})
        logger.info("Simulated fault: dropped the connection after %d of %d bytes", len(full) // 2, len(full))
        return status
    raise ValueError(f"not a fault that replaces an answer: {kind}")


class _DropNoticeFilter(logging.Filter):
    """Hides uvicorn's complaint about an unfinished response, which a "drop" fault causes on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != DROP_LOG_MESSAGE


_DROP_FILTER = _DropNoticeFilter()


def quiet_dropped_connections() -> None:
    """Keep uvicorn's error log free of the noise that intentionally dropped connections make."""
    uvicorn_logger = logging.getLogger("uvicorn.error")
    if _DROP_FILTER not in uvicorn_logger.filters:
        uvicorn_logger.addFilter(_DROP_FILTER)
