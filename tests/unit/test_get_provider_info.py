from __future__ import annotations

import json
from importlib import metadata
from importlib.resources import files
from typing import Any

import jsonschema

from airflow_orderdesk import __version__
from airflow_orderdesk.get_provider_info import get_provider_info


def _airflow_schema(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(files("airflow").joinpath(name).read_text())
    return schema


def _orderdesk_connection_type() -> dict[str, Any]:
    (connection_type,) = get_provider_info()["connection-types"]
    return dict(connection_type)


def test_provider_info_is_valid_against_airflows_schema() -> None:
    jsonschema.validate(get_provider_info(), _airflow_schema("provider_info.schema.json"))


def test_connection_type_with_its_form_is_valid_against_the_provider_yaml_schema() -> None:
    schema = _airflow_schema("provider.yaml.schema.json")
    connection_type_schema = schema["properties"]["connection-types"]["items"]
    jsonschema.validate(_orderdesk_connection_type(), connection_type_schema)


def test_package_name_is_the_distribution_name_and_the_entry_point_finds_it() -> None:
    (entry_point,) = [
        ep
        for ep in metadata.entry_points(group="apache_airflow_provider")
        if ep.value.startswith("airflow_orderdesk")
    ]
    assert entry_point.load()() == get_provider_info()
    assert get_provider_info()["package-name"] == entry_point.dist.name  # type: ignore[union-attr]


def test_connection_form_relabels_the_standard_fields_and_hides_port_and_schema() -> None:
    behaviour = _orderdesk_connection_type()["ui-field-behaviour"]
    assert behaviour["relabeling"] == {"host": "API URL", "login": "Store ID", "password": "API Key"}
    assert set(behaviour["hidden-fields"]) == {"port", "schema"}


def test_extras_declared_in_the_form_are_exactly_the_ones_the_hook_reads() -> None:
    from airflow_orderdesk.settings import EXTRA_FIELDS

    assert set(_orderdesk_connection_type()["conn-fields"]) == set(EXTRA_FIELDS)


def test_provider_manager_lists_the_provider_with_its_connection_form() -> None:
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    assert manager.providers["airflow-provider-orderdesk"].version == __version__
    assert manager.field_behaviours["orderdesk"]["relabeling"]["password"] == "API Key"


def test_task_runtime_resolves_the_orderdesk_connection_type_to_our_hook() -> None:
    from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime

    hook_info = ProvidersManagerTaskRuntime().hooks["orderdesk"]
    assert hook_info is not None
    assert hook_info.hook_class_name == "airflow_orderdesk.hooks.orderdesk.OrderDeskHook"
    assert hook_info.connection_testable
