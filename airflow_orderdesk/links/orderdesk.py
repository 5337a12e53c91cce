"""The "Order Desk order" button on a task: a link to the order the task worked on."""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow.sdk import BaseOperatorLink
from airflow.sdk.execution_time.xcom import XCom

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator
    from airflow.sdk.types import TaskInstanceKey

__all__ = ["ORDER_URL_XCOM_KEY", "OrderDeskOrderLink"]

#: The XCom key under which a task leaves the address of its order's page for the link.
ORDER_URL_XCOM_KEY = "orderdesk_order_url"


class OrderDeskOrderLink(BaseOperatorLink):
    """
    Opens the order a task updated in Order Desk.

    The task pushes the address under :data:`ORDER_URL_XCOM_KEY` while it runs, because only then is the
    order's internal id known; when a lookup found several orders (a split order), the link opens the
    first. The address comes from the connection's ``order_page_url``.
    """

    name = "Order Desk order"

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        """The order page's address, or an empty string when the task found no order."""
        url = XCom.get_value(ti_key=ti_key, key=ORDER_URL_XCOM_KEY)
        return str(url) if url else ""
