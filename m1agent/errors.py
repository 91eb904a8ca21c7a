"""Errors with names that say what happened, and a one-line hint that says what to do."""

from __future__ import annotations


class M1AgentError(Exception):
    """Base of every error m1agent raises. ``hint`` tells a user what to do about it."""

    hint: str = ""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint

    def __str__(self) -> str:
        base = super().__str__()
        return f"{base} ({self.hint})" if self.hint else base


# --- backends ---------------------------------------------------------------------------------


class BackendError(M1AgentError):
    """The model server failed to give an answer. ``retryable`` says if trying again may help.

    ``partial_text`` holds the raw M1 output that had already streamed when the failure struck, so that
    nothing the model wrote is lost (empty when nothing had arrived). ``attempts`` is how many requests
    the backend sent for the generation, its own retries included.
    """

    retryable: bool = False
    partial_text: str = ""
    attempts: int = 0

    def __init__(
        self, message: str, *, hint: str | None = None, status: int | None = None, code: int | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.code = code


class BackendUnavailable(BackendError):
    """The server could not be reached, or it dropped the connection."""

    retryable = True
    hint = "check that the server is running and the base URL is right"


class AuthenticationFailed(BackendError):
    """The API key is missing, wrong, or belongs to another region."""

    hint = "set a valid key (MINIMAX_API_KEY for the hosted API) that matches the region's host"


class InsufficientBalance(BackendError):
    """The hosted account has run out of credit."""

    hint = "top up the MiniMax account balance"


class ContextTooLong(BackendError):
    """The prompt plus ``max_tokens`` does not fit the server's context window."""

    hint = "compact the conversation, pack less context, or lower max_tokens"


class RateLimited(BackendError):
    """The server asked us to slow down (429 or hosted code 1002)."""

    retryable = True
    hint = "wait and retry, or lower the request rate"

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.retry_after = retry_after


class ServerError(BackendError):
    """The server failed (5xx, or a hosted internal-error code)."""

    retryable = True
    hint = "retry later; if it persists, check the server's logs"


class InvalidRequest(BackendError):
    """The server rejected the request as malformed (400, or hosted code 2013)."""

    hint = "check the request settings (temperature, tools, max_tokens)"


class StreamInterrupted(BackendError):
    """The stream went idle or broke before the answer was complete."""

    retryable = True
    hint = "retry; raise the idle timeout if the server is just slow"


class MalformedResponse(BackendError):
    """The server sent something that is not the protocol it claims to speak."""

    retryable = True
    hint = "check that the base URL points at an M1 server of the right kind"


# --- tools ------------------------------------------------------------------------------------


class ToolError(M1AgentError):
    """A tool call failed; the message is what the model reads."""


class UnknownTool(ToolError):
    """The model called a tool that does not exist."""


class ToolArgumentsInvalid(ToolError):
    """The arguments failed validation against the tool's schema."""


class ToolTimeout(ToolError):
    """The tool did not finish in time and was cancelled."""


class ModelRetry(ToolError):
    """Raised by a tool to ask the model to try again, with this message as the feedback."""
