"""Errors raised by the AI clients: one hierarchy, messages written for a person.

Every way a reply can end other than "the provider said it is finished" raises a
subclass of :class:`AIError`. ``user_message`` says what happened and what to do
about it; it never contains an API key or a raw HTML page. ``partial_text`` holds
the answer text already streamed before the failure ("" when none arrived).
When the provider said why, ``code``, ``type`` and ``request_id`` keep its own words
(for a bug report or a support ticket); :mod:`.classify` decides the class.
"""

from __future__ import annotations

__all__ = [
    "AIError",
    "AuthenticationFailed",
    "ConnectionFailed",
    "ContentFiltered",
    "ContextTooLong",
    "ModelNotFound",
    "ProviderError",
    "QuotaExceeded",
    "RateLimited",
    "StreamInterrupted",
    "ToolsUnsupported",
]


class AIError(Exception):
    """Base class: a reply did not complete normally."""

    def __init__(
        self,
        user_message: str,
        *,
        partial_text: str = "",
        status_code: int | None = None,
        retry_after: float | None = None,
        code: str | None = None,
        type: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(user_message)
        self.user_message = user_message
        self.partial_text = partial_text
        #: HTTP status of the response that caused the error, when there was one.
        self.status_code = status_code
        #: Seconds the provider asked us to wait before trying again, when it said.
        self.retry_after = retry_after
        #: The provider's error code ("insufficient_quota", "context_length_exceeded").
        self.code = code
        #: The provider's error type ("invalid_request_error", "overloaded_error").
        self.type = type
        #: The provider's id of the failed request (x-request-id / request-id header,
        #: or the error body), to quote when asking the provider for help.
        self.request_id = request_id

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.user_message!r})"


class ConnectionFailed(AIError):
    """The server could not be reached (refused, DNS, TLS, connect timeout)."""


class AuthenticationFailed(AIError):
    """The API key is missing, wrong, or not allowed to do this (401/403)."""


class ModelNotFound(AIError):
    """The server does not know the model (404)."""


class RateLimited(AIError):
    """Too many requests (429), after retries or with a wait longer than the cap."""


class QuotaExceeded(AIError):
    """The account is out of credit (insufficient_quota, HTTP 402, billing errors)."""


class ProviderError(AIError):
    """The provider failed: 5xx after retries, a rejected request, or an error object
    sent inside the stream, or too many malformed chunks."""


class ContextTooLong(ProviderError):
    """The conversation no longer fits the model's context window (a context-length
    error, or a stream that ended with no event at all, as llama.cpp's server does)."""


class ContentFiltered(AIError):
    """The provider's content filter stopped the reply (or refused the prompt)."""


class StreamInterrupted(AIError):
    """The stream broke: the connection dropped, it ended without a finish reason,
    or no bytes arrived for longer than the read timeout."""


class ImagesUnsupported(ProviderError):
    """The server refused a request because it carried images (the model, or the
    server as it was started, takes text only). Sending the message without them, or
    to a model that takes images, works."""


class ToolsUnsupported(ProviderError):
    """The server refused a request because it carried ``tools`` (it does not do
    function calling, or not for this model). The chat turns tools off and goes on."""
