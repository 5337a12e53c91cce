"""
The provider through Airflow's own UI, in a real browser: the connection form, Test, a backfill, the link.

One ``orderdesk-sandbox`` and one ``airflow standalone`` run in a throw-away ``AIRFLOW_HOME``, started by
the same code as ``make airflow`` (``scripts/local_airflow.py``), with the export DAG on its daily cadence
and no ``orderdesk_default`` connection: the test creates it in the UI. Debian's Chromium (``make browser``
installs it; Playwright never downloads a browser here) is driven headless through Playwright's own
driver, as an operator would click:

1. log in as ``admin`` with the password ``airflow standalone`` generated;
2. Admin > Connections > Add Connection, type "Order Desk": the form shows the provider's labels
   (API URL, Store ID, API Key); fill them in for the sandbox and save as ``orderdesk_default``;
3. press the connection's Test button and see "Test Connection Successful";
4. on ``orderdesk_render_and_export``, Trigger > Backfill over the seeded days, "Missing Runs",
   unpausing the DAG on trigger; once the runs succeeded and the scheduler closed the backfill (it looks
   every 30 s; both are watched through the REST API), the Runs tab shows every backfill run succeeded;
5. open a successful mapped ``export`` task instance, follow its "Order Desk order" extra link and land
   on the sandbox's order page, which shows the links the run wrote (``hiResUrl`` ending in ``/print.pdf``).

Two things Airflow 3.3.2's UI cannot do as one might expect, and what the test does instead:

- The connection form has no Test button; Test sits on the connection's row in the list, so the
  connection is saved first and tested there.
- That Test button fails for every connection without a port, such as ours: the UI sends
  ``port: Number(null)``, that is ``0``, the API sees a port that differs from the stored NULL and
  answers 400 ("The host or port to test differs from the stored connection"); fixed upstream in
  apache/airflow#73298. When that answer comes, the test records it (``03a_...png``), reloads the list and
  presses Test again with the request's port sent as ``null``, which is what the UI means; the API runs the
  hook's real ``test_connection()`` against the sandbox, and the sandbox's request log confirms it. On an
  Airflow with the fix the first press succeeds and no request is changed.

Screenshots of each step go to ``build/screenshots/airflow_ui/`` (emptied first; git ignores ``build/``),
and the folder is printed. The module takes 80 to 110 s on two cores.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest
import requests
from playwright.sync_api import expect, sync_playwright

from scripts.local_airflow import (
    ADMIN_USER,
    AirflowClient,
    SandboxProcess,
    admin_password,
    airflow_environment,
    bearer_token,
    free_port,
    log_tail,
    prepare_metadata_db,
    start_sandbox,
    start_standalone,
    stop_process_group,
    wait_until_healthy,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from playwright.sync_api import Locator, Page, Response, Route

# Part of every plain `pytest` run (and so of `make test`), like the end-to-end tests. Airflow starts
# inside the test's time, so it may take longer than the suite's default 300 s; the waits are shorter.
pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

REPO_ROOT = Path(__file__).resolve().parents[2]
#: Where the screenshots of each step go; ``build/`` is ignored by git.
SCREENSHOTS = REPO_ROOT / "build" / "screenshots" / "airflow_ui"

#: Debian's Chromium, which ``make browser`` installs; Playwright brings only its driver.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
#: Milliseconds a click or an expectation may wait for the React UI.
UI_TIMEOUT_MS = 30_000
NAVIGATION_TIMEOUT_MS = 60_000

DAG_ID = "orderdesk_render_and_export"
CONN_ID = "orderdesk_default"
LOOKUP_KEY = "testIdField"
NEW_FOLDER = 21654
PDF_SIGNATURE = b"%PDF"

#: The UTC days seeded and backfilled, counted back from today. Not yesterday: unpausing a daily DAG
#: with catchup off schedules its latest interval (yesterday) at once, and a backfill of "Missing Runs"
#: would leave that day to the scheduled run when the scheduler is quicker than the backfill.
DAYS_BACK = (4, 3, 2)
#: Printable items per seeded order (each order also has an item without the lookup key).
PRINTABLE_ITEMS = 2

#: Seconds for Airflow to start and parse the DAG, and for the backfill's runs to succeed.
STARTUP_TIMEOUT = 180.0
DAG_PARSE_TIMEOUT = 120.0
RUNS_TIMEOUT = 300.0
BACKFILL_COMPLETION_TIMEOUT = 90.0
#: Task states that end the wait at once: a retry would come only after 30 s, and means a failure.
TASK_FAILURES = frozenset({"failed", "upstream_failed", "up_for_retry"})

#: What Airflow 3.3.2 answers when its own UI tests a connection that has no port (apache/airflow#73298).
PORTLESS_TEST_REFUSAL = "differs from the stored connection"


# -- what the test set up ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SeededOrder:
    """
    An order in New that the test put into the sandbox for one backfilled day.

    :param day: the UTC day it was placed on.
    :param order_id: Order Desk's internal id, which the order page's address carries.
    """

    day: date
    order_id: str


@dataclass(frozen=True)
class LiveAirflow:
    """
    The running ``airflow standalone``.

    :param api_url: the UI and API server, such as ``http://127.0.0.1:8080``.
    :param password: the generated ``admin`` password.
    :param client: REST client with an admin token, for waiting and checking behind the UI's back.
    :param log_path: its output.
    """

    api_url: str
    password: str
    client: AirflowClient
    log_path: Path


class Screenshots:
    """
    The folder of this run's screenshots, emptied when created.

    :param folder: where they go.
    """

    def __init__(self, folder: Path) -> None:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        self.folder = folder
        self.taken: list[Path] = []

    def take(self, page: Page, name: str) -> Path:
        """Save the whole page as ``<name>.png``."""
        path = self.folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        self.taken.append(path)
        return path


# -- fixtures ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ui_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The module's AIRFLOW_HOME; the sandbox's log and the rendered files live in it too."""
    return tmp_path_factory.mktemp("browser-airflow-home")


@pytest.fixture(scope="module")
def ui_sandbox(ui_home: Path) -> Iterator[SandboxProcess]:
    """An ``orderdesk-sandbox`` process: empty store, no rate limit, serving the rendered files."""
    process = start_sandbox(
        log_path=ui_home / "sandbox.log",
        files_dir=ui_home / "artifacts",
        extra_args=["--burst", "0", "--no-demo-data"],
    )
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
def seeded_orders(ui_sandbox: SandboxProcess) -> list[SeededOrder]:
    """One order in New at noon UTC on each backfilled day, oldest first."""
    today = datetime.now(UTC).date()
    return [_seed_order(ui_sandbox, today - timedelta(days=back)) for back in DAYS_BACK]


@pytest.fixture(scope="module")
def live_airflow(
    ui_home: Path, ui_sandbox: SandboxProcess, seeded_orders: list[SeededOrder]
) -> Iterator[LiveAirflow]:
    """``airflow standalone`` running the sample DAGs daily, with no Order Desk connection defined."""
    api_port = free_port()
    api_url = f"http://127.0.0.1:{api_port}"
    log_path = ui_home / "standalone.log"
    env = airflow_environment(
        ui_home,
        sandbox=ui_sandbox,
        artifacts_dir=ui_home / "artifacts",
        api_port=api_port,
        cadence="daily",
        overrides={"AIRFLOW__CORE__TEST_CONNECTION": "Enabled"},
    )
    # The connection must be the one saved through the UI: an environment variable would win over it.
    env.pop("AIRFLOW_CONN_ORDERDESK_DEFAULT", None)
    assert not [name for name in env if name.startswith("AIRFLOW_CONN_")]
    prepare_metadata_db(env)
    started_at = datetime.now(UTC)
    standalone = start_standalone(env, log_path=log_path)
    try:
        wait_until_healthy(
            api_url, standalone, started_at=started_at, timeout=STARTUP_TIMEOUT, log_path=log_path
        )
        password = admin_password(ui_home)
        client = AirflowClient(api_url, bearer_token(api_url, password))
        _wait_for_dag(client, log_path)
        yield LiveAirflow(api_url=api_url, password=password, client=client, log_path=log_path)
    finally:
        stop_process_group(standalone)


@pytest.fixture(scope="module")
def screenshots() -> Screenshots:
    """An empty ``build/screenshots/airflow_ui/``."""
    return Screenshots(SCREENSHOTS)


@pytest.fixture
def browser_page(tmp_path: Path) -> Iterator[Page]:
    """A page of a headless Debian Chromium with a fresh profile, closed at the end."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make browser` installs Debian's chromium")
    expect.set_options(timeout=UI_TIMEOUT_MS)
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=list(CHROMIUM_ARGS),
            viewport={"width": 1400, "height": 900},
            locale="en-US",
            timezone_id="UTC",
        )
        try:
            page = context.pages[0] if context.pages else context.new_page()
            page.set_default_timeout(UI_TIMEOUT_MS)
            page.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
            yield page
        finally:
            context.close()


# -- helpers -------------------------------------------------------------------------------------------


def _seed_order(sandbox: SandboxProcess, day: date) -> SeededOrder:
    """Store a shop order in New, placed at noon UTC on ``day``: business cards and a gift wrap."""
    source_id = f"UI-{day:%m%d}"
    items: list[dict[str, Any]] = [
        {
            "name": f"Business cards {number}",
            "code": "BC-350",
            "quantity": 250,
            "metadata": {LOOKUP_KEY: f"{source_id}-{number}"},
        }
        for number in range(1, PRINTABLE_ITEMS + 1)
    ]
    items.append({"name": "Gift wrap", "code": "GW-1", "quantity": 1, "metadata": {"giftNote": "Thanks!"}})
    body = {
        "source_id": source_id,
        "folder_id": NEW_FOLDER,
        "date_added": f"{day:%Y-%m-%d} 12:00:00",
        "order_items": items,
    }
    response = requests.post(f"{sandbox.base_url}/_sandbox/orders", json=body, timeout=30)
    response.raise_for_status()
    return SeededOrder(day=day, order_id=str(response.json()["order"]["id"]))


def _wait_for_dag(client: AirflowClient, log_path: Path) -> None:
    """Wait until the DAG processor parsed the export DAG on its daily cadence."""
    deadline = time.monotonic() + DAG_PARSE_TIMEOUT
    while True:
        errors = client.get("/importErrors")["import_errors"]
        if errors:
            pytest.fail(f"the sample DAGs do not import: {errors}")
        with contextlib.suppress(RuntimeError):
            timetable = client.get(f"/dags/{DAG_ID}")["timetable_summary"]
            assert "0 0 * * *" in timetable, f"ORDERDESK_EXPORT_CADENCE=daily did not reach it: {timetable}"
            return
        if time.monotonic() > deadline:
            pytest.fail(f"{DAG_ID} not parsed after {DAG_PARSE_TIMEOUT:.0f} s:\n{log_tail(log_path)}")
        time.sleep(1)


@contextlib.contextmanager
def _explained_failures(
    page: Page, airflow: LiveAirflow, sandbox: SandboxProcess, shots: Screenshots
) -> Iterator[None]:
    """On any failure: screenshot every open page; attach the tails of Airflow's and the sandbox's logs."""
    try:
        yield
    except BaseException as error:
        for number, open_page in enumerate(page.context.pages):
            with contextlib.suppress(Exception):
                error.add_note(f"screenshot: {shots.take(open_page, f'failure_{number}')}")
        # The API server's access log (the UI's polling, mostly) would drown everything else.
        tail = log_tail(airflow.log_path, 80, leave_out="[http.access]")
        error.add_note(f"--- tail of {airflow.log_path}, access log left out ---\n{tail}")
        error.add_note(f"--- tail of {sandbox.log_path} ---\n{log_tail(sandbox.log_path, 20)}")
        raise


def _is_connection_test(response: Response) -> bool:
    return response.request.method == "POST" and response.url.endswith("/api/v2/connections/test")


def _send_port_as_null(route: Route) -> None:
    """Send the UI's connection test with ``port: null`` where Airflow 3.3.2's UI says ``0`` for "none"."""
    body = route.request.post_data_json
    if isinstance(body, dict) and body.get("port") == 0:
        body["port"] = None
    route.continue_(post_data=json.dumps(body))


def _toast(page: Page, title: str) -> Locator:
    """The notification with this title (Chakra's toasts have the role ``status``)."""
    return page.get_by_role("status").filter(has_text=title)


def _see_toast(page: Page, title: str) -> None:
    """Wait until the notification with this title is shown and has finished sliding in."""
    toast = _toast(page, title)
    expect(toast).to_be_visible()
    toast.evaluate(_FINISH_ANIMATIONS)


#: Resolves once the element's (and its toast's) finite animations have finished.
_FINISH_ANIMATIONS = """element => {
    const root = element.closest('[data-scope="toast"]') || element;
    const finite = root.getAnimations({subtree: true})
        .filter(animation => animation.effect?.getTiming().iterations !== Infinity);
    return Promise.all(finite.map(animation => animation.finished.catch(() => null))).then(() => true);
}"""


def _trigger_time(day: date) -> datetime:
    """When a daily CronTriggerTimetable run for ``day`` triggers: midnight at the end of the day."""
    return datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=UTC)


# -- the steps -----------------------------------------------------------------------------------------


def _log_in(page: Page, airflow: LiveAirflow, shots: Screenshots) -> None:
    page.goto(airflow.api_url)
    expect(page.get_by_text("Sign into Airflow")).to_be_visible()
    page.get_by_label("Username").fill(ADMIN_USER)
    page.get_by_label("Password").fill(airflow.password)
    shots.take(page, "01_login")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/auth/login" not in url)
    expect(page.get_by_role("button", name="Admin")).to_be_visible()


def _add_connection(page: Page, airflow: LiveAirflow, sandbox: SandboxProcess, shots: Screenshots) -> None:
    """Admin > Connections > Add Connection of type Order Desk, with the provider's labels; saved."""
    page.get_by_role("button", name="Admin").click()
    page.get_by_role("menuitem", name="Connections").click()
    page.get_by_role("button", name="Add Connection").click()
    form = page.get_by_role("dialog").filter(has_text="Add Connection")
    form.get_by_label("Connection ID").fill(CONN_ID)
    connection_type = form.get_by_label("Connection Type")
    connection_type.click()
    connection_type.fill("Order Desk")
    page.get_by_role("option", name="Order Desk", exact=True).click()

    # The provider relabels host, login and password; Airflow's own names are gone.
    fields = {"API URL": sandbox.api_url, "Store ID": sandbox.store_id, "API Key": sandbox.api_key}
    for label in fields:
        expect(form.get_by_label(label, exact=True)).to_be_visible()
    for generic in ("Host", "Login", "Password", "Port", "Schema"):
        expect(form.get_by_label(generic, exact=True)).to_have_count(0)
    expect(form.get_by_label("API Key", exact=True)).to_have_attribute("type", "password")
    for label, value in fields.items():
        form.get_by_label(label, exact=True).fill(value)
    shots.take(page, "02_connection_form")
    form.get_by_role("button", name="Save").click()
    expect(form).to_be_hidden()

    row = page.get_by_role("row").filter(has_text=CONN_ID)
    expect(row).to_contain_text("orderdesk")
    expect(row).to_contain_text(sandbox.api_url)
    stored = airflow.client.get(f"/connections/{CONN_ID}")
    assert (stored["conn_type"], stored["host"], stored["login"]) == (
        "orderdesk",
        sandbox.api_url,
        sandbox.store_id,
    ), stored


def _test_connection(page: Page, sandbox: SandboxProcess, shots: Screenshots) -> None:
    """Press the saved connection's Test button and see it succeed against the sandbox."""
    row = page.get_by_role("row").filter(has_text=CONN_ID)
    test_button = row.get_by_role("button", name="Test Connection")
    with page.expect_response(_is_connection_test) as first_press:
        test_button.click()
    answer = first_press.value
    if answer.status == 400 and PORTLESS_TEST_REFUSAL in answer.text():
        # Airflow 3.3.2's UI sends port 0 for a connection without one (see the module's docstring).
        _see_toast(page, "Test Connection Failed")
        shots.take(page, "03a_test_connection_refused_airflow_3_3_2_port_bug")
        page.route("**/api/v2/connections/test", _send_port_as_null)
        try:
            # A reload clears the error notification, which would otherwise stay on every later page.
            page.reload()
            with page.expect_response(_is_connection_test) as second_press:
                test_button.click()
            answer = second_press.value
        finally:
            page.unroute("**/api/v2/connections/test", _send_port_as_null)
    assert answer.ok, f"HTTP {answer.status}: {answer.text()}"
    assert answer.json()["status"] is True, answer.json()
    _see_toast(page, "Test Connection Successful")
    shots.take(page, "03_test_connection_success")

    # The success is the hook's own test against the sandbox, with the stored store id and key.
    tests = requests.get(f"{sandbox.base_url}/_sandbox/requests", params={"path_prefix": "/test"}, timeout=30)
    tests.raise_for_status()
    assert [
        record
        for record in tests.json()["requests"]
        if record["status"] == 200 and record["headers"].get("orderdesk-store-id") == sandbox.store_id
    ], tests.json()


def _pick_moment(page: Page, dialog: Locator, label: str, moment: datetime) -> None:
    """Fill one of the backfill dialog's date pickers ("From", "To") with a UTC date and time."""
    field = dialog.get_by_role("group").filter(has=page.get_by_text(label, exact=True))
    # Both pickers stay in the page; only the open one is visible.
    date_input = page.get_by_placeholder("YYYY/MM/DD").filter(visible=True)
    time_input = page.get_by_placeholder("HH:mm").filter(visible=True)
    expect(date_input).to_have_count(0)
    field.get_by_test_id("datetime-input").click()
    date_input.fill(f"{moment:%Y/%m/%d}")
    time_input.fill(f"{moment:%H:%M}")
    # A click beside the picker closes it.
    dialog.get_by_text("Date Range", exact=True).click()
    expect(date_input).to_have_count(0)
    expect(field).to_contain_text(f"{moment:%b %d, %Y %H:%M}")


def _start_backfill(page: Page, airflow: LiveAirflow, days: list[date], shots: Screenshots) -> list[str]:
    """Trigger > Backfill over ``days``, Missing Runs, unpausing the DAG; return the run ids, oldest first."""
    page.get_by_role("link", name="Dags", exact=True).click()
    page.get_by_role("link", name=DAG_ID, exact=True).first.click()
    expect(page.get_by_role("heading", name=DAG_ID)).to_be_visible()
    page.get_by_role("button", name="Trigger Dag").click()
    dialog = page.get_by_role("dialog").filter(has_text=DAG_ID)
    dialog.get_by_text("Backfill", exact=True).click()
    expect(dialog.get_by_text(f"Run Backfill - {DAG_ID}")).to_be_visible()

    # The timetable picks a backfill's runs by trigger time, the end of each day's interval.
    _pick_moment(page, dialog, "From", _trigger_time(days[0]))
    _pick_moment(page, dialog, "To", _trigger_time(days[-1]))
    expect(dialog.get_by_text(f"{len(days)} runs will be triggered.")).to_be_visible()
    dialog.get_by_text("Missing Runs", exact=True).click()
    expect(dialog.get_by_role("radio", name="Missing Runs")).to_be_checked()
    unpause = dialog.get_by_role("checkbox", name=f"Unpause {DAG_ID} on trigger")
    if not unpause.is_checked():
        dialog.get_by_text(f"Unpause {DAG_ID} on trigger", exact=True).click()
    expect(unpause).to_be_checked()
    dialog.locator("input[name='max_active_runs']").fill(str(len(days)))
    shots.take(page, "04_backfill_dialog")
    dialog.get_by_role("button", name="Run Backfill").click()
    _see_toast(page, "Backfill generated")
    expect(dialog).to_be_hidden()

    # Behind the UI: exactly one backfill run per seeded day.
    assert airflow.client.get(f"/dags/{DAG_ID}")["is_paused"] is False
    runs = airflow.client.get(f"/dags/{DAG_ID}/dagRuns", run_type="backfill", limit=100)["dag_runs"]
    runs.sort(key=lambda run: str(run["logical_date"]))
    run_days = [datetime.fromisoformat(run["logical_date"]).astimezone(UTC).date() for run in runs]
    assert run_days == days, runs
    return [str(run["dag_run_id"]) for run in runs]


def _wait_for_runs(airflow: LiveAirflow, run_ids: list[str]) -> None:
    """Wait until every run succeeded; fail at once when a task fails, with the task states."""
    deadline = time.monotonic() + RUNS_TIMEOUT
    while True:
        runs = [airflow.client.get(f"/dags/{DAG_ID}/dagRuns/{quote(run_id)}") for run_id in run_ids]
        if all(run["state"] == "success" for run in runs):
            return
        instances = [
            ti
            for run in runs
            for ti in airflow.client.get(
                f"/dags/{DAG_ID}/dagRuns/{quote(run['dag_run_id'])}/taskInstances", limit=100
            )["task_instances"]
        ]
        broken = any(ti["state"] in TASK_FAILURES for ti in instances)
        if broken or any(run["state"] == "failed" for run in runs) or time.monotonic() > deadline:
            states = "\n".join(
                f"{ti['dag_run_id']} {ti['task_id']}[{ti['map_index']}] {ti['state']}" for ti in instances
            )
            pytest.fail(f"backfill runs did not succeed within {RUNS_TIMEOUT:.0f} s:\n{states}")
        time.sleep(2)


def _wait_for_backfill_completion(airflow: LiveAirflow) -> None:
    """Wait until the scheduler closed the backfill (it looks every 30 s), so that the UI shows it done."""
    deadline = time.monotonic() + BACKFILL_COMPLETION_TIMEOUT
    while True:
        backfills = airflow.client.get("/backfills", dag_id=DAG_ID)["backfills"]
        if backfills and all(backfill["completed_at"] for backfill in backfills):
            return
        if time.monotonic() > deadline:
            pytest.fail(f"backfill not marked complete after its runs succeeded: {backfills}")
        time.sleep(2)


def _see_runs_succeeded(page: Page, run_ids: list[str], shots: Screenshots) -> None:
    """The DAG's Runs tab lists every backfill run as a successful Backfill, and no backfill runs."""
    # A reload shows the finished backfill at once rather than at the UI's next refresh.
    page.reload()
    page.get_by_role("link", name="Runs", exact=True).click()
    for run_id in run_ids:
        row = page.get_by_role("row").filter(has=page.get_by_role("link", name=run_id, exact=True))
        expect(row).to_contain_text("Success")
        expect(row).to_contain_text("Backfill")
    expect(page.get_by_text("Backfill in progress")).to_have_count(0)
    shots.take(page, "05_backfill_runs_succeeded")


def _follow_order_link(
    page: Page, sandbox: SandboxProcess, run_id: str, order: SeededOrder, shots: Screenshots
) -> None:
    """Open the run's first mapped ``export``, follow "Order Desk order" and check the order page."""
    page.get_by_role("link", name=run_id, exact=True).click()
    expect(page.get_by_role("heading", name=run_id)).to_be_visible()
    export_row = (
        page.get_by_role("row")
        .filter(has=page.get_by_role("link", name="export", exact=True))
        .filter(has=page.get_by_role("link", name="0", exact=True))
    )
    expect(export_row).to_contain_text("Success")
    export_row.get_by_role("link", name="0", exact=True).click()
    expect(page.get_by_role("heading", name="export [0]")).to_be_visible()
    page.get_by_role("link", name="Details", exact=True).click()
    order_link = page.get_by_role("link", name="Order Desk order")
    order_url = f"{sandbox.base_url}/orders/view/{order.order_id}"
    expect(order_link).to_have_attribute("href", order_url)
    shots.take(page, "06_export_task_with_link")

    # The UI opens links to other sites in a new tab.
    with page.context.expect_page() as new_tab:
        order_link.click()
    order_page = new_tab.value
    order_page.wait_for_load_state()
    expect(order_page).to_have_url(order_url)
    expect(order_page.get_by_role("heading", name=f"Order {order.order_id}")).to_be_visible()
    expect(order_page.get_by_role("row").filter(has_text="Folder")).to_contain_text("Prepared")
    print_links = order_page.get_by_role("row").filter(has_text="hiResUrl").get_by_role("link")
    expect(print_links).to_have_count(PRINTABLE_ITEMS)
    expect(print_links).to_have_text([re.compile(r"/print\.pdf$")] * PRINTABLE_ITEMS)
    shots.take(order_page, "07_order_page")
    for href in [print_links.nth(index).get_attribute("href") for index in range(PRINTABLE_ITEMS)]:
        assert href is not None
        assert href.startswith(f"{sandbox.base_url}/files/"), href
        served = requests.get(href, timeout=30)
        assert served.status_code == 200, href
        assert served.content.startswith(PDF_SIGNATURE), href


# -- the test ------------------------------------------------------------------------------------------


def test_connection_backfill_and_order_link_in_the_ui(
    live_airflow: LiveAirflow,
    ui_sandbox: SandboxProcess,
    seeded_orders: list[SeededOrder],
    browser_page: Page,
    screenshots: Screenshots,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with capsys.disabled():
        print(f"\nBrowser test screenshots: {screenshots.folder}")
    page = browser_page
    with _explained_failures(page, live_airflow, ui_sandbox, screenshots):
        _log_in(page, live_airflow, screenshots)
        _add_connection(page, live_airflow, ui_sandbox, screenshots)
        _test_connection(page, ui_sandbox, screenshots)
        run_ids = _start_backfill(page, live_airflow, [order.day for order in seeded_orders], screenshots)
        _wait_for_runs(live_airflow, run_ids)
        _wait_for_backfill_completion(live_airflow)
        _see_runs_succeeded(page, run_ids, screenshots)
        _follow_order_link(page, ui_sandbox, run_ids[0], seeded_orders[0], screenshots)
