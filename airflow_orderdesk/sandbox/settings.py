"""Settings of the Order Desk sandbox: store identity, rate limit, error statuses and fault injection.

One frozen :class:`SandboxSettings` describes how a sandbox behaves. The control route
``PATCH /_sandbox/config`` swaps it for a changed copy made by :meth:`SandboxSettings.with_changes`, so
request handlers always see one consistent set of values.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

__all__ = [
    "FAULT_KINDS",
    "ITEM_PUT_MODES",
    "READ_ONLY_SETTINGS",
    "ItemPutMode",
    "SandboxSettings",
    "SettingsError",
]

#: Every fault the sandbox can inject, in the order the CLI documents them.
FAULT_KINDS: tuple[str, ...] = (
    "500",
    "502",
    "503",
    "slow",
    "drop",
    "malformed_json",
    "html_error",
    "error_200",
)

ItemPutMode = Literal["replace", "merge"]
ITEM_PUT_MODES: tuple[str, ...] = ("replace", "merge")

#: Settings fixed for the life of a sandbox: the database is opened once.
READ_ONLY_SETTINGS: frozenset[str] = frozenset({"db"})


class SettingsError(ValueError):
    """A setting has a value the sandbox cannot work with."""


@dataclass(frozen=True)
class SandboxSettings:
    """
    How one sandbox store behaves; every field has a default that mirrors Order Desk's documentation.

    :param store_id: the store id clients must send in ``ORDERDESK-STORE-ID``.
    :param api_key: the key clients must send in ``ORDERDESK-API-KEY``.
    :param store_name: the name ``GET /store`` reports.
    :param timezone: the store's IANA time zone; order searches by date are read in it.
    :param db: an SQLite file path, or ``":memory:"``.
    :param demo_data: whether the demo orders are loaded at start and on reset.
    :param burst: tokens in the store's bucket; 0 switches rate limiting off.
    :param refill_per_second: tokens flowing back each second; 0 switches rate limiting off.
    :param item_put_mode: ``"replace"`` resets item fields a PUT leaves out, ``"merge"`` keeps them.
    :param partial_source_id: whether the ``source_id`` search matches substrings instead of exactly.
    :param auth_error_status: HTTP status for a wrong store id or API key.
    :param not_found_status: HTTP status for an unknown order, item or route.
    :param validation_error_status: HTTP status for a request the sandbox refuses as invalid.
    :param fault_rate: probability, 0 to 1, that an API request gets an injected fault.
    :param fault_kinds: which faults may be injected (see :data:`FAULT_KINDS`).
    :param fault_seed: seed of the random generator that decides faults, so runs repeat.
    :param fault_after_write: whether a fault on a write comes after the write was applied.
    :param slow_seconds: how long a ``"slow"`` fault delays the answer.
    :param files_dir: a folder served read-only under ``/files/``, or ``None``.
    """

    store_id: str = "10001"
    api_key: str = "sandbox-api-key-0123456789"
    store_name: str = "Sandbox Print Shop"
    timezone: str = "America/New_York"
    db: str = ":memory:"
    demo_data: bool = True
    burst: int = 20
    refill_per_second: float = 3.0
    item_put_mode: ItemPutMode = "replace"
    partial_source_id: bool = False
    auth_error_status: int = 401
    not_found_status: int = 404
    validation_error_status: int = 422
    fault_rate: float = 0.0
    fault_kinds: tuple[str, ...] = FAULT_KINDS
    fault_seed: int = 0
    fault_after_write: bool = False
    slow_seconds: float = 5.0
    files_dir: str | None = None

    def __post_init__(self) -> None:
        # Callers (argparse, JSON bodies) hand in lists; a tuple keeps the frozen object hashable.
        object.__setattr__(self, "fault_kinds", tuple(self.fault_kinds))
        self._validate()

    def _validate(self) -> None:
        if not self.store_id:
            raise SettingsError("store_id must not be empty")
        if not self.api_key:
            raise SettingsError("api_key must not be empty")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise SettingsError(f"unknown time zone: {self.timezone!r}") from exc
        if self.burst < 0 or self.refill_per_second < 0:
            raise SettingsError("burst and refill_per_second must be 0 (no limit) or positive")
        if self.item_put_mode not in ITEM_PUT_MODES:
            raise SettingsError(f"item_put_mode must be one of {', '.join(ITEM_PUT_MODES)}")
        for name in ("auth_error_status", "not_found_status", "validation_error_status"):
            status = getattr(self, name)
            if not 400 <= status <= 599:
                raise SettingsError(f"{name} must be an HTTP error status (400-599)")
        if not 0.0 <= self.fault_rate <= 1.0:
            raise SettingsError("fault_rate must lie between 0 and 1")
        unknown = [kind for kind in self.fault_kinds if kind not in FAULT_KINDS]
        if unknown:
            raise SettingsError(f"unknown fault kinds: {', '.join(unknown)}")
        if self.fault_rate > 0 and not self.fault_kinds:
            raise SettingsError("fault_kinds must not be empty when fault_rate is above 0")
        if self.slow_seconds < 0 or not math.isfinite(self.slow_seconds):
            raise SettingsError("slow_seconds must be 0 or positive")

    @property
    def rate_limited(self) -> bool:
        """Whether requests are metered at all."""
        return self.burst > 0 and self.refill_per_second > 0

    def to_dict(self) -> dict[str, Any]:
        """The settings as a JSON-ready mapping."""
        values = dataclasses.asdict(self)
        values["fault_kinds"] = list(self.fault_kinds)
        return values

    def with_changes(self, changes: Mapping[str, Any]) -> SandboxSettings:
        """
        A copy with some settings changed, each value checked against the field's type.

        :param changes: setting name to new value, as decoded from JSON.
        :raises SettingsError: for an unknown or read-only setting, or a value of the wrong type.
        """
        coerced: dict[str, Any] = {}
        for name, value in changes.items():
            if name not in _COERCERS:
                raise SettingsError(f"unknown setting: {name}")
            if name in READ_ONLY_SETTINGS:
                raise SettingsError(f"{name} cannot be changed while the sandbox runs")
            coerced[name] = _COERCERS[name](name, value)
        return dataclasses.replace(self, **coerced)


def _as_str(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise SettingsError(f"{name} must be a string")
    return value


def _as_optional_str(name: str, value: Any) -> str | None:
    return None if value is None else _as_str(name, value)


def _as_bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise SettingsError(f"{name} must be true or false")
    return value


def _as_int(name: str, value: Any) -> int:
    # bool is an int subclass, but "burst": true is a mistake, not a 1.
    if isinstance(value, bool) or not isinstance(value, int):
        raise SettingsError(f"{name} must be an integer")
    return value


def _as_float(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SettingsError(f"{name} must be a number")
    return float(value)


def _as_kinds(name: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, list | tuple) or not all(isinstance(kind, str) for kind in value):
        raise SettingsError(f"{name} must be a list of fault kinds")
    return tuple(value)


_COERCERS: dict[str, Callable[[str, Any], Any]] = {
    "store_id": _as_str,
    "api_key": _as_str,
    "store_name": _as_str,
    "timezone": _as_str,
    "db": _as_str,
    "demo_data": _as_bool,
    "burst": _as_int,
    "refill_per_second": _as_float,
    "item_put_mode": _as_str,
    "partial_source_id": _as_bool,
    "auth_error_status": _as_int,
    "not_found_status": _as_int,
    "validation_error_status": _as_int,
    "fault_rate": _as_float,
    "fault_kinds": _as_kinds,
    "fault_seed": _as_int,
    "fault_after_write": _as_bool,
    "slow_seconds": _as_float,
    "files_dir": _as_optional_str,
}
