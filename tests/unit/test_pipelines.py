"""Customer's Canvas pipeline tasks translated into Order Desk operators, without running them."""

from __future__ import annotations

import copy
import json
import warnings
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import jinja2
import pendulum
import pytest
from airflow.sdk import DAG, task

from airflow_orderdesk.exceptions import OrderDeskConfigurationError
from airflow_orderdesk.operators.orderdesk import OrderDeskExportOperator, OrderDeskMoveOrderOperator
from airflow_orderdesk.pipelines import (
    OrderDeskPipelineExportOperator,
    PipelineTranslationWarning,
    operator_from_pipeline_task,
    operators_from_pipeline,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from airflow.sdk import BaseOperator

START = pendulum.datetime(2026, 1, 1, tz="UTC")

#: The documented example exactly as it is published: ``00000`` makes it invalid JSON.
DOCUMENTED_EXAMPLE = """{
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
}"""

LEAKY_KEY = "sk-LEAK-123456"


def export_task(**parameters: Any) -> dict[str, Any]:
    """A minimal export task; parameters set to ``None`` are left out."""
    base: dict[str, Any] = {
        "orderItemLookupName": "testIdField",
        "orderItemLookupValue": "testId",
        "data": {"hiResUrl": "{{result1:url}}"},
    }
    base.update(parameters)
    return {
        "name": "export print file",
        "type": "export-to-order-desk",
        "inputArtifacts": ["result1"],
        "parameters": {key: value for key, value in base.items() if value is not None},
    }


def render(template: str, conf: dict[str, Any]) -> str:
    """Render a translated template the way Airflow does by default: undefined values are errors."""
    environment = jinja2.Environment(undefined=jinja2.StrictUndefined)
    return environment.from_string(template).render(dag_run=SimpleNamespace(conf=conf))


@task
def render_print() -> str:
    return "https://files.example.test/print.pdf"


@task
def render_preview() -> str:
    return "https://files.example.test/preview.png"


@pytest.fixture
def dag() -> Iterator[DAG]:
    with DAG("pipelines", schedule=None, start_date=START) as dag:
        yield dag


def translate(task_json: Any, **kwargs: Any) -> Any:
    """Translate with the credentials warning expected and silenced; the operator's type is checked apart."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PipelineTranslationWarning)
        return operator_from_pipeline_task(task_json, **kwargs)


def everything_said_about(operator: BaseOperator, dag: DAG) -> str:
    """Every way the operator can show its contents: attributes, repr, template fields, serialized DAG."""
    from airflow.serialization.serialized_objects import DagSerialization

    attributes = {name: repr(value) for name, value in vars(operator).items()}
    fields = {name: repr(getattr(operator, name)) for name in operator.template_fields}
    serialized = json.dumps(DagSerialization.to_dict(dag), default=repr)
    return "\n".join([repr(operator), str(operator), repr(attributes), repr(fields), serialized])


# -- the documented example -------------------------------------------------------------------------


def test_the_documented_example_pasted_as_is_becomes_an_export_with_its_arguments(dag: DAG) -> None:
    print_file, preview = render_print(), render_preview()

    operator = translate(DOCUMENTED_EXAMPLE, artifacts={"result1": print_file, "result2": preview})

    assert isinstance(operator, OrderDeskExportOperator)
    assert isinstance(operator, OrderDeskPipelineExportOperator)
    assert operator.task_id == "export-to-order-desk"
    assert operator.orderdesk_conn_id == "orderdesk_default"
    assert operator.order_lookup_id == "{{ dag_run.conf['project']['orderId'] }}"
    assert operator.order_lookup_type == "source_id"
    assert operator.order_item_lookup_name == "testIdField"
    assert operator.order_item_lookup_value == "testId"
    assert operator.data == {"hiResUrl": print_file, "hiResUrl2": preview}
    assert operator.required_artifacts == {}
    assert operator.skip_empty_values is True
    assert operator.skip_missing_orders is False
    assert operator.upstream_task_ids == {"render_print", "render_preview"}


def test_the_project_order_id_is_read_from_the_runs_conf() -> None:
    operator = translate(DOCUMENTED_EXAMPLE, artifacts={"result1": "a", "result2": "b"})
    assert render(operator.order_lookup_id, {"project": {"orderId": "00123"}}) == "00123"


def test_the_placeholder_key_of_the_documented_example_reaches_nothing(dag: DAG) -> None:
    with pytest.warns(PipelineTranslationWarning) as caught:
        operator = operator_from_pipeline_task(
            DOCUMENTED_EXAMPLE, artifacts={"result1": render_print(), "result2": None}
        )
    assert "XXXXXXX" not in everything_said_about(operator, dag)
    assert all("XXXXXXX" not in str(warning.message) for warning in caught)


def test_an_inline_key_reaches_nothing_and_the_warning_says_how_to_make_the_connection(dag: DAG) -> None:
    task_json = export_task(
        storeUrl="https://user:secret@app.orderdesk.me/api/v2/?token=abc",
        storeId=12345,
        storeApiKey=LEAKY_KEY,
    )
    with pytest.warns(PipelineTranslationWarning) as caught:
        operator = operator_from_pipeline_task(
            task_json, orderdesk_conn_id="my_store", artifacts={"result1": render_print()}
        )

    assert LEAKY_KEY not in everything_said_about(operator, dag)
    (warning,) = caught
    text = str(warning.message)
    assert LEAKY_KEY not in text
    assert "secret" not in text
    assert "token=abc" not in text
    assert "export print file" in text
    assert (
        "airflow connections add my_store --conn-type orderdesk --conn-host https://app.orderdesk.me/api/v2/ "
        "--conn-login 12345 --conn-password '<your key>'"
    ) in text
    assert warning.filename == __file__


def test_a_key_pasted_into_the_store_id_is_not_shown_either() -> None:
    task_json = export_task(storeId=LEAKY_KEY, storeApiKey=LEAKY_KEY)
    with pytest.warns(PipelineTranslationWarning) as caught:
        operator_from_pipeline_task(task_json, artifacts={"result1": "https://x/print.pdf"})
    assert LEAKY_KEY not in str(caught[0].message)
    assert "--conn-login '<your store id>'" in str(caught[0].message)


def test_a_task_without_credentials_translates_without_a_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        operator_from_pipeline_task(export_task(), artifacts={"result1": "https://x/print.pdf"})


def test_a_key_pasted_into_another_parameter_is_not_repeated_by_its_error() -> None:
    with pytest.raises(OrderDeskConfigurationError) as raised:
        translate(export_task(storeApiKey=LEAKY_KEY, orderLookupType=LEAKY_KEY))
    assert LEAKY_KEY not in str(raised.value)
    assert "is '<storeApiKey>'" in raised.value.problem


def test_json_errors_never_repeat_the_key() -> None:
    broken = DOCUMENTED_EXAMPLE.replace('"XXXXXXX"', f"'{LEAKY_KEY}'")
    with pytest.raises(OrderDeskConfigurationError) as raised:
        operator_from_pipeline_task(broken)
    assert LEAKY_KEY not in str(raised.value)
    assert "line 8" in str(raised.value)


# -- every parameter --------------------------------------------------------------------------------


def test_every_export_parameter_reaches_its_argument() -> None:
    task_json = export_task(
        orderLookupId="A-17b",
        orderLookupType="ProjectName",
        orderItemLookupName="printId",
        orderItemLookupValue=42,
        skipMissingOrders=True,
        data={
            "hiResUrl": "{{result1:url}}",
            "proofUrl": "{{result2:url?}}",
            "note": "for order {{project.orderId}}",
            "copies": 2,
            "rush": False,
            "blank": None,
        },
    )
    task_json["inputArtifacts"] = ["result1", "result2"]

    operator = translate(
        task_json,
        task_id="export",
        orderdesk_conn_id="my_store",
        artifacts={"result1": "https://x/print.pdf", "result2": "https://x/proof.pdf"},
        history_note="Print files ready",
        retries=5,
    )

    assert isinstance(operator, OrderDeskPipelineExportOperator)
    assert operator.task_id == "export"
    assert operator.orderdesk_conn_id == "my_store"
    assert operator.order_lookup_id == "A-17b"
    assert operator.order_lookup_type == "source_id"
    assert operator.order_item_lookup_name == "printId"
    assert operator.order_item_lookup_value == "42"
    assert operator.skip_missing_orders is True
    assert operator.history_note == "Print files ready"
    assert operator.retries == 5
    assert operator.data == {
        "hiResUrl": "https://x/print.pdf",
        "proofUrl": "https://x/proof.pdf",
        "note": "for order {{ dag_run.conf['project']['orderId'] }}",
        "copies": 2,
        "rush": False,
        "blank": None,
    }
    assert operator.required_artifacts == {"hiResUrl": "result1"}


@pytest.mark.parametrize(
    ("spelling", "lookup_type"),
    [
        ("OrderId", "source_id"),
        ("projectname", "source_id"),
        ("source_id", "source_id"),
        ("order_id", "order_id"),
    ],
)
def test_order_lookup_types_are_read_in_any_spelling(spelling: str, lookup_type: str) -> None:
    operator = translate(export_task(orderLookupType=spelling), artifacts={"result1": "https://x"})
    assert operator.order_lookup_type == lookup_type


def test_a_numeric_order_lookup_id_is_kept_as_text() -> None:
    operator = translate(export_task(orderLookupId=925086), artifacts={"result1": "https://x"})
    assert operator.order_lookup_id == "925086"


@pytest.mark.parametrize("value", ["true", "FALSE", True, False])
def test_skip_missing_orders_takes_a_boolean_or_its_text(value: Any) -> None:
    operator = translate(export_task(skipMissingOrders=value), artifacts={"result1": "https://x"})
    assert operator.skip_missing_orders is (str(value).lower() == "true")


def test_an_omitted_order_lookup_id_is_the_projects_order_id() -> None:
    operator = translate(export_task(orderLookupId=None), artifacts={"result1": "https://x"})
    assert render(operator.order_lookup_id, {"project": {"orderId": "1001"}}) == "1001"


def test_the_current_item_of_a_project_path_is_the_item_at_item_index() -> None:
    operator = translate(
        export_task(orderItemLookupValue="{{project.items.@.fields.printId}}"),
        artifacts={"result1": "https://x"},
        item_index=1,
    )
    conf = {"project": {"items": [{"fields": {"printId": "first"}}, {"fields": {"printId": "second"}}]}}
    assert render(operator.order_item_lookup_value, conf) == "second"


def test_a_project_field_without_question_mark_must_exist_and_with_one_may_be_missing() -> None:
    operator = translate(
        export_task(data={"a": "{{project.customer}}", "b": "x{{project.customer?}}y"}),
        artifacts={"result1": "https://x"},
    )
    with pytest.raises(jinja2.UndefinedError):
        render(operator.data["a"], {"project": {}})
    assert render(operator.data["b"], {"project": {}}) == "xy"
    assert render(operator.data["b"], {"project": {"customer": "Ann"}}) == "xAnny"


def test_literal_text_that_looks_like_jinja_renders_as_itself() -> None:
    literal = "size {% raw %} and {# not a comment #} and 'quoted' \\ {{ half"
    operator = translate(export_task(data={"label": literal}), artifacts={"result1": "https://x"})
    assert render(operator.data["label"], {}) == literal


# -- artifacts and "?" ------------------------------------------------------------------------------


def test_an_artifact_link_becomes_the_upstream_output_and_its_dependency(dag: DAG) -> None:
    print_file = render_print()
    operator = translate(export_task(), artifacts={"result1": print_file})
    assert operator.data == {"hiResUrl": print_file}
    assert operator.upstream_task_ids == {"render_print"}


def test_only_links_without_question_mark_are_required() -> None:
    task_json = export_task(data={"required": "{{result1:url}}", "optional": "{{ result1:url? }}"})
    operator = translate(task_json, artifacts={"result1": "https://x"})
    assert operator.required_artifacts == {"required": "result1"}


def test_an_artifact_declared_but_not_supplied_is_missing_and_said_so() -> None:
    task_json = export_task(data={"hiResUrl": "{{result1:url?}}"})
    with pytest.warns(PipelineTranslationWarning, match="declares artifact 'result1'") as caught:
        operator = operator_from_pipeline_task(task_json)
    assert isinstance(operator, OrderDeskPipelineExportOperator)
    assert operator.data == {"hiResUrl": None}
    assert caught[0].filename == __file__


def test_a_supplied_artifact_need_not_be_declared() -> None:
    task_json = export_task()
    task_json["inputArtifacts"] = []
    operator = translate(task_json, artifacts={"result1": "https://x"})
    assert operator.data == {"hiResUrl": "https://x"}


@pytest.fixture
def run_export(monkeypatch: pytest.MonkeyPatch) -> Callable[[OrderDeskPipelineExportOperator], Any]:
    """Execute a translated export with the export itself replaced, so that only the artifact check runs."""
    monkeypatch.setattr(OrderDeskExportOperator, "execute", lambda self, context: "exported")

    def run(operator: OrderDeskPipelineExportOperator) -> Any:
        context: Any = {}
        return operator.execute(context)

    return run


@pytest.mark.parametrize("missing", [None, "", "  ", "None"])
def test_a_missing_required_artifact_fails_the_export_naming_task_key_and_artifact(
    run_export: Callable[[OrderDeskPipelineExportOperator], Any], missing: Any
) -> None:
    task_json = export_task(data={"hiResUrl": "{{result1:url}}", "proof": "{{result2:url?}}"})
    operator = translate(task_json, artifacts={"result1": "https://x", "result2": None})
    assert isinstance(operator, OrderDeskPipelineExportOperator)
    operator.data = {"hiResUrl": missing, "proof": None}  # as rendered at run time

    with pytest.raises(OrderDeskConfigurationError) as raised:
        run_export(operator)

    assert raised.value.field == "data.hiResUrl of pipeline task 'export print file'"
    assert "artifact 'result1' is missing" in raised.value.problem
    assert "{{result1:url?}}" in raised.value.problem


def test_a_missing_optional_artifact_lets_the_export_run(
    run_export: Callable[[OrderDeskPipelineExportOperator], Any],
) -> None:
    task_json = export_task(data={"hiResUrl": "{{result1:url}}", "proof": "{{result2:url?}}"})
    operator = translate(task_json, artifacts={"result1": "https://x", "result2": None})
    assert isinstance(operator, OrderDeskPipelineExportOperator)
    operator.data = {"hiResUrl": "https://x/print.pdf", "proof": None}
    assert run_export(operator) == "exported"


# -- change-group-in-order-desk ---------------------------------------------------------------------


def test_change_group_becomes_a_move_to_prepared_by_default() -> None:
    operator = translate(
        {
            "name": "move to prepared",
            "type": "change-group-in-order-desk",
            "parameters": {"storeId": "00000", "storeApiKey": LEAKY_KEY, "skipMissingOrders": True},
        }
    )
    assert isinstance(operator, OrderDeskMoveOrderOperator)
    assert operator.task_id == "move_to_prepared"
    assert operator.destination_folder == "Prepared"
    assert operator.skip_missing_orders is True
    assert render(operator.order_lookup_id, {"project": {"orderId": "1001"}}) == "1001"
    assert LEAKY_KEY not in repr(vars(operator))


def test_change_group_takes_the_folder_and_order_parameters() -> None:
    operator = translate(
        {
            "name": "ship",
            "type": "change-group-in-order-desk",
            "parameters": {
                "destinationGroupName": "Shipped",
                "orderLookupId": "925086",
                "orderLookupType": "order_id",
            },
        },
        orderdesk_conn_id="my_store",
    )
    assert isinstance(operator, OrderDeskMoveOrderOperator)
    assert operator.destination_folder == "Shipped"
    assert operator.order_lookup_id == "925086"
    assert operator.order_lookup_type == "order_id"
    assert operator.orderdesk_conn_id == "my_store"


# -- refusals ---------------------------------------------------------------------------------------


def _with(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    task_json = copy.deepcopy(export_task())
    change(task_json)
    return task_json


REFUSALS: list[tuple[str, Any, str, str]] = [
    ("unknown type", _with(lambda t: t.update(type="export-to-shopify")), "type", "export-to-shopify"),
    ("no type", _with(lambda t: t.pop("type")), "type", "expected"),
    ("no data", export_task(data=None), "data", "is missing"),
    ("data a list", export_task(data=["{{result1:url}}"]), "data", "is a list"),
    ("data text", export_task(data='{"hiResUrl": "x"}'), "data", "is a str"),
    ("data empty", export_task(data={}), "data", "is empty"),
    ("unknown artifact", export_task(data={"hiResUrl": "{{result9:url}}"}), "data.hiResUrl", "'result9'"),
    ("not a url", export_task(data={"hiResUrl": "{{result1:name}}"}), "data.hiResUrl", "'name'"),
    ("link in text", export_task(data={"hiResUrl": "see {{result1:url}}"}), "data.hiResUrl", "whole value"),
    ("link as order id", export_task(orderLookupId="{{result1:url}}"), "orderLookupId", "whole value"),
    ("unknown template", export_task(data={"a": "{{order.number}}"}), "data.a", "{{order.number}}"),
    ("bad path step", export_task(orderLookupId="{{project.a'b}}"), "orderLookupId", "step"),
    ("nested value", export_task(data={"a": {"b": "c"}}), "data.a", "is a dict"),
    ("lookup key in data", export_task(data={"testIdField": "x"}), "data.testIdField", "lookup key"),
    ("spaced key", export_task(data={" a": "x"}), "data. a", "metadata key"),
    ("bad lookup type", export_task(orderLookupType="Email"), "orderLookupType", "ProjectName"),
    ("bad flag", export_task(skipMissingOrders="yes"), "skipMissingOrders", "true or false"),
    ("empty order id", export_task(orderLookupId=" "), "orderLookupId", "is empty"),
    ("list order id", export_task(orderLookupId=["1001"]), "orderLookupId", "expected text"),
    ("name alone", export_task(orderItemLookupValue=None), "orderItemLookupValue", "is missing"),
    ("value alone", export_task(orderItemLookupName=None), "orderItemLookupName", "is missing"),
    ("misspelt", export_task(orderLookupID="1001"), "orderLookupID", "not a parameter"),
    ("foreign", export_task(destinationGroupName="Prepared"), "destinationGroupName", "not a parameter"),
    ("parameters a list", _with(lambda t: t.update(parameters=[])), "parameters", "is a list"),
    ("inputs text", _with(lambda t: t.update(inputArtifacts="result1")), "inputArtifacts", "list"),
    (
        "empty folder",
        {
            "name": "export print file",
            "type": "change-group-in-order-desk",
            "parameters": {"destinationGroupName": ""},
        },
        "destinationGroupName",
        "existing folder",
    ),
]


@pytest.mark.parametrize(
    ("task_json", "parameter", "words"),
    [case[1:] for case in REFUSALS],
    ids=[case[0] for case in REFUSALS],
)
def test_a_task_that_cannot_be_translated_is_refused_naming_task_and_parameter(
    task_json: Any, parameter: str, words: str
) -> None:
    with pytest.raises(OrderDeskConfigurationError) as raised:
        translate(task_json, artifacts={"result1": "https://x"})
    assert raised.value.field == f"{parameter} of pipeline task 'export print file'"
    assert words in raised.value.problem


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (DOCUMENTED_EXAMPLE.replace('"storeId": 00000,', '"storeId": 00000'), "line 8"),
        (DOCUMENTED_EXAMPLE.replace('"testIdField"', "'testIdField'"), "line 10"),
        (DOCUMENTED_EXAMPLE.replace("00000", "-00000"), "line 7"),
        (DOCUMENTED_EXAMPLE.replace('"testId"', "\u201ctestId\u201d"), "typographic quotes"),
        (DOCUMENTED_EXAMPLE.replace('"orderLookupId"', '"storeId"'), "appears twice"),
    ],
    ids=["missing comma", "single quotes", "signed leading zeros", "curly quotes", "duplicate key"],
)
def test_json_that_is_broken_beyond_the_known_paste_slips_is_refused_naming_the_task(
    text: str, words: str
) -> None:
    with pytest.raises(OrderDeskConfigurationError) as raised:
        translate(text)
    assert raised.value.field == "the JSON of pipeline task 'export-to-order-desk'"
    assert words in raised.value.problem


def test_pasted_json_with_trailing_commas_and_comments_is_accepted() -> None:
    text = DOCUMENTED_EXAMPLE.replace('"testId",', '"testId", // the item\n').replace("}\n}", "},\n}")
    operator = translate(text, artifacts={"result1": "a", "result2": "b"})
    assert operator.order_item_lookup_value == "testId"


def test_a_task_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(OrderDeskConfigurationError) as raised:
        translate("[1, 2]")
    assert raised.value.field == "task_json"


@pytest.mark.parametrize("argument", ["data", "order_lookup_id", "skip_empty_values", "destination_folder"])
def test_arguments_the_task_sets_cannot_be_given_again(argument: str) -> None:
    with pytest.raises(OrderDeskConfigurationError) as raised:
        translate(export_task(), artifacts={"result1": "https://x"}, **{argument: "x"})
    assert raised.value.field == argument


def test_an_artifact_that_is_not_a_single_value_is_refused() -> None:
    with pytest.raises(OrderDeskConfigurationError) as raised:
        translate(export_task(), artifacts={"result1": {"url": "https://x"}})
    assert raised.value.field == "data.hiResUrl of pipeline task 'export print file'"


@pytest.mark.parametrize("item_index", [-1, True, "0"])
def test_item_index_must_be_a_whole_number(item_index: Any) -> None:
    with pytest.raises(OrderDeskConfigurationError) as raised:
        translate(export_task(), artifacts={"result1": "https://x"}, item_index=item_index)
    assert raised.value.field == "item_index"


# -- whole pipelines --------------------------------------------------------------------------------

PIPELINE = [
    {"name": "render", "type": "render-hires", "outputArtifacts": ["result1"]},
    export_task(),
    {"name": "export print file", "type": "change-group-in-order-desk", "parameters": {}},
]


@pytest.mark.parametrize("shape", ["list", "object", "text"])
def test_a_pipeline_becomes_its_order_desk_operators_in_order(shape: str) -> None:
    pipeline: Any = {"list": PIPELINE, "object": {"tasks": PIPELINE}, "text": json.dumps(PIPELINE)}[shape]
    with pytest.warns(PipelineTranslationWarning, match=r"render \('render-hires'\)") as caught:
        operators = operators_from_pipeline(pipeline, artifacts={"result1": "https://x"}, retries=2)

    export, move = operators
    assert isinstance(export, OrderDeskPipelineExportOperator)
    assert isinstance(move, OrderDeskMoveOrderOperator)
    assert [export.task_id, move.task_id] == ["export_print_file", "export_print_file_2"]
    assert export.retries == move.retries == 2
    assert export.downstream_task_ids == set()
    assert caught[0].filename == __file__


def test_a_pipeline_without_order_desk_tasks_is_refused() -> None:
    with pytest.raises(OrderDeskConfigurationError) as raised:
        operators_from_pipeline([PIPELINE[0]])
    assert raised.value.field == "pipeline_json"
    assert "render ('render-hires')" in raised.value.problem


@pytest.mark.parametrize("pipeline", [{"steps": PIPELINE}, "42", [PIPELINE[1], "export"]])
def test_a_pipeline_that_is_not_a_list_of_tasks_is_refused(pipeline: Any) -> None:
    with pytest.raises(OrderDeskConfigurationError):
        operators_from_pipeline(pipeline, artifacts={"result1": "https://x"})


def test_an_untranslatable_task_in_a_pipeline_names_itself() -> None:
    with pytest.raises(OrderDeskConfigurationError) as raised:
        operators_from_pipeline([PIPELINE[0], export_task(orderLookupType="Email")])
    assert raised.value.field == "orderLookupType of pipeline task 'export print file'"
