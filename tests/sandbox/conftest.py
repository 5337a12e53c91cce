"""Fixtures for the sandbox tests: one real sandbox server per session, reset before every test."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
import requests

if TYPE_CHECKING:
    from collections.abc import Iterator

    from airflow_orderdesk.sandbox import SandboxServer


class Api:
    """
    A ``requests`` session that talks to the sandbox's ``/api/v2`` with the right credentials.

    :param server: the running sandbox.
    """

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.session = requests.Session()
        self.session.headers.update(
            {"ORDERDESK-STORE-ID": server.store_id, "ORDERDESK-API-KEY": server.api_key}
        )

    def url(self, path: str) -> str:
        """The full URL of an API path such as ``/orders``."""
        return self.server.api_url + path

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Send one request; a timeout is always set so a broken test cannot hang."""
        kwargs.setdefault("timeout", 10)
        return self.session.request(method, self.url(path), **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def control(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Call a ``/_sandbox`` control route (no credentials needed)."""
        kwargs.setdefault("timeout", 10)
        return requests.request(method, f"{self.server.base_url}/_sandbox{path}", **kwargs)


@pytest.fixture
def api(sandbox: SandboxServer) -> Iterator[Api]:
    """A client for the freshly reset sandbox."""
    client = Api(sandbox)
    yield client
    client.session.close()
