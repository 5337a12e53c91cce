"""Pasted JSON: the three known slips are read, every other mistake is reported by line."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_orderdesk.pasted_json import PastedJSONError, parse_pasted_json


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"storeId": 00000}', {"storeId": "00000"}),
        ("[007, 0, 10, 0.5, -3, 1e3]", ["007", 0, 10, 0.5, -3, 1000.0]),
        ('{"a": [1, 2,], "b": {"c": 1,},}', {"a": [1, 2], "b": {"c": 1}}),
        ('{"a": 1 // the first\n, "b": /* the\nsecond */ 2}', {"a": 1, "b": 2}),
        ("[1, /* gone */ ]", [1]),
    ],
    ids=["leading zeros", "other numbers", "trailing commas", "comments", "comma before a comment"],
)
def test_the_known_paste_slips_are_read(text: str, expected: Any) -> None:
    assert parse_pasted_json(text) == expected


def test_text_inside_strings_is_never_rewritten() -> None:
    text = r'{"url": "https://x//y/*z*/", "id": "00000", "list": "[1,]", "quote": "a\"00,]"}'
    assert parse_pasted_json(text) == {
        "url": "https://x//y/*z*/",
        "id": "00000",
        "list": "[1,]",
        "quote": 'a"00,]',
    }


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('{\n"a": 1\n"b": 2}', 3),
        ("[-007]", 1),
        ("[00.5]", 1),
        ("[,]", 1),
        ("[1,,]", 1),
        ("{\n'a': 1}", 2),
        ('{\n/* never closed\n"a": 1}', 2),
        ('{\n"a": /* two\nlines */ x}', 3),
    ],
    ids=[
        "missing comma",
        "signed zeros",
        "fraction",
        "lone comma",
        "double comma",
        "single quotes",
        "open comment",
        "line after comment",
    ],
)
def test_other_mistakes_are_reported_by_line(text: str, line: int) -> None:
    with pytest.raises(PastedJSONError) as raised:
        parse_pasted_json(text)
    assert raised.value.line == line


def test_a_key_given_twice_is_refused() -> None:
    with pytest.raises(PastedJSONError, match="'storeId' appears twice"):
        parse_pasted_json('{"storeId": 1, "storeId": 2}')


def test_errors_do_not_quote_the_text() -> None:
    with pytest.raises(PastedJSONError) as raised:
        parse_pasted_json('{"storeApiKey": "sk-LEAK-123456" "x": 1}')
    assert "sk-LEAK" not in str(raised.value)
