"""A customer record's sync state: the one module that writes `CustomerRecord`
(tests/test_state_writers.py holds every other module to it). Each function is one
transition, named for what happened: QuickBooks said something (`observe`, `mark_deleted`),
the rules decided (`decided`), an import carried it (`sent`), Constant Contact confirmed
it (`synced`), refused it (`refused`) or found it unsubscribed (`unsubscribed`), its
figures were read (`figures_read`), its tag was given (`tagged`).

Invariants, after every transition (tests/sync/test_customer_state.py walks random
sequences of them):
- NEW until the rules first decide the customer.
- SKIPPED exactly when it has a reason (why it is not synced).
- SENT exactly when an import not confirmed yet carries it (`pending_import`), with the
  row it was sent with (`queued_hash`): its outcome waits for Constant Contact's word, and
  a decision that takes it out of SENT forgets the import.
- `in_list`: Constant Contact confirmed holding its contact once (an import's confirmation,
  a PUT's answer). Set only by `synced`, never unset: a customer once in the list keeps its
  place in the cap, and is never taken back.
- SYNCED only once Constant Contact confirmed it: a SYNCED customer is `in_list`, with a
  `synced_at`; `sent_email`, `sent_hash` and `sent_row` are what Constant Contact confirmed
  holding (a sales column leaving what is sent leaves both sides alike).
- An address known unsubscribed is never PENDING nor SENT (the rules skip it; a
  confirmation that finds it unsubscribed records it so): it is never sent again.

Records are written in bulk: one UPDATE a thousand records for the same values, and for
values of their own one UPDATE joined to arrays on PostgreSQL (Django's bulk_update builds
a CASE per field and row: seconds of CPU for ten thousand records), bulk_update elsewhere
(the demo's SQLite).
"""

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from itertools import islice
from typing import Any

from django.db import connection, models, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from ccsync.sync.mapping import SALES_PREFIX, row_hash
from ccsync.sync.models import ContactImport, CustomerRecord
from ccsync.sync.rules import SkipReason
from tenants.models import Tenant

Outcome = CustomerRecord.Outcome
RECORDS_PER_UPDATE = 1000
# What QuickBooks says of a customer: written by `observe`, whatever its sync state.
FACT_FIELDS = [
    "display_name",
    "email",
    "email_in_quickbooks",
    "email_from_several",
    "email_problem",
    "active",
    "top_level",
    "parent_id",
    "customer_type_id",
    "sales_note",
    "deleted",
    "created_in_quickbooks",
    "row",
    "row_hash",
    "seen_at",
]


@dataclass(frozen=True)
class Observation:
    """A customer as QuickBooks gave it, and the row it would be sent as now."""

    customer_id: str
    display_name: str
    email: str  # the address the rules chose
    email_in_quickbooks: str
    email_from_several: bool
    email_problem: str
    active: bool
    top_level: bool
    parent_id: str
    customer_type_id: str
    created_in_quickbooks: datetime
    row: dict[str, str]
    sales_note: str

    @property
    def row_hash(self) -> str:
        return row_hash(self.row) if self.row else ""


@dataclass(frozen=True)
class Figures:
    """A customer's sales figures as read, the row that carries them, what was not sent."""

    pk: int
    sales: dict[str, str]
    note: str
    row: dict[str, str]


# --- what QuickBooks says ----------------------------------------------------------------


def observe(*, tenant: Tenant, observations: Sequence[Observation]) -> None:
    """Record what QuickBooks says about these customers (new ones are NEW)."""
    now = timezone.now()
    records = [
        CustomerRecord(
            tenant=tenant, **asdict(seen), row_hash=seen.row_hash, deleted=False, seen_at=now
        )
        for seen in observations
    ]
    CustomerRecord.objects.bulk_create(
        records,
        update_conflicts=True,
        unique_fields=["tenant", "customer_id"],
        update_fields=FACT_FIELDS,
        batch_size=RECORDS_PER_UPDATE,
    )


def mark_deleted(*, tenant: Tenant, customer_ids: Iterable[str]) -> None:
    """Deleted or merged away in QuickBooks: its contact, if any, is left as it is."""
    CustomerRecord.objects.filter(tenant=tenant, customer_id__in=list(customer_ids)).update(
        deleted=True, active=False
    )


def mark_gone(*, tenant: Tenant, seen_before: datetime) -> None:
    """A full read that began at `seen_before` did not return them: gone from QuickBooks."""
    CustomerRecord.objects.filter(tenant=tenant, seen_at__lt=seen_before).update(
        deleted=True, active=False
    )


def figures_read(changes: Iterable[Figures]) -> None:
    """Sales figures read from QuickBooks, and the rows that carry them now."""
    _write_each(
        (
            CustomerRecord(
                pk=change.pk,
                sales=change.sales,
                sales_note=change.note,
                row=change.row,
                row_hash=row_hash(change.row),
            )
            for change in changes
        ),
        ["sales", "sales_note", "row", "row_hash"],
    )


def columns_dropped(*, tenant: Tenant, columns: Sequence[str], kept: set[str]) -> int:
    """Sales columns no longer sent (of `columns`, those not `kept`) leave the rows without
    anything being sent: where Constant Contact held the row, it still holds the rest of
    it, so what was sent (or is in an import) loses them too. Returns how many changed."""
    fields = ["row", "row_hash", "sent_row", "sent_hash", "queued_hash"]
    records = CustomerRecord.objects.filter(tenant=tenant, row__has_any_keys=list(columns))
    changed = [0]

    def dropped() -> Iterator[CustomerRecord]:
        for record in records.only("pk", *fields).iterator(chunk_size=RECORDS_PER_UPDATE):
            _drop_columns(record, kept)
            changed[0] += 1
            yield record

    _write_each(dropped(), fields)
    return changed[0]


def figures_unconfirmed(pks: list[int], *, columns: set[str]) -> None:
    """Synced, but Constant Contact was not seen holding these cf: columns' figures (the
    sample could not be read): they leave what is recorded as sent, so the contact is not
    taken to hold them and they go again with its next send (and are checked then)."""
    records = CustomerRecord.objects.filter(pk__in=pks, sent_row__has_any_keys=list(columns))

    def unconfirmed() -> Iterator[CustomerRecord]:
        for record in records.only("pk", "sent_row").iterator(chunk_size=RECORDS_PER_UPDATE):
            record.sent_row = {k: v for k, v in record.sent_row.items() if k not in columns}
            record.sent_hash = row_hash(record.sent_row)
            yield record

    _write_each(unconfirmed(), ["sent_row", "sent_hash"])


def _drop_columns(record: CustomerRecord, kept: set[str]) -> None:
    def keep(row: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in row.items() if not k.startswith(SALES_PREFIX) or k in kept}

    old_hash = record.row_hash
    record.row = keep(record.row)
    record.row_hash = row_hash(record.row) if record.row else ""
    if record.sent_hash == old_hash:
        record.sent_row = keep(record.sent_row)
        record.sent_hash = record.row_hash
    if record.queued_hash == old_hash:
        record.queued_hash = record.row_hash


# --- what the rules decide, and what Constant Contact says ------------------------------------


def decided(pks: list[int], *, outcome: str, reason: str, detail: str) -> None:
    """The rules' outcome (PENDING: to send). Out of SENT, the import is not waited for."""
    if outcome == Outcome.SENT:
        _update(pks, outcome=outcome, reason=reason, detail=detail)
    else:
        _update(pks, outcome=outcome, reason=reason, detail=detail, pending_import=None)


def sent(pks: list[int], *, contact_import: ContactImport) -> None:
    """In an import now: SENT, waiting for Constant Contact to confirm it."""
    _update(pks, outcome=Outcome.SENT, pending_import=contact_import, queued_hash=F("row_hash"))


def synced(pks: list[int], *, list_ids: Sequence[str], list_id: str, contact_id: str = "") -> None:
    """Constant Contact confirmed holding what they were sent (list_ids: their lists until
    now, all alike), in the list `list_id`."""
    lists = list(list_ids) if list_id in list_ids else [*list_ids, list_id]
    known = {"contact_id": contact_id} if contact_id else {}
    _update(
        pks,
        outcome=Outcome.SYNCED,
        reason="",
        detail="",
        in_list=True,
        pending_import=None,
        sent_email=F("email"),
        sent_hash=F("row_hash"),
        sent_row=F("row"),
        list_ids=lists,
        synced_at=timezone.now(),
        **known,
    )


def refused(pks: list[int], *, detail: str) -> None:
    """Constant Contact did not take them (`detail`: why, in its words or ours)."""
    _update(pks, outcome=Outcome.FAILED, detail=detail, pending_import=None)


def unsubscribed(pks: list[int]) -> None:
    """Constant Contact holds their address unsubscribed: never sent again."""
    _update(
        pks,
        outcome=Outcome.SKIPPED,
        reason=SkipReason.UNSUBSCRIBED,
        detail="",
        pending_import=None,
    )


def contact_lost(pk: int) -> None:
    """The contact it was sent as is gone from Constant Contact, or its new address is
    another contact's: the next import finds (or makes) the contact by address."""
    CustomerRecord.objects.filter(pk=pk).update(sent_email="", contact_id="")


def contact_made(pk: int, *, contact_id: str) -> None:
    """Created in Constant Contact by POST /contacts (an address an import cannot take), its
    place in the list still on its way."""
    CustomerRecord.objects.filter(pk=pk).update(contact_id=contact_id)


def waiting_again(pks: list[int]) -> None:
    """Refused customers an operator sends again: waiting to be sent."""
    _update(pks, outcome=Outcome.PENDING)


# --- the tag ---------------------------------------------------------------------------------


def tagged(records: QuerySet[CustomerRecord]) -> None:
    """Constant Contact says these contacts hold the tenant's tag."""
    records.update(tagged=True)


def asked_for_tag(records: QuerySet[CustomerRecord]) -> None:
    """These contacts were read (or tagged) without the tag showing yet."""
    records.update(tag_asks=F("tag_asks") + 1)


def untag_all(*, tenant: Tenant) -> None:
    """Another tag: every synced contact is to get it."""
    CustomerRecord.objects.filter(tenant=tenant).update(tagged=False, tag_asks=0)


# --- the bulk writer -------------------------------------------------------------------------


def _update(pks: list[int], **values: Any) -> None:
    """One UPDATE per thousand records that take the same values (bulk_update is slow)."""
    for start in range(0, len(pks), RECORDS_PER_UPDATE):
        CustomerRecord.objects.filter(pk__in=pks[start : start + RECORDS_PER_UPDATE]).update(
            **values
        )


def _write_each(records: Iterable[CustomerRecord], fields: list[str]) -> None:
    """These fields of these records (their pk set), each with values of its own: a
    thousand records a statement, as they come."""
    records = iter(records)
    while batch := list(islice(records, RECORDS_PER_UPDATE)):
        _update_each(batch, fields)


_SQL_TYPES = {models.JSONField: "jsonb", models.CharField: "varchar"}


def _update_each(records: Sequence[CustomerRecord], fields: Sequence[str]) -> None:
    if connection.vendor != "postgresql":
        CustomerRecord.objects.bulk_update(records, list(fields), batch_size=RECORDS_PER_UPDATE)
        return
    names, arrays, values = [], [], []
    for name in fields:
        field = CustomerRecord._meta.get_field(name)
        assert isinstance(field, models.Field)  # a concrete column, not a relation
        kind = _SQL_TYPES[type(field)]
        names.append(connection.ops.quote_name(str(field.column)))
        arrays.append(f"%s::{kind}[]")
        raw = [getattr(record, name) for record in records]
        values.append([json.dumps(v) for v in raw] if kind == "jsonb" else raw)
    assignments = ", ".join(f"{column} = incoming.{column}" for column in names)
    # Only the model's own table and column names go in the text; the values are params.
    sql = (
        f"UPDATE {CustomerRecord._meta.db_table} AS record SET {assignments} "  # noqa: S608
        f"FROM unnest(%s::bigint[], {', '.join(arrays)}) "
        f"AS incoming (id, {', '.join(names)}) WHERE record.id = incoming.id"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [[record.pk for record in records], *values])
