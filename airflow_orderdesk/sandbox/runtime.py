"""The live sandbox: settings, store, rate-limit bucket, fault generator and request log in one place.

The web layer, the control routes and :class:`~airflow_orderdesk.sandbox.server.SandboxServer` all work
on one :class:`Sandbox`. Settings can change while requests are in flight, so they are swapped as a
whole under a lock and every request reads them once.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from airflow_orderdesk.pacing import LeakyBucket
from airflow_orderdesk.sandbox.demo_data import FOLDERS, load_demo_data
from airflow_orderdesk.sandbox.documents import format_utc
from airflow_orderdesk.sandbox.faults import FaultPicker
from airflow_orderdesk.sandbox.requestlog import RequestLog
from airflow_orderdesk.sandbox.state import SandboxState

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from airflow_orderdesk.sandbox.settings import SandboxSettings

__all__ = ["Sandbox"]

_FAULT_SETTINGS = frozenset({"fault_rate", "fault_kinds", "fault_seed"})
_BUCKET_SETTINGS = frozenset({"burst", "refill_per_second"})


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Sandbox:
    """
    Everything one running sandbox knows.

    :param settings: how the sandbox behaves.
    :param clock: gives the current moment in UTC; tests may pin it.
    """

    def __init__(self, settings: SandboxSettings, *, clock: Callable[[], datetime] = _utc_now) -> None:
        self._lock = threading.Lock()
        self._settings = settings
        self._clock = clock
        self.state = SandboxState(settings.db, folders=FOLDERS)
        self.log = RequestLog()
        self.bucket = self._new_bucket(settings)
        self.faults = FaultPicker(settings.fault_seed)
        # A database file may already hold orders from an earlier run; demo data must not double them.
        if settings.demo_data and self.state.count_orders() == 0:
            load_demo_data(self.state, self.now())

    @staticmethod
    def _new_bucket(settings: SandboxSettings) -> LeakyBucket:
        return LeakyBucket(settings.burst, settings.refill_per_second)

    @property
    def settings(self) -> SandboxSettings:
        """The settings in force now."""
        with self._lock:
            return self._settings

    def now(self) -> datetime:
        """The current moment, UTC."""
        return self._clock()

    def now_text(self) -> str:
        """The current moment in Order Desk's UTC date format."""
        return format_utc(self.now())

    def reset(self, demo_data: bool | None = None) -> int:
        """
        Start over: no orders, an empty request log, a full bucket and the fault sequence from its seed.

        :param demo_data: whether to load the demo orders; ``None`` follows the ``demo_data`` setting.
        :return: how many orders the store holds afterwards.
        """
        with self._lock:
            settings = self._settings
            self.bucket = self._new_bucket(settings)
            self.faults.reseed(settings.fault_seed)
        self.state.reset(FOLDERS)
        self.log.clear()
        if settings.demo_data if demo_data is None else demo_data:
            load_demo_data(self.state, self.now())
        return self.state.count_orders()

    def configure(self, changes: Mapping[str, Any]) -> SandboxSettings:
        """
        Change settings while the sandbox runs.

        A new burst or refill rate gives a new, full bucket; a change to any fault setting restarts the
        fault sequence from the seed, so a test that switches faults on knows what comes.

        :param changes: setting name to new value.
        :raises airflow_orderdesk.sandbox.settings.SettingsError: for an unknown, read-only or invalid
            setting; nothing changes then.
        """
        with self._lock:
            updated = self._settings.with_changes(changes)
            self._settings = updated
            if _BUCKET_SETTINGS & changes.keys():
                self.bucket = self._new_bucket(updated)
            if _FAULT_SETTINGS & changes.keys():
                self.faults.reseed(updated.fault_seed)
            return updated

    def close(self) -> None:
        """Release the database."""
        self.state.close()
