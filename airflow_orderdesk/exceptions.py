"""The errors this provider raises, each carrying what a user needs to act on it.

Every error derives from :class:`OrderDeskError`, itself an ``AirflowException``, so a task fails in the
usual way. Errors that come from an Order Desk answer also carry the HTTP status and Order Desk's own
message, which lets retry logic tell a rate limit or an outage from a request that will never succeed.
"""

from __future__ import annotations

from airflow.sdk.exceptions import AirflowException

__all__ = [
    "OrderDeskAPIError",
    "OrderDeskAuthenticationError",
    "OrderDeskConfigurationError",
    "OrderDeskError",
    "OrderDeskItemNotFoundError",
    "OrderDeskLostUpdateError",
    "OrderDeskMalformedResponseError",
    "OrderDeskNotFoundError",
    "OrderDeskOrderNotFoundError",
    "OrderDeskRateLimitError",
    "OrderDeskServerError",
    "OrderDeskStaleReadError",
    "OrderDeskTransportError",
    "OrderDeskValidationError",
]


class OrderDeskError(AirflowException):
    """Base class of every error raised by this provider."""


class OrderDeskConfigurationError(OrderDeskError, ValueError):
    """
    A connection field or an argument is unusable; raised before any request is sent.

    :param field: the connection field or argument at fault, as the user wrote it.
    :param problem: what is wrong and what would be valid.
    """

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


class OrderDeskOrderNotFoundError(OrderDeskError):
    """
    No order matches the export's lookup; orders often reach Order Desk minutes after the shop, so the
    task fails in a way Airflow's retries can pick up.
    """


class OrderDeskItemNotFoundError(OrderDeskError):
    """The orders were found, but no item in them is the one the lookup describes."""


class OrderDeskLostUpdateError(OrderDeskError):
    """Another writer kept overwriting the item, and our keys could not be made to stick."""


class OrderDeskStaleReadError(OrderDeskError):
    """A write was held back so long that the data it was built on may have changed; read again."""


class OrderDeskTransportError(OrderDeskError):
    """Order Desk could not be reached, or the connection broke, after every allowed attempt."""


class OrderDeskAPIError(OrderDeskError):
    """
    Order Desk answered, and the answer is an error.

    :param status_code: the HTTP status of the answer, kept as ``status``; 200 when Order Desk reported
        the error inside a successful HTTP answer.
    :param message: Order Desk's own message, or a description of what was wrong with the answer.
    :param method: the HTTP method of the request.
    :param endpoint: the endpoint, relative to the API URL, without the query string.
    """

    def __init__(self, status_code: int, message: str, *, method: str = "", endpoint: str = "") -> None:
        self.status = status_code
        self.message = message
        self.method = method
        self.endpoint = endpoint
        request = f" ({method} {endpoint})" if method else ""
        super().__init__(f"Order Desk answered {status_code}{request}: {message}")


class OrderDeskAuthenticationError(OrderDeskAPIError):
    """The store id or the API key was refused; check the connection."""


class OrderDeskNotFoundError(OrderDeskAPIError):
    """The order, item or route does not exist in this store."""


class OrderDeskValidationError(OrderDeskAPIError):
    """
    Order Desk refused the request as invalid.

    Also raised when Order Desk answers HTTP 200 with ``"status": "error"``, since that means the request
    reached Order Desk and was not carried out.
    """


class OrderDeskRateLimitError(OrderDeskAPIError):
    """
    The store's rate limit was still exhausted when the hook's patience ran out.

    :param retry_after: the seconds Order Desk asked us to wait, when it said.
    """

    def __init__(
        self,
        status_code: int,
        message: str,
        *,
        method: str = "",
        endpoint: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(status_code, message, method=method, endpoint=endpoint)
        self.retry_after = retry_after


class OrderDeskServerError(OrderDeskAPIError):
    """Order Desk failed with a 5xx status after every allowed attempt."""


class OrderDeskMalformedResponseError(OrderDeskAPIError):
    """The answer was not the JSON object Order Desk's API promises."""
