from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from airflow_orderdesk.exceptions import OrderDeskServerError, OrderDeskTransportError
from airflow_orderdesk.moving import (
    OrderDeskMoveConflictError,
    OrderMover,
    claim_note,
    claim_token,
    winning_claim,
)

PREPARED = "21655"
TTL = timedelta(minutes=2)


def note(token: str, at: str, folder: str = "Prepared") -> dict[str, str]:
    return {"date_added": f"2026-12-01 {at}", "note": claim_note(folder, token)}


class Log:
    def info(self, event: Any, *args: Any) -> None: ...

    def warning(self, event: Any, *args: Any) -> None: ...


class FakeHook:
    """Orders in folders, a history per order, and move requests that can fail after applying."""

    def __init__(self, folders: dict[str, str], fail_moves_after_applying: int = 0) -> None:
        self.folders = folders
        self.history: dict[str, list[dict[str, str]]] = {order_id: [] for order_id in folders}
        self.moves: list[list[str]] = []
        self.fail_moves_after_applying = fail_moves_after_applying
        self.clock = 0

    def add_order_history(self, order_id: str, text: str) -> dict[str, Any]:
        self.clock += 1
        self.history[order_id].append({"date_added": f"2026-12-01 10:00:{self.clock:02d}", "note": text})
        order = {"id": order_id, "folder_id": self.folders[order_id], "order_history": self.history[order_id]}
        return {"status": "success", "order": order}

    def get_order(self, order_id: str) -> dict[str, Any]:
        return {"id": order_id, "folder_id": self.folders[order_id]}

    def move_orders(self, order_ids: list[str], *, folder_id: str, repeatable: bool) -> dict[str, Any]:
        assert repeatable is False
        self.moves.append(list(order_ids))
        for order_id in order_ids:
            self.folders[order_id] = folder_id
        if self.fail_moves_after_applying:
            self.fail_moves_after_applying -= 1
            raise OrderDeskServerError(502, "Bad Gateway", method="POST", endpoint="move-orders")
        return {"status": "success"}


def mover(hook: FakeHook, **options: Any) -> OrderMover:
    return OrderMover(hook, Log(), sleep=lambda _seconds: None, poll_interval=0, **options)  # type: ignore[arg-type]


def test_the_first_live_claim_in_the_history_wins() -> None:
    history = [note("aaaaaaaaaaaa", "10:00:01"), note("bbbbbbbbbbbb", "10:00:02")]
    assert winning_claim(history, "Prepared", TTL) == "aaaaaaaaaaaa"


def test_a_claim_older_than_the_ttl_no_longer_blocks() -> None:
    history = [note("aaaaaaaaaaaa", "09:00:00"), note("bbbbbbbbbbbb", "10:00:02")]
    assert winning_claim(history, "Prepared", TTL) == "bbbbbbbbbbbb"


def test_claims_for_another_folder_and_other_notes_are_ignored() -> None:
    history = [
        {"date_added": "2026-12-01 10:00:00", "note": "Print files ready"},
        note("aaaaaaaaaaaa", "10:00:01", folder="Closed"),
        note("bbbbbbbbbbbb", "10:00:02"),
    ]
    assert winning_claim(history, "Prepared", TTL) == "bbbbbbbbbbbb"
    assert winning_claim([], "Prepared", TTL) is None


def test_a_claim_token_is_stable_for_one_identity_and_differs_between_identities() -> None:
    assert claim_token("dag/task/run/-1") == claim_token("dag/task/run/-1")
    assert claim_token("dag/task/run/-1") != claim_token("dag/task/run/0")


def test_an_order_already_in_the_folder_is_neither_claimed_nor_moved() -> None:
    hook = FakeHook({"1": PREPARED})
    outcome = mover(hook).move([{"id": "1", "folder_id": PREPARED}], PREPARED, "Prepared", "f" * 12)
    assert outcome.already_there == ["1"]
    assert hook.moves == []
    assert hook.history["1"] == []


def test_a_lost_move_answer_is_checked_and_not_sent_again() -> None:
    hook = FakeHook({"1": "21654", "2": "21654"}, fail_moves_after_applying=1)
    orders = [{"id": "1", "folder_id": "21654"}, {"id": "2", "folder_id": "21654"}]
    outcome = mover(hook, claim=False).move(orders, PREPARED, "Prepared", "f" * 12)
    assert hook.moves == [["1", "2"]]
    assert outcome.moved == ["1", "2"]


def test_a_move_that_fails_before_applying_is_sent_again_only_for_orders_not_there() -> None:
    hook = FakeHook({"1": "21654", "2": "21654"})
    calls = 0
    original = hook.move_orders

    def fail_first(order_ids: list[str], *, folder_id: str, repeatable: bool) -> dict[str, Any]:
        nonlocal calls
        calls += 1
        if calls == 1:
            hook.folders["1"] = folder_id  # someone else moved order 1 meanwhile
            raise OrderDeskTransportError("connection dropped")
        return original(order_ids, folder_id=folder_id, repeatable=repeatable)

    hook.move_orders = fail_first  # type: ignore[method-assign]
    mover(hook, claim=False).move(
        [{"id": "1", "folder_id": "21654"}, {"id": "2", "folder_id": "21654"}], PREPARED, "Prepared", "f" * 12
    )
    assert hook.moves == [["2"]]


def test_a_mover_that_loses_the_claim_waits_for_the_winners_move_instead_of_moving() -> None:
    hook = FakeHook({"1": "21654"})
    hook.add_order_history("1", claim_note("Prepared", "e" * 12))  # the winner's claim, just before ours
    polls = 0
    original = hook.get_order

    def winner_moves_while_we_wait(order_id: str) -> dict[str, Any]:
        nonlocal polls
        polls += 1
        if polls == 2:
            hook.folders[order_id] = PREPARED
        return original(order_id)

    hook.get_order = winner_moves_while_we_wait  # type: ignore[method-assign]
    outcome = mover(hook).move([{"id": "1", "folder_id": "21654"}], PREPARED, "Prepared", "c" * 12)
    assert outcome.moved_by_other == ["1"]
    assert hook.moves == []


def test_a_loser_fails_when_the_winner_never_moves_so_that_a_retry_can() -> None:
    hook = FakeHook({"1": "21654"})
    hook.add_order_history("1", claim_note("Prepared", "e" * 12))
    hook.clock = 0  # our claim lands in the same second, so a tiny TTL still counts the winner as live
    with pytest.raises(OrderDeskMoveConflictError, match="retry"):
        mover(hook, claim_ttl=timedelta(seconds=0.05)).move(
            [{"id": "1", "folder_id": "21654"}], PREPARED, "Prepared", "c" * 12
        )
    assert hook.moves == []


def test_a_retry_recognises_its_own_earlier_claim_and_moves() -> None:
    hook = FakeHook({"1": "21654"})
    hook.add_order_history("1", claim_note("Prepared", "d" * 12))  # our claim from the failed try
    outcome = mover(hook).move([{"id": "1", "folder_id": "21654"}], PREPARED, "Prepared", "d" * 12)
    assert outcome.moved == ["1"]
    assert hook.moves == [["1"]]
