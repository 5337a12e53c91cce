"""DAGs that the tests run with ``dag.test()``: the ways upstream render tasks feed the export."""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, task

from airflow_orderdesk.operators.orderdesk import OrderDeskExportOperator
from airflow_orderdesk.sensors.orderdesk import OrderDeskOrderSensor

START = pendulum.datetime(2026, 1, 1, tz="UTC")
PRINT_URL = "https://files.example.test/1001/print.pdf?signature=abc123"
PREVIEW_URL = "https://files.example.test/1001/preview.png"
ITEM_LOOKUP = {"order_item_lookup_name": "testIdField", "order_item_lookup_value": "testId"}


@task
def render_print() -> str:
    return PRINT_URL


@task
def render_preview() -> str:
    return PREVIEW_URL


@task
def render_nothing() -> None:
    """A render step whose artifact is missing."""
    return None


with DAG("export_fed_by_xcomarg", schedule=None, start_date=START, params={"order_number": "1001"}):
    OrderDeskExportOperator(
        task_id="export",
        order_lookup_id="{{ params.order_number }}",
        data={"hiResUrl": render_print(), "previewUrl": render_preview()},
        **ITEM_LOOKUP,
    )

for native in (False, True):
    with DAG(
        f"export_fed_by_xcom_pull_{'native' if native else 'text'}",
        schedule=None,
        start_date=START,
        render_template_as_native_obj=native,
    ):
        [render_print(), render_preview()] >> OrderDeskExportOperator(
            task_id="export",
            order_lookup_id="1001",
            data={
                "hiResUrl": "{{ ti.xcom_pull(task_ids='render_print') }}",
                "previewUrl": "{{ ti.xcom_pull(task_ids='render_preview') }}",
            },
            **ITEM_LOOKUP,
        )


@task
def artifacts() -> dict[str, str]:
    return {"hiResUrl": PRINT_URL, "previewUrl": PREVIEW_URL}


with DAG("export_whole_data_from_xcom_text", schedule=None, start_date=START):
    # Without native rendering the dict arrives as its Python repr; the operator parses it back.
    artifacts() >> OrderDeskExportOperator(
        task_id="export",
        order_lookup_id="1001",
        data="{{ ti.xcom_pull(task_ids='artifacts') }}",
        **ITEM_LOOKUP,
    )

with DAG("documented_example", schedule=None, start_date=START, params={"orderId": "1001"}):
    # The pipeline's example: result2's artifact is missing, and its key must be left as it was.
    OrderDeskExportOperator(
        task_id="export_to_order_desk",
        order_lookup_id="{{ dag_run.conf.get('orderId', params.orderId) }}",
        data={"hiResUrl": render_print(), "hiResUrl2": render_nothing()},
        history_note="Print files ready",
        **ITEM_LOOKUP,
    )

for mode, deferrable in (("poke", False), ("reschedule", False), ("poke", True)):
    with DAG(f"wait_for_order_{'deferrable' if deferrable else mode}", schedule=None, start_date=START):
        OrderDeskOrderSensor(
            task_id="wait",
            order_lookup_id="LATE-7",
            order_item_lookup_name="testIdField",
            order_item_lookup_value="late-item",
            mode=mode,
            deferrable=deferrable,
            poke_interval=0.5,
            timeout=60,
        )
