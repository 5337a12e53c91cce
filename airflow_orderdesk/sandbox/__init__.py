"""A local imitation of the Order Desk REST API v2, for tests and demos of the provider.

It plays Order Desk's documented behaviour and the gaps nobody documents (item PUT semantics, partial
``source_id`` matching, error statuses) in every plausible variant, meters requests like Order Desk's
leaky bucket and injects faults from a fixed seed. Start it in-process with :class:`SandboxServer` or
from the shell with ``orderdesk-sandbox``.
"""

from __future__ import annotations

from airflow_orderdesk.sandbox.app import create_app
from airflow_orderdesk.sandbox.server import SandboxServer
from airflow_orderdesk.sandbox.settings import FAULT_KINDS, SandboxSettings

__all__ = ["FAULT_KINDS", "SandboxServer", "SandboxSettings", "create_app"]
