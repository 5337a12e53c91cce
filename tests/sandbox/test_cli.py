"""The ``orderdesk-sandbox`` command line, run as a real separate process."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from typing import TYPE_CHECKING

import pytest
import requests

from airflow_orderdesk.sandbox.__main__ import build_parser, main, settings_from_args

if TYPE_CHECKING:
    from collections.abc import Iterator


def _read_lines(stream: object, count: int, timeout: float) -> list[str]:
    # readline() blocks, so it runs on a helper thread that the test can stop waiting for.
    lines: list[str] = []

    def read() -> None:
        for _ in range(count):
            line = stream.readline()  # type: ignore[attr-defined]
            if not line:
                return
            lines.append(line.rstrip("\n"))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    return lines


@pytest.fixture
def sandbox_process() -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "airflow_orderdesk.sandbox",
            "--port",
            "0",
            "--store-id",
            "777",
            "--burst",
            "5",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def test_cli_prints_where_it_listens_and_serves_the_api(sandbox_process: subprocess.Popen[str]) -> None:
    lines = _read_lines(sandbox_process.stdout, 4, timeout=20)

    assert len(lines) == 4, lines
    listening = re.fullmatch(r"Order Desk sandbox listening on (http://127\.0\.0\.1:(\d+))", lines[0])
    assert listening is not None, lines[0]
    base_url = listening.group(1)
    assert int(listening.group(2)) > 0
    assert lines[1] == f"API URL:  {base_url}/api/v2"
    assert lines[2] == "Store ID: 777"
    assert lines[3] == "API Key:  sandbox-api-key-0123456789"

    response = requests.get(
        f"{base_url}/api/v2/test",
        headers={"ORDERDESK-STORE-ID": "777", "ORDERDESK-API-KEY": "sandbox-api-key-0123456789"},
        timeout=10,
    )

    assert response.json()["message"] == "Connection Successful"
    assert response.headers["X-Tokens-Remaining"] == "4"

    sandbox_process.terminate()
    assert sandbox_process.wait(timeout=15) == 0


def test_cli_options_become_settings() -> None:
    args = build_parser().parse_args(
        [
            "--no-demo-data",
            "--item-put-mode",
            "merge",
            "--partial-source-id",
            "--fault-rate",
            "0.25",
            "--fault-kinds",
            "500, drop",
            "--fault-after-write",
            "--not-found-status",
            "400",
            "--refill",
            "0",
        ]
    )

    settings = settings_from_args(args)

    assert args.host == "127.0.0.1"
    assert args.port == 8765
    assert settings.db == ":memory:"
    assert settings.demo_data is False
    assert settings.item_put_mode == "merge"
    assert settings.partial_source_id is True
    assert settings.fault_rate == 0.25
    assert settings.fault_kinds == ("500", "drop")
    assert settings.fault_after_write is True
    assert settings.not_found_status == 400
    assert settings.rate_limited is False


def test_cli_refuses_unknown_fault_kinds(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--fault-kinds", "teapot"])

    assert exit_info.value.code == 2
    assert "teapot" in capsys.readouterr().err
