"""Finding what an export writes to: which orders a lookup means, and which of their items.

Pure logic over orders as :mod:`airflow_orderdesk.payloads` normalises them; the hook fetches, this
module decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_orderdesk.exceptions import OrderDeskConfigurationError, OrderDeskItemNotFoundError
from airflow_orderdesk.metadata import check_text
from airflow_orderdesk.payloads import id_text

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

__all__ = [
    "LOOKUP_TYPES",
    "ItemLookup",
    "OrderLookup",
    "find_order_ids",
    "match_items",
    "parse_item_lookup",
    "parse_order_lookup",
]

#: What ``order_lookup_type`` accepts (in any case), and what each means. The pipeline spellings
#: ``OrderId`` and ``ProjectName`` both name the shop's order number; it is matched as text, so that
#: ``00123`` and ``A-17b`` are found as written.
LOOKUP_TYPES: Mapping[str, str] = {
    "source_id": "source_id",
    "orderid": "source_id",
    "projectname": "source_id",
    "order_id": "order_id",
}

#: How many distinct lookup values an error lists before it stops; enough to spot a typo.
_VALUES_SHOWN = 20


@dataclass(frozen=True)
class OrderLookup:
    """
    Which orders an export means.

    :param value: the order number (``source_id``) or Order Desk's internal id, as text.
    :param kind: ``source_id`` or ``order_id``.
    """

    value: str
    kind: str

    def describe(self) -> str:
        """The lookup in words, for log lines and errors."""
        return f"{self.kind} {self.value!r}"


@dataclass(frozen=True)
class ItemLookup:
    """
    Which items of an order an export means: those whose metadata ``name`` equals ``value``.

    An empty lookup (``name`` is ``None``) means "the order's only item".
    """

    name: str | None = None
    value: str | None = None

    def describe(self) -> str:
        """The lookup in words, for log lines and errors."""
        return "the order's only item" if self.name is None else f"metadata {self.name!r} = {self.value!r}"


def parse_order_lookup(order_lookup_id: Any, order_lookup_type: Any) -> OrderLookup:
    """
    Check ``order_lookup_id`` and ``order_lookup_type``.

    :raises OrderDeskConfigurationError: naming the argument and what would be valid.
    """
    if not isinstance(order_lookup_type, str) or order_lookup_type.strip().lower() not in LOOKUP_TYPES:
        raise OrderDeskConfigurationError(
            "order_lookup_type",
            f"is {order_lookup_type!r}; use one of source_id, order_id (or the pipeline spellings "
            "OrderId, ProjectName, which mean source_id)",
        )
    kind = LOOKUP_TYPES[order_lookup_type.strip().lower()]

    if order_lookup_id is None or isinstance(order_lookup_id, bool):
        raise OrderDeskConfigurationError(
            "order_lookup_id", f"is {order_lookup_id!r}; expected the shop's order number as text"
        )
    if not isinstance(order_lookup_id, (str, int)):
        raise OrderDeskConfigurationError(
            "order_lookup_id",
            f"is a {type(order_lookup_id).__name__}; expected the shop's order number as text",
        )
    value = str(order_lookup_id).strip()
    if not value or value == "None":
        raise OrderDeskConfigurationError(
            "order_lookup_id", "is empty; expected the shop's order number (or Order Desk's order id)"
        )
    check_text("order_lookup_id", value, limit=255)
    if kind == "order_id" and not (value.isascii() and value.isdigit()):
        raise OrderDeskConfigurationError(
            "order_lookup_id",
            f"is {value!r}, but order_lookup_type 'order_id' needs Order Desk's numeric internal id; "
            "use order_lookup_type 'source_id' for the shop's order number",
        )
    return OrderLookup(value=value, kind=kind)


def parse_item_lookup(name: Any, value: Any) -> ItemLookup:
    """
    Check ``order_item_lookup_name`` and ``order_item_lookup_value``: both, or neither.

    :raises OrderDeskConfigurationError: naming the argument and what would be valid.
    """
    # White space alone is what a template renders from an empty value; it must not match blank items.
    name_given = name is not None and not (isinstance(name, str) and not name.strip())
    value_given = value is not None and not (isinstance(value, str) and not value.strip())
    if not name_given and not value_given:
        return ItemLookup()
    if not name_given:
        raise OrderDeskConfigurationError(
            "order_item_lookup_name",
            "is missing while order_item_lookup_value is set; give the metadata key to match, or neither",
        )
    if not value_given:
        raise OrderDeskConfigurationError(
            "order_item_lookup_value",
            f"is missing while order_item_lookup_name is {name!r}; give the value the item must have",
        )
    if not isinstance(name, str) or not name.strip():
        raise OrderDeskConfigurationError(
            "order_item_lookup_name", f"is {name!r}; expected a metadata key as text"
        )
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise OrderDeskConfigurationError(
            "order_item_lookup_value", f"is a {type(value).__name__}; expected text or a whole number"
        )
    check_text("order_item_lookup_name", name, limit=255)
    check_text("order_item_lookup_value", str(value), limit=8192)
    return ItemLookup(name=name.strip(), value=str(value).strip())


def match_items(orders: Iterable[Mapping[str, Any]], lookup: ItemLookup) -> list[tuple[str, dict[str, Any]]]:
    """
    Every item the lookup means, across the candidate orders, as ``(order id, item)`` pairs.

    Metadata values are compared as text with surrounding white space ignored and case kept.

    :raises OrderDeskItemNotFoundError: when nothing matches, listing the values the lookup key does
        have, or when an order has several items and no lookup says which.
    """
    orders = list(orders)
    if lookup.name is None:
        several = [order for order in orders if len(order.get("order_items") or []) != 1]
        if several:
            order = several[0]
            count = len(order.get("order_items") or [])
            raise OrderDeskItemNotFoundError(
                f"Order {id_text(order.get('id'))} has {count} items; set order_item_lookup_name and "
                "order_item_lookup_value to say which item to write to"
            )
        return [(id_text(order["id"]), dict(order["order_items"][0])) for order in orders]

    matches: list[tuple[str, dict[str, Any]]] = []
    seen_values: list[str] = []
    for order in orders:
        for item in order.get("order_items") or []:
            metadata = item.get("metadata") or {}
            if lookup.name not in metadata:
                continue
            text = str(metadata[lookup.name]).strip()
            if text == lookup.value:
                matches.append((id_text(order["id"]), dict(item)))
            elif text not in seen_values:
                seen_values.append(text)
    if matches:
        return matches

    order_ids = ", ".join(id_text(order.get("id")) for order in orders)
    if seen_values:
        shown = ", ".join(repr(value) for value in seen_values[:_VALUES_SHOWN])
        more = " and more" if len(seen_values) > _VALUES_SHOWN else ""
        found = f"the values it has are {shown}{more}"
    else:
        found = "no item has that metadata key at all"
    raise OrderDeskItemNotFoundError(
        f"No item of order(s) {order_ids} has metadata {lookup.name!r} = {lookup.value!r}; {found}"
    )


def find_order_ids(orders: list[dict[str, Any]], item_lookup: ItemLookup) -> list[str]:
    """The ids of the orders that satisfy the sensor: any order, or one with a matching item."""
    if item_lookup.name is None:
        return [id_text(order["id"]) for order in orders]
    try:
        return sorted({order_id for order_id, _item in match_items(orders, item_lookup)})
    except OrderDeskItemNotFoundError:
        return []
