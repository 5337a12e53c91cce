"""Writers in separate processes, each writing its own key into the same item at the same moment.

Each writer is held at a barrier between reading the item and writing it, so every round plays the worst
interleaving: all writers read the same metadata, then all write. The sandbox replaces the item's
metadata on every PUT, as Order Desk may.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.concurrency import run_writers

if TYPE_CHECKING:
    from airflow_orderdesk.sandbox import SandboxServer


@pytest.fixture
def replacing_sandbox(sandbox: SandboxServer) -> SandboxServer:
    sandbox.configure(item_put_mode="replace")
    return sandbox


def test_without_verification_simultaneous_writers_lose_each_others_keys(
    replacing_sandbox: SandboxServer,
) -> None:
    # The control: it shows the collision is real, so the next test proves something.
    metadata = run_writers(replacing_sandbox, writers=4, rounds=1, verify=False)
    assert len([key for key in metadata if key.startswith("writer")]) == 1


def test_every_key_of_every_simultaneous_writer_survives_every_round(
    replacing_sandbox: SandboxServer,
) -> None:
    metadata = run_writers(replacing_sandbox, writers=4, rounds=3, verify=True)
    assert {key: value for key, value in metadata.items() if key.startswith("writer")} == {
        f"writer{n}": "round2" for n in range(4)
    }
    assert metadata["testIdField"] == "testId"
    assert metadata["hiResUrl2"] == "https://files.example.com/cc/7f3a9c21/hires-back.pdf"
