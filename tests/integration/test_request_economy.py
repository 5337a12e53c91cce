"""How many requests an export spends, counted in the sandbox's request log.

The rate limit is off in the sandbox and the connection is unmetered, so these tests take no longer
than the requests themselves; what they prove is the number and the kind of requests, which is what the
rate limit is spent on. benchmarks/run.py measures the same paths under a real rate limit.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import pytest

from airflow_orderdesk.batch import BatchSearch, OrderDeskBatchError, parse_entries, run_batch_export
from airflow_orderdesk.export import MetadataWriter
from airflow_orderdesk.hooks.orderdesk import OrderDeskHook
from airflow_orderdesk.operators.orderdesk import OrderDeskBatchExportOperator, OrderDeskExportOperator

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow_orderdesk.sandbox import SandboxServer

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("orderdesk_conn_id")]

NEW, PREPARED = 21654, 21655
BATCH_SIZE = 100


class FakeTI:
    """The part of a task instance the operators use."""

    dag_id, task_id, run_id, map_index = "tests", "export", "manual__test", -1

    def __init__(self) -> None:
        self.xcom: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcom[key] = value


@pytest.fixture
def store(sandbox: SandboxServer) -> SandboxServer:
    """The sandbox without demo orders, so that every order a search finds is one the test seeded."""
    sandbox.reset(demo_data=False)
    return sandbox


def seed(sandbox: SandboxServer, number: int, folder_id: int = NEW) -> tuple[int, int]:
    """Order ``BC-<number>`` with one item found by ``testIdField``; returns the order's and item's ids."""
    order = sandbox.seed_order(
        {
            "source_id": f"BC-{number}",
            "folder_id": folder_id,
            "order_items": [{"name": "Business cards", "metadata": {"testIdField": f"card-{number}"}}],
        }
    )
    return int(order["id"]), int(order["order_items"][0]["id"])


def entry(number: int) -> dict[str, Any]:
    """The export of order ``BC-<number>``: two links into its item."""
    return {
        "order_lookup_id": f"BC-{number}",
        "order_item_lookup_name": "testIdField",
        "order_item_lookup_value": f"card-{number}",
        "data": {"hiResUrl": f"https://files.example.com/{number}/print.pdf", "previewUrl": f"p-{number}"},
    }


def sent(sandbox: SandboxServer) -> list[tuple[str, str]]:
    """Every API request so far, as (method, path)."""
    return [(request["method"], request["path"]) for request in sandbox.requests()]


def metadata(sandbox: SandboxServer, order_id: int, item_id: int) -> dict[str, Any]:
    """An item's metadata as the sandbox stores it, read without a request that would show in the log."""
    return dict(sandbox.sandbox.state.get_item(order_id, item_id)["metadata"])


def export_batch(numbers: range | list[int], **arguments: Any) -> dict[str, Any]:
    """Run the batch operator over the entries of ``numbers``, searching New."""
    operator = OrderDeskBatchExportOperator(
        task_id="export_batch",
        entries=[entry(number) for number in numbers],
        search_folders=["New"],
        **arguments,
    )
    context: Any = {"ti": FakeTI()}
    return operator.execute(context)


def export_verified_batch(hook: OrderDeskHook, **writer_options: Any) -> dict[str, Any]:
    """Export the batch of :data:`BATCH_SIZE` entries, searching New, with a verifying writer of its own."""
    log = logging.getLogger(__name__)
    return run_batch_export(
        hook,
        parse_entries([entry(number) for number in range(BATCH_SIZE)], skip_empty_values=True),
        log,
        search=BatchSearch(folders=["New"]),
        writer=MetadataWriter(hook, log, verify=True, **writer_options),
    )


# -- one order ----------------------------------------------------------------------------------------


def test_an_unverified_export_sends_the_search_and_the_put_only(store: SandboxServer) -> None:
    order_id, item_id = seed(store, 1)
    operator = OrderDeskExportOperator(task_id="export", **entry(1), verify_writes=False)
    context: Any = {"ti": FakeTI()}

    operator.execute(context)

    assert sent(store) == [("GET", "/orders"), ("PUT", f"/orders/{order_id}/order-items/{item_id}")]
    assert store.requests()[0]["query"]["source_id"] == "BC-1"


def test_a_verified_export_adds_one_read_of_the_order(store: SandboxServer) -> None:
    order_id, item_id = seed(store, 1)
    operator = OrderDeskExportOperator(task_id="export", **entry(1))
    context: Any = {"ti": FakeTI()}

    operator.execute(context)

    assert sent(store) == [
        ("GET", "/orders"),
        ("PUT", f"/orders/{order_id}/order-items/{item_id}"),
        ("GET", f"/orders/{order_id}"),
    ]


# -- a batch ------------------------------------------------------------------------------------------


def test_an_unverified_batch_costs_the_folders_one_search_page_and_one_put_an_item(
    store: SandboxServer,
) -> None:
    items = [seed(store, number) for number in range(BATCH_SIZE)]

    summary = export_batch(range(BATCH_SIZE), verify_writes=False)

    requests = sent(store)
    assert len(requests) == BATCH_SIZE + 2 <= BATCH_SIZE * 1.05
    assert requests[:2] == [("GET", "/store"), ("GET", "/orders")]
    assert store.requests()[1]["query"]["folder_id"] == str(NEW)
    assert sorted(requests[2:]) == sorted(("PUT", f"/orders/{o}/order-items/{i}") for o, i in items)
    assert summary["totals"]["items_updated"] == BATCH_SIZE
    assert summary["totals"]["looked_up_alone"] == 0


def test_verifying_a_batch_reads_it_back_with_one_search_page(store: SandboxServer) -> None:
    # The writer is given a generous freshness so that no write goes stale on a slow machine: stale
    # writes cost a read each, which test_export_operator proves; here only the read-back is counted.
    items = [seed(store, number) for number in range(BATCH_SIZE)]
    export_verified_batch(OrderDeskHook(), freshness=60.0, sleep=lambda seconds: None)

    requests = sent(store)
    assert len(requests) == BATCH_SIZE + 3
    assert requests[:2] == [("GET", "/store"), ("GET", "/orders")]
    assert requests[-1] == ("GET", "/orders")
    assert store.requests()[-1]["query"]["folder_id"] == str(NEW)
    assert sorted(requests[2:-1]) == sorted(("PUT", f"/orders/{o}/order-items/{i}") for o, i in items)


def test_a_verified_batch_through_the_operator_never_reads_an_item_alone(store: SandboxServer) -> None:
    items = [seed(store, number) for number in range(BATCH_SIZE)]

    export_batch(range(BATCH_SIZE))

    requests = sent(store)
    puts = [path for method, path in requests if method == "PUT"]
    searches = [index for index, request in enumerate(requests) if request == ("GET", "/orders")]
    assert sorted(puts) == sorted(f"/orders/{o}/order-items/{i}" for o, i in items)
    # The store, the search, the read-back; writes that went stale (on a slow machine) are refreshed by
    # running the search again, right before they are sent, never by reading their items one by one.
    assert len(requests) == BATCH_SIZE + 1 + len(searches)
    assert requests[0] == ("GET", "/store")
    for index in searches[1:-1]:
        assert requests[index + 1][0] == "PUT"


def test_stale_writes_in_a_batch_are_refreshed_together_by_one_search(
    store: SandboxServer, make_connection: Callable[..., str]
) -> None:
    """Under a rate limit, a write goes stale; one search refreshes it and every write after it."""
    items = [seed(store, number) for number in range(BATCH_SIZE)]
    conn_id = make_connection(extra={"rate_limit_burst": 10, "rate_limit_per_second": 20.0})
    summary = export_verified_batch(OrderDeskHook(conn_id), freshness=0.5)

    requests = sent(store)
    searches = requests.count(("GET", "/orders"))
    assert summary["totals"]["items_updated"] == BATCH_SIZE
    assert [path for method, path in requests if method == "GET" and "/order-items/" in path] == []
    # 20 writes a second and 0.5 s of freshness: the first search cannot serve all 100 writes.
    assert searches >= 3
    # Each refresh waits for a bucket of tokens and serves the next nine writes; reading each stale
    # item alone would cost about 1.8 requests an item.
    assert len(requests) <= BATCH_SIZE * 1.3
    for order_id, item_id in items:
        assert set(metadata(store, order_id, item_id)) >= {"hiResUrl", "previewUrl"}


def test_the_same_batch_again_writes_nothing(store: SandboxServer) -> None:
    for number in range(BATCH_SIZE):
        seed(store, number)
    export_batch(range(BATCH_SIZE), verify_writes=False)
    store.sandbox.log.clear()

    summary = export_batch(range(BATCH_SIZE))

    assert sent(store) == [("GET", "/store"), ("GET", "/orders")]
    assert summary["totals"]["items_unchanged"] == BATCH_SIZE


def test_only_the_entry_outside_the_searched_folders_is_looked_up_alone(store: SandboxServer) -> None:
    for number in range(10):
        seed(store, number)
    outside_order, outside_item = seed(store, 99, folder_id=PREPARED)

    summary = export_batch([*range(10), 99], verify_writes=False)

    lookups = [request["query"] for request in store.requests() if request["path"] == "/orders"]
    assert lookups[0]["folder_id"] == str(NEW)
    assert [query.get("source_id") for query in lookups[1:]] == ["BC-99"]
    assert len(store.requests(method="PUT")) == 11
    assert (
        metadata(store, outside_order, outside_item)["hiResUrl"] == "https://files.example.com/99/print.pdf"
    )
    assert summary["totals"]["looked_up_alone"] == 1


def test_an_unknown_order_fails_the_batch_after_every_other_entry_is_written(store: SandboxServer) -> None:
    items = [seed(store, number) for number in range(5)]

    with pytest.raises(OrderDeskBatchError, match=r"1 of 6 entries failed") as raised:
        export_batch([0, 1, 404, 2, 3, 4], verify_writes=False)

    assert "entry 2 (BC-404)" in str(raised.value)
    for order_id, item_id in items:
        assert metadata(store, order_id, item_id)["hiResUrl"].endswith("/print.pdf")


def test_an_unknown_order_is_skipped_when_asked(store: SandboxServer) -> None:
    items = [seed(store, number) for number in range(5)]

    summary = export_batch([0, 1, 404, 2, 3, 4], verify_writes=False, skip_missing_orders=True)

    assert summary["totals"] == {
        "entries": 6,
        "ok": 5,
        "skipped": 1,
        "failed": 0,
        "items_updated": 5,
        "items_unchanged": 0,
        "items_planned": 0,
        "looked_up_alone": 1,
    }
    assert summary["entries"][2]["status"] == "skipped"
    for order_id, item_id in items:
        assert metadata(store, order_id, item_id)["hiResUrl"].endswith("/print.pdf")
