"""The shape of orders and order items in the sandbox: blank documents, validation and write semantics.

Orders are stored as JSON documents in a normalised form: ids and ``folder_id`` are ints, prices are
floats, maps are dicts. This module turns request bodies into that form and refuses values of the wrong
type with :class:`~airflow_orderdesk.sandbox.errors.InvalidRequestError`, so that a bad body becomes a
validation error for the client instead of a server crash. How documents look on the wire is
:mod:`airflow_orderdesk.sandbox.php`'s business.
"""

from __future__ import annotations

import copy
import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from airflow_orderdesk.sandbox.errors import InvalidRequestError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

__all__ = [
    "DATE_FORMAT",
    "DELIVERY_TYPES",
    "ITEM_FIELDS",
    "MAX_ID",
    "JSONDict",
    "apply_item_fields",
    "apply_order_fields",
    "blank_address",
    "blank_item",
    "blank_order",
    "build_items",
    "format_utc",
    "parse_id",
    "parse_stored_date",
    "resolve_folder",
]

JSONDict = dict[str, Any]

#: How Order Desk writes ``date_added`` and ``date_updated`` (always UTC).
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"

#: The largest id the store can hold: SQLite integers are 64 bits, and a larger one would crash a query.
MAX_ID = 2**63 - 1

DELIVERY_TYPES: tuple[str, ...] = ("ship", "noship", "download", "future")

_ITEM_TEXT_FIELDS = ("name", "code", "category_code", "fulfillment_method")
_ITEM_NUMBER_FIELDS = ("price", "weight")
_ITEM_MAP_FIELDS = ("variation_list", "metadata")

#: The item fields a client may write, in the order Order Desk lists them.
ITEM_FIELDS: tuple[str, ...] = (
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

_ORDER_TEXT_FIELDS = (
    "source_id",
    "source_name",
    "email",
    "customer_id",
    "shipping_method",
    "payment_type",
    "payment_status",
    "order_notes",
    "tag_color",
    "ip_address",
    "fulfillment_name",
    "fulfillment_id",
)
_ORDER_MONEY_FIELDS = (
    "product_total",
    "shipping_total",
    "handling_total",
    "tax_total",
    "discount_total",
    "order_total",
)
_ADDRESS_FIELDS = ("shipping", "customer", "return_address")
_ADDRESS_KEYS = (
    "first_name",
    "last_name",
    "company",
    "address1",
    "address2",
    "address3",
    "address4",
    "city",
    "state",
    "postal_code",
    "country",
    "phone",
)
_ORDER_MAP_FIELDS = ("checkout_data", "order_metadata")
_ORDER_LIST_FIELDS = ("order_shipments", "discount_list")


def format_utc(moment: datetime) -> str:
    """Write a moment the way Order Desk writes its UTC dates."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime(DATE_FORMAT)


def parse_stored_date(value: Any, field: str) -> str:
    """
    Check a date a test seeds and bring it to Order Desk's UTC form.

    :param value: ``YYYY-MM-DD HH:MM:SS`` (or ISO 8601; an offset, if given, is converted to UTC).
    :param field: the field name, for the error message.
    """
    if not isinstance(value, str):
        raise InvalidRequestError(f"{field} must be a date string")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise InvalidRequestError(f"{field} must look like YYYY-MM-DD HH:MM:SS") from exc
    return format_utc(moment)


def parse_id(value: Any, what: str) -> int:
    """
    Read an id sent as an int or as a string of digits, as Order Desk's examples mix both.

    :param value: the id from a body or a path.
    :param what: what the id names, for the error message.
    """
    number: Any = value
    if isinstance(value, str):
        text = value.strip()
        # isdigit() also accepts digits such as "²" that int() refuses; 20 digits are past any id anyway.
        number = int(text) if text.isascii() and text.isdigit() and len(text) < 20 else None
    if isinstance(number, int) and not isinstance(number, bool) and 0 < number <= MAX_ID:
        return number
    raise InvalidRequestError(f"Invalid {what}: {value!r}")


def _text(value: Any, field: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    # PHP casts numbers to strings freely, so a numeric SKU sent as a number is fine.
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise InvalidRequestError(f"{field} must be a string")


def _number(value: Any, field: str) -> float:
    if isinstance(value, bool):
        raise InvalidRequestError(f"{field} must be a number")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError as exc:
            raise InvalidRequestError(f"{field} must be a number") from exc
    else:
        raise InvalidRequestError(f"{field} must be a number")
    if not math.isfinite(number):
        raise InvalidRequestError(f"{field} must be a finite number")
    return number


def _quantity(value: Any) -> int:
    number = _number(value, "quantity")
    if number != int(number) or number < 0:
        raise InvalidRequestError("quantity must be a whole number, 0 or more")
    return int(number)


def _scalar_map(value: Any, field: str) -> dict[str, Any]:
    # PHP encodes an empty associative array as [], so clients echo [] back for an empty map.
    if isinstance(value, list) and not value:
        return {}
    if not isinstance(value, dict):
        raise InvalidRequestError(f"{field} must be a map of names to values")
    for key, entry in value.items():
        if not isinstance(entry, str | int | float | bool) and entry is not None:
            raise InvalidRequestError(f"{field}.{key} must be a string, number, boolean or null")
    return dict(value)


def blank_item(item_id: int) -> JSONDict:
    """An item with every writable field at the value a full replace leaves behind."""
    return {
        "id": item_id,
        "name": "",
        "price": 0.0,
        "quantity": 1,
        "weight": 0.0,
        "code": "",
        "delivery_type": "ship",
        "category_code": "",
        "fulfillment_method": "",
        "variation_list": {},
        "metadata": {},
    }


def apply_item_fields(item: JSONDict, body: Mapping[str, Any], *, merge_maps: bool) -> JSONDict:
    """
    Write the fields a body carries onto an item and return the changed copy.

    Fields the body leaves out keep the item's values, so the caller picks the semantics by the item it
    passes: a blank item for a full replace, the stored item for a merge. Unknown fields are ignored,
    as a PHP backend would.

    :param item: the starting item; it is not changed.
    :param body: the fields sent by the client.
    :param merge_maps: whether ``metadata`` and ``variation_list`` are merged key by key instead of
        replaced as a whole.
    """
    result = copy.deepcopy(item)
    if "id" in body and body["id"] not in (None, "") and parse_id(body["id"], "item id") != item["id"]:
        raise InvalidRequestError("The item id in the body does not match the item id in the path")
    for field in _ITEM_TEXT_FIELDS:
        if field in body:
            result[field] = _text(body[field], field)
    for field in _ITEM_NUMBER_FIELDS:
        if field in body:
            result[field] = _number(body[field], field)
    if "quantity" in body:
        result["quantity"] = _quantity(body["quantity"])
    if "delivery_type" in body:
        delivery_type = _text(body["delivery_type"], "delivery_type")
        if delivery_type not in DELIVERY_TYPES:
            raise InvalidRequestError(f"delivery_type must be one of {', '.join(DELIVERY_TYPES)}")
        result["delivery_type"] = delivery_type
    for field in _ITEM_MAP_FIELDS:
        if field in body:
            sent = _scalar_map(body[field], field)
            result[field] = {**result[field], **sent} if merge_maps else sent
    return result


def blank_address() -> dict[str, str]:
    """An address with every line empty."""
    return dict.fromkeys(_ADDRESS_KEYS, "")


def blank_order(order_id: int, folder_id: int, now: str) -> JSONDict:
    """An order with every writable field blank, as a full replace leaves what it was not sent."""
    order: JSONDict = {"id": order_id}
    order.update(dict.fromkeys(_ORDER_TEXT_FIELDS, ""))
    order.update(dict.fromkeys(_ORDER_MONEY_FIELDS, 0.0))
    order["folder_id"] = folder_id
    order["date_added"] = now
    order["date_updated"] = now
    for field in _ADDRESS_FIELDS:
        order[field] = blank_address()
    for field in _ORDER_MAP_FIELDS:
        order[field] = {}
    for field in _ORDER_LIST_FIELDS:
        order[field] = []
    order["order_items"] = []
    order["order_history"] = []
    return order


def resolve_folder(body: Mapping[str, Any], folders: Mapping[int, str]) -> int | None:
    """
    The folder a body names by ``folder_id`` or ``folder_name``, or ``None`` if it names none.

    :param body: an order body.
    :param folders: the store's folders, id to name.
    """
    if body.get("folder_id") not in (None, ""):
        folder_id = parse_id(body["folder_id"], "folder_id")
        if folder_id not in folders:
            raise InvalidRequestError(f"Folder Not Found: {folder_id}")
        return folder_id
    if body.get("folder_name") not in (None, ""):
        name = _text(body["folder_name"], "folder_name")
        for folder_id, folder_name in folders.items():
            if folder_name.casefold() == name.casefold():
                return folder_id
        raise InvalidRequestError(f"Folder Not Found: {name}")
    return None


def apply_order_fields(order: JSONDict, body: Mapping[str, Any], folders: Mapping[int, str]) -> None:
    """
    Write the order-level fields a body carries onto an order, in place; items are handled apart.

    :param order: the order to change, usually fresh from :func:`blank_order`.
    :param body: the fields sent by the client.
    :param folders: the store's folders, to check ``folder_id`` or ``folder_name``.
    """
    for field in _ORDER_TEXT_FIELDS:
        if field in body:
            order[field] = _text(body[field], field)
    for field in _ORDER_MONEY_FIELDS:
        if field in body:
            order[field] = _number(body[field], field)
    for field in _ADDRESS_FIELDS:
        if field in body:
            sent = _scalar_map(body[field], field)
            order[field] = {**blank_address(), **{key: _text(value, key) for key, value in sent.items()}}
    for field in _ORDER_MAP_FIELDS:
        if field in body:
            order[field] = _scalar_map(body[field], field)
    for field in _ORDER_LIST_FIELDS:
        if field in body:
            if not isinstance(body[field], list):
                raise InvalidRequestError(f"{field} must be a list")
            order[field] = copy.deepcopy(body[field])
    folder_id = resolve_folder(body, folders)
    if folder_id is not None:
        order["folder_id"] = folder_id


def build_items(
    sent: Any,
    existing: Mapping[int, JSONDict],
    allocate_id: Callable[[], int],
    *,
    allow_new_ids: bool,
) -> list[JSONDict]:
    """
    The item list of an order written in full: sent items replace their namesakes, the rest are new.

    :param sent: the ``order_items`` value of the body (``None`` when left out: no items).
    :param existing: the order's current items by id; an item sent with one of these ids replaces it.
    :param allocate_id: gives a fresh item id for an item sent without one.
    :param allow_new_ids: whether an item may bring an id the order does not have yet (creating and
        seeding orders); otherwise such an id is refused.
    """
    if sent is None:
        return []
    if not isinstance(sent, list):
        raise InvalidRequestError("order_items must be a list")
    items: list[JSONDict] = []
    seen: set[int] = set()
    for position, body in enumerate(sent):
        if not isinstance(body, dict):
            raise InvalidRequestError(f"order_items[{position}] must be an object")
        if body.get("id") in (None, ""):
            item_id = allocate_id()
        else:
            item_id = parse_id(body["id"], "item id")
            if item_id not in existing and not allow_new_ids:
                raise InvalidRequestError(f"Order Item Not Found: {item_id}")
        if item_id in seen:
            raise InvalidRequestError(f"Order item {item_id} appears twice")
        seen.add(item_id)
        items.append(apply_item_fields(blank_item(item_id), body, merge_maps=False))
    return items
