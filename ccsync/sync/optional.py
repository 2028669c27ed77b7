"""Sales data is optional; customers becoming contacts is the product. Every optional step
(QuickBooks' reports and sales queries, the custom fields and the tag made in Constant
Contact, the contacts tagged, the check of the figures' values) runs through `attempt`, so
that none of them stops, slows or breaks the contacts' sync:

- A refused token (the connection is gone for the contacts too) and Constant Contact's
  daily quota (every call waits for midnight) go on to the run, as anywhere else.
- A passing error (a 5xx, a dropped connection) is tried again at once, up to TRIES times;
  a timeout, a throttle or a full queue of activities is not waited for (a full queue is
  no problem either: the step goes at a later pass).
- Anything else (a report refused or in a shape the app does not know, a 400, 403 or 409
  to the fields or the tag, a bug) becomes a problem of its source, told on the status
  and Settings pages with what to do (sales_state.problem_met), and the step's caller
  goes on without it. A 403 there (from either provider) is about that step, the
  connected user's role or the company's plan, not a dead token: the connection stays
  (where the whole company is refused, the contacts' own next call is too).
The problem is gone once the step of its source goes through again.
"""

import logging
from collections.abc import Callable
from typing import TypeVar

import redis

from ccsync.sync import errors, runs
from ccsync.sync.sales_state import Source, problem_gone, problem_met
from integrations.constantcontact import errors as cc_errors
from integrations.quickbooks import errors as qb_errors

logger = logging.getLogger(__name__)

T = TypeVar("T")

TRIES = 3
# What an optional step hands on to the run: a refused token, the day's quota, the run
# stopped.
STOPS_THE_RUN = (runs.Stop, *errors.TOKEN_REFUSED, *errors.QUOTA)
TRIED_AGAIN = (
    qb_errors.TransientError,
    cc_errors.TransientError,
    redis.ConnectionError,
    redis.TimeoutError,
)
ROLE = (
    "the user who connected needs the Account Owner or Account Manager role in Constant "
    "Contact (then Sync now on the status page)"
)
NEXT_FULL_CHECK = "the next full check tries again (Sync now on the status page)"
AGAIN = {
    Source.CUSTOM_FIELDS: NEXT_FULL_CHECK,
    Source.TAG: NEXT_FULL_CHECK,
    Source.TAGGING: NEXT_FULL_CHECK,  # kinds._tag_synced: not at every run of changes
}
TOLD: dict[Source, str] = {
    Source.REPORTS: (
        "QuickBooks Online did not give the sales reports, so the figures were not updated: "
        "they will be read again later."
    ),
    Source.TRANSACTIONS: (
        "QuickBooks Online did not say whose sales changed, so the figures were not "
        "updated: they will be read again later."
    ),
    Source.CUSTOM_FIELDS: (
        "Constant Contact did not let the app create custom fields{why}, so the sales "
        "figures are not sent: {todo}, or turn sales data off in Settings."
    ),
    Source.TAG: (
        "Constant Contact did not let the app make the tag{why}, so contacts are not "
        "tagged: {todo}, or turn the tag off in Settings."
    ),
    Source.TAGGING: (
        "Constant Contact did not let the app tag contacts{why}: {todo}, or turn the tag "
        "off in Settings."
    ),
    Source.VALUES: (
        "Constant Contact did not let the app check the sales figures it holds{why}: they "
        "are checked again with the next import."
    ),
}


def attempt(step: Callable[[], T], *, tenant_id: int, source: Source) -> T | None:
    """The step's result, or None when it failed: its problem is then recorded."""
    for tries in range(1, TRIES + 1):
        try:
            result = step()
        except STOPS_THE_RUN:
            raise
        except cc_errors.ActivityQueueFull:
            # The account's queue of activities is full for now: the step goes at a later
            # pass, neither a problem to tell nor a success that clears one.
            logger.info("sales data step waits for the account's queue: tenant=%s", tenant_id)
            return None
        except TRIED_AGAIN as error:
            # A timeout is not waited out again: the contacts' run goes on without the step.
            if tries < TRIES and not getattr(error, "timed_out", False):
                continue
            failed: Exception = error
        except Exception as error:
            failed = error
        else:
            problem_gone(tenant_id=tenant_id, source=source)
            return result
        break
    logger.warning(
        "sales data step failed, the sync goes on: tenant=%s source=%s cause=%s",
        tenant_id,
        source,
        errors.describe(failed),
    )
    problem_met(tenant_id=tenant_id, source=source, told=told(source, failed))
    return None


def told(source: Source, error: Exception) -> str:
    """What the person reads of the failure, and what to do."""
    status = getattr(error, "status", None)
    role = status == 403
    why = "" if role or status is None else f" (it answered {status})"
    todo = ROLE if role else AGAIN.get(source, "the app tries again later")
    return TOLD[source].format(why=why, todo=todo)
