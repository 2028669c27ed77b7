"""The sync rules of docs/product.md, as pure functions.

Stated choices (the status page and the tests rely on them):
- Email: QuickBooks' PrimaryEmailAddr may hold several addresses separated by commas,
  semicolons or spaces; the first valid one is taken (and we remember it came from several).
  Addresses are compared and sent in lower case. An address longer than 80 characters is
  invalid: a Constant Contact contact cannot hold it (one of 51 to 80 is sent by POST or
  PUT /contacts, an import takes 50).
- The 10,000 cap is filled oldest first: MetaData.CreateTime, then the numeric Id. Customers
  that already hold a place in the list keep it; newcomers take what is left.
- One contact per email. The winner among customers sharing an address: a top-level
  customer beats a sub-customer (Job / ParentRef), then the oldest (same order as the cap).
- Synced once, never taken back: a customer deactivated, deleted, merged away or emptied of
  its email after it was synced keeps its contact as it is (nothing is sent, nothing removed).
- Unsubscribed in Constant Contact: never sent again, synced before or not.
"""

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from ccsync.base import times

CUSTOMER_CAP = 10_000
EMAIL_MAX_LENGTH = 80  # a contact's email_address.address (an import's `email`: 50)

_SEPARATORS = re.compile(r"[,;\s]+")
_LOCAL = r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_EMAIL = re.compile(rf"{_LOCAL}@(?:{_LABEL}\.)+[a-z]{{2,63}}")
_UNKNOWN_TIME = datetime.max.replace(tzinfo=UTC)


class SkipReason(StrEnum):
    NO_EMAIL = "no_email"
    INVALID_EMAIL = "invalid_email"
    INACTIVE = "inactive"
    UNSUBSCRIBED = "unsubscribed"
    OVER_CAP = "over_cap"
    DUPLICATE_EMAIL = "duplicate_email"

    @property
    def label(self) -> str:
        return SKIP_LABELS[self]


SKIP_LABELS: dict[SkipReason, str] = {
    SkipReason.NO_EMAIL: "No email address",
    SkipReason.INVALID_EMAIL: "No valid email address",
    SkipReason.INACTIVE: "Inactive in QuickBooks before it was synced",
    SkipReason.UNSUBSCRIBED: "Unsubscribed in Constant Contact",
    SkipReason.OVER_CAP: "Over the 10,000 customer limit",
    SkipReason.DUPLICATE_EMAIL: "Same email as another customer",
}


@dataclass(frozen=True, slots=True)
class EmailChoice:
    address: str | None
    from_several: bool = False
    reason: SkipReason | None = None  # set when address is None


def is_valid_email(address: str) -> bool:
    address = address.lower()
    return len(address) <= EMAIL_MAX_LENGTH and _EMAIL.fullmatch(address) is not None


def email_parts(raw: str | None) -> list[str]:
    """The addresses (valid or not) QuickBooks' PrimaryEmailAddr.Address holds."""
    return [part for part in _SEPARATORS.split(raw or "") if part]


def choose_email(raw: str | None) -> EmailChoice:
    """The first valid address of QuickBooks' PrimaryEmailAddr.Address."""
    candidates = email_parts(raw)
    if not candidates:
        return EmailChoice(address=None, reason=SkipReason.NO_EMAIL)
    several = len(candidates) > 1
    for candidate in candidates:
        if is_valid_email(candidate):
            return EmailChoice(address=candidate.lower(), from_several=several)
    return EmailChoice(address=None, from_several=several, reason=SkipReason.INVALID_EMAIL)


def customer_email(customer: Mapping[str, Any]) -> EmailChoice:
    return choose_email((customer.get("PrimaryEmailAddr") or {}).get("Address"))


def created_at(customer: Mapping[str, Any]) -> datetime:
    raw = (customer.get("MetaData") or {}).get("CreateTime")
    if not raw:
        return _UNKNOWN_TIME
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return _UNKNOWN_TIME
    # Out of the range of times kept (ccsync.base.times): no time at all, oldest last.
    return times.plausible(parsed) or _UNKNOWN_TIME


def is_top_level(customer: Mapping[str, Any]) -> bool:
    return not customer.get("Job") and not customer.get("ParentRef")


def is_active(customer: Mapping[str, Any]) -> bool:
    # CDC's deleted rows carry status "Deleted" and often no Active field at all.
    return customer.get("status") != "Deleted" and customer.get("Active", True) is not False


def age_key(created: datetime, customer_id: str) -> tuple[datetime, int, str]:
    """Oldest first: creation time, then the numeric QuickBooks Id."""
    numeric = int(customer_id) if customer_id.isdigit() else 2**63
    return (created, numeric, customer_id)


@dataclass(frozen=True, slots=True)
class Candidate:
    """What the rules need to know about one QuickBooks customer."""

    customer_id: str
    email: EmailChoice
    active: bool
    top_level: bool
    created: datetime
    in_list: bool = False  # sent to Constant Contact at least once: holds a place in the cap

    @property
    def age(self) -> tuple[datetime, int, str]:
        return age_key(self.created, self.customer_id)


class Verdict(StrEnum):
    SEND = "send"  # should be in Constant Contact with its current fields
    KEEP = "keep"  # in the list already, and left exactly as it is
    SKIP = "skip"


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    reason: SkipReason | None = None
    detail: str = ""


def decide(
    candidates: Iterable[Candidate],
    *,
    unsubscribed: set[str],
    places_taken: int,
    cap: int = CUSTOMER_CAP,
) -> dict[str, Decision]:
    """Apply every rule to a set of customers.

    `candidates` must hold every customer sharing an email with any one of them (the
    duplicate rule compares them); `places_taken` is how many customers already hold a
    place in the list, counting those among `candidates` with `in_list`.
    """
    by_email: dict[str | None, list[Candidate]] = defaultdict(list)
    for candidate in candidates:
        by_email[candidate.email.address].append(candidate)
    decisions: dict[str, Decision] = {}
    newcomers: list[Candidate] = []
    for email, group in by_email.items():
        found, newcomer = decide_address(group, unsubscribed=email in unsubscribed)
        decisions.update(found)
        if newcomer is not None:
            newcomers.append(newcomer)
    decisions.update(admit(newcomers, free=max(cap - places_taken, 0)))
    return decisions


def decide_address(
    group: Iterable[Candidate], *, unsubscribed: bool
) -> tuple[dict[str, Decision], Candidate | None]:
    """Every rule but the cap, for the customers sharing one address (or for customers with
    none): their decisions, and the one customer that still needs a place in the list (the
    cap decides it: see `admit`), if any.

    Deciding address by address lets a first sync of any size stream its customers."""
    decisions: dict[str, Decision] = {}
    contenders: list[Candidate] = []
    for candidate in group:
        if not candidate.active or candidate.email.address is None:
            reason = SkipReason.INACTIVE if not candidate.active else candidate.email.reason
            decisions[candidate.customer_id] = (
                Decision(Verdict.KEEP) if candidate.in_list else Decision(Verdict.SKIP, reason)
            )
        elif unsubscribed:
            decisions[candidate.customer_id] = Decision(Verdict.SKIP, SkipReason.UNSUBSCRIBED)
        else:
            contenders.append(candidate)
    if not contenders:
        return decisions, None
    winner = min(contenders, key=lambda c: (not c.top_level, c.age))
    for loser in contenders:
        if loser is not winner:
            decisions[loser.customer_id] = Decision(
                Verdict.SKIP,
                SkipReason.DUPLICATE_EMAIL,
                detail=f"synced as customer {winner.customer_id}",
            )
    # The contact of this email already holds a place, whichever customer sent it.
    if any(c.in_list for c in contenders):
        decisions[winner.customer_id] = Decision(Verdict.SEND)
        return decisions, None
    return decisions, winner


def admit(newcomers: Iterable[Candidate], *, free: int) -> dict[str, Decision]:
    """The cap: the oldest newcomers take the free places, the others wait outside."""
    return {
        newcomer.customer_id: (
            Decision(Verdict.SEND) if index < free else Decision(Verdict.SKIP, SkipReason.OVER_CAP)
        )
        for index, newcomer in enumerate(sorted(newcomers, key=lambda c: c.age))
    }
