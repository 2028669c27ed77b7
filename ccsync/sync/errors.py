"""What the sync does with each error a provider (or the limiter's Redis) raises:

- RETRYABLE: passing; the worker tries the run again later, from its checkpoint.
- BROKEN: the connection is gone until the person reconnects; the run fails and the
  connection shows as broken (broken_connections.py).
- Constant Contact's daily quota used up (QuotaPaused, QuotaExceeded): the run pauses until
  00:00 UTC (runs.pause_for_quota).
- Anything else: the run fails, described without personal data (`describe`).
"""

import redis

from integrations.constantcontact import errors as cc_errors
from integrations.limiter import QuotaPaused
from integrations.quickbooks import errors as qb_errors
from tenants.tokens import ConnectionUnavailable

RETRYABLE = (
    qb_errors.TransientError,
    qb_errors.Throttled,
    cc_errors.TransientError,
    cc_errors.Throttled,
    # The account's 1,000 bulk activities are queued: this run waits (worker.backoff).
    cc_errors.ActivityQueueFull,
    # Redis (the shared limiter) restarting: a passing error too.
    redis.ConnectionError,
    redis.TimeoutError,
)
# A token refused: the connection is gone for every step of the sync.
TOKEN_REFUSED = (
    ConnectionUnavailable,
    qb_errors.InvalidGrant,
    qb_errors.Unauthorized,
    cc_errors.InvalidGrant,
    cc_errors.Unauthorized,
)
# The connection is gone until the user reconnects: the run fails, the page shows a banner.
# (A 403 to an optional step is about that step, a role or a plan: optional.py; where the
# whole company is refused, the contacts' own next call is too.)
BROKEN = (*TOKEN_REFUSED, qb_errors.Forbidden, cc_errors.Forbidden)
QUOTA = (QuotaPaused, cc_errors.QuotaExceeded)


def describe(error: Exception) -> str:
    # Provider errors say what failed without personal data; others only by their type.
    if isinstance(error, qb_errors.QuickBooksError | cc_errors.ConstantContactError):
        return str(error)[:500]
    return f"Unexpected error ({type(error).__name__})."


def broken_message(error: Exception) -> str:
    """What the person and the operator are told of a BROKEN error."""
    if isinstance(error, ConnectionUnavailable):
        return "A connection is broken or disconnected: reconnect it to resume syncing."
    provider = "QuickBooks" if isinstance(error, qb_errors.QuickBooksError) else "Constant Contact"
    return f"{provider} refused the app's authorization: reconnect it to resume syncing."
