"""What can go wrong talking to Intuit and QuickBooks Online. Messages hold no tokens."""

from typing import Any

from integrations.http import ProviderError


class QuickBooksError(ProviderError):
    """Base of every Intuit / QuickBooks error."""


class InvalidGrant(QuickBooksError):
    """The refresh token or authorization code is no longer valid: the connection is gone."""


class Unauthorized(QuickBooksError):
    """401 / Fault 3200: the access token was rejected (even after one renewal)."""


class Forbidden(QuickBooksError):
    """403 / Fault 3100 ApplicationAuthorizationFailed: the company no longer lets the app
    in (access revoked, subscription lapsed); a new access token cannot help."""


class Throttled(QuickBooksError):
    """429 / Fault 3001 ThrottleExceeded: wait (Intuit says 60 s) and try again."""


class TransientError(QuickBooksError):
    """5xx, a timeout or a dropped connection: worth retrying later."""


class QuickBooksFault(QuickBooksError):
    """Any other Fault. `detail` may echo query text: never log it."""

    def __init__(self, *, code: str, message: str, detail: str, status: int | None = None):
        super().__init__(f"QuickBooks Fault {code or '?'}: {message}", status=status)
        self.code = code
        self.message = message
        self.detail = detail


def _field(entry: dict, name: str) -> str:
    # Most Faults spell keys "Message"/"Detail"; the 401 one is all lower case.
    value = entry.get(name, entry.get(name.lower()))
    return "" if value is None else str(value)


def fault_of(body: Any) -> QuickBooksFault | None:
    """The first error of a Fault body ({"Fault": {"Error": [...]}} in either case)."""
    if not isinstance(body, dict):
        return None
    fault = body.get("Fault", body.get("fault"))
    if not isinstance(fault, dict):
        return None
    errors = fault.get("Error", fault.get("error"))
    first = errors[0] if isinstance(errors, list) and errors else {}
    if not isinstance(first, dict):
        first = {}
    return QuickBooksFault(
        code=_field(first, "code").lstrip("0"),
        message=_field(first, "Message"),
        detail=_field(first, "Detail"),
    )


def error_for(status: int, body: Any) -> QuickBooksError | None:
    """The error an Accounting API answer carries; a 200 holding a Fault is one too."""
    fault = fault_of(body)
    code = fault.code if fault else ""
    if status == 401 or code == "3200":
        return Unauthorized(f"QuickBooks rejected the access token ({status})", status=status)
    if status == 403 or code == "3100":
        return Forbidden(f"QuickBooks refused the app's authorization ({status})", status=status)
    if status == 429 or code == "3001":
        return Throttled(f"QuickBooks throttled the request ({status})", status=status)
    if status >= 500:
        return TransientError(f"QuickBooks answered {status} (Fault {code or '-'})", status=status)
    if fault is not None:
        fault.status = status
        return fault
    if not 200 <= status < 300:
        return QuickBooksError(f"QuickBooks answered {status}", status=status)
    return None
