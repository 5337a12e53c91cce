"""Fixtures for tests that run the provider against the sandbox over real HTTP."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow_orderdesk.sandbox import SandboxServer

#: A bucket so large that the hook never waits: tests that do not test pacing should not pay for it.
UNMETERED = {"rate_limit_burst": 100000, "rate_limit_per_second": 100000}


@pytest.fixture
def make_connection(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> Callable[..., str]:
    """
    Define an ``orderdesk`` connection to the sandbox in the environment and return its id.

    Keyword arguments override the connection's fields (``password``, ``host``, ``extra``...).
    """
    counter = iter(range(1000))

    def make(conn_id: str | None = None, **fields: Any) -> str:
        conn_id = conn_id or f"orderdesk_sandbox_{next(counter)}"
        connection = {
            "conn_type": "orderdesk",
            "host": sandbox.api_url,
            "login": sandbox.store_id,
            "password": sandbox.api_key,
            "extra": UNMETERED,
            **fields,
        }
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(connection))
        return conn_id

    return make


@pytest.fixture
def orderdesk_conn_id(make_connection: Callable[..., str]) -> str:
    """The id of a working connection to the freshly reset sandbox."""
    return make_connection("orderdesk_default")
