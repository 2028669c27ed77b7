"""Judging: what QuickBooks says about customers is recorded (observe), then the rules
decide each one's outcome (judge); those to send become PENDING for the sending step.

The rules themselves are pure functions in rules.py; this module feeds them records from
the database, as a stream, and writes their decisions back.
"""

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from itertools import groupby
from typing import Any, ClassVar

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q

from ccsync.base import counters
from ccsync.sync import customer_state, runs, sales
from ccsync.sync.customer_state import Observation
from ccsync.sync.mapping import import_row
from ccsync.sync.models import CustomerRecord, UnsubscribedAddress
from ccsync.sync.rules import (
    Candidate,
    Decision,
    EmailChoice,
    SkipReason,
    Verdict,
    admit,
    created_at,
    customer_email,
    decide_address,
    is_active,
    is_top_level,
)
from ccsync.sync.runs import Sync
from tenants.models import Tenant

FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)
JUDGE_CHUNK = 2000  # records read from the database at a time


def observe(*, tenant: Tenant, customers: Iterable[Mapping[str, Any]]) -> None:
    """Record what QuickBooks says about these customers.

    Deleted ones (CDC) are only marked: their contact, if any, is left as it is."""
    alive, deleted = [], []
    for customer in customers:
        if customer.get("status") == "Deleted":
            deleted.append(str(customer["Id"]))
        else:
            alive.append(customer)
    customer_state.observe(tenant=tenant, observations=_observations(tenant, alive))
    customer_state.mark_deleted(tenant=tenant, customer_ids=deleted)


def _observations(tenant: Tenant, customers: Sequence[Mapping[str, Any]]) -> list[Observation]:
    """What QuickBooks says now; rows with the figures last read (sales.py)."""
    plain = [_observation(customer) for customer in customers]
    rows = sales.with_sales_columns(
        tenant=tenant, rows={seen.customer_id: seen.row for seen in plain}
    )
    return [
        replace(seen, row=rows[seen.customer_id][0], sales_note=rows[seen.customer_id][1])
        for seen in plain
    ]


def _observation(customer: Mapping[str, Any]) -> Observation:
    choice = customer_email(customer)
    raw_email = str((customer.get("PrimaryEmailAddr") or {}).get("Address") or "")
    return Observation(
        customer_id=str(customer["Id"]),
        display_name=str(customer.get("DisplayName") or "")[:500],
        email=choice.address or "",
        email_in_quickbooks=raw_email.replace("\x00", "").strip()[:500],
        email_from_several=choice.from_several,
        email_problem=choice.reason or "",
        active=is_active(customer),
        top_level=is_top_level(customer),
        parent_id=_ref(customer, "ParentRef"),
        customer_type_id=_ref(customer, "CustomerTypeRef"),
        created_in_quickbooks=min(created_at(customer), FAR_FUTURE),
        row=import_row(customer, email=choice.address) if choice.address else {},
        sales_note="",
    )


def _ref(customer: Mapping[str, Any], name: str) -> str:
    ref = customer.get(name)
    value = ref.get("value") if isinstance(ref, dict) else None
    return str(value)[:32] if value else ""


def unchanged_in_quickbooks(*, tenant: Tenant, customers: Sequence[Mapping[str, Any]]) -> set[str]:
    """Ids of these customers whose recorded facts already match (nothing to do for them)."""
    fresh = {seen.customer_id: seen for seen in _observations(tenant, customers)}
    facts = (
        "row_hash",
        "active",
        "email",
        "email_problem",
        "email_in_quickbooks",
        "parent_id",
        "customer_type_id",
    )
    known = CustomerRecord.objects.filter(tenant=tenant, customer_id__in=list(fresh)).values_list(
        "customer_id", *facts
    )
    return {
        cid
        for cid, *values in known
        if tuple(values) == tuple(getattr(fresh[cid], fact) for fact in facts)
    }


def judge(
    *,
    tenant: Tenant,
    list_id: str,
    customer_ids: list[str] | None,
    ensure_list: bool,
    seen_since: datetime | None = None,
) -> Counter[str]:
    """Apply the rules to these customers (None: all of them) and everyone sharing their
    addresses; save each outcome. Those to send become PENDING. Returns counts for the run:
    by outcome, and by "reason:<why>" for those skipped.

    `seen_since` (a full scan: when its read began): a customer QuickBooks did not return
    since then no longer exists there (deleted or merged away, whether or not we were told):
    it is marked so, and not counted, since the run counts the customers that exist.

    The records are read as a stream, address by address, and outcomes are written a
    thousand at a time: a worker's memory does not grow with the company. Only the newcomers
    waiting for the cap's free places are held until the end."""
    if seen_since is not None:
        customer_state.mark_gone(tenant=tenant, seen_before=seen_since)
    places = CustomerRecord.objects.filter(tenant=tenant, in_list=True).count()
    rows = _rows(tenant=tenant, customer_ids=customer_ids)
    outcomes = _Outcomes(
        in_scope=set(customer_ids) if customer_ids is not None else None,
        existing_only=seen_since is not None,
    )
    newcomers: dict[str, _Standing] = {}
    for address in _by_address(_Standing.read(row, list_id, ensure_list) for row in rows):
        decisions, newcomer = decide_address(
            [standing.candidate for standing in address], unsubscribed=address[0].unsubscribed
        )
        for standing in address:
            if standing.candidate is newcomer:
                newcomers[newcomer.customer_id] = standing
            else:
                outcomes.add(standing, decisions[standing.candidate.customer_id])
    admitted = admit(
        [standing.candidate for standing in newcomers.values()],
        free=max(settings.SYNC_CUSTOMER_CAP - places, 0),
    )
    for customer_id, decision in admitted.items():
        outcomes.add(newcomers[customer_id], decision)
    outcomes.save()
    return outcomes.counts


def _rows(*, tenant: Tenant, customer_ids: list[str] | None) -> Iterator[tuple[Any, ...]]:
    """The records to judge (with every record sharing their addresses, old or new), as
    `_Standing.FIELDS`, sorted by address."""
    records = CustomerRecord.objects.filter(tenant=tenant)
    if customer_ids is not None:
        scope = records.filter(customer_id__in=customer_ids)
        emails = {e for pair in scope.values_list("email", "sent_email") for e in pair if e}
        records = records.filter(Q(customer_id__in=customer_ids) | Q(email__in=emails))
    return (
        records.annotate(
            unsubscribed=Exists(
                UnsubscribedAddress.objects.filter(tenant=tenant, email=OuterRef("email"))
            )
        )
        .order_by("email", "pk")
        .values_list(*_Standing.FIELDS)
        .iterator(chunk_size=JUDGE_CHUNK)
    )


@dataclass(frozen=True, slots=True)
class _Standing:
    """A customer record as the rules see it, and where it stands now."""

    FIELDS: ClassVar[tuple[str, ...]] = (
        "pk",
        "customer_id",
        "email",
        "email_from_several",
        "email_problem",
        "active",
        "deleted",
        "top_level",
        "created_in_quickbooks",
        "in_list",
        "outcome",
        "reason",
        "detail",
        "sent_email",
        "sent_hash",
        "row_hash",
        "list_ids",
        "queued_hash",
        "unsubscribed",
    )

    pk: int
    candidate: Candidate
    deleted: bool  # deleted or merged away in QuickBooks
    unsubscribed: bool
    outcome: str
    reason: str
    detail: str
    needs_send: bool  # what it would send differs from what Constant Contact has

    @classmethod
    def read(cls, row: tuple[Any, ...], list_id: str, ensure_list: bool) -> "_Standing":
        (pk, customer_id, email, several, problem, active, deleted, top_level, created) = row[:9]
        (in_list, outcome, reason, detail, sent_email, sent_hash, row_hash, list_ids) = row[9:17]
        queued_hash, unsubscribed = row[17:19]
        if outcome == CustomerRecord.Outcome.SENT:
            # In an import not confirmed yet: sent again only if it changed since.
            needs_send = queued_hash != row_hash
        else:
            needs_send = (
                not in_list
                or outcome in (CustomerRecord.Outcome.FAILED, CustomerRecord.Outcome.PENDING)
                or sent_hash != row_hash
                or sent_email != email
                or (ensure_list and list_id not in list_ids)
            )
        return cls(
            pk=pk,
            candidate=Candidate(
                customer_id=customer_id,
                email=EmailChoice(email or None, several, SkipReason(problem or "no_email")),
                active=active and not deleted,
                top_level=top_level,
                created=created,
                in_list=in_list,
            ),
            deleted=deleted,
            unsubscribed=unsubscribed,
            outcome=outcome,
            reason=reason,
            detail=detail,
            needs_send=needs_send,
        )

    def outcome_for(self, verdict: Verdict) -> str:
        if verdict is Verdict.SKIP:
            return CustomerRecord.Outcome.SKIPPED
        if verdict is Verdict.SEND and self.needs_send:
            return CustomerRecord.Outcome.PENDING
        if verdict is Verdict.SEND and self.outcome == CustomerRecord.Outcome.SENT:
            return CustomerRecord.Outcome.SENT  # waits for its confirmation
        return CustomerRecord.Outcome.SYNCED


def _by_address(standings: Iterable[_Standing]) -> Iterator[list[_Standing]]:
    """Records sharing an address together (they come sorted by it); each one without an
    address alone."""
    for email, group in groupby(standings, key=lambda standing: standing.candidate.email.address):
        if email is None:
            yield from ([standing] for standing in group)
        else:
            yield list(group)


class _Outcomes:
    """Decided outcomes: the run's counts, and the changed ones saved a thousand at a time
    (one UPDATE for each set of values)."""

    def __init__(self, *, in_scope: set[str] | None, existing_only: bool = False) -> None:
        self.in_scope = in_scope
        self.existing_only = existing_only
        self.counts: Counter[str] = Counter()
        self.changed: dict[tuple[str, str, str], list[int]] = defaultdict(list)

    def add(self, standing: _Standing, decision: Decision) -> None:
        outcome = standing.outcome_for(decision.verdict)
        reason = (
            decision.reason.value if decision.verdict is Verdict.SKIP and decision.reason else ""
        )
        if self._counted(standing):
            # Nothing to do now for one synced, or in an import not confirmed yet.
            settled = outcome in (CustomerRecord.Outcome.SYNCED, CustomerRecord.Outcome.SENT)
            self.counts["unchanged" if settled else outcome] += 1
            if reason:
                self.counts[f"reason:{reason}"] += 1
        values = (outcome, reason, decision.detail)
        if (standing.outcome, standing.reason, standing.detail) != values:
            pks = self.changed[values]
            pks.append(standing.pk)
            if len(pks) >= customer_state.RECORDS_PER_UPDATE:
                self._write(values)

    def _counted(self, standing: _Standing) -> bool:
        if self.existing_only and standing.deleted:
            return False
        return self.in_scope is None or standing.candidate.customer_id in self.in_scope

    def save(self) -> None:
        for values in list(self.changed):
            self._write(values)

    def _write(self, values: tuple[str, str, str]) -> None:
        outcome, reason, detail = values
        customer_state.decided(
            self.changed.pop(values), outcome=outcome, reason=reason, detail=detail
        )


def count_decisions(sync: Sync, counts: Counter[str]) -> None:
    """Add a judgement's counts to the run's."""
    runs.tally(
        sync,
        skipped=counts["skipped"],
        unchanged=counts["unchanged"],
        done=counts["skipped"] + counts["unchanged"],
    )
    reasons = {
        key.removeprefix("reason:"): n for key, n in counts.items() if key.startswith("reason:")
    }
    # Counted when the decisions (and the checkpoint past them) commit: once per run.
    transaction.on_commit(lambda: counters.customers_skipped(reasons))
