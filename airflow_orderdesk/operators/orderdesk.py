"""Operators that deliver rendered artifacts into Order Desk and move the finished orders on."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowSkipException

from airflow_orderdesk.batch import BatchSearch, parse_entries, run_batch_export
from airflow_orderdesk.defaults import DEFAULT_CONN_ID
from airflow_orderdesk.exceptions import (
    OrderDeskConfigurationError,
    OrderDeskOrderNotFoundError,
)
from airflow_orderdesk.export import ExportRequest, run_export
from airflow_orderdesk.links.orderdesk import ORDER_URL_XCOM_KEY, OrderDeskOrderLink
from airflow_orderdesk.lookup import parse_order_lookup
from airflow_orderdesk.metadata import check_text
from airflow_orderdesk.moving import OrderMover, claim_token
from airflow_orderdesk.payloads import id_text

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow.sdk import Context

    from airflow_orderdesk.hooks.orderdesk import OrderDeskHook

__all__ = ["OrderDeskBatchExportOperator", "OrderDeskExportOperator", "OrderDeskMoveOrderOperator"]


def _check_flag(name: str, value: Any) -> bool:
    """Refuse a non-boolean flag at DAG parse time, where the mistake is cheapest to see."""
    if not isinstance(value, bool):
        raise OrderDeskConfigurationError(name, f"is {value!r}; expected True or False")
    return value


def _connected_hook(orderdesk_conn_id: str) -> OrderDeskHook:
    # Imported only when a task runs: the hook brings the HTTP provider, requests and aiohttp with it,
    # and the scheduler and the DAG processor parse DAG files that import this module all day long.
    from airflow_orderdesk.hooks.orderdesk import connected_hook

    return connected_hook(orderdesk_conn_id)


class OrderDeskExportOperator(BaseOperator):
    """
    Write artifact links (or any metadata) into an order item in Order Desk.

    The order is found by the shop's order number (``source_id``, exact matches only; a split order's
    parts are all updated) or by Order Desk's internal id; the item by a metadata key and value, or as the
    order's only item. ``data`` is merged into the item's metadata: existing keys are overwritten, new ones
    added, the rest kept. Nothing is written when nothing would change, so re-runs and backfills cost no
    writes. The task returns a summary for XCom and links to the order ("Order Desk order").

    .. note::
        Order Desk has no conditional update, so after writing the operator reads the order back and
        writes again any of its keys that a concurrent writer removed (``verify_writes``). That costs
        one read and about a second per order; switch it off only where no two tasks write to the same
        item at once.

    :param order_lookup_id: the shop's order number, or Order Desk's internal id (templated).
    :param data: metadata keys to write and their values (text, numbers, booleans; ``None`` or empty
        values are left out unless ``skip_empty_values`` is false). A JSON object or Python dict literal
        as text, as non-native templating renders a dict, is accepted too. (templated)
    :param orderdesk_conn_id: the ``orderdesk`` connection.
    :param order_lookup_type: ``source_id`` (the shop's order number; the pipeline spellings
        ``OrderId`` and ``ProjectName`` mean the same) or ``order_id`` (Order Desk's internal id).
        (templated)
    :param order_item_lookup_name: the metadata key that identifies the item (templated).
    :param order_item_lookup_value: the value that key must have (templated).
    :param skip_missing_orders: when no order matches, mark the task skipped instead of failing it.
    :param skip_empty_values: leave out values that rendered to ``None`` or ``""`` instead of blanking
        a link that is already there.
    :param history_note: a note added to the history of each order that was written to (templated).
    :param dry_run: find everything and report what would change, but write nothing.
    :param verify_writes: read back and repair keys lost to concurrent writers; see the note.
    """

    template_fields: Sequence[str] = (
        "order_lookup_id",
        "order_lookup_type",
        "order_item_lookup_name",
        "order_item_lookup_value",
        "data",
        "history_note",
    )
    # Values are URLs and file names; none of them is a template file to load.
    template_ext: Sequence[str] = ()
    template_fields_renderers = {"data": "json"}
    operator_extra_links = (OrderDeskOrderLink(),)
    ui_color = "#e8f1fb"

    def __init__(
        self,
        *,
        order_lookup_id: Any,
        data: Any,
        orderdesk_conn_id: str = DEFAULT_CONN_ID,
        order_lookup_type: str = "source_id",
        order_item_lookup_name: str | None = None,
        order_item_lookup_value: Any = None,
        skip_missing_orders: bool = False,
        skip_empty_values: bool = True,
        history_note: str | None = None,
        dry_run: bool = False,
        verify_writes: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.orderdesk_conn_id = orderdesk_conn_id
        self.order_lookup_id = order_lookup_id
        self.order_lookup_type = order_lookup_type
        self.order_item_lookup_name = order_item_lookup_name
        self.order_item_lookup_value = order_item_lookup_value
        self.data = data
        self.skip_missing_orders = _check_flag("skip_missing_orders", skip_missing_orders)
        self.skip_empty_values = _check_flag("skip_empty_values", skip_empty_values)
        self.history_note = history_note
        # BaseOperator.dry_run is a method of its own (render templates only), so the flag is kept apart.
        self.is_dry_run = _check_flag("dry_run", dry_run)
        self.verify_writes = _check_flag("verify_writes", verify_writes)

    def execute(self, context: Context) -> dict[str, Any]:
        request = ExportRequest.from_arguments(
            order_lookup_id=self.order_lookup_id,
            order_lookup_type=self.order_lookup_type,
            order_item_lookup_name=self.order_item_lookup_name,
            order_item_lookup_value=self.order_item_lookup_value,
            data=self.data,
            skip_empty_values=self.skip_empty_values,
            history_note=self.history_note,
            dry_run=self.is_dry_run,
        )
        hook = _connected_hook(self.orderdesk_conn_id)
        if self.is_dry_run:
            self.log.info("Dry run: nothing will be written to Order Desk")
        try:
            summary = run_export(hook, request, self.log, verify_writes=self.verify_writes)
        except OrderDeskOrderNotFoundError as error:
            if self.skip_missing_orders:
                self.log.warning("%s; skipping, as skip_missing_orders is set", error)
                raise AirflowSkipException(str(error)) from None
            raise
        if summary["orders"]:
            context["ti"].xcom_push(key=ORDER_URL_XCOM_KEY, value=summary["orders"][0]["order_url"])
        return summary


class OrderDeskBatchExportOperator(BaseOperator):
    """
    Export many entries at once, spending as few of the store's requests as possible.

    Each entry takes the single export's per-order arguments (``order_lookup_id``, ``order_lookup_type``,
    ``order_item_lookup_name``, ``order_item_lookup_value``, ``data``). The orders are found with one
    search over ``search_folders`` (and, with ``search_data_interval``, the run's data interval), paged
    500 at a time and matched on the client; only entries not found that way are looked up alone. Items
    that already hold their data are not written. A failing entry does not stop the others: the task
    fails at the end, naming every failed entry, once all others are written. See
    :mod:`airflow_orderdesk.batch`.

    :param entries: the exports, a list of mappings (or its JSON text) (templated).
    :param search_folders: folder names the entries' orders are in, such as ``["New"]`` (templated).
    :param search_data_interval: also limit the search to orders added in the run's data interval.
    :param orderdesk_conn_id: the ``orderdesk`` connection.
    :param skip_missing_orders: an entry whose order is not found is skipped instead of failing.
    :param skip_empty_values: leave out values that rendered to ``None`` or ``""``.
    :param history_note: added once to each order that was written to (templated).
    :param dry_run: find everything and report what would change; write nothing.
    :param verify_writes: read the batch back (with the same search) and repair keys lost to concurrent
        writers. Writes must then follow their reads within a second, so a batch longer than the rate
        limit allows for that runs the search again whenever its writes go stale, and then writes a
        bucketful at once: at Order Desk's limit one more search for about every twenty items. Switch
        it off where nothing else writes to these items at the same time.
    """

    template_fields: Sequence[str] = ("entries", "search_folders", "history_note")
    template_ext: Sequence[str] = ()
    template_fields_renderers = {"entries": "json"}
    ui_color = "#e8f1fb"

    def __init__(
        self,
        *,
        entries: Any,
        search_folders: Any = None,
        search_data_interval: bool = False,
        orderdesk_conn_id: str = DEFAULT_CONN_ID,
        skip_missing_orders: bool = False,
        skip_empty_values: bool = True,
        history_note: str | None = None,
        dry_run: bool = False,
        verify_writes: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.orderdesk_conn_id = orderdesk_conn_id
        self.entries = entries
        self.search_folders = search_folders
        self.search_data_interval = _check_flag("search_data_interval", search_data_interval)
        self.skip_missing_orders = _check_flag("skip_missing_orders", skip_missing_orders)
        self.skip_empty_values = _check_flag("skip_empty_values", skip_empty_values)
        self.history_note = history_note
        self.is_dry_run = _check_flag("dry_run", dry_run)
        self.verify_writes = _check_flag("verify_writes", verify_writes)

    def execute(self, context: Context) -> dict[str, Any]:
        entries = parse_entries(self.entries, skip_empty_values=self.skip_empty_values)
        folders = self.search_folders
        if isinstance(folders, str):
            # Non-native templating renders a list param as its repr; plain text is a comma list.
            text = folders.strip()
            try:
                folders = ast.literal_eval(text) if text.startswith(("[", "(")) else text.split(",")
            except (ValueError, SyntaxError):
                raise OrderDeskConfigurationError(
                    "search_folders", f"is {text!r}; expected a list of folder names"
                ) from None
            if isinstance(folders, (list, tuple)):
                folders = [name.strip() for name in folders if isinstance(name, str) and name.strip()]
        if folders is not None and not (
            isinstance(folders, (list, tuple)) and all(isinstance(name, str) for name in folders)
        ):
            raise OrderDeskConfigurationError(
                "search_folders", f"is {folders!r}; expected a list of folder names"
            )
        added_between = None
        if self.search_data_interval:
            start, end = context.get("data_interval_start"), context.get("data_interval_end")
            if start is None or end is None:
                raise OrderDeskConfigurationError(
                    "search_data_interval",
                    "is set, but this run has no data interval; give search_folders only",
                )
            added_between = (start, end)
        hook = _connected_hook(self.orderdesk_conn_id)
        return run_batch_export(
            hook,
            entries,
            self.log,
            search=BatchSearch(list(folders or []), added_between),
            skip_missing_orders=self.skip_missing_orders,
            dry_run=self.is_dry_run,
            verify_writes=self.verify_writes,
            history_note=self.history_note,
        )


class OrderDeskMoveOrderOperator(BaseOperator):
    """
    Move the orders a lookup finds to another Order Desk folder, such as "Prepared" once files are ready.

    Orders already in the folder are left alone, because moving runs the folder's rules (e-mails,
    fulfilment) again; the others are moved in one request. A move whose answer is lost is not resent
    until the orders have been read again, and two tasks moving one order at once settle who moves it
    through a claim in the order's history (see :mod:`airflow_orderdesk.moving`). Returns which orders
    moved, which were already there, and which another task moved.

    :param order_lookup_id: the shop's order number, or Order Desk's internal id (templated).
    :param orderdesk_conn_id: the ``orderdesk`` connection.
    :param order_lookup_type: ``source_id`` or ``order_id``, as for the export (templated).
    :param destination_folder: the folder's name, which must exist in the store (templated).
    :param destination_folder_id: the folder's id, instead of its name (templated).
    :param skip_missing_orders: when no order matches, mark the task skipped instead of failing it.
    :param claim_moves: settle two tasks moving the same order at once by a claim note in the order's
        history, so that the folder's rules run once; costs one note and one request per order moved.
    """

    template_fields: Sequence[str] = (
        "order_lookup_id",
        "order_lookup_type",
        "destination_folder",
        "destination_folder_id",
    )
    template_ext: Sequence[str] = ()
    operator_extra_links = (OrderDeskOrderLink(),)
    ui_color = "#e8f1fb"

    def __init__(
        self,
        *,
        order_lookup_id: Any,
        orderdesk_conn_id: str = DEFAULT_CONN_ID,
        order_lookup_type: str = "source_id",
        destination_folder: str | None = "Prepared",
        destination_folder_id: str | int | None = None,
        skip_missing_orders: bool = False,
        claim_moves: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.orderdesk_conn_id = orderdesk_conn_id
        self.order_lookup_id = order_lookup_id
        self.order_lookup_type = order_lookup_type
        self.claim_moves = _check_flag("claim_moves", claim_moves)
        # An id, when given, is the more precise of the two and wins over the default name.
        self.destination_folder = None if destination_folder_id is not None else destination_folder
        self.destination_folder_id = destination_folder_id
        self.skip_missing_orders = _check_flag("skip_missing_orders", skip_missing_orders)

    def _folder(self, folders: dict[str, str]) -> tuple[str, str]:
        """The destination as (id, name), checked against the store's folders."""
        listed = ", ".join(f"{name} ({folder_id})" for folder_id, name in folders.items())
        if self.destination_folder_id not in (None, ""):
            wanted_id = id_text(self.destination_folder_id)
            if wanted_id not in folders:
                raise OrderDeskConfigurationError(
                    "destination_folder_id",
                    f"is {wanted_id!r}, which is not a folder of this store; it has {listed}",
                )
            return wanted_id, folders[wanted_id]
        name = self.destination_folder
        if not isinstance(name, str) or not name.strip():
            raise OrderDeskConfigurationError(
                "destination_folder",
                f"is {name!r}; give a folder name (one of {listed}) or destination_folder_id",
            )
        check_text("destination_folder", name, limit=255)
        by_name = {folder_name.strip().casefold(): folder_id for folder_id, folder_name in folders.items()}
        folder_id = by_name.get(name.strip().casefold())
        if folder_id is None:
            raise OrderDeskConfigurationError(
                "destination_folder", f"is {name!r}, which is not a folder of this store; it has {listed}"
            )
        return folder_id, folders[folder_id]

    def execute(self, context: Context) -> dict[str, Any]:
        lookup = parse_order_lookup(self.order_lookup_id, self.order_lookup_type)
        if self.destination_folder_id in (None, "") and not (
            isinstance(self.destination_folder, str) and self.destination_folder.strip()
        ):
            raise OrderDeskConfigurationError(
                "destination_folder",
                "is empty; give a folder name such as 'Prepared' or destination_folder_id",
            )
        hook = _connected_hook(self.orderdesk_conn_id)
        folder_id, folder_name = self._folder(hook.get_folders())

        orders = hook.find_orders(lookup.value, lookup.kind)
        if not orders:
            message = f"No order in Order Desk has {lookup.describe()}"
            if self.skip_missing_orders:
                self.log.warning("%s; skipping, as skip_missing_orders is set", message)
                raise AirflowSkipException(message)
            raise OrderDeskOrderNotFoundError(message)

        ti = context["ti"]
        # Stable across the task's retries, so that a retry recognises its own earlier claim.
        token = claim_token(f"{ti.dag_id}/{ti.task_id}/{ti.run_id}/{ti.map_index}")
        mover = OrderMover(hook, self.log, claim=self.claim_moves)
        outcome = mover.move(orders, folder_id, folder_name, token)
        ti.xcom_push(key=ORDER_URL_XCOM_KEY, value=hook.order_url(orders[0]["id"]))
        return {
            "lookup": {"type": lookup.kind, "value": lookup.value},
            "folder": {"id": folder_id, "name": folder_name},
            "moved": outcome.moved,
            "already_there": outcome.already_there,
            "moved_by_other_task": outcome.moved_by_other,
        }
