"""The sandbox's store: folders and orders in SQLite, one lock around every read-modify-write.

Each order is one JSON document with its items inside, as Order Desk hands it out. A few of its fields
are copied into columns so that searches can filter and sort in SQL, and an index table maps every
item id to its order, which keeps item ids unique across the store. The server's event loop and the
threads of tests (through :class:`~airflow_orderdesk.sandbox.server.SandboxServer`) use the store at
the same time, so every method holds :attr:`lock` for its whole duration: two concurrent item updates
can never both read the old document.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from airflow_orderdesk.sandbox.documents import (
    JSONDict,
    apply_item_fields,
    apply_order_fields,
    blank_item,
    blank_order,
    build_items,
    parse_id,
    parse_stored_date,
)
from airflow_orderdesk.sandbox.errors import InvalidRequestError, NotFoundError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from airflow_orderdesk.sandbox.search import OrderQuery

__all__ = ["FIRST_ITEM_ID", "FIRST_ORDER_ID", "MoveResult", "SandboxState"]

# Internal ids far from any shop's order numbers, so a client that confuses the internal id with
# source_id gets a 404 instead of quietly hitting another order.
FIRST_ORDER_ID = 925_000
FIRST_ITEM_ID = 1_844_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS folders (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS orders (
    id INTEGER PRIMARY KEY,
    source_id TEXT NOT NULL,
    source_name TEXT NOT NULL,
    email TEXT NOT NULL,
    folder_id INTEGER NOT NULL,
    date_added TEXT NOT NULL,
    date_updated TEXT NOT NULL,
    document TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_source_id ON orders (source_id);
CREATE INDEX IF NOT EXISTS orders_date_added ON orders (date_added);
CREATE TABLE IF NOT EXISTS order_items (
    item_id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (
    name TEXT PRIMARY KEY,
    next_id INTEGER NOT NULL
);
"""

_T = TypeVar("_T")


@dataclass(frozen=True)
class MoveResult:
    """
    What happened to one order of a move request.

    :param order_id: the order's internal id as the client sent it, made a string.
    :param message: a human sentence, ``"Order Moved"`` or ``"Order Not Found"``.
    :param original_folder_id: the folder the order was in, or ``None`` if it does not exist.
    :param moved: whether the order exists and was moved.
    """

    order_id: str
    message: str
    original_folder_id: int | None
    moved: bool


class SandboxState:
    """
    Folders and orders of one sandbox store, kept in SQLite.

    :param db: an SQLite file path, or ``":memory:"`` for a store that lives as long as the object.
    :param folders: the store's folders, id to name, installed when the store is empty.
    """

    def __init__(self, db: str = ":memory:", folders: Mapping[int, str] | None = None) -> None:
        self.lock = threading.Lock()
        # One connection shared by all threads; the lock, not SQLite, serialises access to it.
        self._conn = sqlite3.connect(db, check_same_thread=False)
        self._conn.executescript(_SCHEMA)
        with self.lock, self._conn:
            if folders is not None and not self._conn.execute("SELECT 1 FROM folders").fetchone():
                self._install_folders(folders)

    def close(self) -> None:
        """Close the database connection."""
        with self.lock:
            self._conn.close()

    # -- store-wide ---------------------------------------------------------------------------------

    def reset(self, folders: Mapping[int, str]) -> None:
        """
        Remove every order and restart the id counters.

        :param folders: the folders the store has afterwards.
        """
        with self.lock, self._conn:
            for table in ("orders", "order_items", "counters", "folders"):
                self._conn.execute(f"DELETE FROM {table}")
            self._install_folders(folders)

    def _install_folders(self, folders: Mapping[int, str]) -> None:
        self._conn.executemany("INSERT INTO folders (id, name) VALUES (?, ?)", list(folders.items()))

    def folders(self) -> dict[int, str]:
        """The store's folders, id to name, by id."""
        with self.lock:
            return self._folders()

    def _folders(self) -> dict[int, str]:
        rows = self._conn.execute("SELECT id, name FROM folders ORDER BY id").fetchall()
        return {int(folder_id): str(name) for folder_id, name in rows}

    def _default_folder_id(self) -> int:
        # The folder with the lowest id is Order Desk's "New", where fresh orders land.
        folders = self._folders()
        if not folders:
            raise InvalidRequestError("The store has no folders")
        return min(folders)

    def count_orders(self) -> int:
        """How many orders the store holds."""
        with self.lock:
            row = self._conn.execute("SELECT COUNT(*) FROM orders").fetchone()
        return int(row[0])

    # -- id counters --------------------------------------------------------------------------------

    def _next_id(self, name: str, first: int) -> int:
        row = self._conn.execute("SELECT next_id FROM counters WHERE name = ?", (name,)).fetchone()
        next_id = first if row is None else int(row[0])
        self._conn.execute(
            "INSERT OR REPLACE INTO counters (name, next_id) VALUES (?, ?)", (name, next_id + 1)
        )
        return next_id

    def _note_used_id(self, name: str, first: int, used: int) -> None:
        # A seeded id must never be handed out again by the counter.
        row = self._conn.execute("SELECT next_id FROM counters WHERE name = ?", (name,)).fetchone()
        next_id = max(first if row is None else int(row[0]), used + 1)
        self._conn.execute("INSERT OR REPLACE INTO counters (name, next_id) VALUES (?, ?)", (name, next_id))

    def _allocate_item_id(self) -> int:
        return self._next_id("item", FIRST_ITEM_ID)

    # -- documents ----------------------------------------------------------------------------------

    def _load(self, order_id: int) -> JSONDict:
        row = self._conn.execute("SELECT document FROM orders WHERE id = ?", (order_id,)).fetchone()
        if row is None:
            raise NotFoundError("Order Not Found")
        document: JSONDict = json.loads(row[0])
        return document

    def _save(self, order: JSONDict) -> None:
        order_id = int(order["id"])
        self._conn.execute(
            "INSERT OR REPLACE INTO orders"
            " (id, source_id, source_name, email, folder_id, date_added, date_updated, document)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                order_id,
                order["source_id"],
                order["source_name"],
                order["email"],
                order["folder_id"],
                order["date_added"],
                order["date_updated"],
                json.dumps(order),
            ),
        )
        self._conn.execute("DELETE FROM order_items WHERE order_id = ?", (order_id,))
        for item in order["order_items"]:
            try:
                self._conn.execute(
                    "INSERT INTO order_items (item_id, order_id) VALUES (?, ?)", (item["id"], order_id)
                )
            except sqlite3.IntegrityError as exc:
                raise InvalidRequestError(f"Order item id {item['id']} is already in use") from exc
            self._note_used_id("item", FIRST_ITEM_ID, int(item["id"]))
        self._note_used_id("order", FIRST_ORDER_ID, order_id)

    def _modify(self, order_id: int, now: str, change: Callable[[JSONDict], _T]) -> _T:
        # Read, change and write under the lock and in one transaction, so a failed change leaves
        # nothing half-written and a concurrent writer never sees the old document after this one.
        with self.lock, self._conn:
            order = self._load(order_id)
            result = change(order)
            order["date_updated"] = now
            self._save(order)
            return result

    def create_order(self, body: Mapping[str, Any], now: str) -> JSONDict:
        """
        Add an order the way ``POST /orders`` does: the server picks the id and the dates.

        :param body: the order sent by the client; items without an id get one.
        :param now: the current time, Order Desk's UTC text.
        """
        with self.lock, self._conn:
            order = blank_order(self._next_id("order", FIRST_ORDER_ID), self._default_folder_id(), now)
            apply_order_fields(order, body, self._folders())
            order["order_items"] = build_items(
                body.get("order_items"), {}, self._allocate_item_id, allow_new_ids=True
            )
            self._save(order)
            return order

    def seed_order(self, body: Mapping[str, Any], now: str) -> JSONDict:
        """
        Add an order as a test describes it, keeping its id, dates, history and any extra fields.

        :param body: the order; ``id``, ``date_added``, ``date_updated`` and ``order_history`` are
            honoured, missing ids are generated, ``date_added`` defaults to ``now``.
        :param now: the current time, Order Desk's UTC text.
        """
        with self.lock, self._conn:
            if body.get("id") in (None, ""):
                order_id = self._next_id("order", FIRST_ORDER_ID)
            else:
                order_id = parse_id(body["id"], "order id")
                if self._conn.execute("SELECT 1 FROM orders WHERE id = ?", (order_id,)).fetchone():
                    raise InvalidRequestError(f"Order {order_id} already exists")
            added = parse_stored_date(body["date_added"], "date_added") if body.get("date_added") else now
            updated = (
                parse_stored_date(body["date_updated"], "date_updated") if body.get("date_updated") else added
            )
            order = blank_order(order_id, self._default_folder_id(), added)
            order["date_updated"] = updated
            # Keep fields the sandbox does not model, so tests can seed whatever a real order has.
            extras = {key: value for key, value in body.items() if key not in order and key != "folder_name"}
            apply_order_fields(order, body, self._folders())
            order["order_items"] = build_items(
                body.get("order_items"), {}, self._allocate_item_id, allow_new_ids=True
            )
            order["order_history"] = _history(body.get("order_history"))
            order.update(extras)
            self._save(order)
            return order

    def get_order(self, order_id: int) -> JSONDict:
        """
        One order by its internal id.

        :raises NotFoundError: if there is no such order.
        """
        with self.lock:
            return self._load(order_id)

    def search_orders(self, query: OrderQuery) -> tuple[int, list[JSONDict]]:
        """
        The orders matching a search: how many match in all, and the requested page of them.

        :param query: the filters, sort order and page.
        """
        clauses: list[str] = []
        values: list[Any] = []
        if query.source_id is not None:
            if query.partial_source_id:
                clauses.append("instr(source_id, ?) > 0")
            else:
                clauses.append("source_id = ?")
            values.append(query.source_id)
        if query.source_name is not None:
            clauses.append("source_name = ?")
            values.append(query.source_name)
        if query.folder_ids is not None:
            # An empty folder list (an unknown folder name) must find nothing, not everything.
            placeholders = ", ".join("?" * len(query.folder_ids))
            clauses.append(f"folder_id IN ({placeholders})" if query.folder_ids else "0")
            values.extend(query.folder_ids)
        if query.email is not None:
            clauses.append("lower(email) = lower(?)")
            values.append(query.email)
        for column, operator, value in (
            ("date_added", ">=", query.added_from),
            ("date_added", "<=", query.added_to),
            ("date_updated", ">=", query.updated_from),
            ("date_updated", "<=", query.updated_to),
        ):
            if value is not None:
                clauses.append(f"{column} {operator} ?")
                values.append(value)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        direction = "DESC" if query.descending else "ASC"
        # order_by was checked against a fixed list of column names, so it is safe to splice in.
        sql = (
            f"SELECT document FROM orders{where}"
            f" ORDER BY {query.order_by} {direction}, id {direction} LIMIT ? OFFSET ?"
        )
        with self.lock:
            total = int(self._conn.execute(f"SELECT COUNT(*) FROM orders{where}", values).fetchone()[0])
            rows = self._conn.execute(sql, [*values, query.limit, query.offset]).fetchall()
        return total, [json.loads(row[0]) for row in rows]

    def replace_order(self, order_id: int, body: Mapping[str, Any], now: str) -> JSONDict:
        """
        Replace an order in full: fields left out become blank, items left out are removed.

        The id, ``date_added``, the folder (unless the body names one) and the history survive.

        :raises NotFoundError: if there is no such order.
        """

        def change(order: JSONDict) -> JSONDict:
            replaced = blank_order(order_id, order["folder_id"], order["date_added"])
            replaced["order_history"] = order.get("order_history", [])
            apply_order_fields(replaced, body, self._folders())
            existing = {int(item["id"]): item for item in order["order_items"]}
            replaced["order_items"] = build_items(
                body.get("order_items"), existing, self._allocate_item_id, allow_new_ids=False
            )
            order.clear()
            order.update(replaced)
            return order

        return self._modify(order_id, now, change)

    def delete_order(self, order_id: int) -> None:
        """
        Remove an order and its items.

        :raises NotFoundError: if there is no such order.
        """
        with self.lock, self._conn:
            self._load(order_id)
            self._conn.execute("DELETE FROM orders WHERE id = ?", (order_id,))
            self._conn.execute("DELETE FROM order_items WHERE order_id = ?", (order_id,))

    # -- items --------------------------------------------------------------------------------------

    @staticmethod
    def _find_item(order: JSONDict, item_id: int) -> JSONDict:
        for item in order["order_items"]:
            if int(item["id"]) == item_id:
                return item  # type: ignore[no-any-return]
        raise NotFoundError("Order Item Not Found")

    def get_item(self, order_id: int, item_id: int) -> JSONDict:
        """
        One item of one order.

        :raises NotFoundError: if the order does not exist or has no such item.
        """
        with self.lock:
            return self._find_item(self._load(order_id), item_id)

    def add_item(self, order_id: int, body: Mapping[str, Any], now: str) -> JSONDict:
        """
        Add an item to an order; the server picks its id.

        :raises NotFoundError: if there is no such order.
        """

        def change(order: JSONDict) -> JSONDict:
            item = apply_item_fields(
                blank_item(self._allocate_item_id()), _without_id(body), merge_maps=False
            )
            order["order_items"].append(item)
            return item

        return self._modify(order_id, now, change)

    def update_item(
        self, order_id: int, item_id: int, body: Mapping[str, Any], *, merge: bool, now: str
    ) -> JSONDict:
        """
        Update one item, resetting the writable fields the body leaves out unless ``merge`` is set.

        :param merge: keep fields left out and merge ``metadata``/``variation_list`` key by key.
        :raises NotFoundError: if the order does not exist or has no such item.
        """

        def change(order: JSONDict) -> JSONDict:
            current = self._find_item(order, item_id)
            start = current if merge else blank_item(item_id)
            updated = apply_item_fields(start, body, merge_maps=merge)
            current.clear()
            current.update(updated)
            return current

        return self._modify(order_id, now, change)

    def delete_item(self, order_id: int, item_id: int, now: str) -> None:
        """
        Remove one item from an order.

        :raises NotFoundError: if the order does not exist or has no such item.
        """

        def change(order: JSONDict) -> None:
            self._find_item(order, item_id)
            order["order_items"] = [item for item in order["order_items"] if int(item["id"]) != item_id]

        self._modify(order_id, now, change)

    # -- history and folders ------------------------------------------------------------------------

    def add_history(self, order_id: int, note: str, now: str) -> JSONDict:
        """
        Append a note to an order's history and return the order.

        :raises NotFoundError: if there is no such order.
        """

        def change(order: JSONDict) -> JSONDict:
            order.setdefault("order_history", []).append({"date_added": now, "note": note})
            return order

        return self._modify(order_id, now, change)

    def move_orders(self, order_ids: list[str], folder_id: int, now: str) -> list[MoveResult]:
        """
        Move orders to a folder; an id that names no order is reported, not refused.

        :param order_ids: internal order ids as strings, in the client's order.
        :param folder_id: the destination folder, already checked to exist.
        """
        results: list[MoveResult] = []
        with self.lock, self._conn:
            for raw_id in order_ids:
                try:
                    order = self._load(int(raw_id))
                except (NotFoundError, ValueError):
                    results.append(MoveResult(raw_id, "Order Not Found", None, moved=False))
                    continue
                original = int(order["folder_id"])
                order["folder_id"] = folder_id
                order["date_updated"] = now
                self._save(order)
                results.append(MoveResult(raw_id, "Order Moved", original, moved=True))
        return results


def _without_id(body: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key != "id"}


def _history(value: Any) -> list[JSONDict]:
    if value is None or value == []:
        return []
    if not isinstance(value, list) or not all(isinstance(entry, dict) for entry in value):
        raise InvalidRequestError("order_history must be a list of objects")
    return [dict(entry) for entry in value]
