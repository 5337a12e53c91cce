"""Order Desk's two clocks: ``date_added`` is in UTC, but search parameters are in the store's time zone.

A search for "the orders added in this data interval" must therefore turn the interval into the store's
local wall-clock time before asking, and then keep only the orders whose UTC ``date_added`` really falls
in it (local times repeat or vanish around daylight-saving changes, and a search's end is inclusive).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from airflow_orderdesk.exceptions import OrderDeskMalformedResponseError

__all__ = ["ORDER_DESK_DATE_FORMAT", "added_within", "parse_order_date", "search_window", "store_zone"]

#: How Order Desk writes a moment, in both clocks.
ORDER_DESK_DATE_FORMAT = "%Y-%m-%d %H:%M:%S"


def store_zone(name: str | None) -> ZoneInfo:
    """The store's time zone from ``store.settings.timezone``; UTC when the store does not say."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise OrderDeskMalformedResponseError(
            200, f"the store's time zone {name!r} is not a known zone"
        ) from None


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("a moment without a time zone is ambiguous; pass an aware datetime")
    return moment.astimezone(UTC)


def search_window(start: datetime, end: datetime, zone: ZoneInfo) -> tuple[str, str]:
    """
    ``search_start_date`` and ``search_end_date`` covering ``[start, end)`` in the store's local time.

    The window is widened by an hour on each side, so that a daylight-saving change cannot make it miss
    an order; :func:`added_within` then keeps exactly the orders of ``[start, end)``.
    """
    local_start = (_utc(start) - timedelta(hours=1)).astimezone(zone)
    local_end = (_utc(end) + timedelta(hours=1)).astimezone(zone)
    return local_start.strftime(ORDER_DESK_DATE_FORMAT), local_end.strftime(ORDER_DESK_DATE_FORMAT)


def parse_order_date(text: str) -> datetime:
    """A ``date_added`` or ``date_updated`` value, which Order Desk writes in UTC."""
    return datetime.strptime(text, ORDER_DESK_DATE_FORMAT).replace(tzinfo=UTC)


def added_within(order_date_added: str, start: datetime, end: datetime) -> bool:
    """Whether an order's ``date_added`` falls in ``[start, end)``."""
    return _utc(start) <= parse_order_date(order_date_added) < _utc(end)
