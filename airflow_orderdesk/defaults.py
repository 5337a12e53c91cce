"""Order Desk's documented defaults and the provider's own, in a module that imports nothing.

Airflow's provider manager imports :mod:`airflow_orderdesk.get_provider_info` while Airflow itself is
still being imported, so everything that module needs must be importable without Airflow.
"""

from __future__ import annotations

__all__ = [
    "CONNECT_TIMEOUT",
    "DEFAULT_API_URL",
    "DEFAULT_BURST",
    "DEFAULT_CONN_ID",
    "DEFAULT_ORDER_PAGE_URL",
    "DEFAULT_REFILL_PER_SECOND",
    "DEFAULT_TIMEOUT",
    "EXTRA_FIELDS",
]

#: The connection the hook, the operators and the sensor use unless told otherwise.
DEFAULT_CONN_ID = "orderdesk_default"

#: Order Desk's own API, used when the connection leaves the host empty.
DEFAULT_API_URL = "https://app.orderdesk.me/api/v2"

#: Order Desk does not document the address of its order page; this is the pattern its web app is
#: believed to use. Connections can set their own through the ``order_page_url`` extra.
DEFAULT_ORDER_PAGE_URL = "https://app.orderdesk.me/orders/view/{order_id}"

#: Seconds to wait for one answer. Order Desk's own example client waits 10 s; searches of 500 orders
#: can take longer, and a task runs in the background, so we allow more.
DEFAULT_TIMEOUT = 30.0

#: Seconds to wait for a TCP connection to open, whatever the read timeout is.
CONNECT_TIMEOUT = 10.0

#: Requests a store may send at once, as Order Desk documents it.
DEFAULT_BURST = 20

#: Requests per second that flow back into a store's bucket, as Order Desk documents it.
DEFAULT_REFILL_PER_SECOND = 3.0

#: The extras an ``orderdesk`` connection understands. Anything else is refused rather than ignored,
#: so that a misspelt option cannot silently fall back to a default.
EXTRA_FIELDS = ("timeout", "rate_limit_burst", "rate_limit_per_second", "order_page_url")
