"""Command line for the Order Desk sandbox: ``orderdesk-sandbox`` or ``python -m airflow_orderdesk.sandbox``.

Runs the sandbox in the foreground until interrupted, for demos and for tests that want it in a
separate process. The first lines printed say where it listens and which credentials it expects.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import TYPE_CHECKING

import uvicorn

from airflow_orderdesk.sandbox.app import create_app, sandbox_of
from airflow_orderdesk.sandbox.server import bind_socket, url_host
from airflow_orderdesk.sandbox.settings import FAULT_KINDS, ITEM_PUT_MODES, SandboxSettings, SettingsError

if TYPE_CHECKING:
    from collections.abc import Sequence
    from types import FrameType

__all__ = ["build_parser", "main", "settings_from_args"]

DEFAULT_PORT = 8765


class _TerminatedError(Exception):
    """Raised by the SIGTERM handler so that a terminated sandbox shuts down like an interrupted one."""


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise _TerminatedError


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, with one option per setting."""
    defaults = SandboxSettings()
    parser = argparse.ArgumentParser(
        prog="orderdesk-sandbox",
        description="Run a local imitation of the Order Desk REST API v2 for tests and demos.",
    )
    add = parser.add_argument
    add("--host", default="127.0.0.1", help="address to listen on (default: %(default)s, this machine only)")
    add(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help="port to listen on; 0 picks a free one (default: %(default)s)",
    )
    add("--db", default=defaults.db, help='SQLite file, or ":memory:" (default: %(default)s)')
    add("--store-id", default=defaults.store_id, help="store id clients must send (default: %(default)s)")
    add("--api-key", default=defaults.api_key, help="API key clients must send (default: %(default)s)")
    add("--store-name", default=defaults.store_name, help="store name (default: %(default)s)")
    add(
        "--timezone",
        default=defaults.timezone,
        help="store time zone for date searches (default: %(default)s)",
    )
    add(
        "--burst",
        type=int,
        default=defaults.burst,
        help="rate-limit burst; 0 switches limiting off (default: %(default)s)",
    )
    add(
        "--refill",
        type=float,
        default=defaults.refill_per_second,
        help="rate-limit refill per second; 0 switches limiting off (default: %(default)s)",
    )
    add(
        "--item-put-mode",
        choices=ITEM_PUT_MODES,
        default=defaults.item_put_mode,
        help="item PUT semantics (default: %(default)s)",
    )
    add("--partial-source-id", action="store_true", help="match source_id searches as substrings")
    add(
        "--fault-rate",
        type=float,
        default=defaults.fault_rate,
        help="probability of a fault per API request (default: %(default)s)",
    )
    add(
        "--fault-kinds",
        default=",".join(defaults.fault_kinds),
        help=f"comma-separated faults to inject, from: {', '.join(FAULT_KINDS)} (default: all)",
    )
    add(
        "--fault-seed",
        type=int,
        default=defaults.fault_seed,
        help="seed of the fault generator (default: %(default)s)",
    )
    add("--fault-after-write", action="store_true", help="apply a write before answering it with a fault")
    add(
        "--slow-seconds",
        type=float,
        default=defaults.slow_seconds,
        help="delay of a 'slow' fault (default: %(default)s)",
    )
    add("--no-demo-data", action="store_true", help="start with an empty store")
    add(
        "--auth-error-status",
        type=int,
        default=defaults.auth_error_status,
        help="status for bad credentials (default: %(default)s)",
    )
    add(
        "--not-found-status",
        type=int,
        default=defaults.not_found_status,
        help="status for unknown orders (default: %(default)s)",
    )
    add(
        "--validation-error-status",
        type=int,
        default=defaults.validation_error_status,
        help="status for invalid requests (default: %(default)s)",
    )
    add("--files-dir", default=None, help="folder to serve read-only under /files/")
    add(
        "--log-level",
        default="info",
        choices=("critical", "error", "warning", "info", "debug"),
        help="uvicorn log level",
    )
    return parser


def settings_from_args(args: argparse.Namespace) -> SandboxSettings:
    """
    The settings the parsed arguments describe.

    :raises SettingsError: if a value is out of range.
    """
    return SandboxSettings(
        store_id=args.store_id,
        api_key=args.api_key,
        store_name=args.store_name,
        timezone=args.timezone,
        db=args.db,
        demo_data=not args.no_demo_data,
        burst=args.burst,
        refill_per_second=args.refill,
        item_put_mode=args.item_put_mode,
        partial_source_id=args.partial_source_id,
        auth_error_status=args.auth_error_status,
        not_found_status=args.not_found_status,
        validation_error_status=args.validation_error_status,
        fault_rate=args.fault_rate,
        fault_kinds=tuple(kind.strip() for kind in args.fault_kinds.split(",") if kind.strip()),
        fault_seed=args.fault_seed,
        fault_after_write=args.fault_after_write,
        slow_seconds=args.slow_seconds,
        files_dir=args.files_dir,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """
    Run the sandbox until interrupted (Ctrl+C or SIGTERM).

    :param argv: the arguments, without the program name; ``None`` reads them from the command line.
    :return: the exit status.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = settings_from_args(args)
    except SettingsError as exc:
        parser.error(str(exc))
    try:
        sock = bind_socket(args.host, args.port)
    except OSError as exc:
        print(f"orderdesk-sandbox: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1

    app = create_app(settings)
    base_url = f"http://{url_host(args.host)}:{sock.getsockname()[1]}"
    # The socket already listens, so a reader may call the API as soon as these lines appear.
    print(f"Order Desk sandbox listening on {base_url}", flush=True)
    print(f"API URL:  {base_url}/api/v2", flush=True)
    print(f"Store ID: {settings.store_id}", flush=True)
    print(f"API Key:  {settings.api_key}", flush=True)

    server = uvicorn.Server(
        uvicorn.Config(app, log_level=args.log_level, lifespan="off", timeout_graceful_shutdown=2)
    )
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if in_main_thread else None
    try:
        server.run(sockets=[sock])
    except (KeyboardInterrupt, _TerminatedError):
        pass
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)
        sock.close()
        sandbox_of(app).close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
