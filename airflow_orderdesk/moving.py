"""Moving orders to a folder exactly once, even when two tasks try at the same moment.

Moving an order runs the rules the shop attached to the destination folder (e-mails, fulfilment), so
an order must never be moved twice. Two things could make it happen: a move whose answer was lost and
that is then sent again, and two tasks (a backfill and a scheduled run, say) moving the same order at
once. :class:`OrderMover` guards against both.

A lost answer is never resent blindly: the orders are read again, and only those not yet in the folder
are moved. Simultaneous movers are settled by a claim in the order's history, which is the one thing
Order Desk keeps in the order its requests arrive: each mover appends a note naming itself, and the
first live claim in the history wins. The others wait for the winner's move to show, and fail (so that
Airflow retries them) if it does not.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow_orderdesk.dates import parse_order_date
from airflow_orderdesk.exceptions import (
    OrderDeskError,
    OrderDeskMalformedResponseError,
    OrderDeskServerError,
    OrderDeskTransportError,
)
from airflow_orderdesk.pacing import backoff_delay
from airflow_orderdesk.payloads import id_text, normalise_order

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from airflow_orderdesk.export import TaskLog
    from airflow_orderdesk.hooks.orderdesk import OrderDeskHook

__all__ = ["MoveOutcome", "OrderDeskMoveConflictError", "OrderMover", "claim_token", "winning_claim"]

_CLAIM = re.compile(r"Airflow is moving this order to (?P<folder>.+) \(claim (?P<token>[0-9a-f]{12})\)$")

#: Failures after which a move's fate is unknown; the orders are read again before anything is resent.
_UNCERTAIN = (OrderDeskServerError, OrderDeskTransportError, OrderDeskMalformedResponseError)


class OrderDeskMoveConflictError(OrderDeskError):
    """Another task claimed the move of an order, but the order did not reach the folder in time."""


def claim_token(identity: str) -> str:
    """
    A short token for a mover; the same identity gives the same token.

    Give it what stays the same across a task's retries (DAG, task, run, map index): a retry then
    recognises its own earlier claim instead of waiting for itself.
    """
    return hashlib.sha256(identity.encode()).hexdigest()[:12]


def claim_note(folder_name: str, token: str) -> str:
    """The history note by which a mover claims an order's move."""
    return f"Airflow is moving this order to {folder_name} (claim {token})"


def winning_claim(history: Iterable[Mapping[str, Any]], folder_name: str, ttl: timedelta) -> str | None:
    """
    The token of the first live claim for ``folder_name`` in an order's history.

    A claim older than ``ttl``, measured against the newest claim (server time on both sides, so clocks
    need not agree), is dead: its mover stopped before moving, and must not block the others forever.
    """
    claims = []
    for entry in history:
        match = _CLAIM.match(str(entry.get("note", "")).strip())
        if match and match["folder"] == folder_name and entry.get("date_added"):
            claims.append((parse_order_date(str(entry["date_added"])), match["token"]))
    if not claims:
        return None
    newest = max(moment for moment, _token in claims)
    live = [token for moment, token in claims if newest - moment <= ttl]
    return live[0] if live else None


@dataclass
class MoveOutcome:
    """What happened to each order: moved by us, already there, or moved by another task."""

    moved: list[str] = field(default_factory=list)
    already_there: list[str] = field(default_factory=list)
    moved_by_other: list[str] = field(default_factory=list)


class OrderMover:
    """
    Moves orders to one folder, each at most once.

    :param hook: the hook to move through.
    :param log: where to log each step.
    :param claim: settle simultaneous movers with claims in the order history (one note and one
        request per order moved); without it, two tasks moving one order at once may both move it.
    :param claim_ttl: how long a claim blocks other movers; also how long a loser waits for the move.
    :param poll_interval: how often a loser looks whether the winner's move has landed.
    :param max_attempts: how often a move whose answer was lost is checked and sent again.
    :param sleep: the function that waits; tests pass a fake one.
    """

    def __init__(
        self,
        hook: OrderDeskHook,
        log: TaskLog,
        *,
        claim: bool = True,
        claim_ttl: timedelta = timedelta(minutes=2),
        poll_interval: float = 3.0,
        max_attempts: int = 5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.hook = hook
        self.log = log
        self.claim = claim
        self.claim_ttl = claim_ttl
        self.poll_interval = poll_interval
        self.max_attempts = max_attempts
        self._sleep = sleep

    def move(self, orders: list[dict[str, Any]], folder_id: str, folder_name: str, token: str) -> MoveOutcome:
        """Move ``orders`` (as read) to the folder, leaving out those already there."""
        outcome = MoveOutcome()
        to_move = []
        for order in orders:
            if id_text(order.get("folder_id", "")) == folder_id:
                self.log.info("Order %s is already in %s; not moving it", order["id"], folder_name)
                outcome.already_there.append(order["id"])
            else:
                to_move.append(order["id"])

        if self.claim:
            won = []
            for order_id in to_move:
                if self._claim(order_id, folder_id, folder_name, token):
                    won.append(order_id)
                else:
                    self._await_other_mover(order_id, folder_id, folder_name)
                    outcome.moved_by_other.append(order_id)
            to_move = won

        if to_move:
            self._move(to_move, folder_id)
            self.log.info("Moved order(s) %s to %s", ", ".join(to_move), folder_name)
            outcome.moved.extend(to_move)
        return outcome

    def _claim(self, order_id: str, folder_id: str, folder_name: str, token: str) -> bool:
        """Append our claim and say whether it is the first live one; the answer shows the history."""
        envelope = self.hook.add_order_history(order_id, claim_note(folder_name, token))
        order = normalise_order(envelope.get("order") or {})
        history = envelope.get("order", {}).get("order_history") or []
        winner = winning_claim(history, folder_name, self.claim_ttl)
        if winner not in (None, token):
            self.log.info("Order %s: another task claimed the move to %s first", order_id, folder_name)
            return False
        if order.get("folder_id") is not None and id_text(order["folder_id"]) == folder_id:
            # Someone moved it between our first look and our claim.
            self.log.info("Order %s reached %s meanwhile; not moving it", order_id, folder_name)
            return False
        return True

    def _await_other_mover(self, order_id: str, folder_id: str, folder_name: str) -> None:
        deadline = time.monotonic() + self.claim_ttl.total_seconds()
        while time.monotonic() < deadline:
            if id_text(self.hook.get_order(order_id).get("folder_id", "")) == folder_id:
                self.log.info("Order %s was moved to %s by the task that claimed it", order_id, folder_name)
                return
            self._sleep(self.poll_interval)
        raise OrderDeskMoveConflictError(
            f"Order {order_id}: another task claimed its move to {folder_name}, but the order did not get "
            f"there within {self.claim_ttl.total_seconds():.0f} s; that claim has now expired, so a retry "
            "of this task will move it"
        )

    def _move(self, order_ids: list[str], folder_id: str) -> None:
        """One move request; after a lost answer, only orders not yet in the folder are sent again."""
        pending = list(order_ids)
        for attempt in range(1, self.max_attempts + 1):
            try:
                self.hook.move_orders(pending, folder_id=folder_id, repeatable=False)
                return
            except _UNCERTAIN as error:
                if attempt == self.max_attempts:
                    raise
                delay = backoff_delay(attempt)
                self.log.warning(
                    "Moving order(s) %s failed (%s); checking where they are in %.1f s",
                    ", ".join(pending),
                    type(error).__name__,
                    delay,
                )
                self._sleep(delay)
                pending = [
                    order_id
                    for order_id in pending
                    if id_text(self.hook.get_order(order_id).get("folder_id", "")) != folder_id
                ]
                if not pending:
                    return
