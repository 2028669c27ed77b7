"""Confirmations: what Constant Contact did with each contact of an import, read with as
few calls as the API allows, and recorded only once Constant Contact has said it.

- One GET /activities (paged only while needed) tells the state, counts and errors of every
  import of the account: the imports of several runs are confirmed together.
- An import that completed with no error and no contact it could not add to the list
  confirms all its contacts.
- Otherwise its errors are free text (the spec: an array of strings; nothing promises a line
  number, and where one appears a header row may count as line 1). An error is put on a
  customer only when it names that customer's address; when the errors cannot all be
  placed that way, the contacts updated since the import was sent are read back (a few
  paged GETs, not one per contact) and each customer's outcome is what is actually there.
- Nothing promises that a custom field value Constant Contact refuses shows in the errors:
  the first import that carries a new cf: column, and one a week after that, is checked on
  a sample (1 GET of the list's contacts it updated, with their custom fields); a sampled
  figure Constant Contact does not hold has every contact of the import read back. A
  contact holding all but a refused figure is synced: that field leaves what is sent first
  (sales.fields_refused), so the contact is never recorded as holding the figure.
"""

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone

from ccsync.base import counters
from ccsync.sync import customer_state, optional, runs, sales, sales_state
from ccsync.sync.mapping import SALES_PREFIX
from ccsync.sync.models import ContactImport, CustomerRecord, Run, TenantSync
from ccsync.sync.runs import Sync
from ccsync.sync.sales_state import Source
from ccsync.sync.sending import record_unsubscribed
from integrations.constantcontact import errors as cc_errors
from integrations.constantcontact.client import ConstantContactClient, read_date
from tenants.models import Tenant

logger = logging.getLogger(__name__)

# The states of an activity (an import, a tagging) Constant Contact is done with.
ACTIVITY_FINISHED = {"completed", "failed", "cancelled", "timed_out"}
READ_BACK_OVERLAP = timedelta(minutes=5)  # clocks differ: read a little further back
LISTED_WITHIN = timedelta(hours=1)  # an import the list does not show yet is asked for alone
SAMPLE_SIZE = 50  # contacts read to see that Constant Contact took an import's figures
SAMPLE_EVERY = timedelta(days=7)  # how often a column's figures are sampled again
_COMPARED = ("first_name", "last_name", "company_name", "job_title")
NOT_TAKEN = "Constant Contact did not take this contact."
NOT_IN_LIST = "Constant Contact did not add this contact to the list."


@dataclass
class Outcomes:
    """Each customer of an import: synced, failed (and why) or found unsubscribed."""

    synced: set[int] = field(default_factory=set)
    failed: dict[int, str] = field(default_factory=dict)
    unsubscribed: set[int] = field(default_factory=set)
    # cf: columns the sample was due to check and could not: not recorded as held
    unconfirmed: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class _Row:
    pk: int
    email: str
    row: Mapping[str, str]
    list_ids: tuple[str, ...]


def confirm_imports(*, tenant: Tenant, cc: ConstantContactClient, sync: Sync | None = None) -> int:
    """Ask Constant Contact about every import of the tenant waiting for its confirmation,
    and record the outcomes of those done. Returns how many still wait. `sync`: the run at
    work, whose counts are checkpointed with the outcomes they count."""
    waiting = {i.activity_id: i for i in ContactImport.objects.filter(tenant=tenant, state="sent")}
    if not waiting:
        return 0
    oldest = min(item.sent_at for item in waiting.values())
    unfinished = 0
    finished: list[tuple[ContactImport, Mapping[str, Any]]] = []
    for activity in cc.iter_activities(limit=min(500, len(waiting) + 20)):
        found = waiting.pop(str(activity.get("activity_id")), None)
        if found is not None and activity.get("state") in ACTIVITY_FINISHED:
            finished.append((found, activity))
        elif found is not None:
            unfinished += 1
        created = _time(activity.get("created_at"))
        if not waiting or (created is not None and created < oldest - READ_BACK_OVERLAP):
            break
    for sent in waiting.values():  # not in the list: gone from it, or not in it yet
        if timezone.now() - sent.sent_at < LISTED_WITHIN:
            unfinished += 1
            continue
        try:
            activity = cc.get_activity(activity_id=sent.activity_id)
        except cc_errors.NotFound:
            activity = {"state": "unknown", "activity_errors": []}
        if activity.get("state") in ACTIVITY_FINISHED | {"unknown"}:
            finished.append((sent, activity))
        else:
            unfinished += 1
    sample = _Sample(cc=cc, tenant_id=tenant.pk, imports=[sent for sent, _ in finished])
    for sent, done in finished:
        settle(cc=cc, sent=sent, activity=done, sync=sync, sample=sample)
    return unfinished


def settle(
    *,
    cc: ConstantContactClient,
    sent: ContactImport,
    activity: Mapping[str, Any],
    sync: Sync | None,
    sample: "_Sample | None" = None,
) -> Outcomes:
    """Record what Constant Contact did with each customer of this finished import.
    `sample`: the confirmation pass's sample of the list's contacts, shared by its imports."""
    records = CustomerRecord.objects.filter(
        pending_import=sent, outcome=CustomerRecord.Outcome.SENT
    )
    rows = [
        _Row(pk=pk, email=email, row=row, list_ids=tuple(list_ids))
        for pk, email, row, list_ids in records.values_list("pk", "email", "row", "list_ids")
    ]
    sample = sample or _Sample(cc=cc, tenant_id=sent.tenant_id, imports=[sent])
    outcomes = outcomes_of(cc=cc, sent=sent, activity=activity, rows=rows, sample=sample)
    with transaction.atomic():
        _record(sent, rows, outcomes)
        ContactImport.objects.filter(pk=sent.pk).update(
            state="confirmed", confirmed_at=timezone.now()
        )
        runs.count_settled(
            run_id=sent.run_id,
            sync=sync,
            synced=len(outcomes.synced),
            failed=len(outcomes.failed),
            skipped=len(outcomes.unsubscribed),
        )
        sender = Run.objects.filter(pk=sent.run_id) if sent.run_id else Run.objects.none()
        kind = sender.values_list("kind", flat=True).first() or ""
        transaction.on_commit(
            lambda: counters.contacts_confirmed(
                kind=kind, synced=len(outcomes.synced), failed=len(outcomes.failed)
            )
        )
    _learn_pace(sent, activity)
    if outcomes.failed:
        logger.warning(
            "import refused contacts: tenant=%s activity=%s failed=%s",
            sent.tenant_id,
            sent.activity_id,
            len(outcomes.failed),
        )
    return outcomes


def outcomes_of(
    *,
    cc: ConstantContactClient,
    sent: ContactImport,
    activity: Mapping[str, Any],
    rows: list[_Row],
    sample: "_Sample",
) -> Outcomes:
    given = activity.get("status")
    status = given if isinstance(given, dict) else {}
    messages = [_message(error) for error in activity.get("activity_errors") or []]
    error_count = _count_of(status.get("error_count"), default=len(messages))
    not_added = _count_of(status.get("cannot_add_to_list_count"), default=0)
    completed = activity.get("state") == "completed"
    if completed and error_count == 0 and not messages and not_added == 0:
        held = sample.holds_the_figures(sent=sent, rows=rows)
        if held is None:  # the sample could not be read: the figures are not taken as held
            return Outcomes(synced={row.pk for row in rows}, unconfirmed=sample.due)
        if held:
            return Outcomes(synced={row.pk for row in rows})
        return read_back(cc=cc, sent=sent, rows=rows, messages=messages)
    placed = _placed_by_address(messages, rows)
    if completed and not_added == 0 and len(placed) == error_count == len(messages):
        return Outcomes(synced={row.pk for row in rows} - set(placed), failed=placed)
    return read_back(cc=cc, sent=sent, rows=rows, messages=messages)


def read_back(
    *, cc: ConstantContactClient, sent: ContactImport, rows: list[_Row], messages: list[str]
) -> Outcomes:
    """Each customer's outcome from the contacts Constant Contact holds now: those updated
    since the import was sent, read in pages of 500."""
    wanted = {row.email.lower(): row for row in rows}
    seen: dict[str, Mapping[str, Any]] = {}
    field_ids = sales.known_field_ids(tenant_id=sent.tenant_id)
    contacts = cc.iter_contacts(
        status="all",
        updated_after=sent.sent_at - READ_BACK_OVERLAP,
        include=["list_memberships", "custom_fields"] if field_ids else ["list_memberships"],
        limit=500,
    )
    for contact in contacts:
        email = str((contact.get("email_address") or {}).get("address", "")).lower()
        if email in wanted:
            seen[email] = contact
            if len(seen) == len(wanted):
                break
    why = messages[0][:500] if len(messages) == 1 else NOT_TAKEN
    outcomes = Outcomes()
    refused: set[str] = set()
    for email, row in wanted.items():
        held = seen.get(email)
        if held is None or not _holds(held, row.row):
            outcomes.failed[row.pk] = why
            continue
        # A figure refused is the field's, not the contact's: the contact is synced, its
        # row recorded without that field's column (sales.fields_refused drops it first).
        refused |= _figures_missing(held, row.row, field_ids)
        if (held.get("email_address") or {}).get("permission_to_send") == "unsubscribed":
            outcomes.unsubscribed.add(row.pk)
        elif sent.list_id not in (held.get("list_memberships") or []):
            outcomes.failed[row.pk] = NOT_IN_LIST
        else:
            outcomes.synced.add(row.pk)
    if refused:
        # A field deleted or changed in Constant Contact: not sent until it is set up again.
        sales.fields_refused(tenant_id=sent.tenant_id, field_ids=refused)
    return outcomes


class _Sample:
    """One sample of the list's contacts with their custom fields (1 GET, read only while a
    cf: column an import carried is due a check: sales.columns_to_check), shared by every
    import a confirmation pass settles and compared with the rows all of them sent: nothing
    says in which order Constant Contact lists contacts, so a sample read for one import may
    show another's contacts. Reading it is optional (optional.attempt): one that cannot be
    read is told, not read again in the pass, and leaves the figures unconfirmed."""

    def __init__(
        self, *, cc: ConstantContactClient, tenant_id: int, imports: list[ContactImport]
    ) -> None:
        self.cc, self.tenant_id, self.imports = cc, tenant_id, imports
        self.tried = False
        self.due: set[str] = set()  # the columns due a check, of every import of the pass
        self.missing: set[str] | None = None  # addresses seen without a figure; None: unread

    def holds_the_figures(self, *, sent: ContactImport, rows: list[_Row]) -> bool | None:
        """False when the sample shows a contact of this import without a figure it sent;
        None when a sample was due and could not be read."""
        carried = {key for row in rows for key in row.row if key.startswith(SALES_PREFIX)}
        due = sales.columns_to_check(tenant_id=self.tenant_id, carried=carried, every=SAMPLE_EVERY)
        if not due:
            return True
        if not self.tried:
            self.tried = True
            self.missing = optional.attempt(
                lambda: self._read(list_id=sent.list_id),
                tenant_id=self.tenant_id,
                source=Source.VALUES,
            )
        if self.missing is None:
            return None
        return not any(row.email.lower() in self.missing for row in rows)

    def _read(self, *, list_id: str) -> set[str]:
        sent_rows = {
            email.lower(): row
            for email, row in CustomerRecord.objects.filter(
                pending_import__in=self.imports, outcome=CustomerRecord.Outcome.SENT
            ).values_list("email", "row")
        }
        carried = {key for row in sent_rows.values() for key in row if key.startswith(SALES_PREFIX)}
        self.due = sales.columns_to_check(
            tenant_id=self.tenant_id, carried=carried, every=SAMPLE_EVERY
        )
        field_ids = {
            column: field_id
            for column, field_id in sales.known_field_ids(tenant_id=self.tenant_id).items()
            if column in self.due
        }
        since = min(sent.sent_at for sent in self.imports) - READ_BACK_OVERLAP
        compared: set[str] = set()  # the columns a sampled contact showed held
        missing: set[str] = set()
        for contact in self.cc.sample_contacts(
            list_id=list_id, updated_after=since, limit=SAMPLE_SIZE
        ):
            email = str((contact.get("email_address") or {}).get("address", "")).lower()
            row = sent_rows.get(email)
            if row is None:
                continue
            if _figures_missing(contact, row, field_ids):
                missing.add(email)
            compared |= {column for column in field_ids if row.get(column)}
        if not missing:
            sales_state.columns_checked(tenant_id=self.tenant_id, columns=compared)
        return missing


def _holds(contact: Mapping[str, Any], row: Mapping[str, str]) -> bool:
    """Whether the contact holds the names the row sent (read without an include)."""
    return all(contact.get(name) == row[name] for name in _COMPARED if row.get(name))


def _figures_missing(
    contact: Mapping[str, Any], row: Mapping[str, str], field_ids: Mapping[str, str]
) -> set[str]:
    """The custom fields whose value the row sent and the contact does not hold (Constant
    Contact refused it)."""
    held = {
        str(item.get("custom_field_id")): str(item.get("value", ""))
        for item in contact.get("custom_fields") or []
        if isinstance(item, dict)
    }
    return {
        field_ids[key]
        for key, value in row.items()
        if key in field_ids and not same_value(value, held.get(field_ids[key], ""))
    }


def same_value(sent: str, held: str) -> bool:
    """A figure as sent and as Constant Contact gives it back: the same text, the same
    number however written ("150.50", "150.5"), or the same date in any format the spec
    allows ("2025-03-07", "03/07/2025", "3/7/2025", with a time after it...)."""
    if sent == held:
        return True
    day = read_date(sent)
    if day is not None:
        return day == read_date(held)
    try:
        return Decimal(sent) == Decimal(held)
    except InvalidOperation:
        return False


def _placed_by_address(messages: Iterable[str], rows: list[_Row]) -> dict[int, str]:
    """Errors that name exactly one customer's address, by that customer."""
    placed: dict[int, str] = {}
    for message in messages:
        lowered = message.lower()
        named = [row for row in rows if row.email and row.email.lower() in lowered]
        if len(named) == 1 and named[0].pk not in placed:
            placed[named[0].pk] = message[:500]
    return placed


def _record(sent: ContactImport, rows: list[_Row], outcomes: Outcomes) -> None:
    by_lists: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for row in rows:
        if row.pk in outcomes.synced:
            by_lists[row.list_ids].append(row.pk)
    for list_ids, pks in by_lists.items():
        customer_state.synced(pks, list_ids=list_ids, list_id=sent.list_id)
    if outcomes.unconfirmed:
        customer_state.figures_unconfirmed(sorted(outcomes.synced), columns=outcomes.unconfirmed)
    by_problem: dict[str, list[int]] = defaultdict(list)
    for pk, problem in outcomes.failed.items():
        by_problem[problem].append(pk)
    for problem, pks in by_problem.items():
        customer_state.refused(pks, detail=problem)
    if outcomes.unsubscribed:
        emails = [row.email for row in rows if row.pk in outcomes.unsubscribed]
        record_unsubscribed(
            tenant_id=sent.tenant_id, pks=sorted(outcomes.unsubscribed), emails=emails
        )


def _learn_pace(sent: ContactImport, activity: Mapping[str, Any]) -> None:
    """How fast the account's imports are processed: when to ask about the next ones."""
    started, ended = _time(activity.get("created_at")), _time(activity.get("completed_at"))
    if started is None or ended is None or not sent.rows:
        return
    observed = max((ended - started).total_seconds(), 0.0) / sent.rows
    state, _ = TenantSync.objects.get_or_create(tenant_id=sent.tenant_id)
    known = state.import_seconds_per_row
    state.import_seconds_per_row = observed if known is None else 0.7 * known + 0.3 * observed
    state.save(update_fields=["import_seconds_per_row"])


def _message(error: Any) -> str:
    if isinstance(error, dict):
        return str(error.get("message") or error.get("error_message") or "")
    return str(error)


def _count_of(value: Any, *, default: int) -> int:
    return value if isinstance(value, int) and value >= 0 else default


def _time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None
    except ValueError:
        return None
