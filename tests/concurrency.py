"""Writers and movers in separate processes, for the tests that prove nothing is lost or done twice.

The functions here run in processes started with ``spawn``, so they import what they need themselves
and take the connection as JSON.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from multiprocessing.synchronize import Barrier

    from airflow_orderdesk.sandbox import SandboxServer

ORDER_ID = 925086
ITEM_ID = 1844721


def connection_json(sandbox: SandboxServer) -> str:
    """
    The sandbox's connection, as an ``AIRFLOW_CONN_...`` value.

    The processes of one machine share one bucket, so at Order Desk's own 3 requests a second eight
    writers would spend minutes waiting; twenty times that rate keeps them paced and the test short.
    """
    return json.dumps(
        {
            "conn_type": "orderdesk",
            "host": sandbox.api_url,
            "login": sandbox.store_id,
            "password": sandbox.api_key,
            "extra": {"rate_limit_burst": 200, "rate_limit_per_second": 60},
        }
    )


def write_rounds(
    connection: str, writer: int, rounds: int, verify: bool, start: Barrier, collide: Barrier | None
) -> None:
    """
    One writer: in each round, export ``writer<N> = round<R>`` into the demo item.

    With ``collide``, the round's first write waits until every writer has read the item, which plays
    the worst interleaving every time.
    """
    os.environ["AIRFLOW_CONN_ORDERDESK_DEFAULT"] = connection
    from airflow_orderdesk.export import ExportRequest, run_export
    from airflow_orderdesk.hooks.orderdesk import OrderDeskHook

    class CollidingHook(OrderDeskHook):
        first_write = True

        def update_order_item(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
            if self.first_write and collide is not None:
                self.first_write = False
                collide.wait(timeout=60)
            return super().update_order_item(*args, **kwargs)

    log = logging.getLogger(f"writer{writer}")
    for round_number in range(rounds):
        hook = CollidingHook()
        start.wait(timeout=120)
        request = ExportRequest.from_arguments(
            order_lookup_id="1001",
            order_item_lookup_name="testIdField",
            order_item_lookup_value="testId",
            data={f"writer{writer}": f"round{round_number}"},
        )
        run_export(hook, request, log, verify_writes=verify)


def run_writers(
    sandbox: SandboxServer, writers: int, rounds: int, *, verify: bool, collide: bool = True
) -> dict[str, Any]:
    """Run the writers to the end and return the demo item's metadata as the sandbox stores it."""
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(writers)
    collision = context.Barrier(writers) if collide else None
    processes = [
        context.Process(
            target=write_rounds, args=(connection_json(sandbox), n, rounds, verify, start, collision)
        )
        for n in range(writers)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=600)
    assert [process.exitcode for process in processes] == [0] * writers
    order = sandbox.sandbox.state.get_order(ORDER_ID)
    (item,) = [item for item in order["order_items"] if int(item["id"]) == ITEM_ID]
    return dict(item["metadata"])


def move_once(connection: str, mover: int, claim: bool, together: Barrier, results: Any) -> None:
    """
    One mover of order ``1001`` to Prepared.

    Its first request after looking at the order (the claim, or the move itself without claims) waits
    until every mover has looked, so that all of them decide to move.
    """
    os.environ["AIRFLOW_CONN_ORDERDESK_DEFAULT"] = connection
    from airflow_orderdesk.hooks import orderdesk as hooks
    from airflow_orderdesk.operators import orderdesk

    class SimultaneousHook(hooks.OrderDeskHook):
        def add_order_history(self, order_id: str | int, note: str) -> dict[str, Any]:
            together.wait(timeout=60)
            return super().add_order_history(order_id, note)

        def move_orders(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
            if not claim:
                together.wait(timeout=60)
            return super().move_orders(*args, **kwargs)

    # connected_hook() makes the operator's hook from this name; the claim must wait until both movers
    # have looked.
    hooks.OrderDeskHook = SimultaneousHook  # type: ignore[misc]

    class TaskInstance:
        dag_id, task_id, run_id, map_index = "moves", f"mover{mover}", "manual__concurrent", -1

        def xcom_push(self, key: str, value: Any) -> None: ...

    operator = orderdesk.OrderDeskMoveOrderOperator(
        task_id=f"mover{mover}", order_lookup_id="1001", claim_moves=claim
    )
    results.put(operator.execute({"ti": TaskInstance()}))  # type: ignore[arg-type]


def run_movers(sandbox: SandboxServer, movers: int, *, claim: bool = True) -> list[dict[str, Any]]:
    """Run simultaneous movers of order ``1001`` and return their summaries."""
    context = multiprocessing.get_context("spawn")
    together, results = context.Barrier(movers), context.Queue()
    processes = [
        context.Process(target=move_once, args=(connection_json(sandbox), n, claim, together, results))
        for n in range(movers)
    ]
    for process in processes:
        process.start()
    summaries = [results.get(timeout=300) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    assert [process.exitcode for process in processes] == [0] * movers
    return summaries
