"""Sales figures per QuickBooks customer, for segmenting: read from Intuit's reports.

Why reports, not queries: a query pages at most 1,000 objects a call, so reading every
Invoice, SalesReceipt, CreditMemo, RefundReceipt and Payment of a company with 10,000
customers and a few sales each costs dozens of calls, more every year. A report answers
for every customer at once, whatever the number of transactions:
- CustomerSales (Sales by Customer Summary), twice: all time and the last 12 months; its
  figures are QuickBooks' own (before tax; credit memos and refund receipts subtract),
- CustomerBalance (Customer Balance Summary): each customer's open balance,
- TransactionList with the columns tx_date, txn_type, name, subt_nat_amount: one row a
  transaction, for the first and last purchase dates and the counts of invoices and
  sales receipts.
So `sales_figures` costs 4 calls (per 200 customers when it is given customer ids), plus
one per split of the transaction list: Intuit advises short report date ranges
(https://developer.intuit.com/app/developer/qbo/docs/workflows/run-reports) and public
clients report a limit of 400,000 cells past which the report is cut short, its last row
saying "Unable to display more data": such an answer (or one that fills the limit) is
asked again as two halves of its date range. At 4 columns a call holds about 100,000
transactions.

Report answers (https://developer.intuit.com/app/developer/qbo/docs/api/accounting/
report-entities/salesbycustomer, .../customerbalance, .../transactionlist): Rows.Row[] of
Data rows (ColData [{value, id}]) and Sections (Header, Rows, Summary) for a customer
with sub-customers, whose own row is inside its Section; the Summary rows (totals with
the jobs) and the GrandTotal are skipped: a job's figures are its own, the app rolls
them up. Header.Option NoReportData "true" is an empty report. Amounts are strings
("1234.50", "-12.00", ".00", "" for none).
"""

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from integrations.quickbooks.errors import QuickBooksError

# The report's "all time": QuickBooks has no such date_macro, so an early start date.
ALL_TIME_START = date(1900, 1, 1)
MAX_REPORT_CELLS = 400_000
CUT_SHORT_TEXT = "Unable to display more data"
LIST_COLUMNS = ("tx_date", "txn_type", "name", "subt_nat_amount")
PURCHASES = {"Invoice": "invoices", "Sales Receipt": "sales_receipts"}
# Customer ids a report filter names at once (its URL stays short, as for queries).
IDS_PER_REPORT = 200
TRANSACTION_ENTITIES = ("Invoice", "SalesReceipt", "CreditMemo", "RefundReceipt", "Payment")
IDS_PER_QUERY = 200
MAX_RESULTS = 1000

Get = Callable[[str, dict[str, Any]], dict]  # (report name, parameters) -> report
Query = Callable[[str], dict]  # query text -> QueryResponse


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
        raise QuickBooksError("QuickBooks report: an amount that is not a number") from None


def _rows(report: dict) -> list[dict]:
    if not isinstance(report, dict) or not isinstance(report.get("Header"), dict):
        raise QuickBooksError("QuickBooks report: unexpected answer shape")
    options = report["Header"].get("Option") or []
    if any(
        isinstance(o, dict) and o.get("Name") == "NoReportData" and o.get("Value") == "true"
        for o in options
    ):
        return []
    rows = (report.get("Rows") or {}).get("Row") or []
    if not isinstance(rows, list):
        raise QuickBooksError("QuickBooks report: unexpected answer shape")
    return rows


def data_rows(rows: list[dict]) -> Iterator[list[dict]]:
    """The ColData of every Data row, Sections walked into (their Summary skipped)."""
    for row in rows:
        if not isinstance(row, dict):
            continue
        if isinstance(row.get("Rows"), dict):
            yield from data_rows(row["Rows"].get("Row") or [])
        elif isinstance(row.get("ColData"), list) and row.get("type", "Data") == "Data":
            yield row["ColData"]


def amounts_by_customer(report: dict) -> dict[str, Decimal]:
    """Customer id -> amount of a one-column summary report (CustomerSales, CustomerBalance)."""
    amounts: dict[str, Decimal] = {}
    for cells in data_rows(_rows(report)):
        customer_id = str(cells[0].get("id") or "") if cells else ""
        if customer_id and len(cells) > 1:
            amounts[customer_id] = amounts.get(customer_id, Decimal(0)) + money(
                cells[-1].get("value")
            )
    return amounts


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


def _column_keys(report: dict) -> list[str]:
    columns = (report.get("Columns") or {}).get("Column") or []
    keys = []
    for column in columns:
        meta = {m.get("Name"): m.get("Value") for m in column.get("MetaData") or []}
        keys.append(meta.get("ColKey", ""))
    return keys


def _cut_short(report: dict, rows: list[list[dict]]) -> bool:
    columns = max(len(_column_keys(report)), 1)
    last = rows[-1] if rows else []
    return (len(rows) + 1) * columns >= MAX_REPORT_CELLS or any(
        CUT_SHORT_TEXT in str(cell.get("value", "")) for cell in last
    )


def purchases(
    get: Get, *, start: date, end: date, customer: str
) -> Iterator[tuple[str, str, date]]:
    """(customer id, "invoices" | "sales_receipts", date) of every non-zero invoice and
    sales receipt in [start, end]; a report cut short is read again as two halves."""
    params = {
        "start_date": start.isoformat(),
        "end_date": end.isoformat(),
        "columns": ",".join(LIST_COLUMNS),
        "accounting_method": "Accrual",
        **({"customer": customer} if customer else {}),
    }
    report = get("TransactionList", params)
    rows = list(data_rows(_rows(report)))
    if rows and _cut_short(report, rows):
        if start >= end:
            raise QuickBooksError("QuickBooks report: one day's transactions exceed a report")
        middle = start + (end - start) // 2
        yield from purchases(get, start=start, end=middle, customer=customer)
        yield from purchases(get, start=middle + timedelta(days=1), end=end, customer=customer)
        return
    at = {key: index for index, key in enumerate(_column_keys(report))}
    if not all(key in at for key in LIST_COLUMNS):
        raise QuickBooksError("QuickBooks report: the transaction list lacks a column")
    for cells in rows:
        kind = PURCHASES.get(str(cells[at["txn_type"]].get("value", "")))
        customer_id = str(cells[at["name"]].get("id") or "")
        if kind is None or not customer_id or not money(cells[at["subt_nat_amount"]].get("value")):
            continue
        try:
            when = date.fromisoformat(str(cells[at["tx_date"]].get("value", "")))
        except ValueError:
            raise QuickBooksError("QuickBooks report: a date that is not a date") from None
        yield customer_id, kind, when


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


def _figures(get: Get, *, today: date, customer: str) -> dict[str, CustomerSales]:
    only = {"customer": customer} if customer else {}
    span = {"end_date": today.isoformat(), "accounting_method": "Accrual", **only}
    total = amounts_by_customer(
        get("CustomerSales", {"start_date": ALL_TIME_START.isoformat(), **span})
    )
    recent = amounts_by_customer(
        get("CustomerSales", {"start_date": twelve_months_before(today).isoformat(), **span})
    )
    balance = amounts_by_customer(
        get(
            "CustomerBalance",
            {"report_date": today.isoformat(), "accounting_method": "Accrual", **only},
        )
    )
    bought: dict[str, _Purchases] = {}
    for customer_id, kind, when in purchases(
        get, start=ALL_TIME_START, end=today, customer=customer
    ):
        bought.setdefault(customer_id, _Purchases()).add(kind, when)
    zero = Decimal(0)
    return {
        customer_id: CustomerSales(
            total_sales=total.get(customer_id, zero),
            sales_last_12_months=recent.get(customer_id, zero),
            open_balance=balance.get(customer_id, zero),
            first_purchase=bought.get(customer_id, _Purchases()).first,
            last_purchase=bought.get(customer_id, _Purchases()).last,
            invoices=bought.get(customer_id, _Purchases()).invoices,
            sales_receipts=bought.get(customer_id, _Purchases()).sales_receipts,
        )
        for customer_id in {*total, *recent, *balance, *bought}
    }


def transaction_customers(query: Query, *, entity: str, ids: Sequence[str]) -> dict[str, str]:
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
            customer = (row.get("CustomerRef") or {}).get("value")
            if row.get("Id") and customer:
                found[str(row["Id"])] = str(customer)
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
