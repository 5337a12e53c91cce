"""Fixtures for the reliability tests: connections to the session's sandbox, defined in the environment."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from tests.reliability.reporting import print_reports

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow_orderdesk.sandbox import SandboxServer

#: A client-side bucket so large that the hook never waits; these tests are not about pacing.
UNMETERED = {"rate_limit_burst": 100000, "rate_limit_per_second": 100000}


@pytest.fixture
def make_connection(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> Callable[..., str]:
    """
    Define an ``orderdesk`` connection to the freshly reset sandbox and return its id.

    Keyword arguments replace the connection's fields (``host``, ``login``, ``password``, ``extra``); a
    text field may say ``{sandbox}`` where the sandbox's ``host:port`` belongs.
    """
    address = sandbox.base_url.removeprefix("http://")
    counter = iter(range(1000))

    def make(conn_id: str | None = None, **fields: Any) -> str:
        conn_id = conn_id or f"orderdesk_reliability_{next(counter)}"
        connection = {
            "conn_type": "orderdesk",
            "host": sandbox.api_url,
            "login": sandbox.store_id,
            "password": sandbox.api_key,
            "extra": UNMETERED,
        }
        for name, value in fields.items():
            connection[name] = value.replace("{sandbox}", address) if isinstance(value, str) else value
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(connection))
        return conn_id

    return make


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Show the figures the reliability tests measured (see ``reporting.py``)."""
    print_reports(terminalreporter)
