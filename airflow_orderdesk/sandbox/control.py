"""Control routes under ``/_sandbox``: what tests use to reset, configure, inspect and seed the sandbox.

These routes are not part of Order Desk's API: they need no credentials, cost no tokens, never get a
fault and are not recorded in the request log.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from airflow_orderdesk.sandbox.api import read_json_object
from airflow_orderdesk.sandbox.documents import parse_id
from airflow_orderdesk.sandbox.errors import InvalidRequestError, NotFoundError
from airflow_orderdesk.sandbox.settings import SettingsError

if TYPE_CHECKING:
    from airflow_orderdesk.sandbox.runtime import Sandbox

__all__ = ["CONTROL_PREFIX", "build_control_router"]

CONTROL_PREFIX = "/_sandbox"


def build_control_router(sandbox: Sandbox) -> APIRouter:
    """
    The ``/_sandbox`` routes working on one sandbox.

    :param sandbox: the live sandbox.
    """
    router = APIRouter(prefix=CONTROL_PREFIX)

    @router.post("/reset")
    async def reset(request: Request) -> Response:
        body = await read_json_object(request, required=False)
        demo_data = body.get("demo_data")
        if demo_data is not None and not isinstance(demo_data, bool):
            raise InvalidRequestError("demo_data must be true or false")
        count = sandbox.reset(demo_data)
        return JSONResponse({"status": "success", "message": "Sandbox reset", "orders": count})

    @router.get("/config")
    async def get_config() -> Response:
        return JSONResponse({"status": "success", "config": sandbox.settings.to_dict()})

    @router.patch("/config")
    async def patch_config(request: Request) -> Response:
        body = await read_json_object(request)
        try:
            settings = sandbox.configure(body)
        except SettingsError as exc:
            raise InvalidRequestError(str(exc)) from exc
        return JSONResponse({"status": "success", "config": settings.to_dict()})

    @router.get("/requests")
    async def list_requests(request: Request) -> Response:
        records = sandbox.log.records(
            method=request.query_params.get("method"),
            path_prefix=request.query_params.get("path_prefix"),
        )
        return JSONResponse({"requests": [record.to_dict() for record in records]})

    @router.delete("/requests")
    async def clear_requests() -> Response:
        sandbox.log.clear()
        return JSONResponse({"status": "success", "message": "Request log cleared"})

    @router.post("/orders")
    async def seed_order(request: Request) -> Response:
        body = await read_json_object(request)
        order = sandbox.state.seed_order(body, sandbox.now_text())
        return JSONResponse({"status": "success", "order": order})

    @router.get("/orders/{order_id}")
    async def raw_order(order_id: str) -> Response:
        try:
            oid = parse_id(order_id, "order id")
        except InvalidRequestError as exc:
            raise NotFoundError("Order Not Found") from exc
        return JSONResponse({"status": "success", "order": sandbox.state.get_order(oid)})

    return router
