"""The hook that speaks Order Desk's REST API v2, paced under the store's rate limit."""

from __future__ import annotations

import random
import time
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import requests
from airflow.providers.http.hooks.http import HttpHook
from airflow.sdk.exceptions import AirflowNotFoundException
from airflow.sdk.log import mask_secret

from airflow_orderdesk import __version__
from airflow_orderdesk.dates import added_within, search_window, store_zone
from airflow_orderdesk.defaults import DEFAULT_CONN_ID
from airflow_orderdesk.exceptions import (
    OrderDeskAPIError,
    OrderDeskConfigurationError,
    OrderDeskError,
    OrderDeskMalformedResponseError,
    OrderDeskNotFoundError,
    OrderDeskRateLimitError,
    OrderDeskStaleReadError,
    OrderDeskTransportError,
)
from airflow_orderdesk.pacing import LeakyBucket, backoff_delay, bucket_for_store
from airflow_orderdesk.payloads import as_map, id_text, normalise_item, normalise_order, writable_item
from airflow_orderdesk.responses import is_worth_retrying, read_envelope, retry_after_seconds
from airflow_orderdesk.settings import CONNECT_TIMEOUT, ConnectionSettings, parse_connection

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping
    from datetime import datetime

    from airflow.sdk import Connection

__all__ = ["OrderDeskHook", "connected_hook"]

#: Order Desk's largest page of orders; fewer, larger pages spend less of the rate limit.
SEARCH_PAGE_SIZE = 500

#: Failures of the network kind, after which a request that is safe to repeat is sent again.
_TRANSPORT_ERRORS = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)


def _path(*segments: object) -> str:
    """An endpoint built from ids, each quoted so that no id can reach another route."""
    ids = [id_text(segment) for segment in segments]
    for text in ids:
        # Quoting leaves "." and ".." alone, and the URL's dot segments would then be resolved: an item
        # id of ".." would turn an item PUT into a whole-order PUT. An empty id would reach the list route.
        if text in ("", ".", ".."):
            raise OrderDeskConfigurationError("id", f"must be an Order Desk id such as 925086; got {text!r}")
    return "/".join(quote(text, safe="") for text in ids)


class OrderDeskHook(HttpHook):
    """
    Interact with one Order Desk store through its REST API v2.

    The connection (type ``orderdesk``) holds the API URL in *host* (empty means Order Desk's own), the
    store id in *login* and the API key in *password*. Optional extras: ``timeout`` (seconds per answer),
    ``rate_limit_burst`` and ``rate_limit_per_second`` (for a store whose limit differs from Order Desk's
    20 and 3 per second), and ``order_page_url`` (the order page pattern, with ``{order_id}``).

    Every request waits for a token from the store's bucket, which all hooks of the same store in the
    process share. A 429 is waited out as Order Desk asks and sent again; a 5xx, a timeout or a dropped
    connection is retried with exponential backoff and jitter, but only for requests that are safe to
    repeat (reads, complete-item updates and moves).

    .. note::
        Order Desk does not say whether its rate limit belongs to the store or to the API key, nor
        whether other tools spend from it. The hook assumes one bucket per store, and trusts the
        ``X-Tokens-Remaining`` header whenever it says fewer tokens are left than the hook thought.

    .. warning::
        A history note is never sent twice: if Order Desk fails to answer a note, the hook cannot know
        whether the note was saved, so it raises instead of risking a doubled note.

    :param orderdesk_conn_id: the ``orderdesk`` connection to use.
    :param max_retries: how many times a request that is safe to repeat is sent again after a 5xx, a
        timeout or a dropped connection.
    :param max_rate_limit_wait: the most seconds one request may spend waiting out 429 answers before
        :class:`~airflow_orderdesk.exceptions.OrderDeskRateLimitError` is raised.
    :param sleep: the function that waits; tests pass a fake one.
    """

    conn_name_attr = "orderdesk_conn_id"
    default_conn_name = DEFAULT_CONN_ID
    conn_type = "orderdesk"
    hook_name = "Order Desk"

    def __init__(
        self,
        orderdesk_conn_id: str = default_conn_name,
        *,
        max_retries: int = 4,
        max_rate_limit_wait: float = 120.0,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        super().__init__(method="GET", http_conn_id=orderdesk_conn_id)
        self.orderdesk_conn_id = orderdesk_conn_id
        self.max_retries = max_retries
        self.max_rate_limit_wait = max_rate_limit_wait
        self._sleep = sleep
        self._jitter = jitter
        self._reserved = 0

    # -- connection ---------------------------------------------------------------------------------

    @cached_property
    def settings(self) -> ConnectionSettings:
        """The connection's fields, checked; read once per hook."""
        connection = self.get_connection(self.orderdesk_conn_id)
        return self.settings_from_connection(connection)

    def settings_from_connection(self, connection: Connection) -> ConnectionSettings:
        """Check a connection and return its settings, masking its key in every log from here on."""
        settings = parse_connection(
            connection.host, connection.login, connection.password, connection.extra_dejson
        )
        mask_secret(settings.api_key)
        if settings.is_plain_http_off_loopback:
            self.log.warning(
                "Connection %s sends the API key over plain http to %s; use https",
                self.orderdesk_conn_id,
                settings.api_url,
            )
        return settings

    @cached_property
    def bucket(self) -> LeakyBucket:
        """The store's rate-limit bucket, shared with every other hook of the store in this process."""
        settings = self.settings
        return bucket_for_store(
            settings.api_url, settings.store_id, settings.rate_limit_burst, settings.rate_limit_per_second
        )

    def _set_base_url(self, connection: Any) -> None:
        # HttpHook would build the URL from host, schema and port, and fall back to plain http.
        self.base_url = self.settings.api_url
        self._base_url_initialized = True

    def _extract_auth(self, connection: Any) -> None:
        # HttpHook sends login and password as Basic auth; Order Desk's key travels only in its header.
        return None

    def get_conn(
        self, headers: dict[Any, Any] | None = None, extra_options: dict[str, Any] | None = None
    ) -> requests.Session:
        """
        A session that carries the store's two headers and nothing else of the connection.

        Unlike HttpHook's, it sends no ``Authorization`` header and turns no extra into a header.
        """
        self._set_base_url(None)
        session = requests.Session()
        session.headers.update(
            {
                "ORDERDESK-STORE-ID": self.settings.store_id,
                "ORDERDESK-API-KEY": self.settings.api_key,
                "Accept": "application/json",
                "User-Agent": f"airflow-provider-orderdesk/{__version__} (+Apache Airflow)",
            }
        )
        session = self._configure_session_from_mount_adapters(session)
        if headers:
            session.headers.update(headers)
        return session

    @cached_property
    def session(self) -> requests.Session:
        """The hook's session, made on first use and kept so that connections are reused."""
        return self.get_conn()

    def order_url(self, order_id: str | int) -> str:
        """The address of an order's page in Order Desk, for links from Airflow."""
        return self.settings.order_url(id_text(order_id))

    # -- requests -----------------------------------------------------------------------------------

    def reserve_tokens(self, count: int) -> None:
        """
        Take ``count`` tokens of the store's bucket at once (at most a full bucket) for this hook's next
        requests, waiting until they are all there.

        Those requests then go out back to back: a read and the write built on it cannot be pulled apart
        by other workers' requests taking the tokens in between. What is left unspent goes back to the
        bucket with :meth:`release_tokens`.
        """
        bucket = self.bucket
        wanted = min(count, bucket.burst) - self._reserved
        if bucket.unlimited or wanted <= 0:
            return
        while (wait := bucket.try_take(wanted)) > 0:
            if wait >= 1:
                self.log.info("Waiting %.1f s for Order Desk's rate limit", wait)
            self._sleep(wait)
        self._reserved += wanted

    def release_tokens(self) -> None:
        """Give the tokens reserved by :meth:`reserve_tokens` and not spent back to the store's bucket."""
        if self._reserved:
            self.bucket.give_back(self._reserved)
            self._reserved = 0

    def _wait_for_token(self, not_after: float | None) -> None:
        if not_after is not None and time.monotonic() > not_after:
            raise OrderDeskStaleReadError("the data this request was built on has already gone stale")
        if self._reserved:
            self._reserved -= 1
            return
        while (wait := self.bucket.try_take()) > 0:
            if not_after is not None and time.monotonic() + wait > not_after:
                raise OrderDeskStaleReadError(
                    "the rate limit would delay this request past the moment its data goes stale"
                )
            if wait >= 1:
                self.log.info("Waiting %.1f s for Order Desk's rate limit", wait)
            self._sleep(wait)

    def _note_tokens_remaining(self, response: requests.Response) -> None:
        header = response.headers.get("X-Tokens-Remaining")
        if header is not None and header.strip().lstrip("-").isdigit():
            remaining = int(header)
            self.bucket.observe_remaining(remaining)
            # A reservation is tokens we counted on; the server may hold fewer (other clients of the
            # store, or a connection that overstates its burst). Sending them back to back regardless
            # would meet a 429 every time and, for a read and its write, never let the write through.
            self._reserved = min(self._reserved, max(0, remaining))

    def request(
        self,
        method: str,
        endpoint: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Mapping[str, Any] | None = None,
        repeatable: bool | None = None,
        not_after: float | None = None,
    ) -> dict[str, Any]:
        """
        Send one request to Order Desk and return the answer's JSON object.

        :param method: the HTTP method.
        :param endpoint: the path below the API URL, such as ``orders/123``.
        :param params: query parameters.
        :param json: the body; only requests with a body carry ``Content-Type``.
        :param repeatable: whether the request may be sent again after a 5xx, a timeout or a dropped
            connection. Defaults to true for GET and PUT, which Order Desk applies idempotently.
        :param not_after: a :func:`time.monotonic` moment after which the request must not be sent, for
            a write built on data read earlier; waiting past it raises
            :class:`~airflow_orderdesk.exceptions.OrderDeskStaleReadError` so the caller reads again.
        :raises OrderDeskAPIError: the subclass that fits Order Desk's answer.
        :raises OrderDeskTransportError: when Order Desk could not be reached.
        """
        method = method.upper()
        if repeatable is None:
            repeatable = method in ("GET", "PUT")
        url = self.url_from_endpoint(endpoint)
        timeout = (min(CONNECT_TIMEOUT, self.settings.timeout), self.settings.timeout)
        attempt = 0
        rate_limit_waited = 0.0

        while True:
            self._wait_for_token(not_after)
            attempt += 1
            self.log.debug("%s %s (attempt %d)", method, url, attempt)
            try:
                response = self.session.request(method, url, params=params, json=json, timeout=timeout)
            except _TRANSPORT_ERRORS as error:
                reason = type(error).__name__
                if repeatable and attempt <= self.max_retries:
                    self._back_off(method, endpoint, attempt, reason)
                    continue
                raise OrderDeskTransportError(
                    f"Order Desk could not be reached for {method} {endpoint} after {attempt} attempt(s): "
                    f"{reason}"
                ) from error

            self._note_tokens_remaining(response)
            try:
                envelope = read_envelope(
                    response.status_code, response.content, method=method, endpoint=endpoint
                )
            except OrderDeskRateLimitError as error:
                # Order Desk refused the request before doing anything, so even a note may be resent.
                retry_after = retry_after_seconds(response.headers)
                wait = retry_after if retry_after is not None else 1 / max(self.bucket.refill_per_second, 0.1)
                if rate_limit_waited + wait > self.max_rate_limit_wait:
                    error.retry_after = retry_after
                    raise
                rate_limit_waited += wait
                # Tokens we reserved were counted on a bucket the server has just said is empty.
                self._reserved = 0
                self.bucket.slow_down()
                self.bucket.drain(wait)
                self.log.info("Order Desk's rate limit was reached; waiting %.1f s before trying again", wait)
                self._sleep(wait)
            except OrderDeskAPIError as error:
                if repeatable and attempt <= self.max_retries and is_worth_retrying(error):
                    self._back_off(method, endpoint, attempt, f"HTTP {error.status}")
                    continue
                raise
            else:
                self.bucket.speed_up()
                return envelope

    def _back_off(self, method: str, endpoint: str, attempt: int, reason: str) -> None:
        delay = backoff_delay(attempt, rng=self._jitter)
        self.log.warning(
            "%s %s failed (%s); trying again in %.1f s (retry %d of %d)",
            method,
            endpoint,
            reason,
            delay,
            attempt,
            self.max_retries,
        )
        self._sleep(delay)

    @staticmethod
    def _field(envelope: Mapping[str, Any], name: str, endpoint: str) -> Any:
        if name not in envelope:
            raise OrderDeskMalformedResponseError(200, f"the answer has no {name!r}", endpoint=endpoint)
        return envelope[name]

    # -- the API ------------------------------------------------------------------------------------

    def test_connection(self) -> tuple[bool, str]:
        """Check the connection with ``GET test``; used by the Test button of Airflow's connection form."""
        try:
            envelope = self.request("GET", "test")
        except OrderDeskError as error:
            return False, str(error)
        return True, str(envelope.get("message") or "Connection Successful")

    def get_store(self) -> dict[str, Any]:
        """The store's settings and folders, with ``folders`` as a map of folder id (text) to name."""
        store = as_map(self._field(self.request("GET", "store"), "store", "store"))
        store["folders"] = {id_text(key): str(name) for key, name in as_map(store.get("folders")).items()}
        store["settings"] = as_map(store.get("settings"))
        return store

    def get_folders(self) -> dict[str, str]:
        """The store's folders, as a map of folder id (text) to name."""
        folders: dict[str, str] = self.get_store()["folders"]
        return folders

    def get_order(self, order_id: str | int) -> dict[str, Any]:
        """
        One order, by Order Desk's **internal** id (not the shop's order number, which is ``source_id``).

        :raises OrderDeskNotFoundError: when the store has no such order.
        """
        endpoint = f"orders/{_path(order_id)}"
        return normalise_order(self._field(self.request("GET", endpoint), "order", endpoint))

    def iter_orders(self, **filters: Any) -> Iterator[dict[str, Any]]:
        """
        Every order that matches Order Desk's search filters, following every page.

        :param filters: ``GET orders`` query parameters, such as ``folder_id`` or ``search_start_date``
            (store-local time). ``limit`` and ``offset`` are managed here.
        """
        params = {key: value for key, value in filters.items() if value is not None}
        params.pop("offset", None)
        limit = int(params.pop("limit", SEARCH_PAGE_SIZE))
        offset = 0
        seen: set[str] = set()
        while True:
            envelope = self.request("GET", "orders", params={**params, "limit": limit, "offset": offset})
            page = self._field(envelope, "orders", "orders") or []
            if not isinstance(page, list):
                raise OrderDeskMalformedResponseError(200, "'orders' is not a list", endpoint="orders")
            fresh = 0
            for raw in page:
                order = normalise_order(raw)
                if order.get("id") in seen:
                    continue
                seen.add(order.get("id", ""))
                fresh += 1
                yield order
            # A short page is the last one; a page of nothing new means the server ignored the offset.
            if len(page) < limit or fresh == 0:
                return
            offset += len(page)

    def search_orders(self, **filters: Any) -> list[dict[str, Any]]:
        """Every order that matches the filters, as a list; see :meth:`iter_orders`."""
        return list(self.iter_orders(**filters))

    def find_orders_by_source_id(self, source_id: str | int, **filters: Any) -> list[dict[str, Any]]:
        """
        Every order whose ``source_id`` (the shop's order number) is exactly ``source_id``.

        Order Desk may match ``source_id`` partially, so the answer is filtered here: ``1001`` never finds
        ``10010``. Several orders can share one number when an order was split in Order Desk.
        """
        wanted = id_text(source_id)
        return [
            order
            for order in self.iter_orders(source_id=wanted, **filters)
            if order.get("source_id") == wanted
        ]

    def find_orders(self, lookup_value: str | int, lookup_type: str = "source_id") -> list[dict[str, Any]]:
        """
        The orders a lookup means: by ``source_id`` (every exact match) or by internal ``order_id``.

        :return: the orders, possibly none; an unknown internal id gives an empty list, not an error.
        """
        if lookup_type == "order_id":
            try:
                return [self.get_order(lookup_value)]
            except OrderDeskNotFoundError:
                return []
        if lookup_type == "source_id":
            return self.find_orders_by_source_id(lookup_value)
        raise OrderDeskConfigurationError("lookup_type", f"is {lookup_type!r}; use source_id or order_id")

    def find_orders_added_between(
        self, start: datetime, end: datetime, **filters: Any
    ) -> list[dict[str, Any]]:
        """
        Every order added in ``[start, end)`` that matches the filters (such as ``folder_id``).

        Order Desk reads search dates in the store's own time zone while ``date_added`` is UTC; this asks
        in the store's time and keeps exactly the orders whose UTC ``date_added`` is in the interval.

        :param start: the interval's start, time-zone aware.
        :param end: the interval's end (excluded), time-zone aware.
        """
        zone = store_zone(self.get_store()["settings"].get("timezone"))
        search_start, search_end = search_window(start, end, zone)
        return [
            order
            for order in self.iter_orders(
                search_start_date=search_start, search_end_date=search_end, **filters
            )
            if order.get("date_added") and added_within(order["date_added"], start, end)
        ]

    def get_order_item(self, order_id: str | int, item_id: str | int) -> dict[str, Any]:
        """One item of an order."""
        endpoint = f"orders/{_path(order_id)}/order-items/{_path(item_id)}"
        return normalise_item(self._field(self.request("GET", endpoint), "order_item", endpoint))

    def update_order_item(
        self,
        order_id: str | int,
        item: Mapping[str, Any],
        *,
        not_after: float | None = None,
        **changes: Any,
    ) -> dict[str, Any]:
        """
        Write a **complete** item: every writable field of ``item`` as read, with ``changes`` applied.

        Order Desk does not document whether an item update replaces or merges; sending the whole item
        is right either way, and makes the request safe to repeat.

        :param order_id: the order's internal id.
        :param item: the item as read from Order Desk, including its ``id``.
        :param not_after: see :meth:`request`; lets a caller refuse to write data that has gone stale.
        :param changes: fields to change, such as ``metadata={...}``.
        :return: Order Desk's answer.
        """
        if not item.get("id"):
            raise OrderDeskConfigurationError("item", "has no 'id'; pass the item as read from Order Desk")
        endpoint = f"orders/{_path(order_id)}/order-items/{_path(item['id'])}"
        return self.request("PUT", endpoint, json=writable_item(item, **changes), not_after=not_after)

    def move_orders(
        self,
        order_ids: Iterable[str | int],
        *,
        folder_id: str | int | None = None,
        folder_name: str | None = None,
        repeatable: bool = True,
    ) -> dict[str, Any]:
        """
        Move orders to a folder, given by id or by name (exactly one of the two).

        Moving runs the rules the shop attached to the folder, so callers should leave out orders that
        are already there. The move ends where it should however often it is sent, so by default it is
        retried like a read; pass ``repeatable=False`` to check where the orders are before resending,
        as :class:`~airflow_orderdesk.moving.OrderMover` does, so that no folder rule runs twice.
        """
        if (folder_id is None) == (folder_name is None):
            raise OrderDeskConfigurationError("folder_id / folder_name", "give exactly one of the two")
        body: dict[str, Any] = {"order_id_list": [id_text(order_id) for order_id in order_ids]}
        if folder_id is not None:
            if not id_text(folder_id).isdigit():
                raise OrderDeskConfigurationError(
                    "folder_id", f"is {folder_id!r}; expected a numeric folder id"
                )
            body["destination_folder_id"] = int(id_text(folder_id))
        else:
            body["destination_folder_name"] = folder_name
        return self.request("POST", "move-orders", json=body, repeatable=repeatable)

    def add_order_history(self, order_id: str | int, note: str) -> dict[str, Any]:
        """Add a note to an order's history. Never sent twice; see the class's warning."""
        return self.request(
            "POST", f"orders/{_path(order_id)}/order-history", json={"note": note}, repeatable=False
        )


def connected_hook(orderdesk_conn_id: str = DEFAULT_CONN_ID) -> OrderDeskHook:
    """
    A hook whose connection has already been read and checked.

    Operators call this before their first request, so that a missing or malformed connection fails
    the task with a message that names ``orderdesk_conn_id`` rather than halfway through the work.

    :raises OrderDeskConfigurationError: when the connection does not exist or does not hold what an
        ``orderdesk`` connection must.
    """
    hook = OrderDeskHook(orderdesk_conn_id)
    try:
        hook.settings  # noqa: B018 -- reading the settings is the check
    except AirflowNotFoundException:
        raise OrderDeskConfigurationError(
            "orderdesk_conn_id",
            f"no connection {orderdesk_conn_id!r} is defined; create one of type 'orderdesk' with the "
            "store id as login and the API key as password",
        ) from None
    return hook
