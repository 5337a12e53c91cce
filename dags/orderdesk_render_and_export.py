"""
### Render and export, one interval at a time

For each data interval (an hour by default; `ORDERDESK_EXPORT_CADENCE=daily` makes it a day), this
DAG delivers print files for the orders a shop placed in that interval:

1. **find_items** asks Order Desk for the orders added in the interval that sit in the *New* folder
   (or already in *Prepared*, so that a re-run checks them again). Order Desk reads search dates in the
   store's own time zone, so the interval is translated to it and the answer filtered back to the exact
   UTC interval. Items that carry the lookup key (`item_lookup_name`, a Customer's Canvas project key)
   are the printable ones.
2. **render** makes each item's print PDF and PNG preview and writes them through `ObjectStoragePath`
   under `artifact_base` (a local folder by default, any object store in production). The files are a
   pure function of the item, so a re-run writes the same bytes and the same links.
3. **export** (`OrderDeskExportOperator`, mapped over the items) writes the links into each item's
   metadata. Items that already hold them are left alone: re-running an interval writes nothing. When
   the interval holds more than `batch_threshold` items, **export_batch**
   (`OrderDeskBatchExportOperator`) does the same in one task, finding every order with one search
   and spending one request per changed item.
4. **move_to_prepared** (`OrderDeskMoveOrderOperator`, mapped over the orders) moves every order whose
   items are all exported to *Prepared*; orders already there are not moved again.

It runs every hour, when an upstream render DAG updates the `orderdesk://render-batches` asset, and
for any past interval you backfill from the UI. Order Desk tasks run in the `orderdesk` pool: one
rate-limit bucket per store is shared by every worker, so the pool keeps the number of workers
spending from it at once small (see the docs on pools).
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import DAG, Asset, AssetOrTimeSchedule, CronTriggerTimetable, ObjectStoragePath, Param, task

from airflow_orderdesk.operators.orderdesk import (
    OrderDeskBatchExportOperator,
    OrderDeskExportOperator,
    OrderDeskMoveOrderOperator,
)

#: The pool every Order Desk task runs in; create it with ``airflow pools set orderdesk 3 "..."``.
ORDERDESK_POOL = "orderdesk"

#: Upstream render work updates this asset to ask for an export run outside the hourly schedule.
RENDER_BATCHES = Asset("orderdesk://render-batches")

#: The cadences this DAG offers, each a cron expression and the data interval that goes with it. The
#: environment variable ORDERDESK_EXPORT_CADENCE picks one per deployment; hourly is the default.
CADENCES = {"hourly": ("0 * * * *", timedelta(hours=1)), "daily": ("0 0 * * *", timedelta(days=1))}
CADENCE = os.environ.get("ORDERDESK_EXPORT_CADENCE", "hourly")
SCHEDULE_CRON, INTERVAL = CADENCES[CADENCE]

#: Where rendered files go and the public address they are served from, unless a run's params say.
ARTIFACT_BASE = os.environ.get("ORDERDESK_ARTIFACT_BASE", "file:///tmp/orderdesk-artifacts")
ARTIFACT_PUBLIC_URL = os.environ.get("ORDERDESK_ARTIFACT_PUBLIC_URL", "http://127.0.0.1:8765/files")

#: The note added to an order's history when its links are written.
HISTORY_NOTE = "Print file and preview delivered by Airflow"

#: The metadata keys the links are written under.
PRINT_KEY, PREVIEW_KEY = "hiResUrl", "previewUrl"

default_args: dict[str, Any] = {
    "retries": 3,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(minutes=10),
}

with DAG(
    dag_id="orderdesk_render_and_export",
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable(SCHEDULE_CRON, timezone="UTC", interval=INTERVAL),
        assets=[RENDER_BATCHES],
    ),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=4,
    default_args=default_args,
    tags=["orderdesk", "print", "example"],
    doc_md=__doc__,
    params={
        "search_folders": Param(
            ["New", "Prepared"],
            type="array",
            description="Folders whose orders are rendered; Prepared is included so re-runs check again.",
        ),
        "destination_folder": Param(
            "Prepared", type="string", description="Folder that finished orders are moved to."
        ),
        "item_lookup_name": Param(
            "testIdField",
            type="string",
            description="Metadata key that marks a printable item and identifies it for the export.",
        ),
        "artifact_base": Param(
            ARTIFACT_BASE,
            type="string",
            description="Where rendered files are written (an ObjectStoragePath URL).",
        ),
        "artifact_public_url": Param(
            ARTIFACT_PUBLIC_URL, type="string", description="The public address artifact_base is served from."
        ),
        "batch_threshold": Param(
            20,
            type="integer",
            minimum=0,
            description="Above this many items, one batch export replaces the export task per item.",
        ),
        "lookback_hours": Param(
            24,
            type="integer",
            minimum=1,
            description="For runs triggered by the render asset: how far back to look for new orders.",
        ),
    },
) as dag:

    @task(pool=ORDERDESK_POOL, show_return_value_in_logs=False)
    def find_items(**context: Any) -> list[dict[str, Any]]:
        """The printable items of the orders added in this run's interval."""
        from airflow_orderdesk.hooks.orderdesk import OrderDeskHook

        params = context["params"]
        start, end = context["data_interval_start"], context["data_interval_end"]
        if context["dag_run"].run_type == "asset_triggered" or start >= end:
            # An asset event has no interval of its own: look back over the recent past instead.
            end = context["dag_run"].run_after
            start = end - timedelta(hours=params["lookback_hours"])

        hook = OrderDeskHook()
        folders = {name.casefold(): folder_id for folder_id, name in hook.get_folders().items()}
        missing = [name for name in params["search_folders"] if name.casefold() not in folders]
        if missing:
            raise ValueError(f"search_folders: no folder named {', '.join(missing)} in this store")
        folder_ids = ",".join(folders[name.casefold()] for name in params["search_folders"])

        orders = hook.find_orders_added_between(start, end, folder_id=folder_ids)
        lookup = params["item_lookup_name"]
        # Only what rendering needs travels through XCom; metadata can hold signed links.
        items = [
            {
                "order": {"id": order["id"], "source_id": order["source_id"]},
                "item": {
                    "id": item["id"],
                    "name": item.get("name", ""),
                    "code": item.get("code", ""),
                    "quantity": item.get("quantity", ""),
                    "variation_list": item.get("variation_list") or {},
                    "lookup_value": str(item["metadata"][lookup]).strip(),
                },
            }
            for order in orders
            for item in order["order_items"]
            if str(item["metadata"].get(lookup, "")).strip()
        ]
        print(f"{len(orders)} order(s) added between {start} and {end}; {len(items)} printable item(s)")
        return items

    @task(map_index_template="{{ task.op_kwargs['entry']['item']['id'] }}", show_return_value_in_logs=False)
    def render(entry: dict[str, Any], **context: Any) -> dict[str, Any]:
        """Render one item's print file and preview; return the export's arguments for it."""
        from orderdesk_samples.render import render_preview_png, render_print_pdf

        params = context["params"]
        order, item = entry["order"], entry["item"]
        relative = f"{order['source_id']}/{order['id']}-{item['id']}"
        folder = ObjectStoragePath(params["artifact_base"]) / relative
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "print.pdf").write_bytes(render_print_pdf(order, item))
        (folder / "preview.png").write_bytes(render_preview_png(order, item))
        public = f"{params['artifact_public_url'].rstrip('/')}/{relative}"
        return {
            "order_lookup_id": order["id"],
            "order_lookup_type": "order_id",
            "order_item_lookup_name": params["item_lookup_name"],
            "order_item_lookup_value": item["lookup_value"],
            "data": {PRINT_KEY: f"{public}/print.pdf", PREVIEW_KEY: f"{public}/preview.png"},
        }

    @task
    def orders_of(items: list[dict[str, Any]]) -> list[str]:
        """Each order once, in the order found."""
        return list(dict.fromkeys(entry["order"]["id"] for entry in items))

    @task.branch
    def choose_export(items: list[dict[str, Any]], **context: Any) -> str:
        """One task per item reads best in the UI; past the threshold, one batch spends fewer requests."""
        return "export_batch" if len(items) > context["params"]["batch_threshold"] else "export"

    items = find_items()
    rendered = render.expand(entry=items)
    export = OrderDeskExportOperator.partial(
        task_id="export",
        history_note=HISTORY_NOTE,
        pool=ORDERDESK_POOL,
    ).expand_kwargs(rendered)
    export_batch = OrderDeskBatchExportOperator(
        task_id="export_batch",
        entries=rendered,
        search_folders="{{ params.search_folders }}",
        search_data_interval=True,
        history_note=HISTORY_NOTE,
        pool=ORDERDESK_POOL,
    )
    move = OrderDeskMoveOrderOperator.partial(
        task_id="move_to_prepared",
        order_lookup_type="order_id",
        destination_folder="{{ params.destination_folder }}",
        pool=ORDERDESK_POOL,
        # Whichever export ran, the other was skipped by the branch.
        trigger_rule="none_failed_min_one_success",
    ).expand(order_lookup_id=orders_of(items))
    choose_export(items) >> [export, export_batch]
    rendered >> export_batch
    [export, export_batch] >> move
