"""Order Desk's payloads read the way Python code expects them, in one place.

Order Desk runs on PHP, and it shows: an empty map arrives as an empty JSON array, and ids arrive as
strings in one payload and integers in the next. Every answer the hook hands out has passed through
here, so the rest of the provider can rely on maps being dicts and ids being strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "ITEM_WRITABLE_FIELDS",
    "as_map",
    "id_text",
    "normalise_item",
    "normalise_order",
    "writable_item",
]

#: Fields of an order item that an item PUT sets. When the server replaces an item, a field left out
#: of this set would be blanked, so a complete-item PUT sends every one of them as it was read.
ITEM_WRITABLE_FIELDS = (
    "name",
    "price",
    "quantity",
    "weight",
    "code",
    "delivery_type",
    "category_code",
    "fulfillment_method",
    "variation_list",
    "metadata",
)

_ORDER_MAPS = ("checkout_data", "order_metadata")
_ITEM_MAPS = ("variation_list", "metadata")
_ID_FIELDS = ("id", "order_id", "folder_id", "source_id", "customer_id")


def as_map(value: Any) -> dict[str, Any]:
    """
    Read a map field, where PHP writes an empty map as ``[]``.

    :raises TypeError: when the value is neither a map nor an empty list.
    """
    if value is None or value == []:
        return {}
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"expected a JSON object, got {type(value).__name__}")


def id_text(value: Any) -> str:
    """An Order Desk id as text, however it arrived (``29491`` and ``"29491"`` are the same id)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _with_ids_as_text(record: Mapping[str, Any]) -> dict[str, Any]:
    result = dict(record)
    for name in _ID_FIELDS:
        if result.get(name) is not None:
            result[name] = id_text(result[name])
    return result


def normalise_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """An order item with its maps as dicts and its ids as text; other fields are passed through as is."""
    result = _with_ids_as_text(item)
    for name in _ITEM_MAPS:
        result[name] = as_map(result.get(name))
    return result


def normalise_order(order: Mapping[str, Any]) -> dict[str, Any]:
    """An order with its maps as dicts, its ids as text, and each of its items normalised."""
    result = _with_ids_as_text(order)
    for name in _ORDER_MAPS:
        if name in result:
            result[name] = as_map(result[name])
    items = result.get("order_items") or []
    if isinstance(items, Mapping):
        # PHP turns a list with gaps in its keys into an object; its values are still the items.
        items = list(items.values())
    result["order_items"] = [normalise_item(item) for item in items]
    return result


def writable_item(item: Mapping[str, Any], **changes: Any) -> dict[str, Any]:
    """
    The body of a complete-item PUT: every writable field as read, with ``changes`` applied.

    Prices, weights and quantities are passed back exactly as Order Desk sent them (often as text);
    converting them could change a value nobody meant to touch.
    """
    body = {name: item[name] for name in ITEM_WRITABLE_FIELDS if name in item}
    body.update(changes)
    return body
