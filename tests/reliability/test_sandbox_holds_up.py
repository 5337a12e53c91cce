"""The sandbox under abuse: every bad request gets Order Desk's error envelope, and the server lives on.

These tests run their own sandbox so that its log can be watched: a bad request must be answered, not
crash a handler, so no stack trace may reach the client or the log.
"""

from __future__ import annotations

import http.client
import json
import logging
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil  # type: ignore[import-untyped]
import pytest
import requests

from airflow_orderdesk.sandbox import SandboxServer, SandboxSettings

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.integration

ITEM = "/orders/925086/order-items/1844721"  # demo order "1001", its item with testIdField = testId
OVERSIZED = b'{"metadata": {"hiResUrl": "' + b"x" * (1024 * 1024) + b'"}}'
SANDBOX_CLI = str(Path(sys.executable).with_name("orderdesk-sandbox"))


class LogRecords(logging.Handler):
    """Keeps every record it is given."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def stack_traces(self) -> list[str]:
        return [
            record.getMessage()
            for record in self.records
            if record.exc_info or "Traceback" in record.getMessage()
        ]


@dataclass(frozen=True)
class Answer:
    """What came back, whichever client fetched it."""

    status: int
    content_type: str
    text: str

    @classmethod
    def of(cls, response: requests.Response) -> Answer:
        return cls(response.status_code, response.headers.get("Content-Type", ""), response.text)


class Client:
    """``requests`` against one sandbox's API, with its credentials and a watch on its log."""

    def __init__(self, server: SandboxServer, log: LogRecords) -> None:
        self.server = server
        self.log = log
        self.headers = {"ORDERDESK-STORE-ID": server.store_id, "ORDERDESK-API-KEY": server.api_key}

    def send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return requests.request(method, self.server.api_url + path, headers=headers, timeout=10, **kwargs)

    def assert_refused_cleanly(self, answer: Answer, status: int) -> None:
        """The answer is the error envelope and shows no internals; the server answers the next request."""
        assert answer.status == status, answer.text[:300]
        assert answer.content_type.startswith("application/json")
        envelope = json.loads(answer.text)
        assert envelope["status"] == "error"
        assert isinstance(envelope["message"], str)
        assert envelope["message"]
        assert "Traceback" not in answer.text
        assert ".py" not in answer.text
        assert self.send("GET", "/test").json()["status"] == "success"
        assert self.log.stack_traces() == []


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with SandboxServer(SandboxSettings(burst=0, refill_per_second=0.0)) as running:
        yield running


@pytest.fixture
def client(server: SandboxServer) -> Iterator[Client]:
    """A client of the freshly reset sandbox, whose own log and uvicorn's are recorded meanwhile."""
    server.reset(demo_data=True)
    log = LogRecords()
    # uvicorn's loggers do not propagate to the root logger, so caplog alone would not see them.
    loggers = [logging.getLogger(name) for name in ("uvicorn", "airflow_orderdesk")]
    for logger in loggers:
        logger.addHandler(log)
    yield Client(server, log)
    for logger in loggers:
        logger.removeHandler(log)


def _raw(data: bytes) -> dict[str, Any]:
    return {"data": data, "headers": {"Content-Type": "application/json"}}


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        pytest.param("PUT", ITEM, _raw(OVERSIZED), 422, id="oversized-item-put"),
        pytest.param("POST", "/orders", _raw(OVERSIZED), 422, id="oversized-order-post"),
        pytest.param("PUT", ITEM, _raw(b'{"metadata": {'), 422, id="invalid-json"),
        pytest.param("POST", "/orders", _raw(b'[{"source_id": "1"}]'), 422, id="json-array-body"),
        pytest.param("PUT", ITEM, _raw(b"[" * 100_000 + b"]" * 100_000), 422, id="json-nested-too-deep"),
        pytest.param("PUT", ITEM, {"json": {"metadata": "hiResUrl"}}, 422, id="metadata-a-string"),
        pytest.param("PUT", ITEM, {"json": {"metadata": ["a", "b"]}}, 422, id="metadata-a-list"),
        pytest.param("PUT", ITEM, {"json": {"price": {"amount": 1}}}, 422, id="price-an-object"),
        pytest.param("PUT", ITEM, {"json": {"quantity": "many"}}, 422, id="quantity-many"),
        pytest.param(
            "POST",
            "/move-orders",
            {"json": {"order_id_list": "925086", "destination_folder_id": 21655}},
            422,
            id="order-id-list-a-string",
        ),
        pytest.param(
            "POST",
            "/move-orders",
            {"json": {"order_id_list": ["925086"], "destination_folder_id": "x"}},
            422,
            id="destination-folder-id-x",
        ),
        pytest.param(
            "POST",
            "/move-orders",
            {"json": {"order_id_list": ["9" * 30], "destination_folder_id": 21655}},
            422,
            id="order-id-beyond-64-bits",
        ),
        pytest.param("GET", "/nope", {}, 404, id="unknown-route"),
        pytest.param("DELETE", "/store", {}, 405, id="delete-the-store"),
        pytest.param("GET", "/orders/abc", {}, 404, id="order-id-letters"),
        pytest.param("GET", "/orders/" + "9" * 30, {}, 404, id="order-id-path-beyond-64-bits"),
        pytest.param("GET", "/orders/%C2%B2", {}, 404, id="order-id-superscript-digit"),
        pytest.param("GET", "/orders/925086/order-items/%C2%B2", {}, 404, id="item-id-superscript-digit"),
        pytest.param("POST", "/orders/925086", {"json": {}}, 405, id="post-to-an-order"),
        pytest.param("DELETE", "/test", {}, 405, id="delete-the-connection-test"),
        pytest.param("GET", "/orders", {"params": {"offset": "9" * 30}}, 422, id="offset-beyond-64-bits"),
        pytest.param("GET", "/orders", {"params": {"folder_id": "²"}}, 422, id="folder-id-superscript-digit"),
        pytest.param(
            "GET",
            "/orders",
            {"params": {"source_id": "x" * 30_000, "limit": "many"}},
            422,
            id="huge-query-string",
        ),
    ],
)
def test_a_bad_request_gets_the_error_envelope_and_the_server_keeps_answering(
    client: Client, method: str, path: str, kwargs: dict[str, Any], status: int
) -> None:
    before = client.server.sandbox.state.get_order(925086)

    response = client.send(method, path, **kwargs)

    client.assert_refused_cleanly(Answer.of(response), status)
    assert client.server.sandbox.state.get_order(925086) == before


@pytest.mark.parametrize(
    "path",
    [
        "/api/v2/orders/../../_sandbox/config",
        "/api/v2/../_sandbox/reset",
        "/api/v2/orders/925086/../../store",
    ],
)
def test_a_path_with_dot_segments_is_an_unknown_route(client: Client, path: str) -> None:
    # requests and urllib3 remove dot segments before sending, so the request goes out raw.
    connection = http.client.HTTPConnection("127.0.0.1", client.server.port, timeout=10)
    try:
        connection.request("GET", path, headers=client.headers)
        raw = connection.getresponse()
        answer = Answer(raw.status, raw.getheader("Content-Type", ""), raw.read().decode())
    finally:
        connection.close()

    client.assert_refused_cleanly(answer, 404)
    assert json.loads(answer.text)["message"] == "Unknown route"


def test_unknown_fields_in_an_item_put_are_ignored_and_the_known_ones_written(client: Client) -> None:
    response = client.send("PUT", ITEM, json={"name": "Cards", "colour": "red", "surprise": {"a": [1]}})

    assert response.status_code == 200
    assert response.json()["status"] == "success"
    item = client.send("GET", ITEM).json()["order_item"]
    assert item["name"] == "Cards"
    assert "colour" not in item
    assert "surprise" not in item
    assert client.log.stack_traces() == []


def test_a_request_line_past_the_http_parsers_limit_is_refused_and_the_server_lives_on(
    client: Client,
) -> None:
    # uvicorn refuses a request line over 64 KiB before the application sees it, as a front-end proxy
    # would; the answer is its plain-text 400, not the envelope, and nothing is logged as a crash.
    response = client.send("GET", "/orders", params={"source_id": "x" * 100_000})

    assert response.status_code == 400
    assert "Traceback" not in response.text
    assert client.send("GET", "/test").status_code == 200
    assert client.log.stack_traces() == []


def test_a_crash_in_a_handler_is_an_envelope_for_the_client_and_a_trace_in_the_log(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Also proves that the log watch used above does see stack traces.
    def crash(order_id: int) -> dict[str, Any]:
        raise RuntimeError("boom")

    monkeypatch.setattr(client.server.sandbox.state, "get_order", crash)

    response = client.send("GET", "/orders/925086")

    assert response.status_code == 500
    assert (response.json()["status"], response.json()["message"]) == ("error", "Internal Server Error")
    assert "Traceback" not in response.text
    assert "boom" not in response.text
    assert len(client.log.stack_traces()) == 1


def _listening_addresses(pid: int, port: int) -> set[str]:
    return {
        connection.laddr.ip
        for connection in psutil.Process(pid).net_connections(kind="inet")
        if connection.status == psutil.CONN_LISTEN and connection.laddr.port == port
    }


def test_sandbox_server_listens_on_the_loopback_only_by_default() -> None:
    with SandboxServer() as server:
        assert _listening_addresses(psutil.Process().pid, server.port) == {"127.0.0.1"}


def _first_line(process: subprocess.Popen[str], timeout: float) -> str:
    # readline() blocks, so it runs on a helper thread that the test can stop waiting for.
    lines: list[str] = []
    stdout = process.stdout
    assert stdout is not None
    reader = threading.Thread(target=lambda: lines.append(stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    assert lines, "the sandbox printed nothing"
    return lines[0].strip()


def test_the_cli_listens_on_the_loopback_only_by_default() -> None:
    process = subprocess.Popen(
        [SANDBOX_CLI, "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        port = int(_first_line(process, timeout=20).rsplit(":", 1)[1])

        assert _listening_addresses(process.pid, port) == {"127.0.0.1"}
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_the_cli_help_shows_the_host_default() -> None:
    result = subprocess.run([SANDBOX_CLI, "--help"], capture_output=True, text=True, timeout=30, check=False)

    help_text = " ".join(result.stdout.split())
    assert result.returncode == 0
    assert "--host HOST address to listen on (default: 127.0.0.1" in help_text
