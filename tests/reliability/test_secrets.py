"""
The store's API key never leaves the connection except in its own request header.

Each sample DAG runs end to end with ``dag.test()`` against the sandbox, with a distinctive API key taken
either from an ``AIRFLOW_CONN_ORDERDESK_DEFAULT`` environment variable or from a connection stored in the
metadata database. Afterwards the key is looked for in everything the run left behind or printed:

- stdout and stderr (``capfd``); standard logging (``caplog``, with the root and Airflow's own loggers at
  DEBUG, plus loggers that do not propagate); every structlog event, through a recording processor placed
  just before Airflow's renderer, with structlog lowered to DEBUG, exception tracebacks included;
- files written under ``$AIRFLOW_HOME/logs`` during the test;
- every XCom of the run (return values, pushed order URLs, the extra-link ``_link_OrderDeskOrderLink``);
- rendered template fields (``RenderedTaskInstanceFields`` rows) and ``TaskInstance.rendered_map_index``;
- the ``str()``, ``repr()``, attributes and tracebacks (plain, and with frame locals as error reporters
  such as Sentry record them) of failed exports and moves, and ``test_connection()`` messages;
- every request the sandbox received: none may carry ``Authorization``, each must carry
  ``ORDERDESK-API-KEY`` (which the sandbox's log masks as ``***``), and no body or query holds the key.

Besides the key itself, its Basic-auth form (``base64("store:key")``) is looked for, since HttpHook would
send, and could log, the key that way.

In ``dag.test()`` Airflow renders structlog events without its secrets masker, so a key the provider
logged would be found here even though a worker would print ``***``: the check is on what the provider
hands to the logs, not on Airflow's masking (one of the ``leak_search`` tests proves it).

What this Airflow version does not let these tests check, or makes them set apart:

- Task log *files*: ``dag.test()`` runs tasks in-process and writes none (in 3.3.2); a worker writes the
  same structlog events that are recorded here. Any file that does appear under ``logs`` is searched.
- Airflow 3.3.2's in-process supervisor (``dag.test()`` only) logs at DEBUG each ``MaskSecret`` message
  a task sends, secret included; Airflow's own ``mask_secret(connection.password)`` triggers it, so the
  provider cannot avoid it. Those events are set apart (see ``LogCapture.record``), not searched; the
  tests assert instead that the key was registered for masking. The real supervisor omits their body.
- Masking state per task: a worker runs each task in a fresh process, ``dag.test()`` runs a whole DAG run
  in one. Each test starts with no secret registered (``unmasked_start``), but within a run a key
  registered by an earlier task would be redacted from a later task's rendered fields. The export of
  ``orderdesk_export_on_render`` is that DAG's only task to read the connection, so its rendered fields
  are checked as a worker would store them.
- How the API server shows an extra link: it only reads the XCom value searched here.
"""

from __future__ import annotations

import base64
import importlib
import json
import logging
import os
import sys
import time
import traceback
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pytest
import structlog

from tests.airflow_dags import SAMPLE_DAGS, parse_dags

if TYPE_CHECKING:
    from collections.abc import Iterator, MutableMapping

    from airflow.sdk import DAG, BaseOperator, Context
    from structlog.typing import EventDict, WrappedLogger

    from airflow_orderdesk.sandbox import SandboxServer

#: The key every connection in this module carries; distinctive enough that a hit is never chance.
SECRET = "odk-SECRET-7f3a9c21e4b8"
CONN_ID = "orderdesk_default"
CONN_ENV = f"AIRFLOW_CONN_{CONN_ID.upper()}"
NEW_FOLDER = 21654
#: A client-side bucket so large that the hook never waits; these tests are not about pacing.
UNMETERED = {"rate_limit_burst": 100000, "rate_limit_per_second": 100000}
LINK_XCOM_KEY = "_link_OrderDeskOrderLink"
#: One hour per connection source, so that neither run re-uses the other's DAG run.
HOURS = {
    "environment": datetime(2026, 11, 30, 9, tzinfo=UTC),
    "metadata_db": datetime(2026, 11, 30, 11, tzinfo=UTC),
}
CONF = {
    "order_number": "1001",
    "order_item_lookup_name": "testIdField",
    "order_item_lookup_value": "testId",
    "print_url": "https://renders.example.test/1001/print.pdf",
    "preview_url": "https://renders.example.test/1001/preview.png",
}


# -- where the key is looked for ------------------------------------------------------------------------


def _forms_of_the_key(store_id: str) -> dict[str, str]:
    """The key as text, and as the Basic-auth credentials HttpHook would build from login and password."""
    basic = base64.b64encode(f"{store_id}:{SECRET}".encode()).decode()
    return {"the API key": SECRET, "the API key as Basic auth": basic}


def _assert_key_absent(places: dict[str, str], store_id: str) -> None:
    """Fail naming every place where the key, in any of its forms, appears."""
    leaks = [
        f"{form} in {place}: ...{text[max(0, text.find(value) - 120) : text.find(value) + 40]}..."
        for place, text in places.items()
        for form, value in _forms_of_the_key(store_id).items()
        if value in text
    ]
    assert not leaks, "the API key leaked:\n" + "\n".join(leaks)


def _dump(value: Any) -> str:
    return json.dumps(value, default=str, sort_keys=True)


def _failure_of(operator: BaseOperator) -> Exception:
    """
    Run an operator's ``execute`` outside a task and return what it raised.

    Called through this function, the traceback starts here: its frame locals (kept below, as error
    reporters keep them) are the operator's and the provider's, not the test's own.
    """
    try:
        operator.execute(cast("Context", {}))
    except Exception as error:
        return error
    raise AssertionError(f"{operator.task_id} was expected to fail")


def _exception_texts(error: BaseException) -> dict[str, str]:
    """What people see of an exception: message, repr, attributes, tracebacks with and without locals."""
    with_locals = traceback.TracebackException.from_exception(error, capture_locals=True)
    return {
        "str": str(error),
        "repr": repr(error),
        "attributes": _dump({"args": error.args, **vars(error)}),
        "traceback": "".join(traceback.format_exception(error)),
        "traceback with locals": "".join(with_locals.format()),
    }


# -- capturing everything a run prints or logs ----------------------------------------------------------


class RecordList(logging.Handler):
    """Keeps every record it is handed."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclass
class LogCapture:
    """What a stretch of code printed and logged, through every channel Airflow uses."""

    capfd: pytest.CaptureFixture[str]
    caplog: pytest.LogCaptureFixture
    structlog_events: list[str] = field(default_factory=list)
    unpropagated: RecordList = field(default_factory=RecordList)
    mask_registrations: list[Any] = field(default_factory=list)
    started: float = field(default_factory=time.time)

    def record(self, logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
        """A structlog processor: keep the event, and its exception's traceback, as text."""
        from airflow.sdk.execution_time.comms import MaskSecret

        if event_dict.get("event") == "Sending request" and isinstance(event_dict.get("msg"), MaskSecret):
            # Airflow 3.3.2's in-process supervisor, which only dag.test() uses, logs at DEBUG every message
            # a task sends it, including MaskSecret(value=<secret>): each mask_secret() call, Airflow's own
            # for a connection's password included, prints the secret it registers. The real supervisor
            # logs these "(body omitted)". Not the provider's doing, and not fixable in it: such events
            # are kept apart (the tests check the key was registered) and not rendered.
            self.mask_registrations.append(event_dict["msg"].value)
            raise structlog.DropEvent
        text = _dump(event_dict)
        exc_info = event_dict.get("exc_info")
        if exc_info is True:
            exc_info = sys.exc_info()
        if isinstance(exc_info, BaseException):
            text += "\n" + "\n".join(_exception_texts(exc_info).values())
        elif isinstance(exc_info, tuple) and isinstance(exc_info[1], BaseException):
            text += "\n" + "\n".join(_exception_texts(exc_info[1]).values())
        self.structlog_events.append(text)
        return event_dict

    def places(self) -> dict[str, str]:
        out, err = self.capfd.readouterr()
        records = [*self.caplog.records, *self.unpropagated.records]
        stdlib = [_dump(vars(record)) + "\n" + self.unpropagated.format(record) for record in records]
        return {
            "stdout": out,
            "stderr": err,
            "standard logging": "\n".join(stdlib),
            "structlog events": "\n".join(self.structlog_events),
            **_task_log_files(since=self.started),
        }


def _structlog_levels() -> MutableMapping[str, int] | None:
    """Airflow's per-logger structlog levels (the root is ``""``), found through its configured wrapper."""
    importlib.import_module("airflow")  # importing Airflow configures its logging
    wrapper = structlog.get_config()["wrapper_class"]
    module = sys.modules.get(getattr(wrapper, "__module__", ""))
    return cast("MutableMapping[str, int] | None", getattr(module, "PER_LOGGER_LEVELS", None))


@pytest.fixture
def logs(
    capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> Iterator[LogCapture]:
    """Capture stdout/stderr, standard logging and structlog, all at DEBUG, for the rest of the test."""
    capture = LogCapture(capfd, caplog)
    levels = _structlog_levels()
    assert levels is not None, "Airflow's structlog levels moved; find the new way to lower them to DEBUG"
    monkeypatch.setitem(levels, "", logging.DEBUG)
    caplog.set_level(logging.DEBUG)
    loggers = [lg for lg in logging.root.manager.loggerDict.values() if isinstance(lg, logging.Logger)]
    for logger in loggers:
        # Airflow's logging config gives "airflow" and "airflow.task" levels of their own.
        if logger.level and (logger.name == "airflow" or logger.name.startswith("airflow.")):
            caplog.set_level(logging.DEBUG, logger=logger.name)
        # Loggers that keep their records from the root (uvicorn's, in the sandbox) are recorded too.
        if not logger.propagate:
            logger.addHandler(capture.unpropagated)
    processors = list(structlog.get_config()["processors"])
    # Just before the renderer: the event as Airflow is about to write it, after all its own processors.
    structlog.configure(processors=[*processors[:-1], capture.record, processors[-1]])
    try:
        yield capture
    finally:
        structlog.configure(processors=processors)
        for logger in loggers:
            logger.removeHandler(capture.unpropagated)


def _task_log_files(since: float) -> dict[str, str]:
    """The files written under ``$AIRFLOW_HOME/logs`` since ``since`` (dag.test() in 3.3.2 writes none)."""
    root = Path(os.environ["AIRFLOW_HOME"]) / "logs"
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.stat().st_mtime >= since - 1)
    return {f"log file {path}": path.read_text(errors="replace") for path in files}


# -- what a run left in the metadata database -----------------------------------------------------------


def _xcoms(dag_id: str, run_id: str) -> dict[str, Any]:
    """Every XCom of the run, by ``task_id[map_index]/key``."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.scalars(select(XComModel).filter_by(dag_id=dag_id, run_id=run_id)).all()
        return {f"{row.task_id}[{row.map_index}]/{row.key}": row.value for row in rows}


def _rendered_fields(dag_id: str, run_id: str) -> dict[str, Any]:
    """The rendered template fields of every task instance of the run, as Airflow stores them."""
    from airflow.models.renderedtifields import RenderedTaskInstanceFields
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.scalars(
            select(RenderedTaskInstanceFields).filter_by(dag_id=dag_id, run_id=run_id)
        ).all()
        return {f"{row.task_id}[{row.map_index}]": [row.rendered_fields, row.k8s_pod_yaml] for row in rows}


def _rendered_map_indexes(dag_id: str, run_id: str) -> dict[str, str | None]:
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.scalars(select(TaskInstance).filter_by(dag_id=dag_id, run_id=run_id)).all()
        return {f"{row.task_id}[{row.map_index}]": row.rendered_map_index for row in rows}


def _run_places(dag_id: str, run_id: str) -> dict[str, str]:
    """The XComs, rendered fields and rendered map indexes of a run, each as text."""
    places = {f"XCom {name}": _dump(value) for name, value in _xcoms(dag_id, run_id).items()}
    places.update({f"rendered fields {n}": _dump(v) for n, v in _rendered_fields(dag_id, run_id).items()})
    places["rendered map indexes"] = _dump(_rendered_map_indexes(dag_id, run_id))
    return places


# -- what the sandbox received ---------------------------------------------------------------------------


def _assert_requests_carry_the_key_only_in_its_header(sandbox: SandboxServer) -> dict[str, str]:
    """Check every request's headers; return the whole request log as text for the key search."""
    requests = sandbox.requests()
    assert requests, "the run sent no request to the sandbox"
    for request in requests:
        headers = request["headers"]
        assert "authorization" not in headers, f"{request['method']} {request['path']} sent Authorization"
        # The sandbox's log masks this header's value; that it is there at all is what matters.
        assert headers.get("orderdesk-api-key") == "***", f"{request['method']} {request['path']}: no key"
    return {f"request {r['seq']} {r['method']} {r['path']}": _dump(r) for r in requests}


# -- the connection, from either source ------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """Where the connection came from, and the order-page prefix only that connection produces."""

    name: str
    order_page_prefix: str


def _connection_fields(sandbox: SandboxServer, source: str) -> dict[str, Any]:
    return {
        "conn_type": "orderdesk",
        "host": sandbox.api_url,
        "login": sandbox.store_id,
        "password": SECRET,
        # The order-page pattern marks the source: every extra link shows which connection the hook read.
        "extra": {**UNMETERED, "order_page_url": f"{sandbox.base_url}/{source}/orders/{{order_id}}"},
    }


def _delete_db_connection() -> None:
    from airflow.models import Connection
    from airflow.utils.session import create_session
    from sqlalchemy import delete

    with create_session() as session:
        session.execute(delete(Connection).where(Connection.conn_id == CONN_ID))


@pytest.fixture
def unmasked_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """
    Forget every secret registered for masking, as a new worker process starts.

    Otherwise a key registered by an earlier test in this process would be redacted in rendered fields
    and stdlib task logs, hiding a leak that a real worker, where a task's rendered fields are stored
    before its hook has read the connection, would let through. Airflow keeps one masker in its core and
    one in its task SDK.
    """
    for module_name in (
        "airflow._shared.secrets_masker.secrets_masker",
        "airflow.sdk._shared.secrets_masker.secrets_masker",
    ):
        masker = importlib.import_module(module_name)._secrets_masker()
        monkeypatch.setattr(masker, "patterns", set())
        monkeypatch.setattr(masker, "replacer", None)


@pytest.fixture(params=["environment", "metadata_db"])
def source(
    request: pytest.FixtureRequest,
    sample_dags: dict[str, DAG],
    sandbox: SandboxServer,
    monkeypatch: pytest.MonkeyPatch,
    unmasked_start: None,
) -> Iterator[Source]:
    """The sandbox accepting only ``SECRET``, and ``orderdesk_default`` holding it in one source only."""
    sandbox.configure(api_key=SECRET)
    fields = _connection_fields(sandbox, request.param)
    _delete_db_connection()
    if request.param == "environment":
        monkeypatch.setenv(CONN_ENV, json.dumps(fields))
    else:
        from airflow.models import Connection
        from airflow.utils.session import create_session

        monkeypatch.delenv(CONN_ENV, raising=False)
        with create_session() as session:
            session.add(Connection(conn_id=CONN_ID, **{**fields, "extra": json.dumps(fields["extra"])}))
    try:
        yield Source(request.param, fields["extra"]["order_page_url"].removesuffix("{order_id}"))
    finally:
        _delete_db_connection()


def _assert_connection_came_from(source: Source, link_urls: list[str]) -> None:
    """The run's links carry the source's own order-page prefix, so the hook read that connection."""
    assert link_urls, "the run left no extra-link XCom"
    assert all(url.startswith(source.order_page_prefix) for url in link_urls), link_urls
    if source.name == "metadata_db":
        assert CONN_ENV not in os.environ


# -- the DAGs ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_dags(tmp_path_factory: pytest.TempPathFactory) -> dict[str, DAG]:
    """The sample DAGs as Airflow parses them, on a migrated metadata database."""
    return parse_dags(
        SAMPLE_DAGS, env={"ORDERDESK_ARTIFACT_BASE": tmp_path_factory.mktemp("artifacts").as_uri()}
    )


def _seed_hour(sandbox: SandboxServer, hour: datetime) -> list[int]:
    """Two orders added inside ``hour``, each with one printable item and the first with a fee line."""

    def order(source_id: str, minute: int, *items: dict[str, Any]) -> int:
        added = (hour + timedelta(minutes=minute)).strftime("%Y-%m-%d %H:%M:%S")
        document = {
            "source_id": source_id,
            "folder_id": NEW_FOLDER,
            "date_added": added,
            "order_items": list(items),
        }
        return int(sandbox.seed_order(document)["id"])

    card = {"name": "Business Cards", "price": "39.90", "quantity": 1, "metadata": {"testIdField": "cc-1"}}
    fee = {"name": "Rush fee", "price": "15.00", "quantity": 1, "metadata": {}}
    return [order("8001", 5, card, fee), order("8002", 50, {**card, "metadata": {"testIdField": "cc-2"}})]


# -- the tests -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("channel", "place"),
    [
        ("print", "stdout"),
        ("stderr", "stderr"),
        ("stdlib", "standard logging"),
        ("structlog", "structlog events"),
        ("hook log, key registered for masking", "structlog events"),
    ],
)
def test_the_leak_search_finds_a_key_written_to_any_captured_channel(
    logs: LogCapture, channel: str, place: str
) -> None:
    """The captures are only worth something if a key written to them at DEBUG would be found."""
    if channel == "print":
        print(f"key {SECRET}")
    elif channel == "stderr":
        print(f"key {SECRET}", file=sys.stderr)
    elif channel == "stdlib":
        logging.getLogger("airflow.task.hooks.probe").debug("key %s", SECRET)
    elif channel == "structlog":
        structlog.get_logger("airflow.task.hooks.probe").debug("key %s", SECRET)
    else:
        from airflow.sdk.log import mask_secret

        from airflow_orderdesk.hooks.orderdesk import OrderDeskHook

        # dag.test() renders task logs without Airflow's masking, so a key the provider logs is found
        # even once it is registered; a worker would print "***" instead.
        mask_secret(SECRET)
        OrderDeskHook().log.debug("key %s", SECRET)
    with pytest.raises(AssertionError, match=f"the API key in {place}:"):
        _assert_key_absent(logs.places(), "1")


def test_render_and_export_run_keeps_the_key_out_of_logs_xcom_rendered_fields_and_links(
    sample_dags: dict[str, DAG], sandbox: SandboxServer, source: Source, logs: LogCapture
) -> None:
    hour = HOURS[source.name]
    orders = _seed_hour(sandbox, hour)

    run = sample_dags["orderdesk_render_and_export"].test(logical_date=hour + timedelta(hours=1))

    assert run.state == "success"
    assert all(int(sandbox.sandbox.state.get_order(o)["folder_id"]) != NEW_FOLDER for o in orders)
    xcoms = _xcoms(run.dag_id, run.run_id)
    links = [str(value) for name, value in xcoms.items() if name.endswith(f"/{LINK_XCOM_KEY}")]
    assert len(links) == 4  # two exports and two moves
    _assert_connection_came_from(source, links)
    mapped = [
        f"{task_id}[{index}]" for task_id in ("render", "export", "move_to_prepared") for index in (0, 1)
    ]
    assert sorted(_rendered_fields(run.dag_id, run.run_id)) == sorted(
        ["find_items[-1]", "orders_of[-1]", "choose_export[-1]", *mapped]
    )
    places = {**logs.places(), **_run_places(run.dag_id, run.run_id)}
    # The captures saw the run: the task's print, the operators' logs, the hook's and urllib3's DEBUG lines.
    assert "printable item(s)" in places["stdout"]
    assert "history note added" in places["structlog events"]
    assert "(attempt 1)" in places["structlog events"]
    assert '"PUT /api/v2/orders/' in places["standard logging"]
    # Airflow was told to mask the key in logs (see LogCapture.record for where it says so at DEBUG).
    assert SECRET in logs.mask_registrations
    places.update(_assert_requests_carry_the_key_only_in_its_header(sandbox))
    _assert_key_absent(places, sandbox.store_id)


def test_export_on_render_run_keeps_the_key_out_of_logs_xcom_rendered_fields_and_links(
    sample_dags: dict[str, DAG], sandbox: SandboxServer, source: Source, logs: LogCapture
) -> None:
    run = sample_dags["orderdesk_export_on_render"].test(run_conf=CONF)

    assert run.state == "success"
    assert [r["path"] for r in sandbox.requests(method="POST")] == ["/orders/925086/order-history"]
    xcoms = _xcoms(run.dag_id, run.run_id)
    _assert_connection_came_from(source, [str(xcoms[f"export_to_order_desk[-1]/{LINK_XCOM_KEY}"])])
    assert "export_to_order_desk[-1]" in _rendered_fields(run.dag_id, run.run_id)
    places = {**logs.places(), **_run_places(run.dag_id, run.run_id)}
    assert "history note added" in places["structlog events"]
    assert "(attempt 1)" in places["structlog events"]
    assert '"PUT /api/v2/orders/' in places["standard logging"]
    assert SECRET in logs.mask_registrations
    places.update(_assert_requests_carry_the_key_only_in_its_header(sandbox))
    _assert_key_absent(places, sandbox.store_id)


def test_failed_exports_and_connection_tests_keep_the_key_out_of_errors_and_logs(
    sample_dags: dict[str, DAG],
    sandbox: SandboxServer,
    source: Source,
    logs: LogCapture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from airflow_orderdesk.exceptions import OrderDeskAuthenticationError, OrderDeskOrderNotFoundError
    from airflow_orderdesk.hooks.orderdesk import OrderDeskHook
    from airflow_orderdesk.operators.orderdesk import OrderDeskExportOperator, OrderDeskMoveOrderOperator

    # Outside a task, a hook reads the metadata database only in a server process; the API server (whose
    # "Test" button calls test_connection()) and `airflow connections test` declare themselves so.
    monkeypatch.setenv("_AIRFLOW_PROCESS_CONTEXT", "server")
    lookup = {"order_item_lookup_name": "testIdField", "order_item_lookup_value": "testId"}
    places: dict[str, str] = {}

    # The key is right, but the lookups match nothing.
    ok, places["test_connection() with the right key"] = OrderDeskHook().test_connection()
    assert ok
    missing = "NO-SUCH-ORDER-404"
    export = OrderDeskExportOperator(task_id="export", order_lookup_id=missing, data={"a": "b"}, **lookup)
    move = OrderDeskMoveOrderOperator(task_id="move", order_lookup_id=missing)
    for operator in (export, move):
        error = _failure_of(operator)
        assert isinstance(error, OrderDeskOrderNotFoundError)
        places.update({f"{operator.task_id}, no match, {k}": v for k, v in _exception_texts(error).items()})

    # The store refuses the connection's key.
    sandbox.configure(api_key="other-key-0000")
    ok, places["test_connection() with a refused key"] = OrderDeskHook().test_connection()
    assert not ok
    assert "401" in places["test_connection() with a refused key"]
    export = OrderDeskExportOperator(task_id="export", order_lookup_id="1001", data={"a": "b"}, **lookup)
    error = _failure_of(export)
    assert isinstance(error, OrderDeskAuthenticationError)
    places.update({f"export, refused key, {k}": v for k, v in _exception_texts(error).items()})

    # The same refusal in a real run, where Airflow logs the task's failure and traceback itself.
    dag = sample_dags["orderdesk_export_on_render"]
    monkeypatch.setattr(dag.get_task("export_to_order_desk"), "retries", 0)
    run = dag.test(run_conf=CONF)

    assert run.state == "failed"
    if source.name == "metadata_db":
        assert CONN_ENV not in os.environ
    places.update({**logs.places(), **_run_places(run.dag_id, run.run_id)})
    assert "Invalid Store ID or API Key" in places["structlog events"]
    assert "Traceback" in places["structlog events"]
    assert SECRET in logs.mask_registrations
    places.update(_assert_requests_carry_the_key_only_in_its_header(sandbox))
    _assert_key_absent(places, sandbox.store_id)
