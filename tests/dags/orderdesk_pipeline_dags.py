"""DAGs built from Customer's Canvas pipeline tasks pasted as they are, run by ``test_pipelines_run.py``."""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, chain, task

from airflow_orderdesk.pipelines import operator_from_pipeline_task, operators_from_pipeline

START = pendulum.datetime(2026, 1, 1, tz="UTC")
PRINT_URL = "https://files.example.test/1001/pipeline-print.pdf?signature=p1p3l1n3"

#: The documented example, pasted as is: ``00000`` is not valid JSON, and the key is a placeholder.
DOCUMENTED_EXAMPLE = """
{
  "name": "export-to-order-desk",
  "type": "export-to-order-desk",
  "inputArtifacts": ["result1", "result2"],
  "parameters": {
    "storeUrl": "https://app.orderdesk.me/api/v2/",
    "storeId": 00000,
    "storeApiKey": "XXXXXXX",
    "orderLookupId": "{{project.orderId}}",
    "orderItemLookupName": "testIdField",
    "orderItemLookupValue": "testId",
    "data": {"hiResUrl": "{{result1:url?}}", "hiResUrl2": "{{result2:url?}}"}
  }
}
"""

#: The same export, but result1 is required: no trailing "?".
REQUIRED_ARTIFACT = """
{
  "name": "export-required",
  "type": "export-to-order-desk",
  "inputArtifacts": ["result1", "result2"],
  "parameters": {
    "orderItemLookupName": "testIdField",
    "orderItemLookupValue": "testId",
    "data": {"hiResUrl": "{{result1:url}}", "hiResUrl2": "{{result2:url?}}"}
  }
}
"""

#: A pipeline with a render step, the export, and the move to "Prepared", as one JSON document.
WHOLE_PIPELINE = """
{
  "tasks": [
    {"name": "render", "type": "render-hires", "outputArtifacts": ["result1"]},
    {
      "name": "export",
      "type": "export-to-order-desk",
      "inputArtifacts": ["result1"],
      "parameters": {
        "orderItemLookupName": "testIdField",
        "orderItemLookupValue": "testId",
        "data": {"hiResUrl": "{{result1:url}}"},
      },
    },
    {"name": "move", "type": "change-group-in-order-desk", "parameters": {"orderLookupType": "OrderId"}},
  ]
}
"""


@task
def render_print() -> str:
    return PRINT_URL


@task
def render_nothing() -> None:
    """A render step whose artifact is missing."""
    return None


with DAG("pipeline_documented_example", schedule=None, start_date=START):
    operator_from_pipeline_task(
        DOCUMENTED_EXAMPLE, artifacts={"result1": render_print(), "result2": render_nothing()}
    )

with DAG("pipeline_required_artifact_missing", schedule=None, start_date=START):
    operator_from_pipeline_task(
        REQUIRED_ARTIFACT, artifacts={"result1": render_nothing(), "result2": render_print()}
    )

with DAG("pipeline_export_then_move", schedule=None, start_date=START):
    chain(*operators_from_pipeline(WHOLE_PIPELINE, artifacts={"result1": render_print()}))
