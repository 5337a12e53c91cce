"""Bad input to the export, as one table: each is refused by name, says what is valid, and writes nothing.

Three groups: the connection's fields, the operator's arguments as written in a DAG, and the values
templates render (``None`` for a missing XCom, text where a mapping was meant, control characters
pasted from a terminal). Every case runs the real operator against the sandbox.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest
import structlog

from airflow_orderdesk.exceptions import OrderDeskConfigurationError
from airflow_orderdesk.hooks.orderdesk import OrderDeskHook
from airflow_orderdesk.operators.orderdesk import OrderDeskExportOperator

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow_orderdesk.sandbox import SandboxServer

pytestmark = pytest.mark.integration

ORDER_ID, ITEM_ID = "925086", "1844721"  # demo order "1001" and its item with testIdField = testId

#: Arguments that work against the demo data.
GOOD: dict[str, Any] = {
    "order_lookup_id": "1001",
    "order_item_lookup_name": "testIdField",
    "order_item_lookup_value": "testId",
    "data": {"hiResUrl": "https://files.example.com/cc/hires.pdf"},
}

#: Keys and values Order Desk stores as they are, far from ASCII.
NON_ASCII = {"Größe": "A4 \N{EN DASH} hochkant", "名前": "東京タワー", "emoji": "🖨️ ok"}


class FakeTI:
    """The part of a task instance the operator uses."""

    def xcom_push(self, key: str, value: Any) -> None:
        pass


def export(conn_id: str, **arguments: Any) -> dict[str, Any]:
    operator = OrderDeskExportOperator(
        task_id="export", orderdesk_conn_id=conn_id, verify_writes=False, **{**GOOD, **arguments}
    )
    context: Any = {"ti": FakeTI()}
    return operator.execute(context)


@dataclass(frozen=True)
class Bad:
    """
    One bad input and what its refusal must say.

    :param id: the case's name in the test report.
    :param named: what the message must start with: the argument or connection field at fault.
    :param valid: a phrase of the message that says what would be valid.
    :param arguments: operator arguments replacing the good ones.
    :param connection: connection fields replacing the working ones.
    """

    id: str
    named: str
    valid: str
    arguments: dict[str, Any] = field(default_factory=dict)
    connection: dict[str, Any] = field(default_factory=dict)


def in_connection(name: str, named: str, valid: str, **fields: Any) -> Bad:
    return Bad(f"connection-{name}", named, valid, connection=fields)


def in_argument(name: str, named: str, valid: str, **arguments: Any) -> Bad:
    return Bad(f"argument-{name}", named, valid, arguments=arguments)


def as_rendered(name: str, named: str, valid: str, **arguments: Any) -> Bad:
    return Bad(f"rendered-{name}", named, valid, arguments=arguments)


HOST, STORE, KEY = "API URL (host)", "Store ID (login)", "API Key (password)"
MAPPING = "expected a mapping of metadata keys to values"
PRINTABLE = "only printable text can be written"
SCALAR = "must be text, a number, a boolean or None"
LONG_URL = "https://files.example.com/" + "a" * (10_000 - len("https://files.example.com/"))

BAD_INPUTS = [
    in_connection("host-scheme-only", HOST, "expected an address such as", host="https://"),
    in_connection("host-with-a-space", HOST, "must not contain white space", host="http://{sandbox}/api /v2"),
    in_connection("host-ftp", HOST, "must be an http:// or https:// address", host="ftp://{sandbox}/api/v2"),
    in_connection(
        "host-with-credentials", HOST, "in the API Key (password) field", host="http://a:b@{sandbox}"
    ),
    in_connection(
        "host-with-a-query", HOST, "must not have a query string", host="http://{sandbox}/api/v2?s=1"
    ),
    in_connection("store-id-missing", STORE, "copy it from Store Settings > API", login=None),
    in_connection("store-id-letters", STORE, "must be Order Desk's numeric store id", login="abc"),
    in_connection("store-id-with-a-space", STORE, "must be Order Desk's numeric store id", login="12 34"),
    in_connection("api-key-missing", KEY, "copy it from Store Settings > API", password=None),
    in_connection("api-key-with-a-space", KEY, "paste the key again", password="sandbox-api-key 0123"),
    in_connection("timeout-text", "extra 'timeout'", "must be a number >= 1", extra={"timeout": "soon"}),
    in_connection("timeout-negative", "extra 'timeout'", "must be a number >= 1", extra={"timeout": -1}),
    in_connection(
        "burst-fraction",
        "extra 'rate_limit_burst'",
        "must be a whole number >= 1",
        extra={"rate_limit_burst": 2.5},
    ),
    in_connection(
        "rate-a-boolean",
        "extra 'rate_limit_per_second'",
        "must be a number >= 0.1",
        extra={"rate_limit_per_second": True},
    ),
    in_connection(
        "unknown-extra",
        "extra",
        "known options are timeout, rate_limit_burst",
        extra={"verify_ssl": False},
    ),
    in_connection(
        "order-page-without-order-id",
        "extra 'order_page_url'",
        "with {order_id} in it",
        extra={"order_page_url": "http://{sandbox}/orders/view/"},
    ),
    in_argument(
        "lookup-type-none", "order_lookup_type", "use one of source_id, order_id", order_lookup_type=None
    ),
    in_argument(
        "lookup-type-a-number", "order_lookup_type", "use one of source_id, order_id", order_lookup_type=42
    ),
    in_argument("data-none", "data", MAPPING, data=None),
    in_argument("data-a-set", "data", MAPPING, data={"hiResUrl", "https://a"}),
    in_argument("data-key-not-text", "data", "every metadata key must be text", data={1001: "https://a"}),
    in_argument("data-key-with-a-tab", "data key", PRINTABLE, data={"hi\tResUrl": "https://a"}),
    in_argument("data-key-padded", "data[' hiResUrl']", "write the key without it", data={" hiResUrl": "x"}),
    in_argument("data-value-bytes", "data['hiResUrl']", SCALAR, data={"hiResUrl": b"https://a"}),
    in_argument(
        "data-value-infinite",
        "data['copies']",
        "expected a finite number or text",
        data={"copies": float("inf")},
    ),
    in_argument(
        "item-lookup-name-with-a-bell",
        "order_item_lookup_name",
        PRINTABLE,
        order_item_lookup_name="test\aIdField",
    ),
    in_argument(
        "item-lookup-name-a-number",
        "order_item_lookup_name",
        "expected a metadata key as text",
        order_item_lookup_name=42,
    ),
    in_argument(
        "item-lookup-value-a-list",
        "order_item_lookup_value",
        "expected text or a whole number",
        order_item_lookup_value=["testId"],
    ),
    in_argument("lookup-id-with-a-newline", "order_lookup_id", PRINTABLE, order_lookup_id="10\n01"),
    in_argument(
        "lookup-id-false", "order_lookup_id", "expected the shop's order number", order_lookup_id=False
    ),
    in_argument(
        "lookup-id-a-float", "order_lookup_id", "expected the shop's order number", order_lookup_id=1001.0
    ),
    in_argument(
        "lookup-id-256-long", "order_lookup_id", "at most 255 are allowed", order_lookup_id="1" * 256
    ),
    in_argument(
        "internal-id-negative",
        "order_lookup_id",
        "needs Order Desk's numeric internal id",
        order_lookup_id="-925086",
        order_lookup_type="order_id",
    ),
    as_rendered(
        "lookup-id-none", "order_lookup_id", "expected the shop's order number", order_lookup_id=None
    ),
    as_rendered(
        "item-lookup-value-none",
        "order_item_lookup_value",
        "give the value the item must have",
        order_item_lookup_value=None,
    ),
    as_rendered("data-a-list", "data", MAPPING, data=["a"]),
    as_rendered("data-text-of-a-list", "data", MAPPING, data="['a', 'b']"),
    as_rendered("data-text-none", "data", MAPPING, data="None"),
    as_rendered("data-text-cut-off", "data", "expected a mapping such as", data="{'hiResUrl': 'https://a'"),
    as_rendered(
        "data-json-nested-object", "data['hiResUrl']", SCALAR, data='{"hiResUrl": {"url": "https://a"}}'
    ),
    as_rendered("data-literal-list-value", "data['hiResUrl']", SCALAR, data="{'hiResUrl': ['https://a']}"),
    as_rendered(
        "data-json-escaped-nul", "data['hiResUrl']", PRINTABLE, data='{"hiResUrl": "https://a\\u0000"}'
    ),
    as_rendered(
        "url-10000-long", "data['hiResUrl']", "at most 8192 are allowed", data={"hiResUrl": LONG_URL}
    ),
    as_rendered("key-300-long", "data key", "at most 255 are allowed", data={"k" * 300: "https://a"}),
    as_rendered("url-with-nul", "data['hiResUrl']", PRINTABLE, data={"hiResUrl": "https://x\x00y"}),
    as_rendered("ansi-colour-code", "data['hiResUrl']", PRINTABLE, data={"hiResUrl": "\x1b[31m"}),
    as_rendered("non-ascii-key-zero-width", "data key", PRINTABLE, data={"Grö\u200bße": "A4"}),
    as_rendered("non-ascii-key-delete", "data key", PRINTABLE, data={"名前\x7f": "東京タワー"}),
    as_rendered("lookup-id-bidi-override", "order_lookup_id", PRINTABLE, order_lookup_id="\u202e1001"),
    as_rendered("history-note-ansi", "history_note", PRINTABLE, history_note="\x1b[1mFiles ready"),
]


@pytest.mark.parametrize("case", [pytest.param(case, id=case.id) for case in BAD_INPUTS])
def test_bad_input_is_refused_by_name_saying_what_is_valid_before_any_request(
    sandbox: SandboxServer, make_connection: Callable[..., str], case: Bad
) -> None:
    conn_id = make_connection(**case.connection)

    with pytest.raises(OrderDeskConfigurationError) as raised:
        export(conn_id, **case.arguments)

    message = str(raised.value)
    assert message.startswith(case.named), message
    assert case.valid in message
    # Refused before the first request, so nothing can have been written.
    assert sandbox.requests() == []


def test_non_ascii_keys_and_values_round_trip_unchanged(
    sandbox: SandboxServer, make_connection: Callable[..., str]
) -> None:
    conn_id = make_connection()

    export(conn_id, data=NON_ASCII)

    (put,) = sandbox.requests(method="PUT")
    assert put["path"] == f"/orders/{ORDER_ID}/order-items/{ITEM_ID}"
    assert {key: put["body"]["metadata"].get(key) for key in NON_ASCII} == NON_ASCII
    metadata = OrderDeskHook(conn_id).get_order_item(ORDER_ID, ITEM_ID)["metadata"]
    assert {key: metadata.get(key) for key in NON_ASCII} == NON_ASCII
    assert metadata["testIdField"] == "testId"


def test_the_summary_and_the_log_lines_name_the_keys_but_never_the_values(
    sandbox: SandboxServer, make_connection: Callable[..., str], caplog: pytest.LogCaptureFixture
) -> None:
    conn_id = make_connection()
    caplog.set_level(logging.DEBUG)

    with structlog.testing.capture_logs() as captured:
        summary = export(conn_id, data=NON_ASCII)

    lines = [str(entry["event"]) for entry in captured] + [record.getMessage() for record in caplog.records]
    summary_text = json.dumps(summary, ensure_ascii=False)
    # The keys are there, so a value would be seen if it were logged or reported.
    assert any("Größe" in line and "名前" in line for line in lines)
    assert summary["orders"][0]["items"][0]["keys_set"] == list(NON_ASCII)
    for value in NON_ASCII.values():
        assert value not in summary_text
        assert not [line for line in lines if value in line]


@pytest.mark.parametrize(
    "data",
    [
        pytest.param({"layout": "{'page': 'A4', 'copies': 2}"}, id="a-value"),
        pytest.param("{'layout': \"{'page': 'A4', 'copies': 2}\"}", id="a-value-inside-data-text"),
    ],
)
def test_a_value_that_reads_like_a_dict_literal_is_written_as_text(
    sandbox: SandboxServer, make_connection: Callable[..., str], data: Any
) -> None:
    conn_id = make_connection()

    export(conn_id, data=data)

    metadata = OrderDeskHook(conn_id).get_order_item(ORDER_ID, ITEM_ID)["metadata"]
    assert metadata["layout"] == "{'page': 'A4', 'copies': 2}"
