"""Order search for the sandbox: the query parameters of ``GET /orders`` read into one plain value.

Order Desk reads the date parameters of a search in the store's own time zone, while it stores and
shows ``date_added`` and ``date_updated`` in UTC. :func:`parse_order_query` does that conversion once,
so the store compares UTC text with UTC text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from airflow_orderdesk.sandbox.documents import MAX_ID, format_utc
from airflow_orderdesk.sandbox.errors import InvalidRequestError

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "SORTABLE_FIELDS", "OrderQuery", "parse_order_query"]

DEFAULT_LIMIT = 50
MAX_LIMIT = 500

#: Fields an order search may be sorted by; each is a column of the store's table.
SORTABLE_FIELDS: tuple[str, ...] = (
    "date_added",
    "date_updated",
    "id",
    "source_id",
    "source_name",
    "email",
    "folder_id",
)


@dataclass(frozen=True)
class OrderQuery:
    """
    One order search; every filter that is set must match (AND).

    :param source_id: the shop's order number to look for.
    :param partial_source_id: whether ``source_id`` matches as a substring instead of exactly.
    :param source_name: the shop the order came from.
    :param folder_ids: the folders to search in; ``None`` searches all, an empty tuple finds nothing.
    :param email: the customer's e-mail address, compared without regard to case.
    :param added_from: earliest ``date_added``, UTC text.
    :param added_to: latest ``date_added``, UTC text.
    :param updated_from: earliest ``date_updated``, UTC text.
    :param updated_to: latest ``date_updated``, UTC text.
    :param order_by: the field to sort by (see :data:`SORTABLE_FIELDS`).
    :param descending: whether to sort from high to low.
    :param limit: most orders to return.
    :param offset: orders to skip before the first one returned.
    """

    source_id: str | None = None
    partial_source_id: bool = False
    source_name: str | None = None
    folder_ids: tuple[int, ...] | None = None
    email: str | None = None
    added_from: str | None = None
    added_to: str | None = None
    updated_from: str | None = None
    updated_to: str | None = None
    order_by: str = "date_added"
    descending: bool = True
    limit: int = DEFAULT_LIMIT
    offset: int = 0


def _local_to_utc(value: str, name: str, zone: ZoneInfo, *, end_of_day: bool) -> str:
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise InvalidRequestError(f"{name} must look like YYYY-MM-DD HH:MM:SS") from exc
    # A bare date means the whole day: an end date must include that day's last second.
    if end_of_day and len(value.strip()) == 10:
        moment = datetime.combine(moment.date(), time(23, 59, 59))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return format_utc(moment.astimezone(UTC))


def _whole_number(params: Mapping[str, str], name: str, default: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        number = int(raw)
    except ValueError as exc:
        raise InvalidRequestError(f"{name} must be a whole number") from exc
    if abs(number) > MAX_ID:
        raise InvalidRequestError(f"{name} must not be above {MAX_ID}")
    return number


def _folder_ids(params: Mapping[str, str], folders: Mapping[int, str]) -> tuple[int, ...] | None:
    wanted: set[int] | None = None
    if params.get("folder_id"):
        wanted = set()
        for part in params["folder_id"].split(","):
            if part.strip():
                # isdigit() also accepts digits such as "²" that int() refuses.
                if not (part.strip().isascii() and part.strip().isdigit() and len(part.strip()) < 19):
                    raise InvalidRequestError(f"Invalid folder_id: {part.strip()}")
                wanted.add(int(part))
    if params.get("folder_name"):
        name = params["folder_name"].casefold()
        named = {folder_id for folder_id, folder in folders.items() if folder.casefold() == name}
        wanted = named if wanted is None else wanted & named
    return None if wanted is None else tuple(sorted(wanted))


def parse_order_query(
    params: Mapping[str, str],
    *,
    timezone: str,
    partial_source_id: bool,
    folders: Mapping[int, str],
) -> OrderQuery:
    """
    Read the query parameters of an order search; unknown parameters are ignored, as Order Desk does.

    :param params: the query parameters.
    :param timezone: the store's time zone, in which the date parameters are read.
    :param partial_source_id: whether ``source_id`` should match as a substring.
    :param folders: the store's folders, to resolve ``folder_name``.
    :raises InvalidRequestError: for a malformed date, sort field, limit or offset.
    """
    zone = ZoneInfo(timezone)
    dates: dict[str, str | None] = {}
    for name in ("search_start_date", "search_end_date", "modified_start_date", "modified_end_date"):
        raw = params.get(name)
        dates[name] = _local_to_utc(raw, name, zone, end_of_day=name.endswith("end_date")) if raw else None

    order_by = params.get("order_by") or "date_added"
    if order_by not in SORTABLE_FIELDS:
        raise InvalidRequestError(f"order_by must be one of {', '.join(SORTABLE_FIELDS)}")
    direction = (params.get("order") or "DESC").upper()
    if direction not in ("ASC", "DESC"):
        raise InvalidRequestError("order must be ASC or DESC")
    limit = _whole_number(params, "limit", DEFAULT_LIMIT)
    if limit > MAX_LIMIT:
        raise InvalidRequestError(f"limit must not be above {MAX_LIMIT}")
    if limit < 1:
        raise InvalidRequestError("limit must be at least 1")
    offset = _whole_number(params, "offset", 0)
    if offset < 0:
        raise InvalidRequestError("offset must not be negative")

    return OrderQuery(
        source_id=params.get("source_id") or None,
        partial_source_id=partial_source_id,
        source_name=params.get("source_name") or None,
        folder_ids=_folder_ids(params, folders),
        email=params.get("email") or None,
        added_from=dates["search_start_date"],
        added_to=dates["search_end_date"],
        updated_from=dates["modified_start_date"],
        updated_to=dates["modified_end_date"],
        order_by=order_by,
        descending=direction == "DESC",
        limit=limit,
        offset=offset,
    )
