"""The sandbox's web application: routes, gateway and error handling wired together.

:func:`create_app` builds one FastAPI application around one :class:`~.runtime.Sandbox`. Every error,
including FastAPI's own (unknown route, wrong method, invalid parameters, crashes), leaves as Order
Desk's error envelope, so a client under test never has to parse a framework's error format.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from airflow_orderdesk.sandbox.api import build_api_router
from airflow_orderdesk.sandbox.control import build_control_router
from airflow_orderdesk.sandbox.envelopes import error_response, started_at
from airflow_orderdesk.sandbox.errors import NotFoundError, SandboxError
from airflow_orderdesk.sandbox.faults import quiet_dropped_connections
from airflow_orderdesk.sandbox.gateway import ApiGateway, is_api_path
from airflow_orderdesk.sandbox.pages import build_pages_router
from airflow_orderdesk.sandbox.runtime import Sandbox
from airflow_orderdesk.sandbox.settings import SandboxSettings

__all__ = ["create_app", "sandbox_of"]

logger = logging.getLogger(__name__)


def sandbox_of(app: FastAPI) -> Sandbox:
    """The live sandbox behind an application made by :func:`create_app`."""
    sandbox = app.state.sandbox
    if not isinstance(sandbox, Sandbox):
        raise TypeError("this application was not made by create_app")
    return sandbox


def create_app(settings: SandboxSettings | None = None) -> FastAPI:
    """
    Build a sandbox application with its own store, bucket, faults and request log.

    :param settings: how the sandbox behaves; the defaults mirror Order Desk's documentation.
    """
    sandbox = Sandbox(settings or SandboxSettings())
    app = FastAPI(
        title="Order Desk sandbox",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        # Order Desk does not redirect; a wrong trailing slash must show up as an unknown route.
        redirect_slashes=False,
    )
    app.state.sandbox = sandbox
    app.include_router(build_api_router(sandbox))
    app.include_router(build_control_router(sandbox))
    app.include_router(build_pages_router(sandbox))
    app.add_middleware(ApiGateway, sandbox=sandbox)
    _install_error_handlers(app, sandbox)
    quiet_dropped_connections()
    return app


def _install_error_handlers(app: FastAPI, sandbox: Sandbox) -> None:
    def status_for(request: Request, error: SandboxError) -> int:
        # The settable statuses belong to the emulated API; control routes keep plain HTTP ones.
        not_found = isinstance(error, NotFoundError)
        if is_api_path(request.url.path):
            settings = sandbox.settings
            return settings.not_found_status if not_found else settings.validation_error_status
        return 404 if not_found else 422

    async def sandbox_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SandboxError)
        return error_response(status_for(request, exc), exc.message, started_at(request))

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 404:
            status = sandbox.settings.not_found_status if is_api_path(request.url.path) else 404
            return error_response(status, "Unknown route", started_at(request))
        if exc.status_code == 405:
            return error_response(405, "Method Not Allowed", started_at(request), headers=exc.headers)
        return error_response(exc.status_code, str(exc.detail), started_at(request), headers=exc.headers)

    async def validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error.get('loc', ()))}: {error.get('msg', 'invalid')}"
            for error in exc.errors()
        )
        status = sandbox.settings.validation_error_status if is_api_path(request.url.path) else 422
        return error_response(status, f"Invalid request: {problems}", started_at(request))

    async def server_error(request: Request, exc: Exception) -> Response:
        logger.error("Unhandled error while answering %s %s", request.method, request.url.path)
        return error_response(500, "Internal Server Error", started_at(request))

    app.add_exception_handler(SandboxError, sandbox_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(Exception, server_error)
