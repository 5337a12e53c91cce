"""Test-wide set-up: a throw-away Airflow home, so that no test reads or writes the developer's own."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from airflow_orderdesk import pacing
from airflow_orderdesk.sandbox import SandboxServer, SandboxSettings

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

# Airflow reads its home when first imported, so this must happen before any test module imports it.
os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="orderdesk-tests-airflow-")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(Path(__file__).parent / "dags")
# dag.test() only runs DAGs of a configured bundle: the tests' own DAGs and the project's sample DAGs.
os.environ["AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST"] = json.dumps(
    [
        {
            "name": name,
            "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
            "kwargs": {"path": str(path)},
        }
        for name, path in (
            ("test-dags", Path(__file__).parent / "dags"),
            ("sample-dags", Path(__file__).parents[1] / "dags"),
        )
    ]
)

#: The settings every test starts from: Order Desk's defaults, but without metering, so that tests
#: which do not test the rate limit can send as many requests as they like.
BASE_SETTINGS = SandboxSettings(burst=0, refill_per_second=0.0, slow_seconds=0.3)


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxServer]:
    """A sandbox served over real HTTP on a free port for the whole session."""
    with SandboxServer(BASE_SETTINGS) as server:
        yield server


@pytest.fixture
def sandbox(sandbox_server: SandboxServer) -> SandboxServer:
    """The session's sandbox with base settings, demo data and an empty request log."""
    changes = BASE_SETTINGS.to_dict()
    del changes["db"]
    sandbox_server.configure(**changes)
    sandbox_server.reset(demo_data=True)
    return sandbox_server


@pytest.fixture(autouse=True)
def _fresh_rate_limit_buckets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """
    Each test starts with full client-side buckets, in a bucket directory of its own.

    The directory goes to the processes a test starts through the environment, so that they pace
    together with the test, and no state is left over from an earlier test or an earlier run.
    """
    monkeypatch.setenv(pacing.RATE_LIMIT_DIR_VARIABLE, str(tmp_path / "rate-limit"))
    pacing._buckets.clear()
    yield
    pacing._buckets.clear()


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
        conn_id = conn_id or f"orderdesk_sandbox_{next(counter)}"
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


@pytest.fixture
def orderdesk_conn_id(make_connection: Callable[..., str]) -> str:
    """The id of a working connection to the freshly reset sandbox."""
    return make_connection("orderdesk_default")
