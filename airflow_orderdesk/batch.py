"""Batch export: many exports resolved with as few searches as possible, each entry with its own result.

A morning's batch or a busy backfill is bound by Order Desk's rate limit, not by CPU, so the batch
spends requests carefully: the orders of all entries are found with one search over the folders (or the
date range) they share, 500 orders a page, and matched on the client; only entries not found that way
are looked up one by one. Items that already hold their data are not written; every other changed item
costs one write. With ``verify_writes`` the whole batch is read back with the same search, so lost-key
protection costs a page per 500 orders rather than a read per order.

A failing entry does not stop the others: every entry is tried, and the batch fails at the end naming
each failed entry, so that an Airflow retry redoes only what is left (the rest is then unchanged).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow_orderdesk.exceptions import (
    OrderDeskConfigurationError,
    OrderDeskError,
    OrderDeskOrderNotFoundError,
)
from airflow_orderdesk.export import ExportRequest, MetadataWriter, TaskLog, add_history_note
from airflow_orderdesk.lookup import match_items
from airflow_orderdesk.metadata import merge_metadata
from airflow_orderdesk.payloads import id_text

if TYPE_CHECKING:
    from datetime import datetime

    from airflow_orderdesk.hooks.orderdesk import OrderDeskHook

__all__ = ["BatchSearch", "OrderDeskBatchError", "parse_entries", "run_batch_export"]

#: The keys an entry may have: the single export's per-order arguments.
ENTRY_KEYS = frozenset(
    {"order_lookup_id", "order_lookup_type", "order_item_lookup_name", "order_item_lookup_value", "data"}
)


class OrderDeskBatchError(OrderDeskError):
    """Some entries of a batch failed; the others were written. The message names every failed entry."""


class BatchSearch:
    """
    Where the batch's orders are: folders by name, and optionally the interval they were added in.

    :param folders: folder names to search, such as ``["New", "Prepared"]``; empty for every folder.
    :param added_between: ``(start, end)`` of the interval the orders were added in, time-zone aware.
    """

    def __init__(
        self, folders: list[str] | None = None, added_between: tuple[datetime, datetime] | None = None
    ) -> None:
        self.folders = list(folders or [])
        self.added_between = added_between
        self._folder_ids: str | None = None

    @property
    def is_empty(self) -> bool:
        """Whether there is nothing to search by, so every entry is looked up on its own."""
        return not self.folders and self.added_between is None

    def orders(self, hook: OrderDeskHook) -> list[dict[str, Any]]:
        """Every order in the folders (and interval), following every page."""
        filters: dict[str, Any] = {}
        if self.folders and self._folder_ids is None:
            # Resolved once: reading the batch back must not spend a request on the folders again.
            by_name = {name.casefold(): folder_id for folder_id, name in hook.get_folders().items()}
            missing = [name for name in self.folders if name.casefold() not in by_name]
            if missing:
                raise OrderDeskConfigurationError(
                    "search_folders", f"has {', '.join(missing)}, which the store has no folder for"
                )
            self._folder_ids = ",".join(by_name[name.casefold()] for name in self.folders)
        if self._folder_ids:
            filters["folder_id"] = self._folder_ids
        if self.added_between is not None:
            return hook.find_orders_added_between(*self.added_between, **filters)
        return hook.search_orders(**filters)


def parse_entries(entries: Any, *, skip_empty_values: bool) -> list[ExportRequest | OrderDeskError]:
    """
    Check every entry; a bad entry becomes its error instead of stopping the batch.

    :param entries: a list of mappings with the single export's per-order arguments, or its JSON or
        Python-literal text (what non-native templating makes of a list).
    :raises OrderDeskConfigurationError: when ``entries`` itself is not a list.
    """
    if isinstance(entries, str):
        import ast

        try:
            entries = json.loads(entries)
        except ValueError:
            try:
                entries = ast.literal_eval(entries)
            except (ValueError, SyntaxError):
                raise OrderDeskConfigurationError(
                    "entries", "is text that is not a JSON list of entries"
                ) from None
    # Sequence, not list: the outputs of a mapped upstream task arrive as a lazy sequence.
    if isinstance(entries, (str, bytes)) or not isinstance(entries, Sequence):
        raise OrderDeskConfigurationError(
            "entries",
            f"is a {type(entries).__name__}; expected a list of mappings with order_lookup_id and data",
        )
    parsed: list[ExportRequest | OrderDeskError] = []
    for index, entry in enumerate(entries):
        try:
            if not isinstance(entry, Mapping):
                raise OrderDeskConfigurationError(f"entries[{index}]", "is not a mapping")
            unknown = sorted(set(entry) - ENTRY_KEYS)
            if unknown:
                raise OrderDeskConfigurationError(
                    f"entries[{index}]",
                    f"has unknown keys {', '.join(unknown)}; use {', '.join(sorted(ENTRY_KEYS))}",
                )
            parsed.append(
                ExportRequest.from_arguments(
                    order_lookup_id=entry.get("order_lookup_id"),
                    order_lookup_type=entry.get("order_lookup_type", "source_id"),
                    order_item_lookup_name=entry.get("order_item_lookup_name"),
                    order_item_lookup_value=entry.get("order_item_lookup_value"),
                    data=entry.get("data"),
                    skip_empty_values=skip_empty_values,
                )
            )
        except OrderDeskError as error:
            parsed.append(error)
    return parsed


def _describe(request: ExportRequest) -> str:
    return f"{request.order.describe()}, {request.item.describe()}"


def run_batch_export(
    hook: OrderDeskHook,
    entries: list[ExportRequest | OrderDeskError],
    log: TaskLog,
    *,
    search: BatchSearch | None = None,
    skip_missing_orders: bool = False,
    dry_run: bool = False,
    verify_writes: bool = True,
    history_note: str | None = None,
    writer: MetadataWriter | None = None,
) -> dict[str, Any]:
    """
    Carry out every entry and return the batch's summary; entries fail on their own.

    :param history_note: added once to each order that was written to.

    :raises OrderDeskBatchError: after every other entry was written, naming each entry that failed.
    """
    search = search or BatchSearch()
    found: list[dict[str, Any]] = [] if search.is_empty else search.orders(hook)
    read_at = time.monotonic()
    log.info("The batch search found %d order(s) for %d entries", len(found), len(entries))
    by_source_id: dict[str, list[dict[str, Any]]] = {}
    by_id: dict[str, dict[str, Any]] = {}
    for order in found:
        by_source_id.setdefault(id_text(order.get("source_id", "")), []).append(order)
        by_id[order["id"]] = order

    results: list[dict[str, Any]] = [{} for _ in entries]
    targets: dict[tuple[str, str], tuple[dict[str, Any], dict[str, str], list[int]]] = {}
    looked_up_alone = 0
    for index, entry in enumerate(entries):
        if isinstance(entry, OrderDeskError):
            results[index] = {"entry": index, "status": "failed", "error": str(entry)}
            continue
        try:
            if entry.order.kind == "order_id":
                orders = [by_id[entry.order.value]] if entry.order.value in by_id else []
            else:
                orders = list(by_source_id.get(entry.order.value, []))
            if not orders:
                looked_up_alone += 1
                orders = hook.find_orders(entry.order.value, entry.order.kind)
                for order in orders:
                    by_id.setdefault(order["id"], order)
            if not orders:
                raise OrderDeskOrderNotFoundError(f"No order in Order Desk has {entry.order.describe()}")
            for order_id, item in match_items(orders, entry.item):
                _, data, owners = targets.setdefault((order_id, item["id"]), (item, {}, []))
                # Two entries for one item are written together; the later entry wins on a shared key.
                data.update(entry.data)
                owners.append(index)
            results[index] = {"entry": index, "lookup": entry.order.value, "status": "found", "items": []}
        except OrderDeskOrderNotFoundError as error:
            status = "skipped" if skip_missing_orders else "failed"
            results[index] = {
                "entry": index,
                "lookup": entry.order.value,
                "status": status,
                "error": str(error),
            }
        except OrderDeskError as error:
            results[index] = {
                "entry": index,
                "lookup": entry.order.value,
                "status": "failed",
                "error": str(error),
            }

    to_write = []
    for (order_id, item_id), (item, data, owners) in targets.items():
        change = merge_metadata(item.get("metadata") or {}, data)
        status = "unchanged" if change.is_noop else ("planned" if dry_run else "updated")
        if not change.is_noop:
            to_write.append((order_id, item, data))
        log.info(
            "Order %s item %s: %s; keys set: %s; keys unchanged: %s",
            order_id,
            item_id,
            status,
            ", ".join(change.changed) or "none",
            ", ".join(change.unchanged) or "none",
        )
        for owner in owners:
            results[owner]["items"].append(
                {"order_id": order_id, "item_id": item_id, "status": status, "keys_set": list(change.changed)}
            )

    if to_write and not dry_run:
        writer = writer or MetadataWriter(hook, log, verify=verify_writes)

        def read_back(order_ids: list[str]) -> dict[str, dict[str, Any]]:
            again = {} if search.is_empty else {order["id"]: order for order in search.orders(hook)}
            return {order_id: again.get(order_id) or hook.get_order(order_id) for order_id in order_ids}

        try:
            writer.write_items(to_write, read_at, read_back)
        except OrderDeskError as error:
            # Writes are not tied to one entry: every entry with something to write shares the failure.
            for result in results:
                if any(item["status"] == "updated" for item in result.get("items", [])):
                    result.update(status="failed", error=str(error))

    written_orders = {
        item["order_id"]
        for result in results
        if result.get("status") == "found"
        for item in result["items"]
        if item["status"] == "updated"
    }
    if history_note and not dry_run:
        for order_id in sorted(written_orders):
            add_history_note(hook, order_id, history_note, log)

    for result in results:
        if result.get("status") == "found":
            result["status"] = "ok"
    statuses = [result["status"] for result in results]
    item_statuses = [item["status"] for result in results for item in result.get("items", [])]
    summary = {
        "dry_run": dry_run,
        "entries": results,
        "totals": {
            "entries": len(results),
            "ok": statuses.count("ok"),
            "skipped": statuses.count("skipped"),
            "failed": statuses.count("failed"),
            "items_updated": item_statuses.count("updated"),
            "items_unchanged": item_statuses.count("unchanged"),
            "items_planned": item_statuses.count("planned"),
            "looked_up_alone": looked_up_alone,
        },
    }
    failed = [result for result in results if result["status"] == "failed"]
    if failed:
        names = "; ".join(
            f"entry {result['entry']} ({result.get('lookup', '?')}): {result['error']}" for result in failed
        )
        raise OrderDeskBatchError(
            f"{len(failed)} of {len(results)} entries failed, the rest were written: {names}"
        )
    return summary
