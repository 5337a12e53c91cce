"""Writers in separate processes, each writing its own key into the same item at the same moment.

Each writer is held at a barrier between reading the item and writing it, so every round plays the worst
interleaving: all writers read the same metadata, then all write. The sandbox replaces the item's
metadata on every PUT, as Order Desk may.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from multiprocessing.synchronize import Barrier

    from airflow_orderdesk.sandbox import SandboxServer

ORDER_ID = 925086
ITEM_ID = 1844721


def _write_rounds(
    connection: str, writer: int, rounds: int, verify: bool, start: Barrier, collide: Barrier
) -> None:
    """One writer process: in each round, export ``writer<N> = round<R>`` into the demo item."""
    os.environ["AIRFLOW_CONN_ORDERDESK_DEFAULT"] = connection
    from airflow_orderdesk.export import ExportRequest, run_export
    from airflow_orderdesk.hooks.orderdesk import OrderDeskHook

    log = logging.getLogger(f"writer{writer}")

    class CollidingHook(OrderDeskHook):
        """Holds the round's first write until every writer has read the item."""

        first_write = True

        def update_order_item(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
            if self.first_write:
                self.first_write = False
                collide.wait(timeout=30)
            return super().update_order_item(*args, **kwargs)

    for round_number in range(rounds):
        hook = CollidingHook()
        start.wait(timeout=60)
        request = ExportRequest.from_arguments(
            order_lookup_id="1001",
            order_item_lookup_name="testIdField",
            order_item_lookup_value="testId",
            data={f"writer{writer}": f"round{round_number}"},
        )
        run_export(hook, request, log, verify_writes=verify)


def _run_writers(sandbox: SandboxServer, writers: int, rounds: int, *, verify: bool) -> dict[str, Any]:
    connection = json.dumps(
        {
            "conn_type": "orderdesk",
            "host": sandbox.api_url,
            "login": sandbox.store_id,
            "password": sandbox.api_key,
        }
    )
    context = multiprocessing.get_context("spawn")
    start, collide = context.Barrier(writers), context.Barrier(writers)
    processes = [
        context.Process(target=_write_rounds, args=(connection, n, rounds, verify, start, collide))
        for n in range(writers)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=240)
    assert [process.exitcode for process in processes] == [0] * writers
    (item,) = [i for i in sandbox.sandbox.state.get_order(ORDER_ID)["order_items"] if int(i["id"]) == ITEM_ID]
    return dict(item["metadata"])


@pytest.fixture
def replacing_sandbox(sandbox: SandboxServer) -> SandboxServer:
    sandbox.configure(item_put_mode="replace")
    return sandbox


def test_without_verification_simultaneous_writers_lose_each_others_keys(
    replacing_sandbox: SandboxServer,
) -> None:
    # The control: it shows the collision is real, so the next test proves something.
    metadata = _run_writers(replacing_sandbox, writers=4, rounds=1, verify=False)
    assert len([key for key in metadata if key.startswith("writer")]) == 1


def test_every_key_of_every_simultaneous_writer_survives_every_round(
    replacing_sandbox: SandboxServer,
) -> None:
    metadata = _run_writers(replacing_sandbox, writers=4, rounds=3, verify=True)
    assert {key: value for key, value in metadata.items() if key.startswith("writer")} == {
        f"writer{n}": "round2" for n in range(4)
    }
    assert metadata["testIdField"] == "testId"
    assert metadata["hiResUrl2"] == "https://files.example.com/cc/7f3a9c21/hires-back.pdf"
