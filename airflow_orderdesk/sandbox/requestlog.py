"""The sandbox's record of the API requests it received, so tests can check what a client sent.

Secrets stay out of the record: the API key's value is replaced before an entry is stored.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

__all__ = ["REDACTED", "RequestLog", "RequestRecord"]

REDACTED = "***"
_SECRET_HEADERS = frozenset({"orderdesk-api-key"})


@dataclass(frozen=True)
class RequestRecord:
    """
    One API request as the sandbox saw and answered it.

    :param seq: position in the log, from 1.
    :param time: when the request arrived, ISO 8601 in UTC.
    :param method: the effective method, after ``X-HTTP-Method-Override``.
    :param path: the path below ``/api/v2``, such as ``/orders/7/order-items/9``.
    :param query: the query parameters (the last value wins when one repeats).
    :param headers: the request headers, names lower-cased, secrets replaced by ``***``.
    :param body: the parsed JSON body, or ``None`` if there was none or it was not JSON.
    :param status: the HTTP status sent (for a dropped connection, the status line that was sent).
    :param fault: the injected fault, or ``None``.
    """

    seq: int
    time: str
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    status: int
    fault: str | None

    def to_dict(self) -> dict[str, Any]:
        """The record as a JSON-ready mapping."""
        return {
            "seq": self.seq,
            "time": self.time,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": self.headers,
            "body": self.body,
            "status": self.status,
            "fault": self.fault,
        }


def redact_headers(headers: dict[str, str]) -> dict[str, str]:
    """Headers with the value of every secret one replaced."""
    return {name: REDACTED if name in _SECRET_HEADERS else value for name, value in headers.items()}


class RequestLog:
    """A thread-safe, append-only list of :class:`RequestRecord` that can be cleared."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[RequestRecord] = []
        self._seq = 0

    def append(
        self,
        *,
        time: str,
        method: str,
        path: str,
        query: dict[str, str],
        headers: dict[str, str],
        body: Any,
        status: int,
        fault: str | None,
    ) -> RequestRecord:
        """
        Record one request; the headers are redacted here, so no caller can forget it.

        :return: the stored record.
        """
        with self._lock:
            self._seq += 1
            record = RequestRecord(
                seq=self._seq,
                time=time,
                method=method,
                path=path,
                query=dict(query),
                headers=redact_headers(headers),
                body=body,
                status=status,
                fault=fault,
            )
            self._records.append(record)
            return record

    def records(self, *, method: str | None = None, path_prefix: str | None = None) -> list[RequestRecord]:
        """
        The records so far, oldest first.

        :param method: keep only requests with this effective method (any case).
        :param path_prefix: keep only requests whose path below ``/api/v2`` starts with this.
        """
        with self._lock:
            records = list(self._records)
        if method:
            records = [record for record in records if record.method == method.upper()]
        if path_prefix:
            records = [record for record in records if record.path.startswith(path_prefix)]
        return records

    def clear(self) -> None:
        """Forget every record and start numbering from 1 again."""
        with self._lock:
            self._records.clear()
            self._seq = 0
