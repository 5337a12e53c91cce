"""Which orders an export's lookup means, and which of their items it writes to."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_orderdesk.exceptions import OrderDeskConfigurationError, OrderDeskItemNotFoundError
from airflow_orderdesk.lookup import (
    ItemLookup,
    OrderLookup,
    match_items,
    parse_item_lookup,
    parse_order_lookup,
)


def item(item_id: str, **metadata: Any) -> dict[str, Any]:
    return {"id": item_id, "name": f"item {item_id}", "metadata": metadata}


def order(order_id: str, *items: dict[str, Any]) -> dict[str, Any]:
    return {"id": order_id, "source_id": "1001", "order_items": list(items)}


# -- parse_order_lookup -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spelling", ["source_id", "SOURCE_ID", "OrderId", "orderid", "ProjectName", " projectname "]
)
def test_every_spelling_of_the_shops_order_number_means_source_id(spelling: str) -> None:
    assert parse_order_lookup("1001", spelling) == OrderLookup(value="1001", kind="source_id")


@pytest.mark.parametrize("number", ["00123", "A-17b", " 1001 "])
def test_a_source_id_is_kept_as_text_without_surrounding_white_space(number: str) -> None:
    assert parse_order_lookup(number, "source_id").value == number.strip()


def test_an_internal_id_may_be_given_as_a_number() -> None:
    assert parse_order_lookup(925086, "order_id") == OrderLookup(value="925086", kind="order_id")


def test_an_unknown_lookup_type_is_refused_listing_the_allowed_ones() -> None:
    with pytest.raises(OrderDeskConfigurationError) as raised:
        parse_order_lookup("1001", "shop_number")
    assert raised.value.field == "order_lookup_type"
    for allowed in ("source_id", "order_id", "OrderId", "ProjectName"):
        assert allowed in raised.value.problem


@pytest.mark.parametrize(
    "lookup_id", [None, "", "   ", "None", True, ["1001"], {"id": "1001"}, 1001.0, "10\n01", "9" * 256]
)
def test_an_unusable_order_lookup_id_is_refused(lookup_id: Any) -> None:
    with pytest.raises(OrderDeskConfigurationError) as raised:
        parse_order_lookup(lookup_id, "source_id")
    assert raised.value.field == "order_lookup_id"


@pytest.mark.parametrize("lookup_id", ["A-17b", "1001.0", "٣٤٥", "-5"])
def test_an_internal_id_must_be_ascii_digits(lookup_id: str) -> None:
    with pytest.raises(OrderDeskConfigurationError, match="source_id") as raised:
        parse_order_lookup(lookup_id, "order_id")
    assert raised.value.field == "order_lookup_id"


def test_a_lookup_describes_itself_for_messages() -> None:
    assert OrderLookup(value="1001", kind="source_id").describe() == "source_id '1001'"


# -- parse_item_lookup ------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "value"), [(None, None), ("", ""), (None, ""), ("", None)])
def test_no_item_lookup_means_the_orders_only_item(name: Any, value: Any) -> None:
    assert parse_item_lookup(name, value) == ItemLookup()


def test_an_item_lookup_is_kept_as_text_without_surrounding_white_space() -> None:
    assert parse_item_lookup(" testIdField ", " testId ") == ItemLookup(name="testIdField", value="testId")


def test_a_whole_number_lookup_value_is_read_as_text() -> None:
    assert parse_item_lookup("position", 2) == ItemLookup(name="position", value="2")


@pytest.mark.parametrize(
    ("name", "value", "field"),
    [
        pytest.param("testIdField", None, "order_item_lookup_value", id="name-without-value"),
        pytest.param("testIdField", "   ", "order_item_lookup_value", id="blank-value"),
        pytest.param(None, "testId", "order_item_lookup_name", id="value-without-name"),
        pytest.param("   ", "testId", "order_item_lookup_name", id="blank-name"),
        pytest.param(["testIdField"], "testId", "order_item_lookup_name", id="name-a-list"),
        pytest.param("testIdField", {"a": 1}, "order_item_lookup_value", id="value-a-dict"),
        pytest.param("testIdField", True, "order_item_lookup_value", id="value-a-boolean"),
        pytest.param("testIdField", 1.5, "order_item_lookup_value", id="value-a-float"),
        pytest.param("test\x00Id", "testId", "order_item_lookup_name", id="name-with-control-character"),
        pytest.param("testIdField", "x" * 8193, "order_item_lookup_value", id="value-too-long"),
    ],
)
def test_an_unusable_item_lookup_is_refused_naming_the_argument(name: Any, value: Any, field: str) -> None:
    with pytest.raises(OrderDeskConfigurationError) as raised:
        parse_item_lookup(name, value)
    assert raised.value.field == field


# -- match_items ------------------------------------------------------------------------------------


def test_the_item_whose_metadata_has_the_lookup_value_is_matched() -> None:
    orders = [order("1", item("11", testIdField="testId"), item("12", testIdField="other"))]
    assert match_items(orders, ItemLookup("testIdField", "testId")) == [("1", orders[0]["order_items"][0])]


def test_white_space_around_the_stored_value_is_ignored() -> None:
    orders = [order("1", item("11", testIdField="  testId\t"), item("12"))]
    assert [found["id"] for _, found in match_items(orders, ItemLookup("testIdField", "testId"))] == ["11"]


def test_case_is_kept_when_matching() -> None:
    orders = [order("1", item("11", testIdField="TestId"))]
    with pytest.raises(OrderDeskItemNotFoundError, match="'TestId'"):
        match_items(orders, ItemLookup("testIdField", "testId"))


def test_stored_numbers_match_their_text() -> None:
    orders = [order("1", item("11", position=2))]
    assert len(match_items(orders, ItemLookup("position", "2"))) == 1


def test_every_matching_item_of_every_order_is_matched() -> None:
    orders = [
        order("1", item("11", testIdField="testId"), item("12", testIdField="testId")),
        order("2", item("21", testIdField="other")),
        order("3", item("31", testIdField="testId")),
    ]
    matched = match_items(orders, ItemLookup("testIdField", "testId"))
    assert [(order_id, found["id"]) for order_id, found in matched] == [("1", "11"), ("1", "12"), ("3", "31")]


def test_matched_items_are_copies() -> None:
    orders = [order("1", item("11", testIdField="testId"))]
    (_, found), *_ = match_items(orders, ItemLookup("testIdField", "testId"))
    found["metadata"] = {}
    assert orders[0]["order_items"][0]["metadata"] == {"testIdField": "testId"}


def test_no_match_lists_the_values_the_lookup_key_has() -> None:
    orders = [
        order("1", item("11", testIdField="poster-1002"), item("12")),
        order("2", item("21", testIdField="banner-1002")),
    ]
    with pytest.raises(OrderDeskItemNotFoundError) as raised:
        match_items(orders, ItemLookup("testIdField", "testId"))
    message = str(raised.value)
    assert "'poster-1002'" in message
    assert "'banner-1002'" in message
    assert "1, 2" in message


def test_no_match_says_when_no_item_has_the_lookup_key() -> None:
    with pytest.raises(OrderDeskItemNotFoundError, match="no item has that metadata key"):
        match_items([order("1", item("11", other="x"))], ItemLookup("testIdField", "testId"))


def test_the_list_of_values_in_the_error_is_cut_short() -> None:
    items = [item(str(number), testIdField=f"value-{number}") for number in range(30)]
    with pytest.raises(OrderDeskItemNotFoundError) as raised:
        match_items([order("1", *items)], ItemLookup("testIdField", "testId"))
    assert "'value-19'" in str(raised.value)
    assert "'value-20'" not in str(raised.value)
    assert "and more" in str(raised.value)


def test_without_a_lookup_the_only_item_of_each_order_is_matched() -> None:
    orders = [order("1", item("11")), order("2", item("21"))]
    assert [(order_id, found["id"]) for order_id, found in match_items(orders, ItemLookup())] == [
        ("1", "11"),
        ("2", "21"),
    ]


def test_without_a_lookup_an_order_of_several_items_is_an_error_asking_for_one() -> None:
    with pytest.raises(OrderDeskItemNotFoundError, match="order_item_lookup_name") as raised:
        match_items([order("1", item("11"), item("12"))], ItemLookup())
    assert "2 items" in str(raised.value)
