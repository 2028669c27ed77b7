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


class NotPermitted(ConstantContactError):
    """403 to a write the connected user's role does not allow (custom fields need the
    contacts:write privilege, tags the Account Owner or Manager role): not a dead token, the
    connection stays; only what needs the role waits for it."""


class Throttled(ConstantContactError):
    """429 throttled: over 4 requests per second for the whole app."""


class QuotaExceeded(ConstantContactError):
    """429 quota_exceeded: the app's 10,000 requests of the day are spent (resets 00:00 UTC)."""


class ActivityQueueFull(ConstantContactError):
    """429 to a bulk activity (an import, a tagging): "You exceeded 1,000 queued activities
    for this user account". That account waits until its activities are processed; every
    other company goes on."""


class TransientError(ConstantContactError):
    """5xx, a timeout or a dropped connection: worth retrying later."""


class Conflict(ConstantContactError):
    """409: for example a list, custom field or tag of that name already exists."""


class CustomFieldLimitReached(ConstantContactError):
    """The account holds the 100 custom fields it may: no other can be made."""


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


# What a 429's error_key says: the rate limits guide's keys, and the older gateway's.
_THROTTLE_KEYS = {"throttled", "mashery.not.authorized.over.qps"}
_QUOTA_KEYS = {"quota_exceeded", "mashery.not.authorized.over.ratelimit"}


def _refusal(key: str | None, text: str, *, activity: bool) -> type[ConstantContactError]:
    """Which limit a 429 is. On a bulk activity POST the spec documents only "You exceeded
    1,000 queued activities for this user account": there, a 429 that is not one of the
    rate limits' documented bodies is that account's queue."""
    if key in _QUOTA_KEYS:
        return QuotaExceeded
    if key in _THROTTLE_KEYS:
        return Throttled
    if "queued activities" in text.lower() or activity:
        return ActivityQueueFull
    return Throttled


def error_for_status(
    status: int, body: Any, *, action: str, activity: bool = False
) -> ConstantContactError | None:
    """The error an answer carries, or None for a success. `activity`: the request started
    a bulk activity."""
    if 200 <= status < 300:
        return None
    key, text = first_error(body)
    if status == 429:
        cls: type[ConstantContactError] = _refusal(key, text, activity=activity)
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


# The client's endpoints that start a bulk activity (the spec's 429 "1,000 queued
# activities" is documented on them).
ACTIVITY_ENDPOINTS = frozenset(
    {"contacts_json_import", "add_list_memberships", "contacts_taggings_add"}
)
# Where a 403 is the user's role, the other calls of the same token being allowed: creating
# custom fields (privilege contacts:write) and everything about tags (the tags overview:
# the Account Owner or Manager role).
ROLE_ENDPOINTS = frozenset({"create_custom_field", "tags", "create_tag", "contacts_taggings_add"})


def error_for(status: int, body: Any, endpoint: str) -> ConstantContactError | None:
    error = error_for_status(status, body, action="API", activity=endpoint in ACTIVITY_ENDPOINTS)
    if isinstance(error, Forbidden) and endpoint in ROLE_ENDPOINTS:
        return NotPermitted(
            str(error),
            status=error.status,
            error_key=error.error_key,
            error_message=error.error_message,
        )
    return error
