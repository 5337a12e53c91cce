"""Customer's Canvas pipeline tasks for Order Desk, turned into this provider's operators.

A shop moving its processing pipelines to Airflow can paste each ``export-to-order-desk`` and
``change-group-in-order-desk`` task, JSON and all, into a DAG file and get the equivalent operator:

.. code-block:: python

    export = operator_from_pipeline_task(
        PIPELINE_TASK_JSON,
        artifacts={"result1": render_print_file(), "result2": render_preview()},
    )

How the pipeline's pieces become Airflow's:

* the store credentials (``storeUrl``, ``storeId``, ``storeApiKey``) are never used: the operator reads
  the ``orderdesk`` connection ``orderdesk_conn_id``, and a :class:`PipelineTranslationWarning` says
  how to create it from them, showing the store URL and id but never the key;
* ``{{project.X}}`` becomes the Jinja template ``{{ dag_run.conf['project']['X'] }}``, so the run's
  ``conf`` carries the Customer's Canvas project (``{"project": {"orderId": "1001"}}``); ``@`` in a path
  such as ``{{project.items.@.fields.X}}`` (the current item) becomes the item at ``item_index``;
* a ``data`` value that is exactly one artifact link, ``{{result1:url}}``, becomes ``artifacts["result1"]``
  (an upstream task's output keeps the task dependency); without a trailing ``?`` a missing artifact
  fails the task before anything is written, with ``?`` its key is left out;
* an omitted ``orderLookupId`` is the project's order id, as in the pipeline.

Anything the translation cannot carry over faithfully raises
:class:`~airflow_orderdesk.exceptions.OrderDeskConfigurationError` naming the task and the parameter.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

# Imported by name: Airflow replaces a module-level ``warnings`` in every module that defines an operator
# with a wrapper that adds to each stacklevel, which would point our warnings above the DAG file's line.
from warnings import warn

from airflow_orderdesk.exceptions import OrderDeskConfigurationError
from airflow_orderdesk.lookup import LOOKUP_TYPES
from airflow_orderdesk.metadata import RENDERED_NONE
from airflow_orderdesk.operators.orderdesk import OrderDeskExportOperator, OrderDeskMoveOrderOperator
from airflow_orderdesk.pasted_json import PastedJSONError, parse_pasted_json

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow.sdk import BaseOperator, Context

__all__ = [
    "CHANGE_GROUP_TASK_TYPE",
    "EXPORT_TASK_TYPE",
    "OrderDeskPipelineExportOperator",
    "PipelineTranslationWarning",
    "operator_from_pipeline_task",
    "operators_from_pipeline",
]

EXPORT_TASK_TYPE = "export-to-order-desk"
CHANGE_GROUP_TASK_TYPE = "change-group-in-order-desk"

#: The inline credentials of a pipeline task. Airflow keeps them in a connection instead, so they are read
#: only to say how to create that connection, and the key is never repeated anywhere.
CREDENTIAL_PARAMETERS = ("storeUrl", "storeId", "storeApiKey")

_ORDER_PARAMETERS = frozenset(
    {*CREDENTIAL_PARAMETERS, "orderLookupId", "orderLookupType", "skipMissingOrders"}
)

#: The parameters each task type documents. Any other is refused, because a misspelt parameter would
#: otherwise be dropped without a word and its default used.
_PARAMETERS: Mapping[str, frozenset[str]] = {
    EXPORT_TASK_TYPE: _ORDER_PARAMETERS | {"orderItemLookupName", "orderItemLookupValue", "data"},
    CHANGE_GROUP_TASK_TYPE: _ORDER_PARAMETERS | {"destinationGroupName"},
}

#: What an omitted ``orderLookupId`` means in the pipeline: the project's order id.
_PROJECT_ORDER_ID = "{{project.orderId}}"

_TEMPLATE = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_ARTIFACT = re.compile(r"\s*(?P<name>[A-Za-z_][\w-]*):(?P<property>[A-Za-z_]\w*)\s*(?P<optional>\?)?\s*")
_PROJECT = re.compile(r"\s*(?P<path>project(?:\.[^.?{}]+)*)\s*(?P<optional>\?)?\s*")
#: One step of a project path: a name, an index, or ``@`` (the current item). Quotes and backslashes are
#: refused so that a step can always be written as a Jinja string without escaping.
_PATH_STEP = re.compile(r"[\w -]+|@")
#: Text that Jinja would read as the start of a statement, a comment or an expression.
_JINJA_OPENING = re.compile(r"\{[{%#]")
#: The characters Airflow allows in a task id.
_TASK_ID_UNSAFE = re.compile(r"[^\w.-]+")

_NO_ARTIFACTS: Mapping[str, Any] = MappingProxyType({})

#: The shortest key that errors blot out; the default of Airflow's ``min_length_masked_secret``.
_SHORTEST_MASKED_KEY = 5

#: Arguments the translation derives from the pipeline task; giving them as well would leave two answers.
_TRANSLATED_ARGUMENTS = frozenset(
    {
        "order_lookup_id",
        "order_lookup_type",
        "order_item_lookup_name",
        "order_item_lookup_value",
        "data",
        "skip_missing_orders",
        "skip_empty_values",
        "required_artifacts",
        "pipeline_task_name",
        "destination_folder",
        "task_id",
    }
)


class PipelineTranslationWarning(UserWarning):
    """Something about a pipeline task that its author should act on, though the translation succeeded."""


class OrderDeskPipelineExportOperator(OrderDeskExportOperator):
    """
    An export translated from a pipeline task, which also fails when a required artifact is missing.

    In a pipeline, ``{{result1:url}}`` fails the task when artifact ``result1`` is missing, while
    ``{{result1:url?}}`` leaves its key out. The export's ``skip_empty_values`` decides for all keys at
    once, so this operator checks the keys whose artifact is required first and fails, before any
    request is sent, when one of them rendered to nothing (``None``, empty text, or the text ``None``
    that non-native templating makes of a missing XCom). Every other argument is the export's.

    :param required_artifacts: the ``data`` keys whose value must be present, each with the name of its
        artifact, which the error names.
    :param pipeline_task_name: the pipeline task's ``name``, which the error names.
    """

    def __init__(
        self,
        *,
        required_artifacts: Mapping[str, str] | None = None,
        pipeline_task_name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.required_artifacts = dict(required_artifacts or {})
        self.pipeline_task_name = pipeline_task_name

    def execute(self, context: Context) -> dict[str, Any]:
        missing = _missing_artifacts(self.data, self.required_artifacts)
        if missing:
            keys = ", ".join(f"data.{key}" for key in missing)
            names = sorted({self.required_artifacts[key] for key in missing})
            optional = ", ".join(f"{{{{{name}:url?}}}}" for name in names)
            raise OrderDeskConfigurationError(
                f"{keys} of pipeline task {self.pipeline_task_name or self.task_id!r}",
                f"artifact {', '.join(repr(name) for name in names)} is missing: its upstream task produced "
                "nothing. Its link has no trailing '?', so the task fails and nothing is written; write "
                f"{optional} where a missing artifact should leave the key out instead",
            )
        return super().execute(context)


def _missing_artifacts(data: Any, required: Mapping[str, str]) -> list[str]:
    """The required keys of rendered ``data`` whose value is missing."""
    if not isinstance(data, Mapping):
        # Only a translated export's data is a mapping of artifacts; anything else is the export's to check.
        return []
    missing = []
    for key in required:
        value = data.get(key)
        if value is None or (isinstance(value, str) and value.strip() in ("", RENDERED_NONE)):
            missing.append(key)
    return missing


@dataclass(frozen=True)
class _Task:
    """A pipeline task being translated: who it is, for errors and notes, and what it says."""

    name: str
    type: str
    parameters: Mapping[str, Any]
    input_artifacts: tuple[str, ...]
    #: What the task's author should hear about, collected here and issued as warnings by the caller.
    notes: list[str] = field(default_factory=list)

    def error(self, parameter: str, problem: str) -> OrderDeskConfigurationError:
        """An error about one of this task's parameters, never quoting the store's key."""
        key = str(self.parameters.get("storeApiKey") or "").strip()
        # A key pasted into the wrong parameter would otherwise be repeated in the error and the task log.
        # Shorter text is not blotted out, as Airflow's own masker does not: it would mangle the message.
        if len(key) >= _SHORTEST_MASKED_KEY:
            problem = problem.replace(key, "<storeApiKey>")
        return OrderDeskConfigurationError(f"{parameter} of pipeline task {self.name!r}", problem)


def _task_name(task: Mapping[str, Any]) -> str:
    """What to call a task in errors and notes: its name, else its type."""
    for key in ("name", "type"):
        value = task.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return "(unnamed)"


def _name_in_text(text: str) -> str:
    """A task's name read from text that is not valid JSON, so that its error can still name the task."""
    found = re.search(r'"name"\s*:\s*"([^"\\]{1,200})"', text)
    return found.group(1) if found else "(unnamed)"


def _load(source: Any, what: str) -> Any:
    """A mapping or list as given, or parsed from its pasted JSON text."""
    if isinstance(source, str):
        try:
            return parse_pasted_json(source)
        except PastedJSONError as error:
            where = f" at line {error.line}" if error.line is not None else ""
            raise OrderDeskConfigurationError(
                f"{what} of pipeline task {_name_in_text(source)!r}",
                f"is not valid JSON{where}: {error.problem}. Besides strict JSON, only numbers with "
                "leading zeros (such as 00000), trailing commas and comments are accepted",
            ) from None
    return source


def _read_task(source: Any) -> _Task:
    """Check a task's outline: a mapping with a known type, parameters and input artifacts."""
    task = _load(source, "the JSON")
    if not isinstance(task, Mapping):
        raise OrderDeskConfigurationError(
            "task_json", f"is a {type(task).__name__}; expected one pipeline task (a JSON object)"
        )
    name = _task_name(task)
    task_type = task.get("type")
    if not isinstance(task_type, str) or task_type not in _PARAMETERS:
        raise OrderDeskConfigurationError(
            f"type of pipeline task {name!r}",
            f"is {task_type!r}; expected {EXPORT_TASK_TYPE!r} or {CHANGE_GROUP_TASK_TYPE!r}",
        )
    parameters = task.get("parameters", {})
    if not isinstance(parameters, Mapping):
        raise OrderDeskConfigurationError(
            f"parameters of pipeline task {name!r}",
            f"is a {type(parameters).__name__}; expected an object of parameters",
        )
    unknown = sorted(str(key) for key in parameters if key not in _PARAMETERS[task_type])
    if unknown:
        raise OrderDeskConfigurationError(
            f"{', '.join(unknown)} of pipeline task {name!r}",
            f"{'is not a parameter' if len(unknown) == 1 else 'are not parameters'} of {task_type}; "
            f"it takes {', '.join(sorted(_PARAMETERS[task_type]))}",
        )
    inputs = task.get("inputArtifacts", [])
    if not isinstance(inputs, list) or not all(isinstance(item, str) and item for item in inputs):
        raise OrderDeskConfigurationError(
            f"inputArtifacts of pipeline task {name!r}", "is not a list of artifact names such as ['result1']"
        )
    return _Task(name=name, type=task_type, parameters=parameters, input_artifacts=tuple(inputs))


# -- templates --------------------------------------------------------------------------------------


def _jinja_literal(text: str) -> str:
    """Plain text as it must stand in a Jinja template to render as itself."""
    if not _JINJA_OPENING.search(text):
        return text
    escaped = text.replace("\\", "\\\\").replace("'", "\\'")
    return "{{ '" + escaped + "' }}"


def _project_expression(task: _Task, parameter: str, path: str, item_index: int) -> str:
    """The Jinja expression that reads ``project.a.b`` from the run's ``conf``."""
    expression = "dag_run.conf"
    for step in path.split("."):
        step = step.strip()
        if step == "@":
            expression += f"[{item_index}]"
        elif step.isdigit():
            expression += f"[{int(step)}]"
        elif _PATH_STEP.fullmatch(step):
            expression += f"['{step}']"
        else:
            raise task.error(
                parameter,
                f"has the template {{{{{path}}}}}, whose step {step!r} cannot be read; a step is a name, "
                "an index or @ (the current item)",
            )
    return expression


def _render_text(task: _Task, parameter: str, text: str, item_index: int) -> str:
    """Text with ``{{project.…}}`` templates, as a Jinja template over the run's ``conf``."""
    pieces: list[str] = []
    position = 0
    for template in _TEMPLATE.finditer(text):
        pieces.append(_jinja_literal(text[position : template.start()]))
        position = template.end()
        inner = template.group(1)
        project = _PROJECT.fullmatch(inner)
        if project:
            expression = _project_expression(task, parameter, project.group("path"), item_index)
            # A missing project field renders as "" with "?", and fails the task without it.
            suffix = " | default('', true)" if project.group("optional") else ""
            pieces.append(f"{{{{ {expression}{suffix} }}}}")
        elif _ARTIFACT.fullmatch(inner):
            raise task.error(
                parameter,
                f"uses the artifact link {template.group(0)}, which is only supported as the whole value "
                "of a data key",
            )
        else:
            raise task.error(
                parameter,
                f"has the template {template.group(0)}, which cannot be translated; supported are "
                "{{project.…}} and, as a whole data value, {{resultN:url}} or {{resultN:url?}}",
            )
    pieces.append(_jinja_literal(text[position:]))
    return "".join(pieces)


def _text_parameter(task: _Task, parameter: str, item_index: int) -> str | None:
    """A parameter that is text (or a whole number), templates translated; ``None`` when not given."""
    value = task.parameters.get(parameter)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise task.error(parameter, f"is {type(value).__name__} {value!r}; expected text")
    text = str(value)
    if not text.strip():
        raise task.error(parameter, "is empty; give a value or leave the parameter out")
    return _render_text(task, parameter, text, item_index)


# -- parameters -------------------------------------------------------------------------------------


def _order_arguments(task: _Task, item_index: int) -> dict[str, Any]:
    """The arguments both operators take: which orders, and what to do when none is found."""
    order_lookup_id = _text_parameter(task, "orderLookupId", item_index)
    if order_lookup_id is None:
        order_lookup_id = _render_text(task, "orderLookupId", _PROJECT_ORDER_ID, item_index)

    arguments: dict[str, Any] = {"order_lookup_id": order_lookup_id}
    lookup_type = task.parameters.get("orderLookupType")
    if lookup_type is not None:
        if not isinstance(lookup_type, str) or lookup_type.strip().lower() not in LOOKUP_TYPES:
            raise task.error(
                "orderLookupType",
                f"is {lookup_type!r}; use OrderId or ProjectName (the shop's order number, matched as text), "
                "or source_id or order_id (Order Desk's internal id)",
            )
        arguments["order_lookup_type"] = LOOKUP_TYPES[lookup_type.strip().lower()]

    skip = task.parameters.get("skipMissingOrders")
    if skip is not None:
        if isinstance(skip, str) and skip.strip().lower() in ("true", "false"):
            skip = skip.strip().lower() == "true"
        if not isinstance(skip, bool):
            raise task.error("skipMissingOrders", f"is {skip!r}; expected true or false")
        arguments["skip_missing_orders"] = skip
    return arguments


def _item_arguments(task: _Task, item_index: int) -> dict[str, Any]:
    """Which item of the order the export writes to: both lookup parameters, or neither."""
    name = _text_parameter(task, "orderItemLookupName", item_index)
    value = _text_parameter(task, "orderItemLookupValue", item_index)
    if (name is None) != (value is None):
        given, missing = (
            ("orderItemLookupName", "orderItemLookupValue")
            if value is None
            else ("orderItemLookupValue", "orderItemLookupName")
        )
        raise task.error(missing, f"is missing while {given} is set; give both, or neither")
    return {"order_item_lookup_name": name, "order_item_lookup_value": value}


def _data_arguments(
    task: _Task, artifacts: Mapping[str, Any], item_index: int, lookup_name: str | None
) -> dict[str, Any]:
    """The export's ``data``, its artifact links resolved, and which of its keys need their artifact."""
    data = task.parameters.get("data")
    if data is None:
        raise task.error("data", "is missing; give the metadata keys to write, such as {'hiResUrl': ...}")
    if not isinstance(data, Mapping):
        raise task.error("data", f"is a {type(data).__name__}; expected an object of metadata keys to values")
    if not data:
        raise task.error("data", "is empty; give at least one metadata key to write")

    resolved: dict[str, Any] = {}
    required: dict[str, str] = {}
    for key, value in data.items():
        parameter = f"data.{key}"
        if not isinstance(key, str) or not key.strip() or key != key.strip():
            raise task.error(
                parameter, "is not a usable metadata key; write a name without surrounding spaces"
            )
        if key == lookup_name:
            raise task.error(
                parameter,
                "is the item lookup key (orderItemLookupName); writing it would change which item later "
                "exports find, so leave it out of data",
            )
        if isinstance(value, str):
            link = _TEMPLATE.fullmatch(value.strip())
            artifact = _ARTIFACT.fullmatch(link.group(1)) if link else None
            if artifact:
                resolved[key] = _artifact_value(task, parameter, artifact, artifacts)
                if not artifact.group("optional"):
                    required[key] = artifact.group("name")
            else:
                resolved[key] = _render_text(task, parameter, value, item_index)
        elif value is None or isinstance(value, (bool, int, float)):
            resolved[key] = value
        else:
            raise task.error(
                parameter, f"is a {type(value).__name__}; a metadata value is text, a number or a boolean"
            )
    return {"data": resolved, "required_artifacts": required}


def _artifact_value(task: _Task, parameter: str, link: re.Match[str], artifacts: Mapping[str, Any]) -> Any:
    """What an artifact link stands for: the supplied artifact, or ``None`` for one the task declares."""
    name, link_property = link.group("name"), link.group("property")
    if link_property != "url":
        raise task.error(
            parameter,
            f"links to the {link_property!r} of artifact {name!r}; only {{{{{name}:url}}}} can be translated",
        )
    if name in artifacts:
        value = artifacts[name]
        if isinstance(value, (Mapping, list, tuple, set)):
            raise task.error(
                parameter,
                f"links to artifact {name!r}, whose value in artifacts is a {type(value).__name__}; give the "
                "upstream task's output (an XComArg) or the link itself",
            )
        return value
    if name in task.input_artifacts:
        task.notes.append(
            f"Pipeline task {task.name!r} declares artifact {name!r} in inputArtifacts, but artifacts does "
            f"not supply it, so it is treated as missing ({parameter})"
        )
        return None
    supplied = ", ".join(sorted(artifacts)) or "none"
    raise task.error(
        parameter,
        f"links to artifact {name!r}, which is neither in artifacts (supplied: {supplied}) nor in the task's "
        "inputArtifacts; pass its upstream task's output as artifacts={" + repr(name) + ": ...}",
    )


def _folder_arguments(task: _Task, item_index: int) -> dict[str, Any]:
    """The folder a change-group task moves the orders to."""
    folder = task.parameters.get("destinationGroupName", "Prepared")
    if not isinstance(folder, str) or not folder.strip():
        raise task.error("destinationGroupName", f"is {folder!r}; expected the name of an existing folder")
    return {"destination_folder": _render_text(task, "destinationGroupName", folder.strip(), item_index)}


# -- credentials ------------------------------------------------------------------------------------


def _shown_url(store_url: Any, key: str) -> str:
    """The store URL without anything that may be secret: user, password, query and fragment."""
    if not isinstance(store_url, str) or not store_url.strip():
        return "<your store URL>"
    parts = urlsplit(store_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "<your store URL>"
    host = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
    shown = urlunsplit((parts.scheme, host, parts.path, "", ""))
    return "<your store URL>" if key and key in shown else shown


def _shown_store_id(store_id: Any, key: str) -> str:
    """The store id, when it looks like one and is not the key pasted into the wrong place."""
    text = (
        str(store_id).strip() if isinstance(store_id, (str, int)) and not isinstance(store_id, bool) else ""
    )
    if not re.fullmatch(r"[\w-]{1,64}", text) or (key and key in text):
        return "<your store id>"
    return text


def _note_credentials(task: _Task, orderdesk_conn_id: str) -> None:
    """Say how to keep the inline credentials in a connection instead, without repeating the key."""
    given = [parameter for parameter in CREDENTIAL_PARAMETERS if parameter in task.parameters]
    if not given:
        return
    raw_key = task.parameters.get("storeApiKey")
    key = str(raw_key).strip() if isinstance(raw_key, (str, int)) else ""
    command = shlex.join(
        [
            "airflow",
            "connections",
            "add",
            orderdesk_conn_id,
            "--conn-type",
            "orderdesk",
            "--conn-host",
            _shown_url(task.parameters.get("storeUrl"), key),
            "--conn-login",
            _shown_store_id(task.parameters.get("storeId"), key),
            "--conn-password",
            "<your key>",
        ]
    )
    task.notes.append(
        f"Pipeline task {task.name!r} holds store credentials inline ({', '.join(given)}); they are not "
        f"used. The operator reads connection {orderdesk_conn_id!r} instead: create it of type orderdesk "
        f"with the store URL as API URL, the store id as Store ID and the key as API Key, for example "
        f"{command}. Then remove the credentials from the task JSON, since Airflow shows DAG files' source "
        "to everyone who can see the DAG."
    )


# -- translation ------------------------------------------------------------------------------------


def _task_id(name: str) -> str:
    """A task id made from a pipeline task's name, in the characters Airflow allows."""
    return _TASK_ID_UNSAFE.sub("_", name).strip("_")[:250] or "order_desk"


def _translate(
    source: Any,
    *,
    task_id: str | None,
    orderdesk_conn_id: str,
    artifacts: Mapping[str, Any],
    item_index: int,
    operator_kwargs: Mapping[str, Any],
) -> tuple[BaseOperator, list[str]]:
    """Translate one task; return the operator and the notes its author should hear about."""
    if not isinstance(artifacts, Mapping) or not all(isinstance(name, str) for name in artifacts):
        raise OrderDeskConfigurationError("artifacts", "expected a mapping of artifact names to values")
    if isinstance(item_index, bool) or not isinstance(item_index, int) or item_index < 0:
        raise OrderDeskConfigurationError("item_index", f"is {item_index!r}; expected a whole number >= 0")
    conflicting = sorted(_TRANSLATED_ARGUMENTS & set(operator_kwargs))
    if conflicting:
        raise OrderDeskConfigurationError(
            ", ".join(conflicting),
            "is set by the translation of the pipeline task; change the task JSON instead of passing it",
        )

    task = _read_task(source)
    arguments = _order_arguments(task, item_index)
    operator: BaseOperator
    if task.type == EXPORT_TASK_TYPE:
        items = _item_arguments(task, item_index)
        lookup_name = task.parameters.get("orderItemLookupName")
        data = _data_arguments(
            task, artifacts, item_index, lookup_name if isinstance(lookup_name, str) else None
        )
        operator = OrderDeskPipelineExportOperator(
            task_id=task_id or _task_id(task.name),
            orderdesk_conn_id=orderdesk_conn_id,
            skip_empty_values=True,
            pipeline_task_name=task.name,
            **arguments,
            **items,
            **data,
            **operator_kwargs,
        )
    else:
        operator = OrderDeskMoveOrderOperator(
            task_id=task_id or _task_id(task.name),
            orderdesk_conn_id=orderdesk_conn_id,
            **arguments,
            **_folder_arguments(task, item_index),
            **operator_kwargs,
        )
    _note_credentials(task, orderdesk_conn_id)
    return operator, task.notes


def _warn(notes: Sequence[str]) -> None:
    """Issue each note as a warning that points at the DAG file's line that asked for the translation."""
    for note in notes:
        # 1 is this function, 2 the public function that called it, 3 the DAG file.
        warn(note, PipelineTranslationWarning, stacklevel=3)


def operator_from_pipeline_task(
    task_json: Mapping[str, Any] | str,
    *,
    task_id: str | None = None,
    orderdesk_conn_id: str = "orderdesk_default",
    artifacts: Mapping[str, Any] = _NO_ARTIFACTS,
    item_index: int = 0,
    **operator_kwargs: Any,
) -> BaseOperator:
    """
    Turn one Customer's Canvas pipeline task into the equivalent Order Desk operator.

    ``export-to-order-desk`` becomes an :class:`OrderDeskPipelineExportOperator` (an
    :class:`~airflow_orderdesk.operators.orderdesk.OrderDeskExportOperator` that also enforces required
    artifacts), ``change-group-in-order-desk`` an
    :class:`~airflow_orderdesk.operators.orderdesk.OrderDeskMoveOrderOperator`. Parameters map as in
    ``docs/migration.md``; templates as in this module's description.

    .. note::
        ``{{project.X}}`` reads ``dag_run.conf['project']['X']``, so runs must be triggered with the
        project in their ``conf``; a field that is missing fails the task when it renders, unless its
        template ends in ``?``, which renders it empty.

    .. warning::
        Inline credentials are not used, but they stay in the DAG file if the task JSON is pasted as is,
        and Airflow shows DAG source in its UI. A :class:`PipelineTranslationWarning` says how to move
        them into a connection; remove them from the JSON afterwards.

    :param task_json: the pipeline task, as a mapping or as the JSON text it was configured with (numbers
        with leading zeros, trailing commas and comments are accepted).
    :param task_id: the operator's task id; by default the task's ``name``, made safe for Airflow.
    :param orderdesk_conn_id: the ``orderdesk`` connection that replaces the inline credentials.
    :param artifacts: what each artifact link stands for: an upstream task's output (an XComArg, which
        also makes that task upstream) or a plain value, by artifact name (``{"result1": render()}``).
    :param item_index: the project item that ``@`` in ``{{project.items.@.fields.X}}`` means.
    :param operator_kwargs: further operator arguments, such as ``history_note``, ``retries`` or ``pool``;
        arguments the pipeline task already sets are refused.
    :raises OrderDeskConfigurationError: naming the task and the parameter, when the task cannot be
        translated faithfully.
    """
    operator, notes = _translate(
        task_json,
        task_id=task_id,
        orderdesk_conn_id=orderdesk_conn_id,
        artifacts=artifacts,
        item_index=item_index,
        operator_kwargs=operator_kwargs,
    )
    _warn(notes)
    return operator


def operators_from_pipeline(
    pipeline_json: Mapping[str, Any] | Sequence[Any] | str,
    *,
    orderdesk_conn_id: str = "orderdesk_default",
    artifacts: Mapping[str, Any] = _NO_ARTIFACTS,
    item_index: int = 0,
    **operator_kwargs: Any,
) -> list[BaseOperator]:
    """
    Turn the Order Desk tasks of a whole pipeline into operators, in the pipeline's order.

    Tasks of other types (rendering, other deliveries) are skipped with one
    :class:`PipelineTranslationWarning` listing them: in Airflow they are the DAG's own tasks, whose
    outputs are passed as ``artifacts``. Task ids are the tasks' names; a name used twice gets ``_2``,
    ``_3``... The operators are not chained: use ``chain(*operators)`` to run them one after another, so
    that an order is moved only once its links are written.

    :param pipeline_json: a list of tasks, or an object with a ``tasks`` list, as mappings or JSON text.
    :param orderdesk_conn_id: the ``orderdesk`` connection for every task.
    :param artifacts: what each artifact link stands for, shared by all tasks; see
        :func:`operator_from_pipeline_task`.
    :param item_index: the project item that ``@`` means.
    :param operator_kwargs: further arguments for every operator; since they go to exports and moves
        alike, only arguments both take (``retries``, ``pool``...) suit a pipeline with both.
    :raises OrderDeskConfigurationError: when the pipeline holds no Order Desk task, or one of them cannot
        be translated.
    """
    pipeline = _load(pipeline_json, "the JSON")
    tasks = pipeline.get("tasks") if isinstance(pipeline, Mapping) else pipeline
    if isinstance(tasks, (str, bytes)) or not isinstance(tasks, (list, tuple)):
        raise OrderDeskConfigurationError(
            "pipeline_json", "expected a list of pipeline tasks, or an object with a 'tasks' list"
        )

    operators: list[BaseOperator] = []
    notes: list[str] = []
    skipped: list[str] = []
    used_ids: dict[str, int] = {}
    for position, task in enumerate(tasks, start=1):
        if not isinstance(task, Mapping):
            raise OrderDeskConfigurationError(
                f"task {position} of the pipeline", f"is a {type(task).__name__}; expected a task object"
            )
        if not isinstance(task.get("type"), str) or task["type"] not in _PARAMETERS:
            skipped.append(f"{_task_name(task)} ({task.get('type')!r})")
            continue
        task_id = _task_id(_task_name(task))
        used_ids[task_id] = used_ids.get(task_id, 0) + 1
        if used_ids[task_id] > 1:
            task_id = f"{task_id}_{used_ids[task_id]}"
        operator, task_notes = _translate(
            task,
            task_id=task_id,
            orderdesk_conn_id=orderdesk_conn_id,
            artifacts=artifacts,
            item_index=item_index,
            operator_kwargs=operator_kwargs,
        )
        operators.append(operator)
        notes.extend(task_notes)
    if not operators:
        raise OrderDeskConfigurationError(
            "pipeline_json",
            f"holds no {EXPORT_TASK_TYPE} or {CHANGE_GROUP_TASK_TYPE} task; "
            f"its tasks are {', '.join(skipped) or 'none'}",
        )
    if skipped:
        notes.append(
            f"Pipeline tasks {', '.join(skipped)} are not Order Desk tasks and were skipped; "
            "in Airflow, make them tasks of your own and pass their outputs as artifacts"
        )
    _warn(notes)
    return operators
