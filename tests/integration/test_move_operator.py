"""OrderDeskMoveOrderOperator against the sandbox: found orders move to a folder once, in one request."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from airflow.sdk.exceptions import AirflowSkipException

from airflow_orderdesk.exceptions import OrderDeskConfigurationError, OrderDeskOrderNotFoundError
from airflow_orderdesk.operators.orderdesk import OrderDeskMoveOrderOperator

if TYPE_CHECKING:
    from airflow_orderdesk.sandbox import SandboxServer

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("orderdesk_conn_id")]

NEW, PREPARED, CLOSED = 21654, 21655, 21656


class FakeTI:
    """The part of a task instance the operator uses: it records what is pushed to XCom."""

    dag_id, task_id, run_id, map_index = "tests", "task", "manual__test", -1

    def __init__(self) -> None:
        self.xcom: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcom[key] = value


def move(ti: FakeTI | None = None, **arguments: Any) -> dict[str, Any]:
    operator = OrderDeskMoveOrderOperator(task_id="move", **arguments)
    context: Any = {"ti": ti or FakeTI()}
    return operator.execute(context)


def folder_of(sandbox: SandboxServer, order_id: int) -> int:
    return int(sandbox.sandbox.state.get_order(order_id)["folder_id"])


def moves(sandbox: SandboxServer) -> list[dict[str, Any]]:
    return sandbox.requests(method="POST", path_prefix="/move-orders")


def test_orders_move_to_prepared_by_default(sandbox: SandboxServer) -> None:
    summary = move(order_lookup_id="1001")

    assert folder_of(sandbox, 925086) == PREPARED
    assert summary["moved"] == ["925086"]
    assert summary["already_there"] == []


@pytest.mark.parametrize("name", ["Prepared", "prepared", "  PREPARED "])
def test_the_folder_name_is_matched_without_regard_to_case(sandbox: SandboxServer, name: str) -> None:
    summary = move(order_lookup_id="1001", destination_folder=name)

    assert summary["folder"] == {"id": str(PREPARED), "name": "Prepared"}
    (request,) = moves(sandbox)
    assert request["body"] == {"order_id_list": ["925086"], "destination_folder_id": PREPARED}


@pytest.mark.parametrize("folder_id", [CLOSED, str(CLOSED)])
def test_orders_move_to_a_folder_given_by_id(sandbox: SandboxServer, folder_id: int | str) -> None:
    summary = move(order_lookup_id="1001", destination_folder_id=folder_id)

    assert folder_of(sandbox, 925086) == CLOSED
    assert summary["folder"] == {"id": str(CLOSED), "name": "Closed"}


def test_an_unknown_folder_name_is_refused_listing_the_folders_there_are(sandbox: SandboxServer) -> None:
    with pytest.raises(OrderDeskConfigurationError) as raised:
        move(order_lookup_id="1001", destination_folder="Prepped")

    assert raised.value.field == "destination_folder"
    for folder in ("New", "Prepared", "Closed", "Canceled"):
        assert folder in raised.value.problem
    assert moves(sandbox) == []
    assert folder_of(sandbox, 925086) == NEW


def test_an_unknown_folder_id_is_refused_listing_the_folders_there_are(sandbox: SandboxServer) -> None:
    with pytest.raises(OrderDeskConfigurationError, match=r"Prepared \(21655\)") as raised:
        move(order_lookup_id="1001", destination_folder_id=99999)

    assert raised.value.field == "destination_folder_id"
    assert moves(sandbox) == []


def test_an_order_already_in_the_folder_is_not_moved(sandbox: SandboxServer) -> None:
    summary = move(order_lookup_id="10010")  # demo order 925089 sits in Prepared already

    assert moves(sandbox) == []
    assert summary["already_there"] == ["925089"]
    assert summary["moved"] == []


def test_a_split_order_moves_in_one_request(sandbox: SandboxServer) -> None:
    summary = move(order_lookup_id="1002")

    (request,) = moves(sandbox)
    assert sorted(request["body"]["order_id_list"]) == ["925087", "925088"]
    assert sorted(summary["moved"]) == ["925087", "925088"]
    assert folder_of(sandbox, 925087) == folder_of(sandbox, 925088) == PREPARED


def test_only_the_parts_not_yet_in_the_folder_are_moved(sandbox: SandboxServer) -> None:
    sandbox.sandbox.state.move_orders(["925088"], PREPARED, sandbox.sandbox.now_text())

    summary = move(order_lookup_id="1002")

    (request,) = moves(sandbox)
    assert request["body"]["order_id_list"] == ["925087"]
    assert summary["moved"] == ["925087"]
    assert summary["already_there"] == ["925088"]


def test_running_twice_moves_only_once(sandbox: SandboxServer) -> None:
    move(order_lookup_id="1002")

    second = move(order_lookup_id="1002")

    assert len(moves(sandbox)) == 1
    assert second["moved"] == []
    assert sorted(second["already_there"]) == ["925087", "925088"]


def test_a_missing_order_fails_naming_the_lookup(sandbox: SandboxServer) -> None:
    with pytest.raises(OrderDeskOrderNotFoundError, match="source_id '9999'"):
        move(order_lookup_id="9999")
    assert moves(sandbox) == []


def test_a_missing_order_skips_the_task_when_asked(sandbox: SandboxServer) -> None:
    ti = FakeTI()

    with pytest.raises(AirflowSkipException, match="source_id '9999'"):
        move(ti, order_lookup_id="9999", skip_missing_orders=True)

    assert moves(sandbox) == []
    assert ti.xcom == {}


def test_an_order_is_found_by_its_internal_id(sandbox: SandboxServer) -> None:
    summary = move(order_lookup_id=925086, order_lookup_type="order_id")

    assert summary["lookup"] == {"type": "order_id", "value": "925086"}
    assert folder_of(sandbox, 925086) == PREPARED


def test_the_result_says_what_moved_and_what_was_already_there(sandbox: SandboxServer) -> None:
    ti = FakeTI()

    summary = move(ti, order_lookup_id="1001")

    assert summary == {
        "lookup": {"type": "source_id", "value": "1001"},
        "folder": {"id": str(PREPARED), "name": "Prepared"},
        "moved": ["925086"],
        "already_there": [],
        "moved_by_other_task": [],
    }
    assert json.loads(json.dumps(summary)) == summary
    assert ti.xcom == {"orderdesk_order_url": f"{sandbox.base_url}/orders/view/925086"}


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        pytest.param({"order_lookup_id": ""}, "order_lookup_id", id="empty-lookup-id"),
        pytest.param({"order_lookup_type": "shop_number"}, "order_lookup_type", id="unknown-lookup-type"),
        pytest.param({"destination_folder": "  "}, "destination_folder", id="blank-folder-name"),
        pytest.param({"destination_folder": None}, "destination_folder", id="no-folder"),
        pytest.param(
            {"orderdesk_conn_id": "orderdesk_nowhere"}, "orderdesk_conn_id", id="unknown-connection"
        ),
    ],
)
def test_unusable_arguments_are_refused_before_any_request(
    sandbox: SandboxServer, arguments: dict[str, Any], named: str
) -> None:
    with pytest.raises(OrderDeskConfigurationError) as raised:
        move(**{"order_lookup_id": "1001", **arguments})

    assert raised.value.field == named
    assert sandbox.requests() == []


@pytest.mark.parametrize("value", ["True", 1, None])
def test_a_non_boolean_skip_missing_orders_is_refused_when_the_task_is_defined(value: Any) -> None:
    with pytest.raises(OrderDeskConfigurationError, match="skip_missing_orders"):
        OrderDeskMoveOrderOperator(task_id="move", order_lookup_id="1001", skip_missing_orders=value)
