"""Sales figures per QuickBooks customer, for segmenting: read from Intuit's reports.

Why reports, not queries: a query pages at most 1,000 objects a call, so reading every
Invoice, SalesReceipt, CreditMemo, RefundReceipt and Payment of a company with 10,000
customers and a few sales each costs dozens of calls, more every year. A report answers
for every customer at once, whatever the number of transactions:
- CustomerSales (Sales by Customer Summary), twice: all time and the last 12 months; its
  figures are QuickBooks' own (before tax; credit memos and refund receipts subtract),
- CustomerBalance (Customer Balance Summary): each customer's open balance,
- TransactionList, once per counted kind through the documented `transaction_type` filter
  (Invoice, SalesReceipt): one row a transaction, for the first and last purchase dates
  and the counts. Report texts are localized (a ColData value "is localized"), so a
  transaction's kind is never read from its English name.
So `sales_figures` costs 5 calls (per 200 customers when it is given customer ids) when
each report fits one answer. Each asks only the parameters its reference lists
(https://developer.intuit.com/app/developer/qbo/docs/api/accounting/report-entities/
salesbycustomer, .../customerbalance, .../transactionlist): QuickBooks has answered an
unlisted one with a 504.

Long histories: Intuit advises report date ranges of about six months for big companies
(https://developer.intuit.com/app/developer/qbo/docs/workflows/run-reports); how a report
cut short is signalled is undocumented (public clients name 400,000 cells and a last row
"Unable to display more data"). A dated report is asked for its whole range first, so a
small company pays nothing more; one that times out (no answer in time, or a 504) or comes
back cut short is asked again as two halves of its range, down to single days, at most
MAX_SPLITS times for one reading of the figures: never the same request again.
CustomerBalance is a report of one day, with no range to split.

Answers (the samples Intuit publishes are stored under tests/samples/quickbooks/reports/):
Rows.Row[] of Data rows (ColData [{value, id}]) and Sections (Header, Rows, Summary) for a
customer with sub-customers. Its own figures are a Data row of its own inside the Section,
or, where QuickBooks gives none, the Section's Summary total less its jobs'. Rows without
a customer id ("Not Specified", totals) are nobody's. Header.Option NoReportData "true" is
an empty report. Amounts are strings ("1234.50", "-12.00", ".00", "" for none), in the
home currency: a multicurrency company's TransactionList amount column is
`subt_nat_home_amount`, `subt_nat_amount` otherwise, `amount` in Intuit's samples; the
column key is a column's MetaData ColKey, or its ColType in Intuit's older samples. An
answer in another shape raises ReportUnreadable, which the sync catches (the contacts sync
without the figures).
"""

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from integrations.quickbooks.errors import QuickBooksError, QuickBooksFault, TransientError

# The report's "all time": QuickBooks has no such date_macro, so an early start date.
ALL_TIME_START = date(1900, 1, 1)
MAX_REPORT_CELLS = 400_000
CUT_SHORT_TEXT = "Unable to display more data"
# Splits of a date range in halves, for one reading of the figures: 100 give windows of a
# week over two years, or of six months over fifty.
MAX_SPLITS = 100
# transaction_type filter value -> the count it gives.
PURCHASES = {"Invoice": "invoices", "SalesReceipt": "sales_receipts"}
# TransactionList's amount column: Intuit's column table (multicurrency or not) and samples.
AMOUNT_KEYS = ("subt_nat_home_amount", "subt_nat_amount", "amount")
# Customer ids a report filter names at once (its URL stays short, as for queries).
IDS_PER_REPORT = 200
TRANSACTION_ENTITIES = ("Invoice", "SalesReceipt", "CreditMemo", "RefundReceipt", "Payment")
IDS_PER_QUERY = 200
MAX_RESULTS = 1000

Get = Callable[[str, dict[str, Any]], dict]  # (report name, parameters) -> report
Query = Callable[[str], dict]  # query text -> QueryResponse


class ReportUnreadable(QuickBooksError):
    """A report the app cannot read: an answer in a shape, or with an amount or date, it
    does not know; one QuickBooks refuses (a Fault); one too large or too slow even for a
    single day, or after MAX_SPLITS. The figures stay as they were; the sync goes on."""


@dataclass(frozen=True)
class CustomerSales:
    """One QuickBooks customer's own figures (a job's are its own; the app rolls jobs up).

    total_sales and sales_last_12_months are QuickBooks' Sales by Customer Summary (accrual
    basis, home currency): invoices and sales receipts before sales tax, less credit memos
    and refund receipts; voided and deleted transactions count nothing. open_balance is
    the Customer Balance Summary's: open invoices less unused credits and unapplied
    payments. first_purchase/last_purchase are the dates of the first and last invoice or
    sales receipt (voided ones, whose amount is 0, left out), as are the counts.
    """

    total_sales: Decimal
    sales_last_12_months: Decimal
    open_balance: Decimal
    first_purchase: date | None
    last_purchase: date | None
    invoices: int
    sales_receipts: int


def money(value: Any) -> Decimal:
    """A report amount: "1234.50", "-12.00", ".00", "" (none) or a number."""
    text = str(value if value is not None else "").strip().replace(",", "")
    if not text:
        return Decimal(0)
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ReportUnreadable("QuickBooks report: an amount that is not a number") from None


def _rows(report: dict) -> list[dict]:
    if not isinstance(report, dict) or not isinstance(report.get("Header"), dict):
        raise ReportUnreadable("QuickBooks report: unexpected answer shape")
    options = report["Header"].get("Option") or []
    if any(
        isinstance(o, dict) and o.get("Name") == "NoReportData" and o.get("Value") == "true"
        for o in options
    ):
        return []
    rows = (report.get("Rows") or {}).get("Row") or []
    if not isinstance(rows, list):
        raise ReportUnreadable("QuickBooks report: unexpected answer shape")
    return rows


def _inner(row: dict) -> list:
    inner = (row.get("Rows") or {}).get("Row") or [] if isinstance(row.get("Rows"), dict) else []
    if not isinstance(inner, list):
        raise ReportUnreadable("QuickBooks report: unexpected answer shape")
    return inner


def _is_section(row: dict) -> bool:
    return row.get("type") == "Section" or "Rows" in row or "Summary" in row


def _cells(part: Any) -> list[dict]:
    """The ColData of a row, a Header or a Summary ([] when it has none)."""
    cells = part.get("ColData") if isinstance(part, dict) else None
    if cells is None:
        return []
    if not isinstance(cells, list) or not all(isinstance(cell, dict) for cell in cells):
        raise ReportUnreadable("QuickBooks report: unexpected answer shape")
    return cells


def data_rows(rows: list) -> Iterator[list[dict]]:
    """The ColData of every Data row, Sections walked into (their Summary skipped)."""
    for row in rows:
        if not isinstance(row, dict):
            continue
        if _is_section(row):
            yield from data_rows(_inner(row))
        elif row.get("type", "Data") == "Data" and "ColData" in row:
            yield _cells(row)


def _customer_id(cells: list[dict]) -> str:
    return str(cells[0].get("id") or "") if cells else ""


def amounts_by_customer(report: dict) -> dict[str, Decimal]:
    """Customer id -> own amount, of a one-column summary report (CustomerSales,
    CustomerBalance)."""
    amounts: dict[str, Decimal] = {}
    _walk(_rows(report), amounts)
    return amounts


def _walk(rows: list, amounts: dict[str, Decimal]) -> Decimal:
    """Add each customer's own amount of these rows to `amounts`; their total."""
    total = Decimal(0)
    for row in rows:
        if not isinstance(row, dict):
            continue
        if not _is_section(row):
            cells = _cells(row)
            amount = money(cells[-1].get("value")) if len(cells) > 1 else Decimal(0)
            customer_id = _customer_id(cells)
            if customer_id:
                amounts[customer_id] = amounts.get(customer_id, Decimal(0)) + amount
            total += amount
            continue
        inner = _inner(row)
        inner_total = _walk(inner, amounts)
        summary = _cells(row.get("Summary"))
        if len(summary) < 2:
            total += inner_total
            continue
        section_total = money(summary[-1].get("value"))
        owner = _customer_id(_cells(row.get("Header")))
        own_rows = {_customer_id(_cells(r)) for r in inner if isinstance(r, dict)}
        if owner and owner not in own_rows and section_total != inner_total:
            # The parent's own figures come only within its Section's total.
            amounts[owner] = amounts.get(owner, Decimal(0)) + section_total - inner_total
        total += section_total
    return total


def _column_keys(report: dict) -> list[str]:
    """Each column's key: its MetaData ColKey, else (Intuit's older samples) its ColType."""
    columns = (report.get("Columns") or {}).get("Column") or []
    if not isinstance(columns, list):
        raise ReportUnreadable("QuickBooks report: unexpected answer shape")
    keys = []
    for column in columns:
        column = column if isinstance(column, dict) else {}
        meta = {
            m.get("Name"): m.get("Value")
            for m in column.get("MetaData") or []
            if isinstance(m, dict)
        }
        keys.append(str(meta.get("ColKey") or column.get("ColType") or ""))
    return keys


def _as_date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


@dataclass(frozen=True)
class _Columns:
    when: int
    who: int
    amount: int | None

    @classmethod
    def of(cls, report: dict) -> "_Columns":
        at = {key: index for index, key in enumerate(_column_keys(report))}
        if "tx_date" not in at or "name" not in at:
            raise ReportUnreadable("QuickBooks report: the transaction list lacks a column")
        amount = next((at[key] for key in AMOUNT_KEYS if key in at), None)
        return cls(at["tx_date"], at["name"], amount)

    def value(self, cells: list[dict], index: int | None) -> Any:
        if index is None or index >= len(cells):
            return ""
        return cells[index].get("value", "")


def _cut_short(report: dict) -> bool:
    """Whether QuickBooks cut the report short: it fills the cell limit, or its last row is
    no row of its own (the message that says so, in whatever language)."""
    rows = list(data_rows(_rows(report)))
    if not rows:
        return False
    if (len(rows) + 1) * max(len(_column_keys(report)), 1) >= MAX_REPORT_CELLS:
        return True
    last = rows[-1]
    if any(CUT_SHORT_TEXT in str(cell.get("value", "")) for cell in last):
        return True
    if report.get("Columns") and "tx_date" in _column_keys(report):
        when = _Columns.of(report).value(last, _Columns.of(report).when)
        return bool(when) and _as_date(when) is None
    return False


def bought(report: dict) -> Iterator[tuple[str, date]]:
    """(customer id, date) of every transaction of a TransactionList with an amount (a
    voided one's is 0) and a customer (a receipt may have none)."""
    rows = list(data_rows(_rows(report)))
    if not rows:
        return
    at = _Columns.of(report)
    for cells in rows:
        when_text = at.value(cells, at.when)
        customer_id = str(cells[at.who].get("id") or "") if at.who < len(cells) else ""
        if not when_text or not customer_id:
            continue  # a line that is no transaction of a customer
        when = _as_date(when_text)
        if when is None:
            raise ReportUnreadable("QuickBooks report: a date that is not a date")
        if at.amount is not None and not money(at.value(cells, at.amount)):
            continue
        yield customer_id, when


@dataclass
class Splits:
    """The splits a read has left."""

    left: int = MAX_SPLITS


def _ask(get: Get, name: str, params: dict[str, Any]) -> dict:
    try:
        return get(name, params)
    except QuickBooksFault as fault:
        raise ReportUnreadable(
            f"QuickBooks refused the {name} report (Fault {fault.code})"
        ) from None


def in_windows(
    get: Get,
    name: str,
    params: dict[str, Any],
    *,
    start: date,
    end: date,
    splits: Splits,
) -> Iterator[dict]:
    """The report over [start, end], in as many answers as it takes: asked whole first, a
    window that times out or comes back cut short is asked again as two halves."""
    windows = [(start, end)]
    while windows:
        first, last = windows.pop()
        asked = {"start_date": first.isoformat(), "end_date": last.isoformat(), **params}
        try:
            report: dict | None = _ask(get, name, asked)
        except TransientError as error:
            if not error.timed_out:
                raise
            report = None
        if report is not None and not _cut_short(report):
            yield report
            continue
        why = "took too long" if report is None else "was cut short"
        if first >= last:
            raise ReportUnreadable(f"QuickBooks {name}: one day's report {why}")
        if splits.left <= 0:
            raise ReportUnreadable(f"QuickBooks {name}: the report {why} after {MAX_SPLITS} splits")
        splits.left -= 1
        middle = first + (last - first) // 2
        windows += [(middle + timedelta(days=1), last), (first, middle)]  # earlier first


def purchases(
    get: Get, *, kind: str, start: date, end: date, customer: str, splits: Splits
) -> Iterator[tuple[str, date]]:
    """(customer id, date) of every non-zero transaction of `kind` (a transaction_type
    filter value: "Invoice", "SalesReceipt") in [start, end]."""
    params = {"transaction_type": kind, **({"customer": customer} if customer else {})}
    for report in in_windows(get, "TransactionList", params, start=start, end=end, splits=splits):
        yield from bought(report)


def twelve_months_before(today: date) -> date:
    """The first day of the 12 months that end today."""
    try:
        return today.replace(year=today.year - 1) + timedelta(days=1)
    except ValueError:  # 29 February
        return today.replace(year=today.year - 1, day=28) + timedelta(days=1)


def sales_figures(
    get: Get, *, today: date, customer_ids: Sequence[str] = ()
) -> dict[str, CustomerSales]:
    unique = list(dict.fromkeys(customer_ids))
    chunks = (
        [",".join(unique[i : i + IDS_PER_REPORT]) for i in range(0, len(unique), IDS_PER_REPORT)]
        if unique
        else [""]
    )
    figures: dict[str, CustomerSales] = {}
    for customer in chunks:
        figures.update(_figures(get, today=today, customer=customer))
    return figures


@dataclass
class _Purchases:
    first: date | None = None
    last: date | None = None
    invoices: int = 0
    sales_receipts: int = 0

    def add(self, kind: str, when: date) -> None:
        setattr(self, kind, getattr(self, kind) + 1)
        self.first = when if self.first is None else min(self.first, when)
        self.last = when if self.last is None else max(self.last, when)


def _figures(get: Get, *, today: date, customer: str) -> dict[str, CustomerSales]:
    only = {"customer": customer} if customer else {}
    splits = Splits()

    def sales_since(start: date) -> dict[str, Decimal]:
        amounts: dict[str, Decimal] = {}
        params = {"accounting_method": "Accrual", **only}
        for report in in_windows(
            get, "CustomerSales", params, start=start, end=today, splits=splits
        ):
            for customer_id, amount in amounts_by_customer(report).items():
                amounts[customer_id] = amounts.get(customer_id, Decimal(0)) + amount
        return amounts

    total = sales_since(ALL_TIME_START)
    recent = sales_since(twelve_months_before(today))
    balance = amounts_by_customer(_balances(get, today=today, only=only))
    bought_by: dict[str, _Purchases] = {}
    for kind, count in PURCHASES.items():
        for customer_id, when in purchases(
            get, kind=kind, start=ALL_TIME_START, end=today, customer=customer, splits=splits
        ):
            bought_by.setdefault(customer_id, _Purchases()).add(count, when)
    zero = Decimal(0)
    return {
        customer_id: CustomerSales(
            total_sales=total.get(customer_id, zero),
            sales_last_12_months=recent.get(customer_id, zero),
            open_balance=balance.get(customer_id, zero),
            first_purchase=bought_by.get(customer_id, _Purchases()).first,
            last_purchase=bought_by.get(customer_id, _Purchases()).last,
            invoices=bought_by.get(customer_id, _Purchases()).invoices,
            sales_receipts=bought_by.get(customer_id, _Purchases()).sales_receipts,
        )
        for customer_id in {*total, *recent, *balance, *bought_by}
    }


def _balances(get: Get, *, today: date, only: dict[str, str]) -> dict:
    """CustomerBalance, a report of one day: there is no range to split when it is too slow."""
    params = {"report_date": today.isoformat(), "accounting_method": "Accrual", **only}
    try:
        return _ask(get, "CustomerBalance", params)
    except TransientError as error:
        if error.timed_out:
            raise ReportUnreadable("QuickBooks CustomerBalance: the report took too long") from None
        raise


def transaction_customers(query: Query, *, entity: str, ids: Sequence[str]) -> dict[str, str]:
    """transaction id -> its CustomerRef value, "" for one without a customer (CustomerRef
    is optional on a SalesReceipt and a RefundReceipt); ids QuickBooks no longer has are
    absent."""
    if entity not in TRANSACTION_ENTITIES:
        raise ValueError(f"entity is one of {', '.join(TRANSACTION_ENTITIES)}")
    # QuickBooks ids are digits; another value would make QuickBooks refuse the whole query.
    unique = [i for i in dict.fromkeys(ids) if i.isdigit()]
    found: dict[str, str] = {}
    for start in range(0, len(unique), IDS_PER_QUERY):
        listed = ", ".join(f"'{i}'" for i in unique[start : start + IDS_PER_QUERY])
        text = f"SELECT * FROM {entity} WHERE Id IN ({listed}) MAXRESULTS {MAX_RESULTS}"  # noqa: S608
        rows = query(text).get(entity, [])
        if not isinstance(rows, list):
            raise QuickBooksError("QuickBooks query: unexpected answer shape")
        for row in rows:
            if isinstance(row, dict) and row.get("Id"):
                found[str(row["Id"])] = str((row.get("CustomerRef") or {}).get("value") or "")
    return found


def customer_types(query: Query) -> dict[str, str]:
    types: dict[str, str] = {}
    position = 1
    while True:
        # A QuickBooks query, not SQL: only numbers are put in.
        text = f"SELECT * FROM CustomerType STARTPOSITION {position} MAXRESULTS {MAX_RESULTS}"  # noqa: S608
        rows = query(text).get("CustomerType", [])
        if not isinstance(rows, list):
            raise QuickBooksError("QuickBooks query: unexpected answer shape")
        types.update({str(row["Id"]): str(row.get("Name", "")) for row in rows if "Id" in row})
        if len(rows) < MAX_RESULTS:
            return types
        position += len(rows)
