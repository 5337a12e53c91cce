"""Parsing DAG files the way Airflow does, on a migrated metadata database, for tests that run them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Mapping

    from airflow.sdk import DAG

#: The project's sample DAGs, and the DAGs the tests run.
SAMPLE_DAGS = Path(__file__).parents[1] / "dags"
TEST_DAGS = Path(__file__).parent / "dags"

_migrated = False


def migrate_metadata_db() -> None:
    """Create the test session's SQLite metadata database, once per process (``dag.test()`` needs it)."""
    global _migrated
    if _migrated:
        return
    airflow = Path(sys.executable).with_name("airflow")
    subprocess.run(
        [str(airflow), "db", "migrate"], check=True, capture_output=True, timeout=180, env=os.environ
    )
    _migrated = True


def parse_dags(
    path: Path, *, env: Mapping[str, str] | None = None, refuse_network: bool = False
) -> dict[str, DAG]:
    """
    The DAGs of a file or folder as Airflow's DagBag parses them; any import error fails the test.

    :param env: environment variables the DAG files read while being parsed.
    :param refuse_network: make any network connection opened while parsing fail the test.
    """
    migrate_metadata_db()
    from airflow.dag_processing.dagbag import DagBag

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"a DAG file opened a network connection while being parsed: {args}")

    with pytest.MonkeyPatch.context() as patch:
        for name, value in (env or {}).items():
            patch.setenv(name, value)
        if refuse_network:
            patch.setattr(socket.socket, "connect", refuse)
        bag = DagBag(str(path))
    assert bag.import_errors == {}
    return dict(bag.dags)
