"""The trigger behind the deferrable order sensor: polls Order Desk from the triggerer with aiohttp."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

import aiohttp
from airflow.sdk import BaseHook
from airflow.sdk.exceptions import AirflowNotFoundException
from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_orderdesk import __version__
from airflow_orderdesk.defaults import CONNECT_TIMEOUT
from airflow_orderdesk.exceptions import (
    OrderDeskAuthenticationError,
    OrderDeskConfigurationError,
    OrderDeskError,
    OrderDeskNotFoundError,
    OrderDeskRateLimitError,
)
from airflow_orderdesk.lookup import ItemLookup, find_order_ids
from airflow_orderdesk.pacing import bucket_for_store
from airflow_orderdesk.payloads import normalise_order
from airflow_orderdesk.responses import read_envelope, retry_after_seconds
from airflow_orderdesk.settings import parse_connection

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from airflow_orderdesk.settings import ConnectionSettings

__all__ = ["OrderDeskOrderTrigger"]

#: Orders per search page; the sensor only needs to know whether any exact match exists.
_PAGE_SIZE = 500


class _AsyncOrderDesk:
    """Just enough of the hook, asynchronous: paced GETs whose 429s are waited out."""

    def __init__(self, settings: ConnectionSettings, session: aiohttp.ClientSession) -> None:
        self.settings = settings
        self.session = session
        self.bucket = bucket_for_store(
            settings.api_url, settings.store_id, settings.rate_limit_burst, settings.rate_limit_per_second
        )

    async def get(self, endpoint: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        while True:
            while (wait := self.bucket.try_take()) > 0:
                await asyncio.sleep(wait)
            async with self.session.get(f"{self.settings.api_url}/{endpoint}", params=params) as response:
                body = await response.read()
                remaining = response.headers.get("X-Tokens-Remaining", "")
                if remaining.isdigit():
                    self.bucket.observe_remaining(int(remaining))
                try:
                    return read_envelope(response.status, body, method="GET", endpoint=endpoint)
                except OrderDeskRateLimitError:
                    wait = retry_after_seconds(response.headers) or 1 / self.settings.rate_limit_per_second
                    self.bucket.drain(wait)
                    await asyncio.sleep(wait)

    async def find_orders(self, value: str, kind: str) -> list[dict[str, Any]]:
        if kind == "order_id":
            try:
                envelope = await self.get(f"orders/{value}")
            except OrderDeskNotFoundError:
                return []
            return [normalise_order(envelope["order"])]
        orders: list[dict[str, Any]] = []
        offset = 0
        while True:
            envelope = await self.get("orders", {"source_id": value, "limit": _PAGE_SIZE, "offset": offset})
            page = envelope.get("orders") or []
            orders.extend(order for order in map(normalise_order, page) if order.get("source_id") == value)
            if len(page) < _PAGE_SIZE:
                return orders
            offset += len(page)


class OrderDeskOrderTrigger(BaseTrigger):
    """
    Fires once an order with the lookup exists in Order Desk (and has the looked-up item, if one is given).

    Only the connection id is serialised: the API key never enters the triggers table. A failed poll is
    logged and tried again at the next interval, except a refused key or a broken connection, which
    fires an error event at once.

    :param orderdesk_conn_id: the ``orderdesk`` connection.
    :param lookup_value: the shop's order number or Order Desk's internal id.
    :param lookup_type: ``source_id`` or ``order_id``.
    :param item_lookup_name: the metadata key an item must have, or ``None``.
    :param item_lookup_value: the value it must have.
    :param poke_interval: seconds between two polls.
    """

    def __init__(
        self,
        *,
        orderdesk_conn_id: str,
        lookup_value: str,
        lookup_type: str = "source_id",
        item_lookup_name: str | None = None,
        item_lookup_value: str | None = None,
        poke_interval: float = 300.0,
    ) -> None:
        super().__init__()
        self.orderdesk_conn_id = orderdesk_conn_id
        self.lookup_value = lookup_value
        self.lookup_type = lookup_type
        self.item_lookup_name = item_lookup_name
        self.item_lookup_value = item_lookup_value
        self.poke_interval = poke_interval

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "orderdesk_conn_id": self.orderdesk_conn_id,
                "lookup_value": self.lookup_value,
                "lookup_type": self.lookup_type,
                "item_lookup_name": self.item_lookup_name,
                "item_lookup_value": self.item_lookup_value,
                "poke_interval": self.poke_interval,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        try:
            connection = await BaseHook.aget_connection(self.orderdesk_conn_id)
            settings = parse_connection(
                connection.host, connection.login, connection.password, connection.extra_dejson
            )
        except (OrderDeskConfigurationError, AirflowNotFoundException) as error:
            yield TriggerEvent(
                {"status": "error", "message": f"Connection {self.orderdesk_conn_id}: {error}"}
            )
            return

        item_lookup = ItemLookup(self.item_lookup_name, self.item_lookup_value)
        headers = {
            "ORDERDESK-STORE-ID": settings.store_id,
            "ORDERDESK-API-KEY": settings.api_key,
            "Accept": "application/json",
            "User-Agent": f"airflow-provider-orderdesk/{__version__} (+Apache Airflow)",
        }
        timeout = aiohttp.ClientTimeout(total=settings.timeout, connect=CONNECT_TIMEOUT)
        async with aiohttp.ClientSession(headers=headers, timeout=timeout) as session:
            client = _AsyncOrderDesk(settings, session)
            polls = 0
            while True:
                polls += 1
                started = time.monotonic()
                try:
                    orders = await client.find_orders(self.lookup_value, self.lookup_type)
                except OrderDeskAuthenticationError as error:
                    yield TriggerEvent({"status": "error", "message": str(error)})
                    return
                except (TimeoutError, OrderDeskError, aiohttp.ClientError) as error:
                    self.log.warning(
                        "Polling Order Desk failed (%s); trying again later", type(error).__name__
                    )
                    orders = []
                order_ids = find_order_ids(orders, item_lookup)
                if order_ids:
                    yield TriggerEvent({"status": "success", "order_ids": order_ids, "polls": polls})
                    return
                self.log.info("No order with %s %r yet", self.lookup_type, self.lookup_value)
                await asyncio.sleep(max(0.0, self.poke_interval - (time.monotonic() - started)))
