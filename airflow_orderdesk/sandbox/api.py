"""The sandbox's Order Desk endpoints under ``/api/v2``: test, store, orders, items, history, moves.

Auth, the rate limit and faults are already dealt with by the gateway when a handler runs; handlers
only read the request, call the store and wrap the result in Order Desk's envelope.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request, Response

from airflow_orderdesk.sandbox.documents import JSONDict, parse_id
from airflow_orderdesk.sandbox.envelopes import success_response
from airflow_orderdesk.sandbox.errors import InvalidRequestError, NotFoundError
from airflow_orderdesk.sandbox.php import render_item, render_order
from airflow_orderdesk.sandbox.search import parse_order_query

if TYPE_CHECKING:
    from airflow_orderdesk.sandbox.runtime import Sandbox

__all__ = ["build_api_router", "read_json_object"]


async def read_json_object(request: Request, *, required: bool = True) -> JSONDict:
    """
    The request body as a JSON object.

    :param request: the request.
    :param required: whether an empty body is an error; if not, it reads as ``{}``.
    :raises InvalidRequestError: for a missing body, invalid JSON, or JSON that is not an object.
    """
    raw = await request.body()
    if not raw.strip():
        if required:
            raise InvalidRequestError("Request body is empty")
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # RecursionError: nesting too deep to decode
        raise InvalidRequestError("Invalid JSON in request body") from exc
    if not isinstance(body, dict):
        raise InvalidRequestError("Request body must be a JSON object")
    return body


def _path_id(raw: str, message: str) -> int:
    # An id that cannot exist is just another unknown order or item for the client.
    try:
        return parse_id(raw, "id")
    except InvalidRequestError as exc:
        raise NotFoundError(message) from exc


def _order_id(raw: str) -> int:
    return _path_id(raw, "Order Not Found")


def _item_id(raw: str) -> int:
    return _path_id(raw, "Order Item Not Found")


def _wants_history(request: Request) -> bool:
    return request.query_params.get("get_order_history", "") in ("1", "true", "yes")


def build_api_router(sandbox: Sandbox) -> APIRouter:
    """
    The ``/api/v2`` routes working on one sandbox.

    :param sandbox: the live sandbox.
    """
    router = APIRouter(prefix="/api/v2")

    @router.get("/test")
    async def test_connection(request: Request) -> Response:
        return success_response(
            request, {"current_date_time": sandbox.now_text()}, message="Connection Successful"
        )

    @router.get("/store")
    async def get_store(request: Request) -> Response:
        settings = sandbox.settings
        store = {
            "id": settings.store_id,
            "name": settings.store_name,
            "settings": {"timezone": settings.timezone},
            "folders": {str(folder_id): name for folder_id, name in sandbox.state.folders().items()},
        }
        return success_response(request, {"store": store}, timing_in_message=True)

    @router.get("/orders")
    async def search_orders(request: Request) -> Response:
        settings = sandbox.settings
        query = parse_order_query(
            request.query_params,
            timezone=settings.timezone,
            partial_source_id=settings.partial_source_id,
            folders=sandbox.state.folders(),
        )
        total, orders = sandbox.state.search_orders(query)
        history = _wants_history(request)
        return success_response(
            request,
            {
                # Order Desk sends this count as a string on order lists.
                "total_records": str(total),
                "records_returned": len(orders),
                "offset": query.offset,
                "limit": query.limit,
                "orders": [render_order(order, include_history=history) for order in orders],
            },
        )

    @router.post("/orders")
    async def create_order(request: Request) -> Response:
        body = await read_json_object(request)
        order = sandbox.state.create_order(body, sandbox.now_text())
        return success_response(
            request, {"order": render_order(order, include_history=False)}, message="Order Created"
        )

    @router.get("/orders/{order_id}")
    async def get_order(order_id: str, request: Request) -> Response:
        order = sandbox.state.get_order(_order_id(order_id))
        rendered = render_order(order, include_history=_wants_history(request))
        return success_response(request, {"order": rendered}, timing_in_message=True)

    @router.put("/orders/{order_id}")
    async def replace_order(order_id: str, request: Request) -> Response:
        oid = _order_id(order_id)
        body = await read_json_object(request)
        order = sandbox.state.replace_order(oid, body, sandbox.now_text())
        return success_response(
            request, {"order": render_order(order, include_history=False)}, message="Order Updated"
        )

    @router.delete("/orders/{order_id}")
    async def delete_order(order_id: str, request: Request) -> Response:
        sandbox.state.delete_order(_order_id(order_id))
        return success_response(request, {}, message="Order Deleted")

    @router.get("/orders/{order_id}/order-items")
    async def list_items(order_id: str, request: Request) -> Response:
        order = sandbox.state.get_order(_order_id(order_id))
        items = [render_item(item) for item in order["order_items"]]
        return success_response(
            request, {"total_records": len(items), "order_items": items}, timing_in_message=True
        )

    @router.post("/orders/{order_id}/order-items")
    async def add_item(order_id: str, request: Request) -> Response:
        oid = _order_id(order_id)
        body = await read_json_object(request)
        item = sandbox.state.add_item(oid, body, sandbox.now_text())
        return success_response(request, {"order_item": render_item(item)}, message="Order Item Added")

    @router.get("/orders/{order_id}/order-items/{item_id}")
    async def get_item(order_id: str, item_id: str, request: Request) -> Response:
        item = sandbox.state.get_item(_order_id(order_id), _item_id(item_id))
        return success_response(request, {"order_item": render_item(item)}, timing_in_message=True)

    @router.put("/orders/{order_id}/order-items/{item_id}")
    async def update_item(order_id: str, item_id: str, request: Request) -> Response:
        oid, iid = _order_id(order_id), _item_id(item_id)
        body = await read_json_object(request)
        merge = sandbox.settings.item_put_mode == "merge"
        item = sandbox.state.update_item(oid, iid, body, merge=merge, now=sandbox.now_text())
        return success_response(request, {"order_item": render_item(item)}, message="Order Item Updated")

    @router.delete("/orders/{order_id}/order-items/{item_id}")
    async def delete_item(order_id: str, item_id: str, request: Request) -> Response:
        sandbox.state.delete_item(_order_id(order_id), _item_id(item_id), sandbox.now_text())
        return success_response(request, {}, message="Order Item Deleted")

    @router.post("/orders/{order_id}/order-history")
    async def add_history(order_id: str, request: Request) -> Response:
        oid = _order_id(order_id)
        body = await read_json_object(request)
        note = body.get("note")
        if not isinstance(note, str) or not note.strip():
            raise InvalidRequestError("note must be a non-empty string")
        order = sandbox.state.add_history(oid, note, sandbox.now_text())
        return success_response(
            request, {"order": render_order(order, include_history=True)}, message="Order History Added"
        )

    @router.post("/move-orders")
    async def move_orders(request: Request) -> Response:
        body = await read_json_object(request)
        order_ids = _move_order_ids(body.get("order_id_list"))
        folder_id = _destination_folder(body, sandbox.state.folders())
        results = sandbox.state.move_orders(order_ids, folder_id, sandbox.now_text())
        moved = sum(1 for result in results if result.moved)
        return success_response(
            request,
            {
                "results": [
                    {
                        "order_id": result.order_id,
                        "message": result.message,
                        "original_folder_id": result.original_folder_id,
                    }
                    for result in results
                ]
            },
            message=f"{moved} Orders Moved",
        )

    return router


def _move_order_ids(value: Any) -> list[str]:
    if not isinstance(value, list) or not value:
        raise InvalidRequestError("order_id_list must be a non-empty list of order ids")
    return [str(parse_id(entry, "order id")) for entry in value]


def _destination_folder(body: JSONDict, folders: dict[int, str]) -> int:
    by_id = body.get("destination_folder_id") not in (None, "")
    by_name = body.get("destination_folder_name") not in (None, "")
    if by_id and by_name:
        raise InvalidRequestError("Send destination_folder_id or destination_folder_name, not both")
    if by_id:
        try:
            folder_id = parse_id(body["destination_folder_id"], "destination_folder_id")
        except InvalidRequestError as exc:
            raise InvalidRequestError(f"Folder Not Found: {body['destination_folder_id']}") from exc
        if folder_id not in folders:
            raise InvalidRequestError(f"Folder Not Found: {folder_id}")
        return folder_id
    if by_name:
        name = body["destination_folder_name"]
        if isinstance(name, str):
            for folder_id, folder_name in folders.items():
                if folder_name.casefold() == name.casefold():
                    return folder_id
        raise InvalidRequestError(f"Folder Not Found: {name}")
    raise InvalidRequestError("destination_folder_id or destination_folder_name is required")
