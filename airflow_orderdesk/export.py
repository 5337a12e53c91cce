"""The export: find the order and its items, merge the new metadata, write what changed, report.

This is the whole job of :class:`~airflow_orderdesk.operators.orderdesk.OrderDeskExportOperator`,
without the Airflow wrapping, so that it can also run in a plain process (the concurrency tests run it
from many processes at once).

Order Desk offers no conditional update: a writer that read an item before another writer's update
and writes after it silently removes the other writer's keys. :class:`MetadataWriter` closes that gap in
two halves. Its own writes are never built on data older than ``freshness`` seconds (if the rate limit
would hold a write back longer, the item is read again), and after writing it waits long enough for any
such concurrent write to have landed, reads the order again and writes back any of its keys that were
lost. Whichever writer lost keys repairs them, so every key that every writer wrote is there at the end.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from airflow_orderdesk.exceptions import (
    OrderDeskError,
    OrderDeskLostUpdateError,
    OrderDeskOrderNotFoundError,
    OrderDeskStaleReadError,
)
from airflow_orderdesk.lookup import (
    ItemLookup,
    OrderLookup,
    match_items,
    parse_item_lookup,
    parse_order_lookup,
)
from airflow_orderdesk.metadata import check_text, merge_metadata, parse_data

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from airflow_orderdesk.hooks.orderdesk import OrderDeskHook


class TaskLog(Protocol):
    """The part of a logger the export uses; Airflow's task logger and :mod:`logging`'s both fit."""

    def info(self, event: Any, *args: Any) -> Any: ...

    def warning(self, event: Any, *args: Any) -> Any: ...


__all__ = ["ExportRequest", "ItemOutcome", "MetadataWriter", "run_export"]

#: How often a write may find its data stale and read again before the export gives up.
_MOST_STALE_READS = 20

#: The longest history note we send; Order Desk shows notes in a narrow column of the order page.
MAX_HISTORY_NOTE_LENGTH = 1000


@dataclass(frozen=True)
class ExportRequest:
    """
    An export's arguments, checked: what to find and what to write.

    :param order: which orders.
    :param item: which of their items.
    :param data: the metadata to write, every value as text.
    :param history_note: a note for the history of each order written to, or ``None``.
    :param dry_run: find and report, but write nothing.
    """

    order: OrderLookup
    item: ItemLookup
    data: dict[str, str]
    history_note: str | None = None
    dry_run: bool = False

    @classmethod
    def from_arguments(
        cls,
        *,
        order_lookup_id: Any,
        order_lookup_type: Any = "source_id",
        order_item_lookup_name: Any = None,
        order_item_lookup_value: Any = None,
        data: Any,
        skip_empty_values: bool = True,
        history_note: Any = None,
        dry_run: bool = False,
    ) -> ExportRequest:
        """
        Check every argument as the operator received it (after templating) and build the request.

        :raises OrderDeskConfigurationError: naming the argument at fault and what would be valid.
        """
        order = parse_order_lookup(order_lookup_id, order_lookup_type)
        item = parse_item_lookup(order_item_lookup_name, order_item_lookup_value)
        metadata = parse_data(data, lookup_name=item.name, skip_empty_values=skip_empty_values)
        note = None
        if history_note is not None and str(history_note).strip():
            note = check_text("history_note", str(history_note).strip(), limit=MAX_HISTORY_NOTE_LENGTH)
        return cls(order=order, item=item, data=metadata, history_note=note, dry_run=dry_run)


@dataclass
class ItemOutcome:
    """
    What happened to one item.

    :param order_id: the order's internal id.
    :param item_id: the item's id.
    :param status: ``updated``, ``unchanged``, or ``planned`` in a dry run.
    :param keys_set: keys whose value was (or would be) written.
    :param keys_unchanged: keys the item already held with the same value.
    """

    order_id: str
    item_id: str
    status: str
    keys_set: list[str] = field(default_factory=list)
    keys_unchanged: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The outcome for XCom."""
        return {
            "item_id": self.item_id,
            "status": self.status,
            "keys_set": list(self.keys_set),
            "keys_unchanged": list(self.keys_unchanged),
        }


@dataclass
class _Write:
    """One item's write in progress: the item as last read, and what we wrote to it."""

    order_id: str
    item: dict[str, Any]
    read_at: float
    data: Mapping[str, str]
    written: dict[str, str] = field(default_factory=dict)
    previous: dict[str, Any] = field(default_factory=dict)


class MetadataWriter:
    """
    Writes metadata into order items without losing keys that others write at the same time.

    :param hook: the hook to write through.
    :param log: where to log one line per item.
    :param verify: read the orders back after writing and repair lost keys (see the module docstring).
        Without it each order costs one request less, writes may be built on older data, and a
        concurrent writer may remove our keys.
    :param freshness: the oldest, in seconds, that the data a write is built on may be.
    :param max_rounds: how many times lost keys are written back before giving up.
    :param sleep: the function that waits; tests pass a fake one.
    :param jitter: a source of random numbers in [0, 1) for spreading out repairs.
    """

    def __init__(
        self,
        hook: OrderDeskHook,
        log: TaskLog,
        *,
        verify: bool = True,
        freshness: float = 1.0,
        max_rounds: int = 8,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.hook = hook
        self.log = log
        self.verify = verify
        self.freshness = freshness
        self.max_rounds = max_rounds
        self._sleep = sleep
        self._jitter = jitter

    def _put(self, write: _Write, data: Mapping[str, str], refresh: Callable[[], None]) -> float:
        """
        Merge ``data`` into the item and write it; return how long the write took.

        :param refresh: reads the item again (and perhaps others with it) when its data has gone stale.
        """
        stale_reads = 0
        while True:
            change = merge_metadata(write.item.get("metadata") or {}, data)
            if change.is_noop:
                return 0.0
            for key in change.changed:
                if key not in write.written:
                    write.previous[key] = (write.item.get("metadata") or {}).get(key)
            started = time.monotonic()
            # Only a verified write promises not to undo another writer's keys, and only it needs fresh data.
            not_after = write.read_at + self.freshness if self.verify else None
            try:
                self.hook.update_order_item(
                    write.order_id, write.item, metadata=change.metadata, not_after=not_after
                )
            except OrderDeskStaleReadError:
                stale_reads += 1
                if stale_reads > _MOST_STALE_READS:
                    raise OrderDeskStaleReadError(
                        f"Order {write.order_id} item {write.item['id']}: the rate limit kept every write "
                        f"from following its read within {self.freshness:g} s, {_MOST_STALE_READS} times"
                    ) from None
                self.log.info(
                    "Order %s item %s: reading again before writing", write.order_id, write.item["id"]
                )
                refresh()
                continue
            write.written.update({key: data[key] for key in change.changed})
            return time.monotonic() - started

    def _read_again(self, write: _Write) -> None:
        # The read and its write must both go out within `freshness`: take both tokens before reading, or
        # a slow bucket, or other workers taking the next token, would waste the read.
        self.hook.reserve_tokens(2)
        write.item = self.hook.get_order_item(write.order_id, write.item["id"])
        write.read_at = time.monotonic()

    def _read_again_together(
        self,
        queue: Sequence[_Write],
        position: int,
        read_back: Callable[[list[str]], dict[str, dict[str, Any]]],
    ) -> None:
        """
        Refresh the writes of ``queue`` from ``position`` on with one read-back (a search page holds 500
        orders).

        Before reading, take a token for the read and one for each write after it, up to a full bucket:
        the writes then go out in one burst, all within ``freshness`` of the read, and a read serves many
        writes instead of one. Waiting costs no throughput: tokens pile up meanwhile.
        """
        writes = queue[position:]
        self.hook.reserve_tokens(len(writes) + 1)
        orders = read_back(sorted({write.order_id for write in writes}))
        now = time.monotonic()
        for write in writes:
            write.item, write.read_at = self._current_item(write, orders), now

    @staticmethod
    def _current_item(write: _Write, orders: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
        items = (orders.get(write.order_id) or {}).get("order_items") or []
        for item in items:
            if item["id"] == write.item["id"]:
                return dict(item)
        raise OrderDeskError(
            f"Order {write.order_id} item {write.item['id']} disappeared while being written"
        )

    def _read_back_each(self, order_ids: list[str]) -> dict[str, dict[str, Any]]:
        return {order_id: self.hook.get_order(order_id) for order_id in order_ids}

    def write(
        self, order_id: str, items: list[dict[str, Any]], data: Mapping[str, str], read_at: float
    ) -> None:
        """
        Write ``data`` into each of ``items`` of one order (as read at ``read_at``) and make sure it stays.

        :raises OrderDeskLostUpdateError: when other writers kept overwriting our keys for
            ``max_rounds`` rounds.
        """
        self.write_items([(order_id, item, data) for item in items], read_at)

    def write_items(
        self,
        targets: Sequence[tuple[str, dict[str, Any], Mapping[str, str]]],
        read_at: float,
        read_back: Callable[[list[str]], dict[str, dict[str, Any]]] | None = None,
    ) -> None:
        """
        Write each ``(order id, item, data)`` target and make sure the data stays.

        :param targets: the items as read at ``read_at``, each with the metadata to merge into it.
        :param read_at: when the items were read (:func:`time.monotonic`).
        :param read_back: reads the orders back for verification in as few requests as it can, and
            refreshes the writes still to go when their data has gone stale; by default one read per
            order for verification, and one read per stale item.
        :raises OrderDeskLostUpdateError: when other writers kept overwriting our keys for
            ``max_rounds`` rounds.
        """
        try:
            self._write_rounds(
                [_Write(order_id, item, read_at, data) for order_id, item, data in targets], read_back
            )
        finally:
            self.hook.release_tokens()

    def _write_rounds(
        self, writes: list[_Write], read_back: Callable[[list[str]], dict[str, dict[str, Any]]] | None
    ) -> None:
        pending: dict[int, Mapping[str, str]] = {index: write.data for index, write in enumerate(writes)}
        # A caller's read-back reads many orders in one request; then a stale write refreshes every write
        # still to go with it, instead of reading its own item alone.
        together = read_back is not None
        read_back = read_back or self._read_back_each
        for round_number in range(self.max_rounds):
            if round_number:
                # Writers that lost keys in the same collision would repair in lockstep and collide
                # again; a random pause spreads them out, and a read just before writing keeps each
                # repair's window too short for another writer to slip in.
                self._sleep(self._jitter() * self.freshness)
                for index in pending:
                    write = writes[index]
                    write.item = self.hook.get_order_item(write.order_id, write.item["id"])
                    write.read_at = time.monotonic()
            slowest = 0.0
            queue = [writes[index] for index in pending]
            for position, (write, keys) in enumerate(zip(queue, pending.values(), strict=True)):
                if together:
                    # The writes still to go are only listed when a refresh needs them.
                    refresh = partial(self._read_again_together, queue, position, read_back)
                else:
                    refresh = partial(self._read_again, write)
                slowest = max(slowest, self._put(write, keys, refresh))
            if not self.verify:
                return
            # A writer that read before our write may still be sending its own: it sends within
            # `freshness` of its read, and its write takes about as long as ours did.
            self._sleep(self.freshness + 2 * slowest)
            orders = read_back(sorted({write.order_id for write in writes}))
            now = time.monotonic()
            pending = {}
            for index, write in enumerate(writes):
                write.item, write.read_at = self._current_item(write, orders), now
                # Only the lost keys are written again: a key another writer changed after us is theirs.
                lost = self._lost_keys(write)
                if lost:
                    pending[index] = {key: write.written[key] for key in lost}
            if not pending:
                return
        failed = ", ".join(f"order {writes[i].order_id} item {writes[i].item['id']}" for i in pending)
        raise OrderDeskLostUpdateError(
            f"Other writers kept overwriting {failed}; gave up after {self.max_rounds} rounds"
        )

    def _lost_keys(self, write: _Write) -> list[str]:
        """Keys we wrote that an older write has since undone; a newer, different value is left alone."""
        metadata = write.item.get("metadata") or {}
        lost = []
        for key, value in write.written.items():
            now = metadata.get(key)
            if now is not None and str(now) == value:
                continue
            if now == write.previous.get(key) or now is None:
                lost.append(key)
            else:
                self.log.warning(
                    "Order %s item %s: key %s was changed by another writer after us; keeping its value",
                    write.order_id,
                    write.item["id"],
                    key,
                )
        if lost:
            self.log.warning(
                "Order %s item %s: a concurrent write removed %s; writing again",
                write.order_id,
                write.item["id"],
                ", ".join(lost),
            )
        return lost


def run_export(
    hook: OrderDeskHook,
    request: ExportRequest,
    log: TaskLog,
    *,
    verify_writes: bool = True,
    writer: MetadataWriter | None = None,
) -> dict[str, Any]:
    """
    Carry out an export and return its JSON-serialisable summary.

    :raises OrderDeskOrderNotFoundError: when no order matches the lookup.
    :raises OrderDeskItemNotFoundError: when no item of the orders matches the item lookup.
    """
    writer = writer or MetadataWriter(hook, log, verify=verify_writes)
    if writer.verify and not request.dry_run:
        # The lookup and the write go out back to back, so the write is built on data well under a
        # second old even while other workers spend from the same bucket; an unspent token goes back.
        hook.reserve_tokens(2)
    try:
        return _export(hook, request, log, writer)
    finally:
        hook.release_tokens()


def _export(
    hook: OrderDeskHook, request: ExportRequest, log: TaskLog, writer: MetadataWriter
) -> dict[str, Any]:
    orders = hook.find_orders(request.order.value, request.order.kind)
    read_at = time.monotonic()
    if not orders:
        raise OrderDeskOrderNotFoundError(f"No order in Order Desk has {request.order.describe()}")
    log.info("Found %d order(s) with %s", len(orders), request.order.describe())

    targets = match_items(orders, request.item)
    summary_orders = []
    totals = {"orders": 0, "items": 0, "updated": 0, "unchanged": 0, "planned": 0}

    for order in orders:
        order_id = order["id"]
        items = [item for target_order_id, item in targets if target_order_id == order_id]
        if not items:
            continue
        outcomes = []
        to_write = []
        for item in items:
            change = merge_metadata(item.get("metadata") or {}, request.data)
            if change.is_noop:
                status = "unchanged"
            else:
                status = "planned" if request.dry_run else "updated"
                to_write.append(item)
            outcomes.append(
                ItemOutcome(order_id, item["id"], status, list(change.changed), list(change.unchanged))
            )
        if to_write and not request.dry_run:
            writer.write(order_id, to_write, request.data, read_at)
        for outcome in outcomes:
            log.info(
                "Order %s item %s: %s; keys set: %s; keys unchanged: %s",
                order_id,
                outcome.item_id,
                outcome.status,
                ", ".join(outcome.keys_set) or "none",
                ", ".join(outcome.keys_unchanged) or "none",
            )
            totals[outcome.status] += 1

        history_note = None
        if to_write and not request.dry_run and request.history_note:
            history_note = add_history_note(hook, order_id, request.history_note, log)

        totals["orders"] += 1
        totals["items"] += len(outcomes)
        summary_orders.append(
            {
                "order_id": order_id,
                "source_id": order.get("source_id"),
                "order_url": hook.order_url(order_id),
                "history_note": history_note,
                "items": [outcome.as_dict() for outcome in outcomes],
            }
        )

    if totals["updated"] == 0 and totals["planned"] == 0:
        log.info("Nothing to change: every item already holds this data")
    return {
        "lookup": {"type": request.order.kind, "value": request.order.value},
        "dry_run": request.dry_run,
        "orders": summary_orders,
        "totals": totals,
    }


def add_history_note(hook: OrderDeskHook, order_id: str, note: str, log: TaskLog) -> str:
    """
    Add the note; a failure is reported, not raised.

    The metadata is already written at this point. Failing the task would make Airflow retry it, the
    retry would find nothing to change and add no note, so the failure would only hide the real state.
    """
    try:
        hook.add_order_history(order_id, note)
    except OrderDeskError as error:
        log.warning("Order %s: the history note could not be added (%s)", order_id, error)
        return "failed"
    log.info("Order %s: history note added", order_id)
    return "added"
