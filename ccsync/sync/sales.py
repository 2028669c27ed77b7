"""Sales data for segmenting: each customer's figures from QuickBooks, carried to Constant
Contact as `cf:` columns of the same import rows as the contact (no call of their own).

- The figures of a customer include its jobs' (sub-customers'), as QuickBooks' own
  "Balance with jobs" does; a job with an address of its own, a contact too, carries its
  own and its sub-jobs'.
- `CustomerRecord.sales` keeps every figure as read; `row` carries the chosen ones whose
  custom field exists in the account (custom_fields.py) and that the field can hold. One it
  cannot hold (a negative amount in a field that takes none) is left out and noted on the
  customer, never sent wrong.
- Turning the option (or one fact) off takes the columns out of what is sent without
  sending anything: Constant Contact keeps the values people may already segment on.
"""

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone

from ccsync.sync import customer_state, optional, sales_state
from ccsync.sync.mapping import SALES_PREFIX, without_sales
from ccsync.sync.models import CustomerRecord, SalesDataState
from ccsync.sync.sales_state import Source
from integrations.quickbooks.client import QuickBooksClient
from integrations.quickbooks.reports import CustomerSales
from tenants.models import SalesData, Tenant
from tenants.sales_facts import BY_KEY

logger = logging.getLogger(__name__)

RECORDS_AT_ONCE = 1000
MAX_JOB_DEPTH = 5  # QuickBooks nests jobs at most five levels deep


@dataclass(frozen=True)
class Column:
    """A chosen fact as its custom field in the tenant's account."""

    fact: str
    name: str  # the custom field's name: the import's column is "cf:<name>"
    field_id: str
    negative: bool  # the field takes values below zero
    decimals: int | None = None  # the decimals the field takes (None: any)


@dataclass(frozen=True)
class Columns:
    columns: tuple[Column, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.columns)

    @property
    def field_ids(self) -> dict[str, str]:
        """cf: column -> custom field id (a PUT names custom fields by id)."""
        return {f"{SALES_PREFIX}{c.name}": c.field_id for c in self.columns}


def is_on(*, tenant: Tenant) -> bool:
    return SalesData.objects.filter(tenant=tenant, enabled=True).exists()


def columns(*, tenant: Tenant) -> Columns:
    """The cf: columns the tenant's rows carry now: none while the option is off or its
    fields are not set up in the Constant Contact account it is connected to."""
    choice = SalesData.objects.filter(tenant=tenant, enabled=True).first()
    connection = getattr(tenant, "constantcontact_connection", None)
    state = SalesDataState.objects.filter(tenant=tenant).first() if choice else None
    if choice is None or connection is None or state is None:
        return Columns()
    if state.account_id != connection.account_id:
        return Columns()
    fields = state.fields
    return Columns(
        tuple(
            Column(
                fact=key,
                name=str(fields[key]["name"]),
                field_id=str(fields[key]["id"]),
                negative=bool(fields[key].get("negative", True)),
                decimals=fields[key].get("decimals"),
            )
            for key in choice.facts
            if key in fields and key in BY_KEY
        )
    )


def known_field_ids(*, tenant_id: int) -> dict[str, str]:
    """cf: column -> custom field id, of every field set up in the account (chosen now or
    not): what an import may have carried."""
    state = SalesDataState.objects.filter(tenant_id=tenant_id).first()
    specs = state.fields.values() if state is not None else ()
    return {f"{SALES_PREFIX}{spec['name']}": str(spec["id"]) for spec in specs}


def columns_to_check(*, tenant_id: int, carried: Iterable[str], every: timedelta) -> set[str]:
    """Of the cf: columns an import `carried`, those whose values Constant Contact was never
    seen to hold (a new column), or not within `every`: nothing promises that a value it
    refuses shows in the import's errors."""
    state = SalesDataState.objects.filter(tenant_id=tenant_id).first()
    wanted = set(carried)
    due = timezone.now() - every
    return {
        column
        for spec in (state.fields.values() if state is not None else ())
        if (column := f"{SALES_PREFIX}{spec['name']}") in wanted
        and (not spec.get("checked_at") or datetime.fromisoformat(spec["checked_at"]) < due)
    }


def sales_row(sales: Mapping[str, str], chosen: Columns) -> tuple[dict[str, str], str]:
    """The cf: columns for these figures, and a note of those that could not be sent."""
    row: dict[str, str] = {}
    unsent = []
    for column in chosen.columns:
        value = sales.get(column.fact, "")
        if not value:
            continue
        fitted, why = _fit(column, value)
        if why:
            unsent.append(f"{BY_KEY[column.fact].choice} {value} ({why})")
        else:
            row[f"{SALES_PREFIX}{column.name}"] = fitted
    if not unsent:
        return row, ""
    note = f"Not sent, the Constant Contact field cannot hold it: {'; '.join(unsent)}."
    return row, note[:500]


def _fit(column: Column, value: str) -> tuple[str, str]:
    """The value as the field takes it (whole numbers without ".00"), or why it cannot."""
    if value.startswith("-") and not column.negative:
        return "", "it takes no negative numbers"
    if column.decimals is None or "." not in value:
        return value, ""
    exact = Decimal(value).quantize(Decimal(1).scaleb(-column.decimals))
    if exact != Decimal(value):
        places = f"{column.decimals} decimals" if column.decimals else "whole numbers"
        return "", f"it takes {places} only"
    return str(exact), ""


def figures(own: CustomerSales | None, *, customer_id: str, customer_type: str) -> dict[str, str]:
    """Every fact of a customer as the text a custom field is sent (numbers with a dot,
    dates as YYYY-MM-DD); a date with no purchase is left out."""
    sales = own or CustomerSales(
        total_sales=Decimal(0),
        sales_last_12_months=Decimal(0),
        open_balance=Decimal(0),
        first_purchase=None,
        last_purchase=None,
        invoices=0,
        sales_receipts=0,
    )
    values = {
        "total_sales": _money(sales.total_sales),
        "sales_12_months": _money(sales.sales_last_12_months),
        "open_balance": _money(sales.open_balance),
        "first_purchase": _date(sales.first_purchase),
        "last_purchase": _date(sales.last_purchase),
        "invoices": str(sales.invoices),
        "sales_receipts": str(sales.sales_receipts),
        "customer_type": customer_type[:50],
        "customer_id": customer_id,
    }
    return {key: value for key, value in values.items() if value}


def _money(amount: Decimal) -> str:
    return str(amount.quantize(Decimal("0.01")))


def _date(day: date | None) -> str:
    return day.isoformat() if day is not None else ""


def combined(parts: Iterable[CustomerSales]) -> CustomerSales | None:
    """A customer's figures with its jobs': sums, counts, the earliest and latest dates."""
    parts = list(parts)
    if not parts:
        return None
    firsts = [p.first_purchase for p in parts if p.first_purchase is not None]
    lasts = [p.last_purchase for p in parts if p.last_purchase is not None]
    return CustomerSales(
        total_sales=sum((p.total_sales for p in parts), Decimal(0)),
        sales_last_12_months=sum((p.sales_last_12_months for p in parts), Decimal(0)),
        open_balance=sum((p.open_balance for p in parts), Decimal(0)),
        first_purchase=min(firsts) if firsts else None,
        last_purchase=max(lasts) if lasts else None,
        invoices=sum(p.invoices for p in parts),
        sales_receipts=sum(p.sales_receipts for p in parts),
    )


@dataclass
class _Family:
    """Customers and their jobs: who belongs to whom."""

    parents: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, tenant: Tenant) -> "_Family":
        jobs = CustomerRecord.objects.filter(tenant=tenant).exclude(parent_id="")
        return cls(dict(jobs.values_list("customer_id", "parent_id")))

    def line(self, customer_id: str) -> list[str]:
        """The customer and those it is a job of, up to its top-level customer."""
        line = [customer_id]
        for _ in range(MAX_JOB_DEPTH):
            parent = self.parents.get(line[-1])
            if parent is None or parent in line:
                break
            line.append(parent)
        return line

    def top(self, customer_id: str) -> str:
        return self.line(customer_id)[-1]

    def members(self, tops: set[str]) -> list[str]:
        return sorted(tops | {job for job in self.parents if self.top(job) in tops})


def refresh(
    *, tenant: Tenant, qb: QuickBooksClient, customer_ids: Sequence[str] | None
) -> list[str]:
    """Read the figures of these customers (None: all) and their families from QuickBooks
    and put them in what is sent. Returns the customers refreshed (the families of those
    asked), for the rules to judge. Nothing is read while the option is off.

    When QuickBooks' reports cannot be read, the figures stay as last read and are owed,
    the contacts sync without new ones, and the status page says so (optional.py); a read
    of everyone's counts as done: no full check follows at once only to meet the same
    answer. Owed figures are read again, everyone's, by the first read after a wait that
    grows with each failure (sales_state.figures_owed); none is tried before."""
    choice = SalesData.objects.filter(tenant=tenant, enabled=True).first()
    if choice is None:
        return []
    started = timezone.now()
    owed = sales_state.state_of(tenant_id=tenant.pk).reports_retry_at
    if owed is not None and customer_ids is not None:
        if started < owed:
            return []  # the reports failed lately: not asked again before their time
        customer_ids = None  # everyone's, the figures owed included: the same 5 calls
    family = _Family.of(tenant)
    tops = None if customer_ids is None else {family.top(c) for c in customer_ids}
    if tops is not None and not tops:
        return []
    everyone_since = started if tops is None else None
    ask = () if tops is None else family.members(tops)

    def read_reports() -> tuple[Mapping[str, CustomerSales], dict[str, str]]:
        read = qb.sales_figures(today=timezone.localdate(), customer_ids=ask)
        return read, qb.customer_types() if "customer_type" in choice.facts else {}

    answer = optional.attempt(read_reports, tenant_id=tenant.pk, source=Source.REPORTS)
    if answer is None:
        sales_state.figures_owed(tenant=tenant, everyone_since=everyone_since)
        return []
    read, types = answer
    records = CustomerRecord.objects.filter(tenant=tenant)
    if tops is not None:
        records = records.filter(customer_id__in=ask)
    refreshed: list[str] = []
    read_now = _Read(
        by_customer=_with_jobs(read, family), types=types, chosen=columns(tenant=tenant)
    )
    customer_state.figures_read(read_now.changes(records, refreshed))
    sales_state.figures_read(tenant=tenant, at=timezone.now(), everyone_since=everyone_since)
    return refreshed


def _with_jobs(
    read: Mapping[str, CustomerSales], family: _Family
) -> dict[str, list[CustomerSales]]:
    """Each customer's own figures, and its jobs' (a job with an address of its own is a
    contact too)."""
    by_customer: dict[str, list[CustomerSales]] = {}
    for customer_id, own in read.items():
        for holder in family.line(customer_id):
            by_customer.setdefault(holder, []).append(own)
    return by_customer


@dataclass(frozen=True)
class _Read:
    """Figures just read: by customer (its jobs' included), the customer types' names, the
    columns chosen."""

    by_customer: dict[str, list[CustomerSales]]
    types: dict[str, str]
    chosen: Columns

    def changes(
        self, records: QuerySet[CustomerRecord], refreshed: list[str]
    ) -> Iterator[customer_state.Figures]:
        """The records whose figures, note or row change, `refreshed` noting each one read."""
        fields = ("pk", "customer_id", "customer_type_id", "row", "sales", "sales_note")
        read = records.values_list(*fields).iterator(chunk_size=RECORDS_AT_ONCE)
        for pk, customer_id, type_id, row, old_sales, old_note in read:
            refreshed.append(customer_id)
            sales = figures(
                combined(self.by_customer.get(customer_id, ())),
                customer_id=customer_id,
                customer_type=self.types.get(type_id, ""),
            )
            columns_now, note = sales_row(sales, self.chosen)
            new_row = _with_columns(without_sales(row), columns_now)
            if sales != old_sales or note != old_note or new_row != row:
                yield customer_state.Figures(pk=pk, sales=sales, note=note, row=new_row)


def everyone_due(*, tenant: Tenant) -> bool:
    """Whether the choice changed since everyone's figures were last read (the option was
    turned on while a run was past reading them): a full check is due."""
    choice = SalesData.objects.filter(tenant=tenant, enabled=True).first()
    if choice is None:
        return False
    state = SalesDataState.objects.filter(tenant=tenant).first()
    read = state.everyone_read_at if state is not None else None
    return read is None or choice.changed_at > read


def with_sales_columns(
    *, tenant: Tenant, rows: Mapping[str, dict[str, str]]
) -> dict[str, tuple[dict[str, str], str]]:
    """Rows of customers just read from QuickBooks (by id), with the cf: columns of the
    figures last read for them, and each one's note."""
    chosen = columns(tenant=tenant)
    if not chosen:
        return {customer_id: (row, "") for customer_id, row in rows.items()}
    stored = dict(
        CustomerRecord.objects.filter(tenant=tenant, customer_id__in=list(rows)).values_list(
            "customer_id", "sales"
        )
    )
    result = {}
    for customer_id, row in rows.items():
        extra, note = sales_row(stored.get(customer_id) or {}, chosen)
        result[customer_id] = (_with_columns(row, extra), note)
    return result


def _with_columns(contact: dict[str, str], extra: dict[str, str]) -> dict[str, str]:
    """A contact's row with its cf: columns; a customer without an address has no row."""
    return contact | extra if contact else {}


def fields_refused(*, tenant_id: int, field_ids: set[str]) -> None:
    """Constant Contact refused the values of these custom fields (deleted or changed by
    people since they were set up): they leave what is sent, with a word for the person,
    until the next full check sets them up again (found by their labels, or made anew)."""
    state = SalesDataState.objects.select_related("tenant").filter(tenant_id=tenant_id).first()
    if state is None:
        return
    gone = [key for key, spec in state.fields.items() if str(spec.get("id")) in field_ids]
    if not gone:
        return
    labels = ", ".join(f"“{BY_KEY[key].label}”" for key in gone if key in BY_KEY)
    names = [str(state.fields[key]["name"]) for key in gone]
    sales_state.fields_refused(
        state=state,
        kept={key: spec for key, spec in state.fields.items() if key not in gone},
        problem=(
            f"Constant Contact refused the values of {labels}: they are not sent until the "
            "next full check sets the fields up again (Sync now on the status page does it)."
        ),
    )
    logger.warning("custom fields refused: tenant=%s facts=%s", tenant_id, ",".join(gone))
    stop_sending(tenant=state.tenant, dropped=[f"{SALES_PREFIX}{name}" for name in names])


def stop_sending(*, tenant: Tenant, dropped: Sequence[str] = ()) -> int:
    """Take out of what is sent the cf: columns no longer chosen, without sending anything
    for it: where Constant Contact held the row, it still holds the rest of it. Returns how
    many records changed. `dropped`: columns of fields no longer set up."""
    kept = {f"{SALES_PREFIX}{c.name}" for c in columns(tenant=tenant).columns}
    keys = list(known_field_ids(tenant_id=tenant.pk)) + list(dropped)
    return customer_state.columns_dropped(tenant=tenant, columns=keys, kept=kept)
