"""The newcomer's demo: start the Order Desk sandbox, check the connection through the hook, show an order.

Run it with ``make demo``; it needs no Order Desk account and stops everything it started.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile

from airflow_orderdesk.sandbox import SandboxServer, SandboxSettings

DEMO_ORDER_NUMBER = "1001"


def main() -> int:
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="orderdesk-demo-airflow-"))
    with SandboxServer(SandboxSettings()) as sandbox:
        print(f"Order Desk sandbox running at {sandbox.api_url} (store {sandbox.store_id})")
        os.environ["AIRFLOW_CONN_ORDERDESK_DEFAULT"] = json.dumps(
            {
                "conn_type": "orderdesk",
                "host": sandbox.api_url,
                "login": sandbox.store_id,
                "password": sandbox.api_key,
            }
        )
        # Imported late: Airflow reads AIRFLOW_HOME when it is first imported.
        from airflow_orderdesk.hooks.orderdesk import OrderDeskHook

        hook = OrderDeskHook()
        ok, message = hook.test_connection()
        print(f"Connection test through OrderDeskHook: {message}")
        if not ok:
            return 1

        folders = hook.get_folders()
        print(f"Folders: {', '.join(f'{name} ({folder_id})' for folder_id, name in folders.items())}")
        for order in hook.find_orders_by_source_id(DEMO_ORDER_NUMBER):
            print()
            folder = folders.get(order["folder_id"], order["folder_id"])
            print(
                f"Demo order {order['source_id']} (Order Desk id {order['id']}), "
                f"folder {folder}, placed {order['date_added']} UTC"
            )
            for item in order["order_items"]:
                print(f"  item {item['id']}: {item['name']} x{item['quantity']} at {item['price']}")
                for key, value in item["metadata"].items():
                    print(f"      {key} = {value}")
                if not item["metadata"]:
                    print("      (no metadata)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
