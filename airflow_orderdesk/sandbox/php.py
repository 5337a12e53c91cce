"""How the sandbox writes JSON: the habits of Order Desk's PHP backend, so clients meet them in tests.

PHP's ``json_encode`` turns an empty associative array into ``[]``, escapes ``/`` as ``\\/`` and
non-ASCII characters as ``\\uXXXX``. Order Desk also sends ids and money as strings while
``folder_id`` stays a number. The stored documents know none of this; the renderers here add it on the
way out.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import JSONResponse

from airflow_orderdesk.sandbox.documents import ITEM_FIELDS, JSONDict

__all__ = ["PhpJSONResponse", "php_json_bytes", "php_value", "render_item", "render_order"]

_MONEY_FIELDS = frozenset(
    {
        "price",
        "weight",
        "product_total",
        "shipping_total",
        "handling_total",
        "tax_total",
        "discount_total",
        "order_total",
    }
)
_ORDER_LEADING_FIELDS = (
    "id",
    "email",
    "shipping_method",
    "quantity_total",
    "weight_total",
    "product_total",
    "shipping_total",
    "handling_total",
    "tax_total",
    "discount_total",
    "order_total",
    "source_id",
    "source_name",
    "customer_id",
    "payment_type",
    "payment_status",
    "fulfillment_name",
    "fulfillment_id",
    "tag_color",
    "ip_address",
    "folder_id",
    "date_added",
    "date_updated",
)


def php_value(value: Any) -> Any:
    """A JSON value with every empty map turned into an empty list, at any depth."""
    if isinstance(value, dict):
        return {key: php_value(entry) for key, entry in value.items()} if value else []
    if isinstance(value, list):
        return [php_value(entry) for entry in value]
    return value


def php_json_bytes(content: Any) -> bytes:
    """Encode a value as PHP's ``json_encode`` would with its default flags."""
    text = json.dumps(php_value(content), ensure_ascii=True, separators=(",", ":"))
    # "/" never occurs outside a string in JSON, so escaping every one of them is safe.
    return text.replace("/", "\\/").encode("ascii")


def _money(value: Any) -> str:
    return f"{float(value):.2f}"


def render_item(item: JSONDict) -> JSONDict:
    """An order item as Order Desk sends it: id and money as strings, empty maps as ``[]``."""
    rendered: JSONDict = {"id": str(item["id"])}
    for field in ITEM_FIELDS:
        value = item.get(field)
        if field in _MONEY_FIELDS:
            rendered[field] = _money(value or 0)
        elif field == "quantity":
            rendered[field] = int(value or 0)
        else:
            rendered[field] = php_value(value if value is not None else "")
    return rendered


def render_order(order: JSONDict, *, include_history: bool) -> JSONDict:
    """
    An order as Order Desk sends it.

    :param order: the stored order.
    :param include_history: whether to include ``order_history``, which Order Desk sends only when
        asked for it.
    """
    items = [render_item(item) for item in order.get("order_items", [])]
    computed = {
        "quantity_total": sum(int(item.get("quantity") or 0) for item in order.get("order_items", [])),
        "weight_total": _money(
            sum(
                float(item.get("weight") or 0) * int(item.get("quantity") or 0)
                for item in order["order_items"]
            )
        ),
    }
    rendered: JSONDict = {}
    for field in _ORDER_LEADING_FIELDS:
        if field in computed:
            rendered[field] = computed[field]
        elif field == "id":
            rendered[field] = str(order["id"])
        elif field == "folder_id":
            rendered[field] = int(order["folder_id"])
        elif field in _MONEY_FIELDS:
            rendered[field] = _money(order.get(field) or 0)
        else:
            rendered[field] = order.get(field, "")
    for field, value in order.items():
        if field in rendered or field in ("order_items", "order_history"):
            continue
        rendered[field] = php_value(value)
    rendered["order_items"] = items
    if include_history:
        rendered["order_history"] = php_value(order.get("order_history", []))
    return rendered


class PhpJSONResponse(JSONResponse):
    """A JSON response encoded the way Order Desk's PHP backend encodes it."""

    def render(self, content: Any) -> bytes:
        """Encode the body with PHP's habits."""
        return php_json_bytes(content)
