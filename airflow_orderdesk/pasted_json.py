"""JSON as people paste it from documentation and configuration screens, read where its meaning is plain.

Customer's Canvas documents its pipeline tasks with a store id written ``00000``: a number with leading
zeros, which strict JSON refuses. Pasted configuration also tends to carry trailing commas and
comments. :func:`parse_pasted_json` reads those three things and nothing else; every other mistake
stays an error, reported by line so that it can be found without echoing the text (which may hold an
API key).

Pure logic with no Airflow import.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["PastedJSONError", "parse_pasted_json"]

#: A bare whole number with leading zeros, such as ``00000``. Its digits are an identifier (a store id,
#: an order number) whose zeros matter, so it is read as the text it was written as. Signed numbers and
#: numbers with a fraction or an exponent are left alone and stay errors: what they mean is not plain.
_LEADING_ZERO_NUMBER = re.compile(r"0[0-9]+")

_NUMBER_CHARACTERS = frozenset("0123456789+-.eE")

#: Typographic quotes, which word processors and web pages put where JSON needs straight ones.
_CURLY_QUOTES = frozenset("\u201c\u201d\u2018\u2019")


class PastedJSONError(ValueError):
    """
    Pasted text is not JSON, even read leniently.

    :param problem: what is wrong, without quoting the text.
    :param line: the line (from 1) where the problem was found, when known.
    """

    def __init__(self, problem: str, line: int | None = None) -> None:
        self.problem = problem
        self.line = line
        super().__init__(problem if line is None else f"{problem} (line {line})")


def _string_end(text: str, start: int) -> int:
    """The index just past the JSON string that opens at ``start``, or the text's end if it never closes."""
    index = start + 1
    while index < len(text):
        character = text[index]
        if character == "\\":
            index += 2
            continue
        if character == '"':
            return index + 1
        index += 1
    return len(text)


def _drop_trailing_comma(pieces: list[str]) -> None:
    """Remove a comma that follows a value and comes right before the closing bracket about to be added."""
    index = len(pieces) - 1
    while index >= 0 and not pieces[index].strip():
        index -= 1
    if index < 0 or pieces[index] != ",":
        return
    before = index - 1
    while before >= 0 and not pieces[before].strip():
        before -= 1
    # "[,]" and "[1,,]" are not a trailing comma after a value; they stay errors.
    if before >= 0 and pieces[before] not in ("[", "{", ","):
        del pieces[index]


def _normalise(text: str) -> str:
    """
    Rewrite the lenient parts as strict JSON, keeping every line where it was.

    Strict JSON comes out unchanged, since none of the rewritten forms can occur in it outside a string.
    """
    pieces: list[str] = []
    index = 0
    while index < len(text):
        character = text[index]
        if character == '"':
            end = _string_end(text, index)
            pieces.append(text[index:end])
            index = end
        elif text.startswith("//", index):
            end = text.find("\n", index)
            index = len(text) if end == -1 else end
        elif text.startswith("/*", index):
            end = text.find("*/", index + 2)
            if end == -1:
                raise PastedJSONError("a /* comment is never closed", text.count("\n", 0, index) + 1)
            # Blank lines in place of the comment keep the line numbers of later errors right.
            pieces.append("\n" * text.count("\n", index, end) or " ")
            index = end + 2
        elif character in "]}":
            _drop_trailing_comma(pieces)
            pieces.append(character)
            index += 1
        elif character.isdigit() or character == "-":
            end = index
            while end < len(text) and text[end] in _NUMBER_CHARACTERS:
                end += 1
            token = text[index:end]
            pieces.append(f'"{token}"' if _LEADING_ZERO_NUMBER.fullmatch(token) else token)
            index = end
        else:
            pieces.append(character)
            index += 1
    return "".join(pieces)


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Build an object, refusing a key given twice: strict JSON would silently keep the last one."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise PastedJSONError(f"the key {key!r} appears twice in one object; keep one of them")
        result[key] = value
    return result


def parse_pasted_json(text: str) -> Any:
    """
    Parse JSON text, also accepting what pasted configuration commonly holds.

    Accepted beyond strict JSON: bare whole numbers with leading zeros (``00000``, read as the text
    ``"00000"``), a comma after the last element of an array or object, and ``//`` and ``/* */``
    comments. A key that appears twice in one object is refused rather than resolved silently.

    :param text: the JSON text.
    :raises PastedJSONError: naming the problem and its line, never quoting the text.
    """
    try:
        return json.loads(_normalise(text), object_pairs_hook=_refuse_duplicate_keys)
    except json.JSONDecodeError as error:
        problem = error.msg
        if any(character in _CURLY_QUOTES for character in text):
            problem += (
                '; the text holds typographic quotes, which JSON does not accept: use straight ones (")'
            )
        raise PastedJSONError(problem, error.lineno) from None
