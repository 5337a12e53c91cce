"""A real Airflow on this machine, wired to the Order Desk sandbox: ``make airflow`` and the end-to-end tests.

:func:`main` is ``make airflow``: it keeps Airflow's home in ``.airflow/`` (git ignores it), starts the
sandbox on ``127.0.0.1:8765`` serving ``.airflow/artifacts`` under ``/files/``, points the
``orderdesk_default`` connection and the sample DAGs at it, creates the ``orderdesk`` pool and runs
``airflow standalone`` until Ctrl-C, which stops both.

The functions below are the pieces it is built from; ``tests/e2e`` uses them to run the sample DAGs in a
throw-away Airflow home. Every process is started in a process group of its own and stopped as a whole
(SIGTERM, then SIGKILL), so that no scheduler, worker or task outlives its owner.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import psutil
import requests

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from types import FrameType

__all__ = [
    "ADMIN_USER",
    "DAGS_FOLDER",
    "POOL_NAME",
    "AirflowClient",
    "SandboxProcess",
    "admin_password",
    "airflow_environment",
    "bearer_token",
    "free_port",
    "log_tail",
    "main",
    "prepare_metadata_db",
    "start_sandbox",
    "start_standalone",
    "stop_process_group",
    "wait_until_healthy",
]

#: The repository, found from this file so that the project works wherever it is checked out.
REPO_ROOT = Path(__file__).resolve().parents[1]
#: The sample DAGs that ``make airflow`` and the end-to-end tests run.
DAGS_FOLDER = REPO_ROOT / "dags"
#: The virtual environment's ``bin``: ``airflow standalone`` starts its parts as ``airflow ...`` from PATH.
#: Not resolved, because a venv's python is a symlink to the base interpreter, whose bin is not the venv's.
VENV_BIN = Path(sys.executable).parent

#: The pool every Order Desk task of the sample DAGs runs in; without it they are never scheduled.
POOL_NAME = "orderdesk"
POOL_SLOTS = 3
POOL_DESCRIPTION = "Order Desk requests: one rate-limit bucket per store, shared by every worker"

#: The user ``airflow standalone`` creates (SimpleAuthManager), and the file holding its generated password.
ADMIN_USER = "admin"
PASSWORD_FILE_NAME = "simple_auth_manager_passwords.json.generated"

#: Where ``make airflow`` listens: the sandbox port is the one the sample DAG's links default to.
LOCAL_HOST = "127.0.0.1"
LOCAL_SANDBOX_PORT = 8765
PREFERRED_API_PORT = 8080

_SANDBOX_BANNER = {
    "base_url": re.compile(r"^Order Desk sandbox listening on (\S+)$", re.MULTILINE),
    "api_url": re.compile(r"^API URL:\s+(\S+)$", re.MULTILINE),
    "store_id": re.compile(r"^Store ID:\s+(\S+)$", re.MULTILINE),
    "api_key": re.compile(r"^API Key:\s+(\S+)$", re.MULTILINE),
}


# -- processes ---------------------------------------------------------------------------------------


def free_port(host: str = LOCAL_HOST) -> int:
    """A TCP port nobody listens on right now (the OS picks it), so that parallel runs never clash."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def port_is_free(port: int, host: str = LOCAL_HOST) -> bool:
    """Whether ``port`` can be listened on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def log_tail(path: Path, lines: int = 60, *, leave_out: str | None = None) -> str:
    """
    The last ``lines`` lines of a log file, for error messages; a note if there is no such file.

    :param leave_out: drop the lines that contain this text first, such as an access log's marker.
    """
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"(no log at {path})"
    kept = [line for line in text.splitlines() if leave_out is None or leave_out not in line]
    return "\n".join(kept[-lines:])


def _start_in_own_group(
    command: Sequence[str], *, env: Mapping[str, str] | None, log_path: Path | None
) -> subprocess.Popen[bytes]:
    """
    Start a command as the leader of a new session and process group.

    Its own group lets :func:`stop_process_group` signal it together with every process it starts, and
    keeps a Ctrl-C in the terminal away from it, so that the owner decides the order of shutdown.
    """
    if log_path is None:
        return subprocess.Popen(list(command), env=env, start_new_session=True)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        # The child keeps its own copy of the descriptor; ours can be closed at once.
        return subprocess.Popen(
            list(command), env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )


def _alive(processes: Sequence[psutil.Process]) -> list[psutil.Process]:
    """The processes that still run; zombies only wait for their parent to reap them."""
    alive = []
    for process in processes:
        with contextlib.suppress(psutil.Error):
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                alive.append(process)
    return alive


def _group_and_descendants(pgid: int) -> list[psutil.Process]:
    """Every process of the group, and every descendant of one: Airflow runs each task in its own group."""
    found: dict[int, psutil.Process] = {}
    for process in psutil.process_iter():
        with contextlib.suppress(psutil.Error, OSError):
            if os.getpgid(process.pid) == pgid:
                found[process.pid] = process
    for process in list(found.values()):
        with contextlib.suppress(psutil.Error):
            found.update({child.pid: child for child in process.children(recursive=True)})
    return list(found.values())


def stop_process_group(process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """
    Stop a process started by this module and everything it started: SIGTERM, then SIGKILL after ``timeout``.

    The whole process group gets SIGTERM, so that the scheduler and the executor's workers shut down their
    tasks themselves. Whatever still runs after ``timeout`` (tasks included, which Airflow runs in
    process groups of their own) is killed.
    """
    pgid = process.pid
    members = _group_and_descendants(pgid)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    # Reap our own child as it exits; its exit alone does not mean the rest of the group has gone.
    while (process.poll() is None or _alive(members)) and time.monotonic() < deadline:
        time.sleep(0.25)
    # Processes started during shutdown are only found by looking again.
    survivors = _alive([*members, *_group_and_descendants(pgid)])
    for survivor in survivors:
        with contextlib.suppress(psutil.Error):
            survivor.kill()
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=10)
    psutil.wait_procs(survivors, timeout=10)


# -- the sandbox -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SandboxProcess:
    """
    An ``orderdesk-sandbox`` running as a separate process, with what its first lines said.

    :param process: the process (leader of its own process group).
    :param base_url: where it listens, such as ``http://127.0.0.1:8765``.
    :param api_url: its Order Desk API URL, for the connection's host.
    :param store_id: the store id it expects.
    :param api_key: the API key it expects; kept out of ``repr`` so that it never lands in a log.
    :param log_path: where its output goes.
    """

    process: subprocess.Popen[bytes]
    base_url: str
    api_url: str
    store_id: str
    api_key: str = field(repr=False)
    log_path: Path

    def connection_json(self) -> str:
        """The ``orderdesk_default`` connection to this sandbox, for ``AIRFLOW_CONN_ORDERDESK_DEFAULT``."""
        return json.dumps(
            {"conn_type": "orderdesk", "host": self.api_url, "login": self.store_id, "password": self.api_key}
        )

    def stop(self) -> None:
        """Stop the sandbox."""
        stop_process_group(self.process, timeout=10)


def start_sandbox(
    *,
    log_path: Path,
    host: str = LOCAL_HOST,
    port: int = 0,
    files_dir: Path | None = None,
    extra_args: Sequence[str] = (),
    timeout: float = 30.0,
) -> SandboxProcess:
    """
    Start ``orderdesk-sandbox`` and read where it listens and the credentials it expects.

    Its output goes to ``log_path`` rather than a pipe: nobody would read a pipe after start-up, and a
    full one would stall the sandbox in the middle of a test.

    :param log_path: the file its output is appended to.
    :param host: the address to listen on.
    :param port: the port; 0 lets the sandbox pick a free one.
    :param files_dir: a folder to serve under ``/files/``.
    :param extra_args: more ``orderdesk-sandbox`` options, such as ``--burst 0``.
    :param timeout: seconds to wait for its first lines.
    :raises RuntimeError: if it exits or stays silent; the message holds its output.
    """
    command = [str(VENV_BIN / "orderdesk-sandbox"), "--host", host, "--port", str(port), *extra_args]
    if files_dir is not None:
        files_dir.mkdir(parents=True, exist_ok=True)
        command += ["--files-dir", str(files_dir)]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    offset = log_path.stat().st_size if log_path.exists() else 0
    process = _start_in_own_group(command, env=None, log_path=log_path)
    deadline = time.monotonic() + timeout
    while True:
        with log_path.open("rb") as log:
            log.seek(offset)
            output = log.read().decode(errors="replace")
        found = {name: pattern.search(output) for name, pattern in _SANDBOX_BANNER.items()}
        if all(found.values()):
            values = {name: match.group(1) for name, match in found.items() if match is not None}
            return SandboxProcess(process=process, log_path=log_path, **values)
        if process.poll() is not None or time.monotonic() > deadline:
            stop_process_group(process, timeout=5)
            raise RuntimeError(
                f"orderdesk-sandbox did not start (exit status {process.returncode}); its output:\n"
                f"{_without_key(output)}"
            )
        time.sleep(0.1)


def _without_key(output: str) -> str:
    return _SANDBOX_BANNER["api_key"].sub("API Key:  ***", output)


# -- Airflow -----------------------------------------------------------------------------------------


def airflow_environment(
    home: Path,
    *,
    sandbox: SandboxProcess,
    artifacts_dir: Path,
    api_port: int,
    cadence: str = "hourly",
    overrides: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """
    The environment of every Airflow command run against ``home``, with the sample DAGs wired to the sandbox.

    Airflow settings inherited from the caller (``AIRFLOW__*``, ``AIRFLOW_CONN_*``, ``AIRFLOW_VAR_*``,
    ``AIRFLOW_HOME``) are dropped first: the test suite sets its own for in-process tests, and a
    developer's shell may point at another Airflow. ``overrides`` come last.

    :param home: the ``AIRFLOW_HOME``.
    :param sandbox: the sandbox the ``orderdesk_default`` connection points at.
    :param artifacts_dir: where renders are written; the sandbox must serve it under ``/files/``.
    :param api_port: the API server's (and UI's) port.
    :param cadence: ``hourly`` or ``daily``, the export DAG's schedule (``ORDERDESK_EXPORT_CADENCE``).
    :param overrides: more variables, such as other Airflow settings.
    """
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AIRFLOW__", "AIRFLOW_CONN_", "AIRFLOW_VAR_")) and name != "AIRFLOW_HOME"
    }
    api_url = f"http://{LOCAL_HOST}:{api_port}"
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "PATH": f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
            # Loopback only, on a port of our choosing. Workers find the execution API through
            # execution_api_server_url, which otherwise assumes localhost:8080 whatever the port.
            "AIRFLOW__API__HOST": LOCAL_HOST,
            "AIRFLOW__API__PORT": str(api_port),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{api_url}/execution/",
            # The scheduler and the triggerer serve task logs on fixed ports (8793, 8794) by default;
            # free ones let this Airflow run beside another.
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
            # See new and changed DAG files within seconds rather than after five minutes.
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "10",
            "AIRFLOW_CONN_ORDERDESK_DEFAULT": sandbox.connection_json(),
            "ORDERDESK_ARTIFACT_BASE": artifacts_dir.resolve().as_uri(),
            "ORDERDESK_ARTIFACT_PUBLIC_URL": f"{sandbox.base_url}/files",
            "ORDERDESK_EXPORT_CADENCE": cadence,
        }
    )
    env.update(overrides or {})
    return env


def _airflow(env: Mapping[str, str], *args: str, timeout: float) -> None:
    """Run one ``airflow`` command; raise with its output if it fails."""
    result = subprocess.run(
        [str(VENV_BIN / "airflow"), *args],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"airflow {' '.join(args[:2])} failed with status {result.returncode}:\n"
            f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )


def prepare_metadata_db(env: Mapping[str, str], *, timeout: float = 300.0) -> None:
    """Create or upgrade the metadata database (``airflow db migrate``) and create the ``orderdesk`` pool."""
    _airflow(env, "db", "migrate", timeout=timeout)
    _airflow(env, "pools", "set", POOL_NAME, str(POOL_SLOTS), POOL_DESCRIPTION, timeout=timeout)


def start_standalone(env: Mapping[str, str], *, log_path: Path | None = None) -> subprocess.Popen[bytes]:
    """
    Start ``airflow standalone`` (scheduler, DAG processor, triggerer, API server) in its own process group.

    :param env: from :func:`airflow_environment`.
    :param log_path: a file for its output; ``None`` leaves it on this terminal.
    """
    return _start_in_own_group([str(VENV_BIN / "airflow"), "standalone"], env=env, log_path=log_path)


def _newer_than(heartbeat: object, moment: datetime) -> bool:
    if not isinstance(heartbeat, str):
        return False
    try:
        beat = datetime.fromisoformat(heartbeat)
    except ValueError:
        return False
    return (beat if beat.tzinfo else beat.replace(tzinfo=UTC)) >= moment


def wait_until_healthy(
    api_url: str,
    standalone: subprocess.Popen[bytes],
    *,
    started_at: datetime,
    timeout: float = 180.0,
    log_path: Path | None = None,
) -> None:
    """
    Wait until ``GET /api/v2/monitor/health`` reports every part healthy, heart-beating since ``started_at``.

    A home used before may still hold the last run's jobs, whose heartbeats look healthy for half a minute
    after they stopped; requiring a heartbeat of this run's waits for the new scheduler.

    :raises RuntimeError: if ``standalone`` exits or the time runs out; with the tail of ``log_path``.
    """
    components = ("scheduler", "dag_processor", "triggerer")
    deadline = time.monotonic() + timeout
    last_answer = "no answer yet"
    while True:
        if standalone.poll() is not None:
            _fail_start(f"airflow standalone exited with status {standalone.returncode}", log_path)
        try:
            response = requests.get(f"{api_url}/api/v2/monitor/health", timeout=5)
            health: dict[str, Any] = response.json() if response.ok else {}
            last_answer = f"HTTP {response.status_code}: {response.text[:500]}"
        except (requests.RequestException, ValueError) as error:
            health = {}
            last_answer = type(error).__name__
        if health.get("metadatabase", {}).get("status") == "healthy" and all(
            (health.get(name) or {}).get("status") == "healthy"
            and _newer_than((health.get(name) or {}).get(f"latest_{name}_heartbeat"), started_at)
            for name in components
        ):
            return
        if time.monotonic() > deadline:
            _fail_start(
                f"Airflow was not healthy after {timeout:.0f} s; last answer: {last_answer}", log_path
            )
        time.sleep(1)


def _fail_start(message: str, log_path: Path | None) -> NoReturn:
    if log_path is not None:
        message += (
            f"\nTail of {log_path}, access log left out:\n{log_tail(log_path, leave_out='[http.access]')}"
        )
    raise RuntimeError(message)


def admin_password(home: Path, *, timeout: float = 60.0) -> str:
    """
    The ``admin`` password SimpleAuthManager generated into ``$AIRFLOW_HOME`` on first start.

    :raises RuntimeError: if the file does not name the user within ``timeout`` seconds.
    """
    path = home / PASSWORD_FILE_NAME
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(OSError, ValueError):
            password = json.loads(path.read_text()).get(ADMIN_USER)
            if isinstance(password, str) and password:
                return password
        if time.monotonic() > deadline:
            raise RuntimeError(f"no password for {ADMIN_USER!r} in {path}")
        time.sleep(0.5)


def bearer_token(api_url: str, password: str, *, user: str = ADMIN_USER) -> str:
    """A JWT for the REST API, from ``POST /auth/token``."""
    response = requests.post(
        f"{api_url}/auth/token", json={"username": user, "password": password}, timeout=30
    )
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


class AirflowClient:
    """
    The few REST API calls the tests and scripts need, with a bearer token.

    SQLite lets one writer in at a time, and a transaction that read before it writes is refused at once
    (not after a wait) when it loses that race. Airflow answers such a request with 503 ("Database is
    locked", after undoing what it did) or, on most routes, a bare 500. Both are sent again a few times:
    any request after a 503, and requests that are safe to repeat after a 500.

    :param api_url: the API server, such as ``http://127.0.0.1:8080``.
    :param token: from :func:`bearer_token`.
    :param retries: how many times a request refused that way is sent again.
    """

    def __init__(self, api_url: str, token: str, *, retries: int = 6) -> None:
        self.api_url = api_url.rstrip("/")
        self.retries = retries
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """
        Call ``/api/v2`` + ``path`` and return the JSON answer.

        :raises RuntimeError: for an error status, with Airflow's explanation.
        """
        kwargs.setdefault("timeout", 30)
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self.session.request(method, f"{self.api_url}/api/v2{path}", **kwargs)
            except requests.Timeout:
                # A read waiting on SQLite's lock can outlast the timeout; reading again is harmless.
                if method.upper() != "GET" or attempt > self.retries:
                    raise
                time.sleep(0.5 * attempt)
                continue
            if response.ok:
                return response.json() if response.content else None
            lost_the_lock = response.status_code == 503 or (
                response.status_code == 500 and method.upper() in ("GET", "PUT", "PATCH", "DELETE")
            )
            if not lost_the_lock or attempt > self.retries:
                raise RuntimeError(
                    f"{method} {path} answered HTTP {response.status_code}: {response.text[:2000]}"
                )
            time.sleep(0.5 * attempt)

    def get(self, path: str, **params: Any) -> Any:
        """``GET`` with query parameters."""
        return self.request("GET", path, params=params)


# -- make airflow ------------------------------------------------------------------------------------


def _raise_keyboard_interrupt(signum: int, frame: FrameType | None) -> None:
    # A plain `kill` stops everything as tidily as Ctrl-C does.
    raise KeyboardInterrupt


def main() -> int:
    """``make airflow``: the sandbox and ``airflow standalone`` in ``.airflow/``, until Ctrl-C."""
    home = REPO_ROOT / ".airflow"
    artifacts_dir = home / "artifacts"
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    # The UI's usual port when it is free; another free one when something (another Airflow) holds it.
    api_port = PREFERRED_API_PORT if port_is_free(PREFERRED_API_PORT) else free_port()
    api_url = f"http://{LOCAL_HOST}:{api_port}"

    try:
        # The store lives in a file beside Airflow's own database, so that both remember the same orders.
        sandbox = start_sandbox(
            log_path=home / "sandbox.log",
            port=LOCAL_SANDBOX_PORT,
            files_dir=artifacts_dir,
            extra_args=["--db", str(home / "sandbox.sqlite")],
        )
    except RuntimeError as error:
        print(error, file=sys.stderr)
        return 1
    standalone: subprocess.Popen[bytes] | None = None
    try:
        print(f"Order Desk sandbox: {sandbox.base_url} (store {sandbox.store_id}; log in {sandbox.log_path})")
        env = airflow_environment(home, sandbox=sandbox, artifacts_dir=artifacts_dir, api_port=api_port)
        print(f"Preparing the metadata database in {home} ...", flush=True)
        prepare_metadata_db(env)
        started_at = datetime.now(UTC)
        standalone = start_standalone(env)
        wait_until_healthy(api_url, standalone, started_at=started_at, timeout=300)
        password = admin_password(home)
        print(
            "\n"
            f"Airflow is ready: {api_url}\n"
            f"  user:     {ADMIN_USER}\n"
            f"  password: {password}  (kept in {home / PASSWORD_FILE_NAME})\n"
            f"  DAGs:     {DAGS_FOLDER} (unpause them in the UI)\n"
            f"  Order Desk sandbox: {sandbox.base_url}, renders served from {artifacts_dir}\n"
            "Press Ctrl-C to stop Airflow and the sandbox.\n",
            flush=True,
        )
        standalone.wait()
        print(f"airflow standalone exited with status {standalone.returncode}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nStopping Airflow and the sandbox ...", flush=True)
        return 0
    except RuntimeError as error:
        print(error, file=sys.stderr)
        return 1
    finally:
        # Ctrl-C pressed again while stopping must not leave anything behind.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if standalone is not None:
            stop_process_group(standalone)
        sandbox.stop()


if __name__ == "__main__":
    sys.exit(main())
