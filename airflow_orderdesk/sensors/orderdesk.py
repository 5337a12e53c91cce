"""A sensor that waits until an order has reached Order Desk."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue

from airflow_orderdesk.defaults import DEFAULT_CONN_ID
from airflow_orderdesk.exceptions import (
    OrderDeskError,
    OrderDeskMalformedResponseError,
    OrderDeskRateLimitError,
    OrderDeskServerError,
    OrderDeskTransportError,
)
from airflow_orderdesk.lookup import find_order_ids, parse_item_lookup, parse_order_lookup

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow.sdk import Context

__all__ = ["OrderDeskOrderSensor"]

#: Failures that say nothing about the order, only about Order Desk right now.
TRANSIENT_ERRORS = (
    OrderDeskServerError,
    OrderDeskTransportError,
    OrderDeskMalformedResponseError,
    OrderDeskRateLimitError,
)

#: Every poke spends one request of the store's rate limit, shared with every other client of the
#: store, so the sensor polls every two minutes unless told otherwise.
DEFAULT_POKE_INTERVAL = 120.0


class OrderDeskOrderSensor(BaseSensorOperator):
    """
    Wait until an order exists in Order Desk, and optionally until it has a given item.

    Render pipelines often finish before the shop's order has been imported into Order Desk. Use
    ``mode="reschedule"`` to free the worker slot between pokes, or ``deferrable=True`` to wait in the
    triggerer. The sensor returns (and pushes to XCom) the ids of the orders it found.

    :param order_lookup_id: the shop's order number, or Order Desk's internal id (templated).
    :param orderdesk_conn_id: the ``orderdesk`` connection.
    :param order_lookup_type: ``source_id`` or ``order_id``, as for the export (templated).
    :param order_item_lookup_name: a metadata key an item of the order must have (templated).
    :param order_item_lookup_value: the value it must have (templated).
    :param deferrable: wait in the triggerer instead of a worker.
    """

    template_fields: Sequence[str] = (
        "order_lookup_id",
        "order_lookup_type",
        "order_item_lookup_name",
        "order_item_lookup_value",
    )
    template_ext: Sequence[str] = ()

    def __init__(
        self,
        *,
        order_lookup_id: Any,
        orderdesk_conn_id: str = DEFAULT_CONN_ID,
        order_lookup_type: str = "source_id",
        order_item_lookup_name: str | None = None,
        order_item_lookup_value: Any = None,
        deferrable: bool = False,
        poke_interval: float = DEFAULT_POKE_INTERVAL,
        **kwargs: Any,
    ) -> None:
        super().__init__(poke_interval=poke_interval, **kwargs)
        self.orderdesk_conn_id = orderdesk_conn_id
        self.order_lookup_id = order_lookup_id
        self.order_lookup_type = order_lookup_type
        self.order_item_lookup_name = order_item_lookup_name
        self.order_item_lookup_value = order_item_lookup_value
        self.deferrable = deferrable

    def poke(self, context: Context) -> PokeReturnValue:
        lookup = parse_order_lookup(self.order_lookup_id, self.order_lookup_type)
        item_lookup = parse_item_lookup(self.order_item_lookup_name, self.order_item_lookup_value)
        # Imported here rather than at the top: DAG files import the sensor, and only a running task needs
        # the HTTP stack the hook brings.
        from airflow_orderdesk.hooks.orderdesk import connected_hook

        hook = connected_hook(self.orderdesk_conn_id)
        try:
            orders = hook.find_orders(lookup.value, lookup.kind)
        except TRANSIENT_ERRORS as error:
            # The hook has already retried; an outage is a reason to look again later, not to fail.
            self.log.warning("Looking for the order failed (%s); trying again at the next poke", error)
            return PokeReturnValue(is_done=False)
        order_ids = find_order_ids(orders, item_lookup)
        if not order_ids:
            self.log.info("No order with %s yet (%s)", lookup.describe(), item_lookup.describe())
        return PokeReturnValue(is_done=bool(order_ids), xcom_value=order_ids)

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        # One look first: a sensor whose order is already there should not go through the triggerer.
        first = self.poke(context)
        if first.is_done:
            return first.xcom_value
        lookup = parse_order_lookup(self.order_lookup_id, self.order_lookup_type)
        item_lookup = parse_item_lookup(self.order_item_lookup_name, self.order_item_lookup_value)
        from airflow_orderdesk.triggers.orderdesk import OrderDeskOrderTrigger

        self.defer(
            trigger=OrderDeskOrderTrigger(
                orderdesk_conn_id=self.orderdesk_conn_id,
                lookup_value=lookup.value,
                lookup_type=lookup.kind,
                item_lookup_name=item_lookup.name,
                item_lookup_value=item_lookup.value,
                poke_interval=self.poke_interval,
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout),
        )

    def execute_complete(self, context: Context, event: dict[str, Any]) -> list[str]:
        """Called when the trigger fires: the order ids, or the error it met."""
        if event.get("status") != "success":
            raise OrderDeskError(str(event.get("message", "the trigger failed")))
        order_ids: list[str] = event["order_ids"]
        self.log.info("Found order(s) %s", ", ".join(order_ids))
        return order_ids
