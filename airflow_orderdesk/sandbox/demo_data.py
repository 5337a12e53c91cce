"""Demo content of the sandbox: a print shop's folders and a handful of recent orders.

The orders look like those a web-to-print shop running Customer's Canvas sends to Order Desk: items
carry the design project's id in their metadata, which is what a delivery task looks items up by. A few
are traps on purpose: one shop order number split into two Order Desk orders, and a number ("10010")
that contains another ("1001"), for clients that forget to filter search results exactly.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow_orderdesk.sandbox.documents import format_utc

if TYPE_CHECKING:
    from airflow_orderdesk.sandbox.state import SandboxState

__all__ = ["DEMO_ORDERS", "FOLDERS", "load_demo_data"]

#: Order Desk's default folders, as a new store has them.
FOLDERS: dict[int, str] = {21654: "New", 21655: "Prepared", 21656: "Closed", 21657: "Canceled"}

_NEW, _PREPARED, _CLOSED = 21654, 21655, 21656


def _address(first: str, last: str, street: str, city: str, state: str, postal_code: str) -> dict[str, str]:
    return {
        "first_name": first,
        "last_name": last,
        "company": "",
        "address1": street,
        "address2": "",
        "city": city,
        "state": state,
        "postal_code": postal_code,
        "country": "US",
        "phone": "555-0134",
    }


#: The demo orders, each with ``age_hours``: how long before "now" it was placed.
DEMO_ORDERS: tuple[dict[str, Any], ...] = (
    {
        "age_hours": 70,
        "id": 925086,
        "source_id": "1001",
        "source_name": "WooCommerce",
        "email": "maria.lopez@example.com",
        "folder_id": _NEW,
        "shipping_method": "UPS Ground",
        "product_total": "54.90",
        "shipping_total": "8.50",
        "order_total": "63.40",
        "payment_type": "Credit Card",
        "payment_status": "Approved",
        "shipping": _address("Maria", "Lopez", "12 Harbor Lane", "Portland", "ME", "04101"),
        "customer": _address("Maria", "Lopez", "12 Harbor Lane", "Portland", "ME", "04101"),
        "checkout_data": {"Proof Approval": "Approved online"},
        "order_metadata": {},
        "order_items": [
            {
                "id": 1844721,
                "name": "Business Cards - Premium Matte, 500 pcs",
                "price": "39.90",
                "quantity": 1,
                "weight": "1.20",
                "code": "BC-PM-500",
                "delivery_type": "ship",
                "category_code": "business-cards",
                "variation_list": {"Paper": "16pt Matte", "Corners": "Rounded"},
                "metadata": {
                    "testIdField": "testId",
                    "ccProjectId": "7f3a9c21-5b0e-4d8a-9c11-2e6f0b1d4a77",
                    "hiResUrl2": "https://files.example.com/cc/7f3a9c21/hires-back.pdf",
                },
            },
            {
                "id": 1844722,
                "name": "Rush Production (24 h)",
                "price": "15.00",
                "quantity": 1,
                "weight": "0",
                "code": "FEE-RUSH",
                "delivery_type": "noship",
                "category_code": "fees",
                "variation_list": {},
                "metadata": {},
            },
        ],
    },
    {
        "age_hours": 52,
        "id": 925087,
        "source_id": "1002",
        "source_name": "WooCommerce",
        "email": "dev.patel@example.com",
        "folder_id": _NEW,
        "shipping_method": "USPS Priority",
        "product_total": "24.00",
        "order_total": "24.00",
        "shipping": _address("Dev", "Patel", "880 Elm Street, Apt 4", "Columbus", "OH", "43215"),
        "order_items": [
            {
                "id": 1844723,
                "name": "Poster 18x24 in, Satin",
                "price": "24.00",
                "quantity": 1,
                "weight": "0.45",
                "code": "PST-1824-SAT",
                "category_code": "posters",
                "variation_list": {"Finish": "Satin"},
                "metadata": {
                    "_cc_project_id": "b81d6e04-2f7c-4a3b-8e55-6c9d0a2f1e38",
                    "ccProjectId": "b81d6e04-2f7c-4a3b-8e55-6c9d0a2f1e38",
                    "testIdField": "poster-1002",
                },
            }
        ],
    },
    {
        # The second half of shop order 1002, split off in Order Desk; it keeps the shop's number.
        "age_hours": 51,
        "id": 925088,
        "source_id": "1002",
        "source_name": "WooCommerce",
        "email": "dev.patel@example.com",
        "folder_id": _NEW,
        "shipping_method": "UPS Ground",
        "product_total": "72.00",
        "order_total": "72.00",
        "shipping": _address("Dev", "Patel", "880 Elm Street, Apt 4", "Columbus", "OH", "43215"),
        "order_items": [
            {
                "id": 1844724,
                "name": "Vinyl Banner 3x6 ft, Grommets",
                "price": "72.00",
                "quantity": 1,
                "weight": "2.10",
                "code": "BNR-36-GRM",
                "category_code": "banners",
                "variation_list": {},
                "metadata": {
                    "_cc_project_id": "c40f1a92-7d3e-4b61-a0c8-95e2b7f3d016",
                    "ccProjectId": "c40f1a92-7d3e-4b61-a0c8-95e2b7f3d016",
                },
            }
        ],
    },
    {
        # Contains "1001": found by a substring search for the first order's number.
        "age_hours": 30,
        "id": 925089,
        "source_id": "10010",
        "source_name": "WooCommerce",
        "email": "lee.chen@example.com",
        "folder_id": _PREPARED,
        "shipping_method": "UPS Ground",
        "product_total": "29.50",
        "order_total": "29.50",
        "shipping": _address("Lee", "Chen", "45 Birch Road", "Madison", "WI", "53703"),
        "order_items": [
            {
                "id": 1844725,
                "name": "Flyers A5, 250 pcs, Gloss",
                "price": "29.50",
                "quantity": 1,
                "weight": "0.90",
                "code": "FLY-A5-250-G",
                "category_code": "flyers",
                "variation_list": {"Sides": "Double-sided"},
                "metadata": {
                    "ccProjectId": "0d9e8c7b-6a5f-4e3d-2c1b-0a9f8e7d6c5b",
                    "testIdField": "testId-10010",
                },
            }
        ],
    },
    {
        "age_hours": 20,
        "id": 925090,
        "source_id": "A-17b",
        "source_name": "Shopify",
        "email": "sam.okafor@example.com",
        "folder_id": _NEW,
        "shipping_method": "Local Pickup",
        "product_total": "41.00",
        "order_total": "41.00",
        "shipping": _address("Sam", "Okafor", "3 Mill Street", "Burlington", "VT", "05401"),
        "order_items": [
            {
                "id": 1844726,
                "name": "Sticker Sheet, Kiss-Cut, 8.5x11 in",
                "price": "9.00",
                "quantity": 3,
                "weight": "0.05",
                "code": "STK-KC-LTR",
                "category_code": "stickers",
                "variation_list": {},
                "metadata": {
                    "_cc_project_id": "e2a4c6e8-1357-49bd-8f02-468ace13579b",
                    "testIdField": "stickers-a17b",
                },
            },
            {
                "id": 1844727,
                "name": "Greeting Cards, Set of 10",
                "price": "14.00",
                "quantity": 1,
                "weight": "0.35",
                "code": "GRC-SET10",
                "category_code": "cards",
                "variation_list": {"Envelopes": "Kraft"},
                "metadata": {
                    "_cc_project_id": "f1e2d3c4-b5a6-4978-8695-a4b3c2d1e0f9",
                    "ccProjectId": "f1e2d3c4-b5a6-4978-8695-a4b3c2d1e0f9",
                },
            },
        ],
    },
    {
        # A leading zero that only survives if ids are handled as strings.
        "age_hours": 8,
        "id": 925091,
        "source_id": "00123",
        "source_name": "Shopify",
        "email": "ana.silva@example.com",
        "folder_id": _CLOSED,
        "shipping_method": "FedEx 2Day",
        "product_total": "89.00",
        "order_total": "89.00",
        "shipping": _address("Ana", "Silva", "900 Ocean Drive", "Miami", "FL", "33139"),
        "order_items": [
            {
                "id": 1844728,
                "name": "Canvas Print 16x20 in, Gallery Wrap",
                "price": "89.00",
                "quantity": 1,
                "weight": "3.40",
                "code": "CNV-1620-GW",
                "category_code": "canvas",
                "variation_list": {"Edge": "Mirrored"},
                "metadata": {
                    "ccProjectId": "1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d",
                    "testIdField": "canvas-00123",
                    "hiResUrl": "https://files.example.com/cc/1a2b3c4d/hires.pdf",
                },
            }
        ],
    },
)


def load_demo_data(state: SandboxState, now: datetime) -> int:
    """
    Add the demo orders to a store, dated relative to ``now``.

    :param state: the store; its folders should be :data:`FOLDERS`.
    :param now: the current moment (UTC), from which the orders' ages count back.
    :return: how many orders were added.
    """
    for template in DEMO_ORDERS:
        order = {key: value for key, value in template.items() if key != "age_hours"}
        added = now - timedelta(hours=template["age_hours"])
        order["date_added"] = format_utc(added)
        order["date_updated"] = format_utc(added + timedelta(minutes=4))
        state.seed_order(order, format_utc(now))
    return len(DEMO_ORDERS)
