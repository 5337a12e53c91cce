"""Four worker processes of one machine stay under the store's rate limit together.

Each process runs its own hook, as each Airflow task does, and sends its requests as fast as the hook
lets it. The sandbox meters the store and answers 429 when its bucket is empty; the request log counts
them. The sandbox's burst is a little larger than the one the connection declares, so that a request
that waited a few milliseconds longer than its neighbour for the CPU cannot turn into a 429: what is
measured is the pacing, not the scheduler.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from typing import TYPE_CHECKING

import pytest

from airflow_orderdesk import pacing

if TYPE_CHECKING:
    from multiprocessing.synchronize import Barrier
    from pathlib import Path

    from airflow_orderdesk.sandbox import SandboxServer

pytestmark = pytest.mark.integration

WORKERS, REQUESTS_EACH = 4, 50
DECLARED_BURST, SANDBOX_BURST, REFILL_PER_SECOND = 5, 8, 20.0


def worker(connection: str, bucket_dir: str, start: Barrier) -> None:
    """One worker: its own hook, as a task process has, sending its requests one after another."""
    os.environ["AIRFLOW_CONN_ORDERDESK_DEFAULT"] = connection
    os.environ[pacing.RATE_LIMIT_DIR_VARIABLE] = bucket_dir
    from airflow_orderdesk.hooks.orderdesk import OrderDeskHook

    hook = OrderDeskHook(max_rate_limit_wait=600)
    start.wait(timeout=120)
    for _ in range(REQUESTS_EACH):
        hook.request("GET", "test")


def run_workers(sandbox: SandboxServer, bucket_dir: str) -> int:
    """Run the workers from full buckets and return how many 429s the sandbox answered."""
    sandbox.configure(burst=SANDBOX_BURST, refill_per_second=REFILL_PER_SECOND)
    connection = json.dumps(
        {
            "conn_type": "orderdesk",
            "host": sandbox.api_url,
            "login": sandbox.store_id,
            "password": sandbox.api_key,
            "extra": {"rate_limit_burst": DECLARED_BURST, "rate_limit_per_second": REFILL_PER_SECOND},
        }
    )
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(WORKERS)
    processes = [context.Process(target=worker, args=(connection, bucket_dir, start)) for _ in range(WORKERS)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=300)
    assert [process.exitcode for process in processes] == [0] * WORKERS
    answers = [record["status"] for record in sandbox.requests(path_prefix="/test")]
    assert answers.count(200) == WORKERS * REQUESTS_EACH
    return answers.count(429)


def test_four_workers_on_one_machine_get_no_429(sandbox: SandboxServer, tmp_path: Path) -> None:
    assert run_workers(sandbox, str(tmp_path / "buckets")) == 0


def test_four_workers_pacing_alone_overrun_the_store(sandbox: SandboxServer, tmp_path: Path) -> None:
    """The control: without a shared bucket file (here none can be made), each worker paces alone."""
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")

    rejected = run_workers(sandbox, str(blocker / "buckets"))

    # Each worker believes it has the store's whole rate, four times what the store refills. The
    # store's X-Tokens-Remaining and the halving after a 429 soon bring them close to it, which keeps
    # the count modest (16 to 22 in four runs on two cores), but never to none.
    assert rejected >= 8
