"""DAG files import the operators and the sensor; parsing them must not pull in the HTTP stack."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

#: What a running task needs and a parsed DAG file does not.
HEAVY = (
    "aiohttp",
    "airflow.providers.http",
    "airflow_orderdesk.hooks.orderdesk",
    "airflow_orderdesk.triggers",
)

_NEW_MODULES = """
import json, sys
import airflow.sdk
before = set(sys.modules)
import {module}
print(json.dumps(sorted(set(sys.modules) - before)))
"""


@pytest.mark.parametrize(
    "module", ["airflow_orderdesk.operators.orderdesk", "airflow_orderdesk.sensors.orderdesk"]
)
def test_importing_for_a_dag_file_leaves_the_http_stack_out(module: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _NEW_MODULES.format(module=module)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert module in loaded
    heavy = [name for name in loaded if name.startswith(HEAVY)]
    assert heavy == []


def test_the_hook_module_does_bring_the_http_stack() -> None:
    """The check above can fail: the module it keeps out is the one that loads the heavy parts."""
    done = subprocess.run(
        [sys.executable, "-c", _NEW_MODULES.format(module="airflow_orderdesk.hooks.orderdesk")],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert "airflow.providers.http.hooks.http" in loaded
