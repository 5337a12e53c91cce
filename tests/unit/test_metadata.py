"""What an export may write into an item's metadata, and what merging it into the item changes."""

from __future__ import annotations

import pytest

from airflow_orderdesk.exceptions import OrderDeskConfigurationError
from airflow_orderdesk.metadata import MAX_KEY_LENGTH, MAX_VALUE_LENGTH, merge_metadata, parse_data

NON_ASCII = "Café Müller \N{EN DASH} 東京"


def parse(data: object, *, lookup_name: str | None = None, skip_empty_values: bool = True) -> dict[str, str]:
    return parse_data(data, lookup_name=lookup_name, skip_empty_values=skip_empty_values)


# -- parse_data -------------------------------------------------------------------------------------


def test_a_mapping_of_text_is_taken_as_it_is() -> None:
    assert parse({"hiResUrl": "https://files.example.com/a.pdf"}) == {
        "hiResUrl": "https://files.example.com/a.pdf"
    }


def test_numbers_and_booleans_become_text() -> None:
    assert parse({"copies": 3, "ratio": 1.5, "proofed": True, "rush": False}) == {
        "copies": "3",
        "ratio": "1.5",
        "proofed": "true",
        "rush": "false",
    }


def test_a_json_object_in_text_is_parsed() -> None:
    assert parse('{"hiResUrl": "https://a", "copies": 2}') == {"hiResUrl": "https://a", "copies": "2"}


def test_a_python_dict_literal_in_text_is_parsed() -> None:
    assert parse("{'hiResUrl': 'https://a', 'proofed': True}") == {"hiResUrl": "https://a", "proofed": "true"}


@pytest.mark.parametrize("empty", [None, "", "None"])
def test_empty_values_are_left_out_by_default(empty: object) -> None:
    assert parse({"hiResUrl": "https://a", "hiResUrl2": empty}) == {"hiResUrl": "https://a"}


@pytest.mark.parametrize("empty", [None, ""])
def test_empty_values_are_written_as_empty_text_when_asked(empty: object) -> None:
    assert parse({"hiResUrl2": empty}, skip_empty_values=False) == {"hiResUrl2": ""}


def test_non_ascii_text_is_kept_unchanged() -> None:
    assert parse({"customer": NON_ASCII}) == {"customer": NON_ASCII}


def test_values_at_the_length_limits_are_accepted() -> None:
    key, value = "k" * MAX_KEY_LENGTH, "v" * MAX_VALUE_LENGTH
    assert parse({key: value}) == {key: value}


@pytest.mark.parametrize(
    ("data", "field"),
    [
        pytest.param(["hiResUrl"], "data", id="a-list"),
        pytest.param(42, "data", id="an-int"),
        pytest.param("", "data", id="empty-text"),
        pytest.param("   ", "data", id="blank-text"),
        pytest.param("[1, 2]", "data", id="text-holding-a-list"),
        pytest.param("hiResUrl = https://a", "data", id="unparseable-text"),
        pytest.param({"": "x"}, "data", id="empty-key"),
        pytest.param({"   ": "x"}, "data", id="blank-key"),
        pytest.param({" hiResUrl": "x"}, "data[' hiResUrl']", id="key-with-white-space"),
        pytest.param({1: "x"}, "data", id="key-not-text"),
        pytest.param({"k" * (MAX_KEY_LENGTH + 1): "x"}, "data key", id="key-too-long"),
        pytest.param({"k\tx": "x"}, "data key", id="key-with-control-character"),
        pytest.param({"a": {"b": "c"}}, "data['a']", id="nested-mapping"),
        pytest.param({"a": ["b"]}, "data['a']", id="list-value"),
        pytest.param({"a": float("nan")}, "data['a']", id="nan"),
        pytest.param({"a": float("inf")}, "data['a']", id="infinity"),
        pytest.param({"a": "line\nbreak"}, "data['a']", id="control-character"),
        pytest.param({"a": "zero\u200bwidth"}, "data['a']", id="format-character"),
        pytest.param({"a": "v" * (MAX_VALUE_LENGTH + 1)}, "data['a']", id="value-too-long"),
    ],
)
def test_unusable_data_is_refused_naming_the_field(data: object, field: str) -> None:
    with pytest.raises(OrderDeskConfigurationError) as raised:
        parse(data)
    assert raised.value.field.startswith(field)


def test_the_item_lookup_key_may_not_be_written() -> None:
    with pytest.raises(OrderDeskConfigurationError, match="order_item_lookup_name") as raised:
        parse({"testIdField": "other", "hiResUrl": "https://a"}, lookup_name="testIdField")
    assert raised.value.field == "data['testIdField']"


def test_other_keys_are_fine_when_there_is_an_item_lookup() -> None:
    assert parse({"hiResUrl": "https://a"}, lookup_name="testIdField") == {"hiResUrl": "https://a"}


# -- merge_metadata ---------------------------------------------------------------------------------


def test_merge_adds_new_keys_overwrites_existing_ones_and_keeps_the_rest() -> None:
    change = merge_metadata({"keep": "1", "hiResUrl": "old"}, {"hiResUrl": "new", "preview": "p"})
    assert change.metadata == {"keep": "1", "hiResUrl": "new", "preview": "p"}
    assert change.changed == ("hiResUrl", "preview")
    assert change.unchanged == ()
    assert not change.is_noop


def test_merge_reports_the_previous_values_of_overwritten_keys_only() -> None:
    change = merge_metadata({"hiResUrl": "old"}, {"hiResUrl": "new", "preview": "p"})
    assert change.previous == {"hiResUrl": "old"}


def test_merge_of_values_already_there_changes_nothing() -> None:
    change = merge_metadata({"hiResUrl": "https://a", "other": "x"}, {"hiResUrl": "https://a"})
    assert change.is_noop
    assert change.unchanged == ("hiResUrl",)
    assert change.changed == ()
    assert change.metadata == {"hiResUrl": "https://a", "other": "x"}


def test_merge_compares_stored_numbers_as_text() -> None:
    assert merge_metadata({"copies": 3}, {"copies": "3"}).is_noop


def test_merge_into_empty_metadata_adds_everything() -> None:
    change = merge_metadata({}, {"hiResUrl": "https://a"})
    assert change.metadata == {"hiResUrl": "https://a"}
    assert change.changed == ("hiResUrl",)
    assert change.previous == {}


def test_merge_leaves_the_current_metadata_untouched() -> None:
    current = {"hiResUrl": "old"}
    merge_metadata(current, {"hiResUrl": "new"})
    assert current == {"hiResUrl": "old"}


def test_merge_of_an_empty_value_blanks_the_key() -> None:
    change = merge_metadata({"hiResUrl": "old"}, {"hiResUrl": ""})
    assert change.metadata == {"hiResUrl": ""}
    assert change.changed == ("hiResUrl",)
