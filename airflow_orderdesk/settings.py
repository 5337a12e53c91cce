"""How an ``orderdesk`` connection's fields are read, checked and turned into request settings.

Pure logic with no Airflow import, so every rule about what a valid connection looks like is tested
without Airflow machinery. The hook is the only place that turns an Airflow connection into
:class:`ConnectionSettings`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from airflow_orderdesk.defaults import (
    CONNECT_TIMEOUT,
    DEFAULT_API_URL,
    DEFAULT_BURST,
    DEFAULT_ORDER_PAGE_URL,
    DEFAULT_REFILL_PER_SECOND,
    DEFAULT_TIMEOUT,
    EXTRA_FIELDS,
)
from airflow_orderdesk.exceptions import OrderDeskConfigurationError

__all__ = [
    "CONNECT_TIMEOUT",
    "EXTRA_FIELDS",
    "ConnectionSettings",
    "parse_connection",
]

_PATH_OF_API = "/api/v2"
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


@dataclass(frozen=True)
class ConnectionSettings:
    """
    Everything the hook needs from an ``orderdesk`` connection, checked.

    :param api_url: the API's base URL, without a trailing slash.
    :param store_id: the numeric store id, as text.
    :param api_key: the store's API key.
    :param timeout: seconds to wait for one answer.
    :param rate_limit_burst: requests the store may send at once.
    :param rate_limit_per_second: requests per second after the burst.
    :param order_page_url: the order page pattern, with ``{order_id}`` in it.
    """

    api_url: str
    store_id: str
    api_key: str
    timeout: float = DEFAULT_TIMEOUT
    rate_limit_burst: int = DEFAULT_BURST
    rate_limit_per_second: float = DEFAULT_REFILL_PER_SECOND
    order_page_url: str = DEFAULT_ORDER_PAGE_URL

    def __repr__(self) -> str:
        # The dataclass repr would print the key; a repr ends up in logs and tracebacks.
        return (
            f"ConnectionSettings(api_url={self.api_url!r}, store_id={self.store_id!r}, api_key='***', "
            f"timeout={self.timeout!r}, rate_limit_burst={self.rate_limit_burst!r}, "
            f"rate_limit_per_second={self.rate_limit_per_second!r})"
        )

    @property
    def is_plain_http_off_loopback(self) -> bool:
        """Whether the API key would cross a network unencrypted."""
        parts = urlsplit(self.api_url)
        return parts.scheme == "http" and (parts.hostname or "") not in _LOOPBACK_HOSTS

    def order_url(self, order_id: str) -> str:
        """The address of an order's page in Order Desk."""
        return self.order_page_url.replace("{order_id}", str(order_id))


def parse_api_url(host: str | None) -> str:
    """
    Turn the connection's host field into the API's base URL.

    Empty means Order Desk's own API. A host without a scheme gets ``https``, never plain ``http``; a
    host without a path gets Order Desk's ``/api/v2``. A trailing slash is dropped so that endpoints join
    cleanly.
    """
    text = (host or "").strip()
    if not text:
        return DEFAULT_API_URL
    if any(ch.isspace() for ch in text):
        raise OrderDeskConfigurationError("API URL (host)", f"must not contain white space; got {text!r}")
    if "://" not in text:
        text = f"https://{text}"
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https"):
        raise OrderDeskConfigurationError(
            "API URL (host)",
            f"must be an http:// or https:// address such as {DEFAULT_API_URL}; got scheme {parts.scheme!r}",
        )
    if not parts.hostname:
        raise OrderDeskConfigurationError(
            "API URL (host)", f"has no host name; expected an address such as {DEFAULT_API_URL}"
        )
    if parts.username or parts.password:
        raise OrderDeskConfigurationError(
            "API URL (host)", "must not carry credentials; put the API key in the API Key (password) field"
        )
    if parts.query or parts.fragment:
        raise OrderDeskConfigurationError("API URL (host)", "must not have a query string or a fragment")
    path = parts.path.rstrip("/") or _PATH_OF_API
    return f"{parts.scheme}://{parts.netloc}{path}"


def _default_order_page_url(api_url: str) -> str:
    if api_url == DEFAULT_API_URL:
        return DEFAULT_ORDER_PAGE_URL
    parts = urlsplit(api_url)
    return f"{parts.scheme}://{parts.netloc}{urlsplit(DEFAULT_ORDER_PAGE_URL).path}"


def _number(extra: Mapping[str, Any], name: str, *, minimum: float, integer: bool) -> float | None:
    """Read a numeric extra that may arrive as a number or as text, as the UI form stores it."""
    value = extra.get(name)
    if value is None or value == "":
        return None
    kind = "a whole number" if integer else "a number"
    if isinstance(value, bool):
        raise OrderDeskConfigurationError(f"extra {name!r}", f"must be {kind} >= {minimum:g}; got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise OrderDeskConfigurationError(
            f"extra {name!r}", f"must be {kind} >= {minimum:g}; got {value!r}"
        ) from None
    if not math.isfinite(number) or number < minimum or (integer and not number.is_integer()):
        raise OrderDeskConfigurationError(f"extra {name!r}", f"must be {kind} >= {minimum:g}; got {value!r}")
    return number


def parse_connection(
    host: str | None, login: str | None, password: str | None, extra: Mapping[str, Any] | None
) -> ConnectionSettings:
    """
    Check an ``orderdesk`` connection's fields and return its settings.

    :param host: the API URL; empty for Order Desk's own.
    :param login: the store id.
    :param password: the API key.
    :param extra: the connection's extras, already parsed from JSON.
    :raises OrderDeskConfigurationError: naming the field at fault and what would be valid.
    """
    api_url = parse_api_url(host)

    store_id = (login or "").strip()
    if not store_id:
        raise OrderDeskConfigurationError(
            "Store ID (login)", "is empty; copy it from Store Settings > API in Order Desk"
        )
    if not store_id.isascii() or not store_id.isdigit():
        raise OrderDeskConfigurationError(
            "Store ID (login)", f"must be Order Desk's numeric store id, such as 12345; got {store_id!r}"
        )

    # The key itself never goes into a message, only what is wrong with it.
    api_key = password or ""
    if not api_key.strip():
        raise OrderDeskConfigurationError(
            "API Key (password)", "is empty; copy it from Store Settings > API in Order Desk"
        )
    if any(ch.isspace() for ch in api_key) or not api_key.isprintable() or not api_key.isascii():
        raise OrderDeskConfigurationError(
            "API Key (password)",
            "holds white space or characters that cannot travel in an HTTP header; paste the key again",
        )

    extra = extra or {}
    if not isinstance(extra, Mapping):
        raise OrderDeskConfigurationError("extra", "must be a JSON object")
    unknown = sorted(set(extra) - set(EXTRA_FIELDS))
    if unknown:
        raise OrderDeskConfigurationError(
            "extra",
            f"has unknown option(s) {', '.join(unknown)}; known options are {', '.join(EXTRA_FIELDS)}",
        )

    timeout = _number(extra, "timeout", minimum=1, integer=False)
    burst = _number(extra, "rate_limit_burst", minimum=1, integer=True)
    rate = _number(extra, "rate_limit_per_second", minimum=0.1, integer=False)

    order_page_url = extra.get("order_page_url") or _default_order_page_url(api_url)
    if not isinstance(order_page_url, str) or "{order_id}" not in order_page_url:
        raise OrderDeskConfigurationError(
            "extra 'order_page_url'",
            "must be an address with {order_id} in it, such as " + DEFAULT_ORDER_PAGE_URL,
        )
    if urlsplit(order_page_url).scheme not in ("http", "https"):
        raise OrderDeskConfigurationError(
            "extra 'order_page_url'", "must start with http:// or https://, such as " + DEFAULT_ORDER_PAGE_URL
        )

    return ConnectionSettings(
        api_url=api_url,
        store_id=store_id,
        api_key=api_key,
        timeout=DEFAULT_TIMEOUT if timeout is None else timeout,
        rate_limit_burst=DEFAULT_BURST if burst is None else int(burst),
        rate_limit_per_second=DEFAULT_REFILL_PER_SECOND if rate is None else rate,
        order_page_url=order_page_url,
    )
