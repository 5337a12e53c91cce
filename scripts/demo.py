"""The newcomer's demo: the whole export job, end to end, against the Order Desk sandbox.

``make demo`` runs it. It starts the sandbox with demo data, seeds a few orders into the last full
hour, migrates a project-local Airflow home (SQLite, under ``.demo/``), runs ``orderdesk_render_and_export``
for that hour with ``airflow dags test``, and shows each item's metadata and each order's folder before
and after. Then it runs the same hour again to show that nothing changes, and stops what it started.
No Order Desk account is needed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from airflow_orderdesk.sandbox import SandboxServer, SandboxSettings

ROOT = Path(__file__).resolve().parents[1]
DEMO_DIR = ROOT / ".demo"
AIRFLOW_HOME = DEMO_DIR / "airflow"
ARTIFACTS = DEMO_DIR / "artifacts"
AIRFLOW = str(Path(sys.executable).with_name("airflow"))
DAG_ID = "orderdesk_render_and_export"
NEW, PREPARED = 21654, 21655


def _demo_orders(hour: datetime) -> list[dict[str, Any]]:
    """Orders a print shop placed during ``hour``: one split in two, one with a fee item to leave alone."""

    def at(minute: int) -> str:
        return (hour + timedelta(minutes=minute)).strftime("%Y-%m-%d %H:%M:%S")

    def card(name: str, project: str, **extra: Any) -> dict[str, Any]:
        return {
            "name": name,
            "code": "BC-500",
            "price": "39.90",
            "quantity": 1,
            "metadata": {"testIdField": project, **extra},
        }

    fee = {
        "name": "Rush Production (24 h)",
        "code": "FEE-RUSH",
        "price": "15.00",
        "quantity": 1,
        "metadata": {},
    }
    return [
        {
            "source_id": "5001",
            "folder_id": NEW,
            "date_added": at(5),
            "order_items": [card("Business Cards", "cc-5001"), fee],
        },
        {
            "source_id": "5002",
            "folder_id": NEW,
            "date_added": at(21),
            "order_items": [card("Poster A2", "cc-5002a")],
        },
        {
            "source_id": "5002",
            "folder_id": NEW,
            "date_added": at(22),
            "order_items": [card("Poster A3", "cc-5002b")],
        },
        {
            "source_id": "5003",
            "folder_id": NEW,
            "date_added": at(48),
            "order_items": [
                card("Sticker Sheet", "cc-5003", hiResUrl2="https://files.example.com/kept-as-is.pdf")
            ],
        },
    ]


def _snapshot(sandbox: SandboxServer, order_ids: list[int]) -> list[tuple[str, str, str, str, str]]:
    """(order, Order Desk id, folder, item, metadata) rows, read past the API so they cost no request."""
    folders = {NEW: "New", PREPARED: "Prepared"}
    rows = []
    for order_id in order_ids:
        order = sandbox.sandbox.state.get_order(order_id)
        for item in order["order_items"]:
            metadata = ", ".join(
                f"{key}=…/{Path(str(value)).name}" if str(value).startswith("http") else f"{key}={value}"
                for key, value in (item.get("metadata") or {}).items()
            )
            folder = folders.get(int(order["folder_id"]), str(order["folder_id"]))
            rows.append((order["source_id"], str(order_id), folder, str(item["name"]), metadata or "(none)"))
    return rows


def _print_table(title: str, rows: list[tuple[str, ...]]) -> None:
    header = ("order", "Order Desk id", "folder", "item", "metadata")
    widths = [max(len(row[column]) for row in [header, *rows]) for column in range(len(header))]
    print(f"\n{title}")
    for row in [header, tuple("-" * width for width in widths), *rows]:
        print("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


def _airflow(env: dict[str, str], *args: str) -> None:
    """Run an ``airflow`` command, showing its output only if it fails."""
    result = subprocess.run([AIRFLOW, *args], env=env, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        print(result.stdout[-4000:], result.stderr[-4000:], sep="\n")
        raise SystemExit(f"airflow {' '.join(args)} failed")


def _writes(sandbox: SandboxServer) -> tuple[int, int]:
    """Item updates and moves the sandbox received."""
    puts = [r for r in sandbox.requests(method="PUT") if "/order-items/" in r["path"]]
    return len(puts), len(sandbox.requests(method="POST", path_prefix="/move-orders"))


def main() -> int:
    started = time.monotonic()
    shutil.rmtree(DEMO_DIR, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)

    with SandboxServer(SandboxSettings(files_dir=str(ARTIFACTS))) as sandbox:
        print(f"Order Desk sandbox: {sandbox.api_url} (store {sandbox.store_id})")
        order_ids = [int(sandbox.seed_order(order)["id"]) for order in _demo_orders(hour)]
        env = {
            **os.environ,
            "AIRFLOW_HOME": str(AIRFLOW_HOME),
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW_CONN_ORDERDESK_DEFAULT": json.dumps(
                {
                    "conn_type": "orderdesk",
                    "host": sandbox.api_url,
                    "login": sandbox.store_id,
                    "password": sandbox.api_key,
                }
            ),
            "ORDERDESK_ARTIFACT_BASE": ARTIFACTS.as_uri(),
            "ORDERDESK_ARTIFACT_PUBLIC_URL": f"{sandbox.base_url}/files",
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        print(f"Migrating the demo's Airflow metadata database in {AIRFLOW_HOME} ...")
        _airflow(env, "db", "migrate")

        before = _snapshot(sandbox, order_ids)
        _print_table(
            f"Before: orders placed between {hour:%Y-%m-%d %H:%M} and {hour + timedelta(hours=1):%H:%M} UTC",
            before,
        )

        logical_date = (hour + timedelta(hours=1)).isoformat()
        print(f"\nRunning {DAG_ID} for that hour (airflow dags test {DAG_ID} {logical_date}) ...")
        _airflow(env, "dags", "test", DAG_ID, logical_date)
        puts, moves = _writes(sandbox)
        after = _snapshot(sandbox, order_ids)
        _print_table(f"After: {puts} item update(s) and {moves} move(s) sent to Order Desk", after)

        link = next(
            str(value)
            for order_id in order_ids
            for item in sandbox.sandbox.state.get_order(order_id)["order_items"]
            for key, value in (item.get("metadata") or {}).items()
            if key == "hiResUrl"
        )
        with urllib.request.urlopen(link, timeout=10) as response:
            print(
                f"\nA link written into Order Desk opens: {link} -> {response.status}, "
                f"{response.headers['Content-Type']}, {len(response.read())} bytes"
            )
        print(f"Order page: {sandbox.base_url}/orders/view/{order_ids[0]} (while the demo runs)")

        sandbox.sandbox.log.clear()
        print("\nRunning the same hour again ...")
        _airflow(env, "dags", "test", DAG_ID, logical_date)
        puts, moves = _writes(sandbox)
        again = _snapshot(sandbox, order_ids)
        verdict = "nothing to change" if (puts, moves) == (0, 0) and again == after else "CHANGED"
        _print_table(f"Second run: {puts} item update(s), {moves} move(s): {verdict}", again)

    print(f"\nDemo finished in {time.monotonic() - started:.0f} s; the sandbox is stopped.")
    return 0 if verdict == "nothing to change" else 1


if __name__ == "__main__":
    sys.exit(main())
