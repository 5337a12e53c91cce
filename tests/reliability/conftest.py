"""The reliability tests' summary: the figures they measured, printed after the run."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.reliability.reporting import print_reports

if TYPE_CHECKING:
    import pytest


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Show the figures the reliability tests measured (see ``reporting.py``)."""
    print_reports(terminalreporter)
