"""Figures the reliability tests measured, printed in pytest's terminal summary."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pytest

#: Blocks of figures, by title, in the order they were reported.
REPORTS: dict[str, list[str]] = {}


def report(config: pytest.Config, title: str, lines: list[str]) -> None:
    """
    Keep a titled block of figures for the end of the run.

    Output written while a test runs is captured; the block is printed by ``pytest_terminal_summary``
    in ``tests/reliability/conftest.py``, so it shows without ``-s``.
    """
    REPORTS[title] = list(lines)


def print_reports(terminal: pytest.TerminalReporter) -> None:
    """Print every kept block under its title."""
    for title, lines in REPORTS.items():
        terminal.write_sep("-", title)
        for line in lines:
            terminal.write_line(line)
