"""The provider as Airflow's own command line sees it, in a throw-away Airflow home."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from airflow_orderdesk.sandbox import SandboxServer

AIRFLOW = str(Path(sys.executable).with_name("airflow"))


@pytest.fixture(scope="module")
def airflow_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of an Airflow with a freshly migrated SQLite metadata database."""
    home = tmp_path_factory.mktemp("airflow-home")
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    env = {key: value for key, value in env.items() if not key.startswith("AIRFLOW_CONN_")}
    subprocess.run([AIRFLOW, "db", "migrate"], env=env, check=True, capture_output=True, timeout=180)
    return env


def _airflow(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([AIRFLOW, *args], env=env, capture_output=True, text=True, timeout=120)


def test_providers_list_shows_the_provider(airflow_env: dict[str, str]) -> None:
    result = _airflow(airflow_env, "providers", "list")
    assert result.returncode == 0, result.stderr
    assert "airflow-provider-orderdesk" in result.stdout


def test_a_connection_added_on_the_command_line_tests_successfully(
    airflow_env: dict[str, str], sandbox: SandboxServer
) -> None:
    added = _airflow(
        airflow_env,
        "connections",
        "add",
        "orderdesk_cli",
        "--conn-type",
        "orderdesk",
        "--conn-host",
        sandbox.api_url,
        "--conn-login",
        sandbox.store_id,
        "--conn-password",
        sandbox.api_key,
    )
    assert added.returncode == 0, added.stderr
    tested = _airflow(airflow_env, "connections", "test", "orderdesk_cli")
    assert tested.returncode == 0, tested.stderr
    assert "Connection success!" in tested.stdout
    assert sandbox.api_key not in tested.stdout + tested.stderr
    assert [request["status"] for request in sandbox.requests(path_prefix="/test")] == [200]


def test_a_connection_with_a_wrong_key_fails_its_test(
    airflow_env: dict[str, str], sandbox: SandboxServer
) -> None:
    added = _airflow(
        airflow_env,
        "connections",
        "add",
        "orderdesk_wrong_key",
        "--conn-json",
        f'{{"conn_type": "orderdesk", "host": "{sandbox.api_url}", "login": "{sandbox.store_id}", '
        '"password": "not-the-key-55555"}',
    )
    assert added.returncode == 0, added.stderr
    tested = _airflow(airflow_env, "connections", "test", "orderdesk_wrong_key")
    assert "Connection success!" not in tested.stdout
    assert "not-the-key-55555" not in tested.stdout + tested.stderr
