"""Figures the reliability tests measured, printed in pytest's terminal summary."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pytest


def report(config: pytest.Config, title: str, lines: list[str]) -> None:
    """Print a titled block of figures through pytest's terminal reporter (shown without ``-s``)."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    reporter.write_sep("-", title)
    for line in lines:
        reporter.write_line(line)
