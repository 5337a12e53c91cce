"""
### Export right after your own render steps

The pattern for pipelines whose render steps already exist: the export is chained straight after them
and takes their results as XComArgs, so Airflow orders the tasks and passes the links along.

What to export arrives in one of three ways, the later ones winning:

1. the DAG's **params**, with a default for each (handy for a manual run from the UI);
2. the run's **conf** (`airflow dags trigger orderdesk_export_on_render --conf '{"order_number": ...}'`,
   or the REST API), which overrides params of the same name;
3. the **extras of the asset event** that triggered the run, when the upstream DAG
   `orderdesk_render_upstream` (below, standing in for your render DAG) reports a finished render on the
   `orderdesk://rendered-items` asset with `{"order_number": ..., "print_url": ..., ...}` as its extra.

`render_print` and `render_preview` stand in for your render steps: they return the link of the file they
made. The export writes those links into the item whose metadata `order_item_lookup_name` equals
`order_item_lookup_value`; an empty link is left out rather than blanking one already there. Order Desk
tasks run in the `orderdesk` pool, shared with every other Order Desk DAG.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import DAG, Asset, Param, task

from airflow_orderdesk.operators.orderdesk import OrderDeskExportOperator

#: The pool every Order Desk task runs in; create it with ``airflow pools set orderdesk 3 "..."``.
ORDERDESK_POOL = "orderdesk"

#: The asset an upstream render DAG updates, with what to export in the event's extra.
RENDERED_ITEMS = Asset("orderdesk://rendered-items")

#: The inputs, each a param, a conf key and an asset-event extra key of the same name.
INPUTS = ("order_number", "order_item_lookup_name", "order_item_lookup_value", "print_url", "preview_url")

default_args: dict[str, Any] = {
    "retries": 3,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(minutes=10),
}

with DAG(
    dag_id="orderdesk_export_on_render",
    schedule=[RENDERED_ITEMS],
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    default_args=default_args,
    tags=["orderdesk", "print", "example"],
    doc_md=__doc__,
    params={
        "order_number": Param("1001", type="string", minLength=1, description="The shop's order number."),
        "order_item_lookup_name": Param(
            "testIdField", type="string", description="Metadata key that identifies the item."
        ),
        "order_item_lookup_value": Param(
            "testId", type="string", description="The value that key must have."
        ),
        "print_url": Param(
            "", type="string", description="Link to the print file; empty leaves the key alone."
        ),
        "preview_url": Param(
            "", type="string", description="Link to the preview; empty leaves the key alone."
        ),
    },
):

    @task(multiple_outputs=True)
    def gather_inputs(**context: Any) -> dict[str, str]:
        """Params (which already include the run's conf), then the triggering asset event's extra."""
        inputs = {name: context["params"].get(name) for name in INPUTS}
        for event in context["triggering_asset_events"].get(RENDERED_ITEMS, [])[-1:]:
            inputs.update({name: event.extra[name] for name in INPUTS if event.extra.get(name) is not None})
        return {name: "" if value is None else str(value) for name, value in inputs.items()}

    @task
    def render_print(print_url: str) -> str:
        """Your print render step: it returns the link of the file it made."""
        return print_url

    @task
    def render_preview(preview_url: str) -> str:
        """Your preview render step."""
        return preview_url

    inputs = gather_inputs()
    OrderDeskExportOperator(
        task_id="export_to_order_desk",
        order_lookup_id=inputs["order_number"],
        order_item_lookup_name=inputs["order_item_lookup_name"],
        order_item_lookup_value=inputs["order_item_lookup_value"],
        data={
            "hiResUrl": render_print(inputs["print_url"]),
            "previewUrl": render_preview(inputs["preview_url"]),
        },
        history_note="Print files delivered by Airflow",
        pool=ORDERDESK_POOL,
    )

with DAG(
    dag_id="orderdesk_render_upstream",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["orderdesk", "example"],
    doc_md="Stands in for a render DAG: reports a finished render on `orderdesk://rendered-items`.",
    params={
        "order_number": Param("1001", type="string", description="The shop's order number."),
        "order_item_lookup_name": Param("testIdField", type="string", description="Item lookup key."),
        "order_item_lookup_value": Param("testId", type="string", description="Item lookup value."),
        "print_url": Param(
            "https://files.example.com/renders/1001/print.pdf",
            type="string",
            description="Rendered print file.",
        ),
        "preview_url": Param(
            "https://files.example.com/renders/1001/preview.png",
            type="string",
            description="Rendered preview.",
        ),
    },
):

    @task(outlets=[RENDERED_ITEMS])
    def report_render(**context: Any) -> None:
        """Announce the finished render, with what the export needs as the event's extra."""
        context["outlet_events"][RENDERED_ITEMS].extra = {name: context["params"][name] for name in INPUTS}

    report_render()
