"""The ``data`` of an export, checked and merged into an order item's metadata.

Pure logic: what may be written into an item's metadata, how it is written as text, and what changes
when it is merged into what the item already holds. Nothing here talks to Order Desk or Airflow.
"""

from __future__ import annotations

import ast
import json
import math
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from airflow_orderdesk.exceptions import OrderDeskConfigurationError

__all__ = [
    "MAX_KEY_LENGTH",
    "MAX_VALUE_LENGTH",
    "MetadataChange",
    "check_text",
    "merge_metadata",
    "parse_data",
]

#: The longest metadata key we write. Order Desk documents no limit; keys are names, and a longer one is
#: almost certainly a value pasted into the wrong place.
MAX_KEY_LENGTH = 255

#: The longest metadata value we write. Signed artifact URLs run to a few thousand characters; Order Desk
#: documents no limit, so we stay well within what a database text column holds.
MAX_VALUE_LENGTH = 8192

#: What Jinja makes of ``None`` when a DAG does not render native objects: ``{{ ti.xcom_pull(...) }}`` of
#: a render task that produced nothing becomes this text, which is read as a missing value.
RENDERED_NONE = "None"


def check_text(argument: str, value: str, *, limit: int) -> str:
    """
    Refuse text that cannot be stored faithfully: too long, or holding control characters.

    Non-ASCII letters are fine and are written unchanged.
    """
    if len(value) > limit:
        raise OrderDeskConfigurationError(
            argument, f"is {len(value)} characters long; at most {limit} are allowed"
        )
    bad = sorted({f"U+{ord(ch):04X}" for ch in value if unicodedata.category(ch) in ("Cc", "Cf", "Cs")})
    if bad:
        raise OrderDeskConfigurationError(
            argument, f"holds control characters ({', '.join(bad[:5])}); only printable text can be written"
        )
    return value


def _as_mapping(data: Any) -> Mapping[Any, Any]:
    """Accept a mapping, or the text non-native templating makes of one (JSON or a Python literal)."""
    if isinstance(data, Mapping):
        return data
    if isinstance(data, str):
        text = data.strip()
        if not text:
            raise OrderDeskConfigurationError(
                "data", "is empty; expected a mapping of metadata keys to values"
            )
        parsed: Any
        try:
            parsed = json.loads(text)
        except ValueError:
            try:
                parsed = ast.literal_eval(text)
            except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                raise OrderDeskConfigurationError(
                    "data",
                    "is text that is neither a JSON object nor a Python dict literal; "
                    "expected a mapping such as {'hiResUrl': 'https://...'}",
                ) from None
        if isinstance(parsed, Mapping):
            return parsed
        raise OrderDeskConfigurationError(
            "data",
            f"is text holding a {type(parsed).__name__}; expected a mapping of metadata keys to values",
        )
    raise OrderDeskConfigurationError(
        "data", f"is a {type(data).__name__}; expected a mapping of metadata keys to values"
    )


def _value_as_text(key: str, value: Any) -> str | None:
    """A metadata value as Order Desk stores it, or ``None`` for a missing one."""
    argument = f"data[{key!r}]"
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise OrderDeskConfigurationError(argument, f"is {value}; expected a finite number or text")
        return repr(value)
    if isinstance(value, str):
        if value == RENDERED_NONE:
            return None
        return check_text(argument, value, limit=MAX_VALUE_LENGTH)
    kind = "a nested mapping" if isinstance(value, Mapping) else f"a {type(value).__name__}"
    raise OrderDeskConfigurationError(
        argument, f"is {kind}; metadata values must be text, a number, a boolean or None"
    )


def parse_data(data: Any, *, lookup_name: str | None, skip_empty_values: bool) -> dict[str, str]:
    """
    Check an export's ``data`` and return the metadata to write, every value as text.

    :param data: a mapping of metadata keys to scalar values, or its JSON or Python-literal text.
    :param lookup_name: the item lookup key, which ``data`` must not hold: writing it would change which
        item later lookups find.
    :param skip_empty_values: leave out values that are ``None`` or empty instead of writing ``""``.
    :raises OrderDeskConfigurationError: naming ``data`` or the key at fault, and what would be valid.
    """
    mapping = _as_mapping(data)
    result: dict[str, str] = {}
    for raw_key, raw_value in mapping.items():
        if not isinstance(raw_key, str):
            raise OrderDeskConfigurationError(
                "data", f"has a key {raw_key!r} that is not text; every metadata key must be text"
            )
        if not raw_key.strip():
            raise OrderDeskConfigurationError("data", "has an empty key; every metadata key needs a name")
        if raw_key != raw_key.strip():
            raise OrderDeskConfigurationError(
                f"data[{raw_key!r}]", "has white space around the key; write the key without it"
            )
        key = check_text(f"data key {raw_key[:40]!r}", raw_key, limit=MAX_KEY_LENGTH)
        if lookup_name is not None and key == lookup_name:
            raise OrderDeskConfigurationError(
                f"data[{key!r}]",
                "is the item lookup key (order_item_lookup_name); writing it would change which item "
                "later exports find, so leave it out of data",
            )
        value = _value_as_text(key, raw_value)
        if value is None or value == "":
            if skip_empty_values:
                continue
            value = ""
        result[key] = value
    return result


@dataclass(frozen=True)
class MetadataChange:
    """
    The outcome of merging ``data`` into an item's metadata.

    :param metadata: the item's metadata after the merge.
    :param changed: keys whose value is new or different, in the order of ``data``.
    :param unchanged: keys of ``data`` the item already held with the same value.
    :param previous: the values the changed keys had before (absent keys are left out).
    """

    metadata: dict[str, Any]
    changed: tuple[str, ...]
    unchanged: tuple[str, ...]
    previous: dict[str, Any]

    @property
    def is_noop(self) -> bool:
        """Whether the merge changes nothing, so that nothing needs writing."""
        return not self.changed


def merge_metadata(current: Mapping[str, Any], data: Mapping[str, str]) -> MetadataChange:
    """Merge ``data`` into ``current``: existing keys are overwritten, new ones added, others kept."""
    merged = dict(current)
    changed: list[str] = []
    unchanged: list[str] = []
    previous: dict[str, Any] = {}
    for key, value in data.items():
        if key in current and str(current[key]) == value:
            unchanged.append(key)
            continue
        if key in current:
            previous[key] = current[key]
        merged[key] = value
        changed.append(key)
    return MetadataChange(merged, tuple(changed), tuple(unchanged), previous)
