"""Many processes at once: eight writers on one item for twenty rounds, and two movers of one order."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.concurrency import run_movers, run_writers
from tests.reliability.reporting import report

if TYPE_CHECKING:
    import pytest

    from airflow_orderdesk.sandbox import SandboxServer

WRITERS, ROUNDS = 8, 20


def test_eight_writers_for_twenty_rounds_lose_no_key(
    sandbox: SandboxServer, pytestconfig: pytest.Config
) -> None:
    sandbox.configure(item_put_mode="replace")
    metadata = run_writers(sandbox, writers=WRITERS, rounds=ROUNDS, verify=True, collide=False)
    final = {key: value for key, value in metadata.items() if key.startswith("writer")}
    lost = [f"writer{n}" for n in range(WRITERS) if final.get(f"writer{n}") != f"round{ROUNDS - 1}"]
    report(
        pytestconfig,
        "Concurrent writers",
        [f"{WRITERS} writers x {ROUNDS} rounds, replace mode: {len(lost)} keys lost"],
    )
    assert lost == []
    assert metadata["testIdField"] == "testId"


def test_two_simultaneous_moves_of_one_order_move_it_once(sandbox: SandboxServer) -> None:
    summaries = run_movers(sandbox, movers=2)
    assert int(sandbox.sandbox.state.get_order(925086)["folder_id"]) == 21655
    assert _applied_moves(sandbox) == 1
    assert sorted(len(summary["moved"]) for summary in summaries) == [0, 1]
    assert sorted(len(summary["moved_by_other_task"]) for summary in summaries) == [0, 1]


def _applied_moves(sandbox: SandboxServer) -> int:
    return len([r for r in sandbox.requests(method="POST", path_prefix="/move-orders") if r["status"] == 200])


def test_without_claims_two_simultaneous_moves_move_the_order_twice(sandbox: SandboxServer) -> None:
    # The control: the collision is real, so the claim is what keeps the move single.
    run_movers(sandbox, movers=2, claim=False)
    assert _applied_moves(sandbox) == 2
