"""Errors the sandbox's store and document logic raise, free of any HTTP machinery.

The web layer turns each into Order Desk's error envelope with the HTTP status the settings choose, so
the pure modules never need to know which status a kind of error gets.
"""

from __future__ import annotations

__all__ = ["InvalidRequestError", "NotFoundError", "SandboxError"]


class SandboxError(Exception):
    """
    Base of the errors a client's request can cause; the message is shown to the client.

    :param message: a sentence a human can read, sent as the envelope's ``message``.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFoundError(SandboxError):
    """An order, an order item or a route does not exist."""


class InvalidRequestError(SandboxError):
    """A request body or query parameter is malformed or has a value of the wrong type."""
