"""What Airflow's provider manager learns about this package: its name and the ``orderdesk`` connection."""

from __future__ import annotations

from typing import Any

from airflow_orderdesk import __version__
from airflow_orderdesk.defaults import (
    DEFAULT_API_URL,
    DEFAULT_BURST,
    DEFAULT_ORDER_PAGE_URL,
    DEFAULT_REFILL_PER_SECOND,
    DEFAULT_TIMEOUT,
)

__all__ = ["get_provider_info"]


def get_provider_info() -> dict[str, Any]:
    """
    Describe the provider to Airflow.

    ``package-name`` must stay equal to the distribution name: the provider manager rejects a mismatch,
    and a rejected provider breaks provider discovery for every package installed beside it.
    """
    return {
        "package-name": "airflow-provider-orderdesk",
        "name": "Order Desk",
        "description": "Deliver rendered print files and previews into `Order Desk <https://www.orderdesk.com/>`__.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "Order Desk",
                "external-doc-url": "https://apidocs.orderdesk.com/",
                "tags": ["service"],
            }
        ],
        "hooks": [
            {
                "integration-name": "Order Desk",
                "python-modules": ["airflow_orderdesk.hooks.orderdesk"],
            }
        ],
        "connection-types": [
            {
                "connection-type": "orderdesk",
                "hook-class-name": "airflow_orderdesk.hooks.orderdesk.OrderDeskHook",
                "hook-name": "Order Desk",
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port"],
                    "relabeling": {"host": "API URL", "login": "Store ID", "password": "API Key"},
                    "placeholders": {
                        "host": DEFAULT_API_URL,
                        "login": "12345",
                        "password": "from Store Settings > API in Order Desk",
                    },
                },
                "conn-fields": {
                    "timeout": {
                        "label": "Request timeout (seconds)",
                        "description": f"How long to wait for one answer. Empty means {DEFAULT_TIMEOUT:g}.",
                        "schema": {"type": ["number", "null"], "minimum": 1},
                    },
                    "rate_limit_burst": {
                        "label": "Rate limit: burst",
                        "description": (
                            f"Requests the store may send at once. Empty means Order Desk's {DEFAULT_BURST}; "
                            "change it only if Order Desk gave your store another limit."
                        ),
                        "schema": {"type": ["integer", "null"], "minimum": 1},
                    },
                    "rate_limit_per_second": {
                        "label": "Rate limit: requests per second",
                        "description": (
                            f"Steady request rate after the burst. Empty means Order Desk's "
                            f"{DEFAULT_REFILL_PER_SECOND:g}."
                        ),
                        "schema": {"type": ["number", "null"], "minimum": 0.1},
                    },
                    "order_page_url": {
                        "label": "Order page URL",
                        "description": (
                            "Where the 'Order Desk order' link points, with {order_id} standing for "
                            f"Order Desk's internal order id. Empty means {DEFAULT_ORDER_PAGE_URL} for "
                            "Order Desk's own API URL, and the same path on any other host."
                        ),
                        "schema": {"type": ["string", "null"]},
                    },
                },
            }
        ],
    }
