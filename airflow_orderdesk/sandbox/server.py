"""Running the sandbox: uvicorn on a background thread, for tests and demos in the same process.

Tests need a real HTTP server (the hook under test talks to it through ``requests`` and ``aiohttp``)
that starts in well under a second on a port nobody else uses. :class:`SandboxServer` binds the socket
itself, so port 0 gives a free port whose number is known before the first request.
"""

from __future__ import annotations

import socket
import threading
import time
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any

import uvicorn

from airflow_orderdesk.sandbox.app import create_app, sandbox_of
from airflow_orderdesk.sandbox.settings import SandboxSettings

if TYPE_CHECKING:
    from types import TracebackType

    from airflow_orderdesk.sandbox.runtime import Sandbox

__all__ = ["SandboxServer", "bind_socket"]


def bind_socket(host: str, port: int) -> socket.socket:
    """
    A listening TCP socket on ``host``:``port`` (port 0: a free one).

    Listening starts at once, so clients that connect before the server loop runs wait in the backlog
    instead of being refused.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def url_host(host: str) -> str:
    """A host as it must be written in a URL (IPv6 addresses in brackets)."""
    return f"[{host}]" if ":" in host else host


class SandboxServer:
    """
    A sandbox served by uvicorn on a background thread; a context manager that starts and stops it.

    :param settings: how the sandbox behaves; defaults mirror Order Desk's documentation.
    :param host: the address to listen on; only this machine by default.
    :param port: the port; 0 picks a free one.
    :param log_level: uvicorn's log level.
    :param access_log: whether uvicorn logs every request.

    Example::

        with SandboxServer(SandboxSettings(burst=0)) as sandbox:
            requests.get(f"{sandbox.api_url}/test", headers={
                "ORDERDESK-STORE-ID": sandbox.store_id, "ORDERDESK-API-KEY": sandbox.api_key})
    """

    def __init__(
        self,
        settings: SandboxSettings | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        log_level: str = "warning",
        access_log: bool = False,
    ) -> None:
        self.host = host
        self.app = create_app(settings or SandboxSettings())
        self.sandbox: Sandbox = sandbox_of(self.app)
        self._requested_port = port
        self._log_level = log_level
        self._access_log = access_log
        self._socket: socket.socket | None = None
        self._bound_port: int | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    # -- addresses ----------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The port listened on (known once :meth:`start` has bound it)."""
        return self._requested_port if self._bound_port is None else self._bound_port

    @property
    def base_url(self) -> str:
        """The server's root URL, such as ``http://127.0.0.1:8765``."""
        return f"http://{url_host(self.host)}:{self.port}"

    @property
    def api_url(self) -> str:
        """The Order Desk API root, ``base_url`` plus ``/api/v2``."""
        return f"{self.base_url}/api/v2"

    @property
    def settings(self) -> SandboxSettings:
        """The settings in force now (they change with :meth:`configure`)."""
        return self.sandbox.settings

    @property
    def store_id(self) -> str:
        """The store id clients must send."""
        return self.settings.store_id

    @property
    def api_key(self) -> str:
        """The API key clients must send."""
        return self.settings.api_key

    # -- life cycle ---------------------------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> SandboxServer:
        """
        Start serving and wait until the server answers.

        :param timeout: seconds to wait for the first answer.
        :raises RuntimeError: if the server does not come up in time.
        """
        if self._thread is not None:
            raise RuntimeError("the sandbox server is already running")
        self._socket = bind_socket(self.host, self._requested_port)
        self._bound_port = int(self._socket.getsockname()[1])
        config = uvicorn.Config(
            self.app,
            log_level=self._log_level,
            access_log=self._access_log,
            lifespan="off",
            # A request held by a "slow" fault must not hold up stop() for long.
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name=f"orderdesk-sandbox-{self.port}", daemon=True)
        self._thread.start()
        self._wait_until_answering(timeout)
        return self

    def _run(self) -> None:
        assert self._server is not None
        assert self._socket is not None
        try:
            self._server.run(sockets=[self._socket])
        except BaseException as exc:  # surfaced by start(), which runs on the caller's thread
            self._error = exc

    def _wait_until_answering(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        probe = f"{self.base_url}/_sandbox/config"
        while time.monotonic() < deadline:
            if self._error is not None or (self._thread is not None and not self._thread.is_alive()):
                self.stop()
                raise RuntimeError(f"the sandbox server failed to start: {self._error!r}")
            try:
                with urllib.request.urlopen(probe, timeout=1.0) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"the sandbox server did not answer within {timeout} seconds")

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving, let requests in flight finish briefly, and release the port and database."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        if self._socket is not None:
            self._socket.close()
        self._socket = None
        self._server = None
        self._thread = None
        self._error = None

    def close(self) -> None:
        """Stop serving and close the database; the server cannot be started again."""
        self.stop()
        self.sandbox.close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- in-process control, the same as the /_sandbox routes -------------------------------------------

    def reset(self, demo_data: bool | None = None) -> int:
        """Start over, as ``POST /_sandbox/reset`` does; returns the number of orders afterwards."""
        return self.sandbox.reset(demo_data)

    def configure(self, **changes: Any) -> SandboxSettings:
        """Change settings, as ``PATCH /_sandbox/config`` does; returns the new settings."""
        return self.sandbox.configure(changes)

    def requests(self, *, method: str | None = None, path_prefix: str | None = None) -> list[dict[str, Any]]:
        """The request log, as ``GET /_sandbox/requests`` returns it."""
        return [
            record.to_dict() for record in self.sandbox.log.records(method=method, path_prefix=path_prefix)
        ]

    def seed_order(self, order: dict[str, Any]) -> dict[str, Any]:
        """Store an order as given, as ``POST /_sandbox/orders`` does; returns the stored document."""
        return self.sandbox.state.seed_order(order, self.sandbox.now_text())
