"""Tests of how Order Desk's PHP-shaped payloads are read."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from airflow_orderdesk.payloads import as_map, id_text, normalise_item, normalise_order, writable_item


def _item(**fields: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": "555",
        "order_id": "925086",
        "name": "Poster A3",
        "price": "10",
        "quantity": "2",
        "weight": "0.50",
        "code": "POSTER-A3",
        "delivery_type": "ship",
        "category_code": "",
        "fulfillment_method": "print",
        "variation_list": {"Size": "A3"},
        "metadata": {"proof": "approved"},
        "date_added": "2024-05-01 10:00:00",
    }
    item.update(fields)
    return item


# -- as_map and id_text --------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [[], None, {}])
def test_an_empty_php_map_reads_as_an_empty_dict(value: Any) -> None:
    assert as_map(value) == {}


def test_a_map_is_returned_as_a_copy() -> None:
    original = {"proof": "approved"}

    result = as_map(original)
    result["proof"] = "rejected"

    assert original == {"proof": "approved"}


@pytest.mark.parametrize("value", [["a"], "text", 5])
def test_a_value_that_is_no_map_is_refused(value: Any) -> None:
    with pytest.raises(TypeError, match="expected a JSON object"):
        as_map(value)


@pytest.mark.parametrize("value", [29491, "29491", 29491.0, " 29491 "])
def test_an_id_reads_as_the_same_text_however_it_arrived(value: Any) -> None:
    assert id_text(value) == "29491"


def test_a_fractional_number_is_not_rounded_into_an_id() -> None:
    assert id_text(1.5) == "1.5"


# -- orders and items ----------------------------------------------------------------------------------


def test_an_item_gets_its_maps_as_dicts_and_its_ids_as_text() -> None:
    raw = _item(id=555, order_id=925086, variation_list=[], metadata=[])

    item = normalise_item(raw)

    assert (item["id"], item["order_id"]) == ("555", "925086")
    assert (item["variation_list"], item["metadata"]) == ({}, {})


def test_an_item_without_maps_gets_empty_ones() -> None:
    item = normalise_item({"id": "555", "name": "Poster"})

    assert item == {"id": "555", "name": "Poster", "variation_list": {}, "metadata": {}}


def test_an_item_keeps_prices_and_counts_exactly_as_sent() -> None:
    item = normalise_item(_item(price="10", quantity=2, weight="0.50"))

    assert (item["price"], item["quantity"], item["weight"]) == ("10", 2, "0.50")


def test_an_order_gets_its_maps_as_dicts_its_ids_as_text_and_its_items_normalised() -> None:
    raw = {
        "id": 925086,
        "source_id": 1001,
        "folder_id": 64,
        "customer_id": "77",
        "email": "buyer@example.test",
        "checkout_data": [],
        "order_metadata": [],
        "order_items": [_item(id=555, metadata=[])],
    }

    order = normalise_order(raw)

    assert (order["id"], order["source_id"], order["folder_id"], order["customer_id"]) == (
        "925086",
        "1001",
        "64",
        "77",
    )
    assert (order["checkout_data"], order["order_metadata"]) == ({}, {})
    assert order["order_items"][0]["id"] == "555"
    assert order["order_items"][0]["metadata"] == {}
    assert order["email"] == "buyer@example.test"


def test_order_items_given_as_an_object_read_as_a_list() -> None:
    raw = {"id": "925086", "order_items": {"0": _item(id="555"), "2": _item(id="556", metadata=[])}}

    order = normalise_order(raw)

    assert [item["id"] for item in order["order_items"]] == ["555", "556"]
    assert order["order_items"][1]["metadata"] == {}


@pytest.mark.parametrize("items", [None, [], {}])
def test_an_order_without_items_gets_an_empty_list(items: Any) -> None:
    assert normalise_order({"id": "925086", "order_items": items})["order_items"] == []


def test_an_order_missing_its_maps_does_not_gain_them() -> None:
    order = normalise_order({"id": "925086"})

    assert "checkout_data" not in order
    assert "order_metadata" not in order


def test_normalising_leaves_the_answer_untouched() -> None:
    raw = {"id": 925086, "order_metadata": [], "order_items": [_item(metadata=[])]}
    before = copy.deepcopy(raw)

    normalise_order(raw)

    assert raw == before


# -- writable_item -------------------------------------------------------------------------------------


def test_writable_item_keeps_every_writable_field_exactly_as_read() -> None:
    item = _item()

    body = writable_item(item)

    assert body == {
        "name": "Poster A3",
        "price": "10",
        "quantity": "2",
        "weight": "0.50",
        "code": "POSTER-A3",
        "delivery_type": "ship",
        "category_code": "",
        "fulfillment_method": "print",
        "variation_list": {"Size": "A3"},
        "metadata": {"proof": "approved"},
    }


def test_writable_item_drops_fields_an_item_put_does_not_set() -> None:
    body = writable_item(_item())

    assert not {"id", "order_id", "date_added"} & body.keys()


def test_writable_item_applies_the_changes() -> None:
    body = writable_item(
        _item(), metadata={"proof": "approved", "print_file": "https://files.example.test/1"}
    )

    assert body["metadata"] == {"proof": "approved", "print_file": "https://files.example.test/1"}
    assert body["price"] == "10"


def test_writable_item_does_not_invent_fields_the_item_lacks() -> None:
    assert writable_item({"id": "555", "name": "Poster", "price": "9.90"}) == {
        "name": "Poster",
        "price": "9.90",
    }
