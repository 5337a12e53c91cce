"""Pages for people: an order's HTML view and, optionally, a folder of files served read-only.

The order page lets someone watching a demo see what a delivery task wrote into an item's metadata,
with artifact URLs as links. The file route lets a demo host the artifacts those URLs point at.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Response
from fastapi.responses import FileResponse, HTMLResponse

from airflow_orderdesk.sandbox.documents import JSONDict, parse_id
from airflow_orderdesk.sandbox.errors import InvalidRequestError, NotFoundError

if TYPE_CHECKING:
    from airflow_orderdesk.sandbox.runtime import Sandbox

__all__ = ["build_pages_router", "render_order_page"]

_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2rem;color:#222}"
    "table{border-collapse:collapse;margin:.5rem 0 1.5rem}"
    "th,td{border:1px solid #ccc;padding:.3rem .6rem;text-align:left;vertical-align:top}"
    "th{background:#f3f3f3}"
)


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    escaped = html.escape(text)
    if text.startswith(("http://", "https://")):
        return f'<a href="{html.escape(text, quote=True)}">{escaped}</a>'
    return escaped


def render_order_page(order: JSONDict, folder_name: str) -> str:
    """
    An order as a small HTML page: its shop number, folder, and each item with its metadata.

    :param order: the stored order.
    :param folder_name: the name of the order's folder.
    """
    parts = [
        f"<h1>Order {html.escape(str(order['id']))}</h1>",
        "<table>",
        f"<tr><th>Source ID</th><td>{html.escape(str(order.get('source_id', '')))}</td></tr>",
        f"<tr><th>Source</th><td>{html.escape(str(order.get('source_name', '')))}</td></tr>",
        f"<tr><th>Folder</th><td>{html.escape(folder_name)}</td></tr>",
        f"<tr><th>Last updated (UTC)</th><td>{html.escape(str(order.get('date_updated', '')))}</td></tr>",
        "</table>",
    ]
    for item in order.get("order_items", []):
        parts.append(
            f"<h2>Item {html.escape(str(item['id']))}: {html.escape(str(item.get('name', '')))}</h2>"
        )
        metadata = item.get("metadata") or {}
        if not metadata:
            parts.append("<p>No metadata.</p>")
            continue
        parts.append("<table>\n<tr><th>Key</th><th>Value</th></tr>")
        for key, value in metadata.items():
            parts.append(f"<tr><td>{html.escape(str(key))}</td><td>{_cell(value)}</td></tr>")
        parts.append("</table>")
    return _page(f"Order {order['id']}", "\n".join(parts))


def build_pages_router(sandbox: Sandbox) -> APIRouter:
    """
    The human-facing routes of one sandbox.

    :param sandbox: the live sandbox.
    """
    router = APIRouter()

    @router.get("/orders/view/{order_id}", response_class=HTMLResponse)
    async def order_page(order_id: str) -> Response:
        try:
            order = sandbox.state.get_order(parse_id(order_id, "order id"))
        except (InvalidRequestError, NotFoundError):
            page = _page("Order not found", f"<h1>Order {html.escape(order_id)} not found</h1>")
            return HTMLResponse(page, status_code=404)
        folder = sandbox.state.folders().get(int(order["folder_id"]), str(order["folder_id"]))
        return HTMLResponse(render_order_page(order, folder))

    @router.get("/files/{file_path:path}")
    async def serve_file(file_path: str) -> Response:
        files_dir = sandbox.settings.files_dir
        not_found = Response("Not Found", status_code=404, media_type="text/plain")
        if not files_dir:
            return not_found
        root = Path(files_dir).resolve()
        target = (root / file_path).resolve()
        # A path such as "../../etc/passwd" must not leave the served folder.
        if not target.is_relative_to(root) or not target.is_file():
            return not_found
        return FileResponse(target)

    return router
