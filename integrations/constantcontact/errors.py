"""What can go wrong talking to Constant Contact. Messages hold no tokens or emails."""

from typing import Any

from integrations.http import ProviderError


class ConstantContactError(ProviderError):
    """Base of every Constant Contact error; `error_key` as Constant Contact sent it.

    `error_message` is Constant Contact's own text: it may quote contact data, never log it.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        error_key: str | None = None,
        error_message: str = "",
    ):
        super().__init__(message, status=status)
        self.error_key = error_key
        self.error_message = error_message


class InvalidGrant(ConstantContactError):
    """The refresh token or authorization code is no longer valid: the connection is gone."""


class Unauthorized(ConstantContactError):
    """401: the access token was rejected (even after one renewal)."""


class Forbidden(ConstantContactError):
    """403: missing scope or privileges, or the app is deactivated."""


class Throttled(ConstantContactError):
    """429 throttled: over 4 requests per second for the whole app."""


class QuotaExceeded(ConstantContactError):
    """429 quota_exceeded: the app's 10,000 requests of the day are spent (resets 00:00 UTC)."""


class TransientError(ConstantContactError):
    """5xx, a timeout or a dropped connection: worth retrying later."""


class Conflict(ConstantContactError):
    """409: for example a list of that name already exists."""


class BadRequest(ConstantContactError):
    """400, 415, 422 and other client errors: the request itself is wrong."""


class NotFound(ConstantContactError):
    """404."""


_BY_STATUS: dict[int, type[ConstantContactError]] = {
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
}


def first_error(body: Any) -> tuple[str | None, str]:
    """(error_key, error_message) of a V3 error array, or of an OAuth {"error": ...}."""
    entry = body[0] if isinstance(body, list) and body else body
    if not isinstance(entry, dict):
        return None, ""
    key = entry.get("error_key", entry.get("error"))
    message = entry.get("error_message", entry.get("error_description"))
    return (key if isinstance(key, str) else None), (message if isinstance(message, str) else "")


def error_for_status(status: int, body: Any, *, action: str) -> ConstantContactError | None:
    """The error an answer carries, or None for a success."""
    if 200 <= status < 300:
        return None
    key, text = first_error(body)
    if status == 429:
        cls: type[ConstantContactError] = QuotaExceeded if key == "quota_exceeded" else Throttled
    elif status >= 500:
        cls = TransientError
    elif status in _BY_STATUS:
        cls = _BY_STATUS[status]
    elif 400 <= status < 500:
        cls = BadRequest
    else:
        cls = ConstantContactError
    return cls(
        f"Constant Contact {action} answered {status} {key or ''}".rstrip(),
        status=status,
        error_key=key,
        error_message=text,
    )


def error_for(status: int, body: Any) -> ConstantContactError | None:
    return error_for_status(status, body, action="API")
