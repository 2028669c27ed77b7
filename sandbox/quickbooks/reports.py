"""The Reports API answers the app uses: CustomerSales, CustomerBalance, TransactionList.

Intuit's report JSON: a Header (ReportName, Option [{"Name": "NoReportData", ...}],
StartPeriod/EndPeriod, ReportBasis, Currency, Customer when filtered), Columns.Column[]
(ColTitle, ColType, MetaData ColKey) and Rows.Row[]: Data rows of ColData [{value, id}],
and a customer with sub-customers as a Section (Header, its own Data row, its jobs, a
"Total <name>" Summary). Amounts are home currency, strings with two decimals. Pure of
HTTP: api.py reads the parameters and answers these dicts.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from sandbox.quickbooks.models import Customer, SalesTransaction
from sandbox.quickbooks.query import COMPANY_TIMEZONE
from sandbox.quickbooks.sales import RETURNS, SALES
from sandbox.quickbooks.selectors import response_time

# What QuickBooks writes in the row that ends a report it cut short at its cell limit.
CUT_SHORT = "Unable to display more data. Please reduce the date range."
TXN_TYPES = {
    SalesTransaction.INVOICE: "Invoice",
    SalesTransaction.SALES_RECEIPT: "Sales Receipt",
    SalesTransaction.CREDIT_MEMO: "Credit Memo",
    SalesTransaction.REFUND_RECEIPT: "Refund",
    SalesTransaction.PAYMENT: "Payment",
}
# transaction_type filter values (Intuit's list) for the kinds the sandbox holds.
TRANSACTION_TYPE_FILTER = {
    "Invoice": SalesTransaction.INVOICE,
    "SalesReceipt": SalesTransaction.SALES_RECEIPT,
    "CreditMemo": SalesTransaction.CREDIT_MEMO,
    "CreditRefund": SalesTransaction.REFUND_RECEIPT,
    "ReceivePayment": SalesTransaction.PAYMENT,
}
# TransactionList columns: (ColTitle, ColType); the default set is Intuit's starred one.
LIST_COLUMNS = {
    "tx_date": ("Date", "Date"),
    "txn_type": ("Transaction Type", "String"),
    "doc_num": ("Num", "String"),
    "is_no_post": ("Posting", "Boolean"),
    "name": ("Name", "String"),
    "memo": ("Memo/Description", "String"),
    "account_name": ("Account", "String"),
    "other_account": ("Split", "String"),
    "subt_nat_amount": ("Amount", "Money"),
    "nat_open_bal": ("Open Balance", "Money"),
}
DEFAULT_LIST_COLUMNS = (
    *("tx_date", "txn_type", "doc_num", "is_no_post", "name", "memo", "account_name"),
    *("other_account", "subt_nat_amount"),
)


class ReportError(ValueError):
    """A parameter QuickBooks would refuse (answered as a 400 fault naming it)."""

    def __init__(self, message: str, *, element: str):
        super().__init__(message)
        self.element = element


@dataclass(frozen=True)
class Period:
    start: date
    end: date


def period(params: dict[str, str], *, today: date | None = None) -> Period:
    """start_date/end_date, else date_macro (default This Fiscal Year-to-date; the
    sandbox's fiscal year is the calendar year)."""
    today = today or timezone.now().astimezone(COMPANY_TIMEZONE).date()
    if params.get("start_date") or params.get("end_date"):
        try:
            start = date.fromisoformat(params.get("start_date") or "1900-01-01")
            end = date.fromisoformat(params.get("end_date") or today.isoformat())
        except ValueError:
            raise ReportError("dates are YYYY-MM-DD", element="start_date") from None
        if start > end:
            raise ReportError("start_date must be before end_date", element="start_date")
        return Period(start, end)
    macro = params.get("date_macro", "This Fiscal Year-to-date").lower()
    year_start = today.replace(month=1, day=1)
    macros = {
        "today": Period(today, today),
        "yesterday": Period(today - timedelta(days=1), today - timedelta(days=1)),
        "this fiscal year-to-date": Period(year_start, today),
        "this calendar year-to-date": Period(year_start, today),
        "this fiscal year": Period(year_start, today.replace(month=12, day=31)),
        "this calendar year": Period(year_start, today.replace(month=12, day=31)),
        "last fiscal year": Period(
            year_start.replace(year=today.year - 1), year_start - timedelta(days=1)
        ),
        "last calendar year": Period(
            year_start.replace(year=today.year - 1), year_start - timedelta(days=1)
        ),
    }
    if macro not in macros:
        raise ReportError(
            f"date_macro {params['date_macro']} is not supported", element="date_macro"
        )
    return macros[macro]


def _customer_filter(params: dict[str, str]) -> set[int] | None:
    raw = params.get("customer", "").strip()
    if not raw:
        return None
    ids = [part.strip() for part in raw.split(",")]
    if not all(part.isdigit() for part in ids):
        raise ReportError("customer takes comma-separated customer Ids", element="customer")
    return {int(part) for part in ids}


def _basis(params: dict[str, str]) -> str:
    basis = params.get("accounting_method", "Accrual")
    if basis != "Accrual":
        # The sandbox's companies report on the accrual basis only; a cash-basis report
        # would move invoices to their payments' dates, which nothing here needs.
        raise ReportError(
            "the sandbox reports on the Accrual basis only", element="accounting_method"
        )
    return basis


def _header(name: str, *, empty: bool, params: dict[str, str], extra: dict) -> dict[str, Any]:
    header: dict[str, Any] = {
        "Time": response_time(),
        "ReportName": name,
        **extra,
        "Currency": "USD",
        "Option": [{"Name": "NoReportData", "Value": "true" if empty else "false"}],
    }
    if params.get("customer"):
        header["Customer"] = params["customer"]
    return header


def _amount(cents: int) -> str:
    return f"{Decimal(cents) / 100:.2f}"


def _home_cents(sale: SalesTransaction, cents: int) -> int:
    return int((Decimal(cents) * sale.exchange_rate).quantize(Decimal(1)))


def customer_sales(*, realm_id: str, params: dict[str, str]) -> dict[str, Any]:
    """Sales by Customer Summary (accrual): each customer's sales in the period before tax
    (invoices and sales receipts, less credit memos and refund receipts), home currency."""
    span, basis, wanted = period(params), _basis(params), _customer_filter(params)
    totals: dict[int, int] = defaultdict(int)
    sales = SalesTransaction.objects.filter(
        realm_id=realm_id,
        entity__in=(*SALES, *RETURNS),
        state=SalesTransaction.LIVE,
        txn_date__gte=span.start,
        txn_date__lte=span.end,
    )
    for sale in sales:
        sign = -1 if sale.entity in RETURNS else 1
        totals[sale.customer_number] += sign * _home_cents(sale, sale.subtotal_cents)
    return _summary(
        "CustomerSales",
        realm_id=realm_id,
        amounts=totals,
        wanted=wanted,
        params=params,
        header={
            "ReportBasis": basis,
            "StartPeriod": span.start.isoformat(),
            "EndPeriod": span.end.isoformat(),
            "SummarizeColumnsBy": "Total",
        },
    )


def customer_balance(*, realm_id: str, params: dict[str, str]) -> dict[str, Any]:
    """Customer Balance Summary: each customer's open balance now (open invoices less
    unused credits and unapplied payments), home currency."""
    basis, wanted = _basis(params), _customer_filter(params)
    balances: dict[int, int] = defaultdict(int)
    open_rows = SalesTransaction.objects.filter(
        realm_id=realm_id,
        state=SalesTransaction.LIVE,
        entity__in=(
            SalesTransaction.INVOICE,
            SalesTransaction.CREDIT_MEMO,
            SalesTransaction.PAYMENT,
        ),
    ).exclude(balance_cents=0)
    for sale in open_rows:
        sign = 1 if sale.entity == SalesTransaction.INVOICE else -1
        balances[sale.customer_number] += sign * _home_cents(sale, sale.balance_cents)
    today = timezone.now().astimezone(COMPANY_TIMEZONE).date().isoformat()
    return _summary(
        "CustomerBalance",
        realm_id=realm_id,
        amounts=balances,
        wanted=wanted,
        params=params,
        header={"ReportBasis": basis, "StartPeriod": today, "EndPeriod": today},
    )


def _summary(
    name: str,
    *,
    realm_id: str,
    amounts: dict[int, int],
    wanted: set[int] | None,
    params: dict[str, str],
    header: dict[str, Any],
) -> dict[str, Any]:
    """A one-column summary by customer: rows for customers with a non-zero amount (and
    the parents whose jobs have one, as Sections), then the TOTAL."""
    amounts = {n: a for n, a in amounts.items() if a and (wanted is None or n in wanted)}
    customers = {
        c.number: c
        for c in Customer.objects.filter(realm_id=realm_id).only(
            "number", "display_name", "parent_number"
        )
    }
    children: dict[int | None, list[int]] = defaultdict(list)
    for number in sorted(customers, key=lambda n: customers[n].display_name.lower()):
        children[customers[number].parent_number].append(number)

    def subtotal(number: int) -> int:
        return amounts.get(number, 0) + sum(subtotal(child) for child in children[number])

    def row(number: int) -> dict[str, Any] | None:
        customer = customers[number]
        label = {"value": customer.display_name, "id": customer.customer_id}
        own = amounts.get(number)
        jobs = [r for r in (row(child) for child in children[number]) if r is not None]
        if not jobs:
            if own is None:
                return None
            return {"ColData": [label, {"value": _amount(own)}], "type": "Data"}
        inner = [{"ColData": [label, {"value": _amount(own)}], "type": "Data"}] if own else []
        return {
            "Header": {"ColData": [label, {"value": ""}]},
            "Rows": {"Row": inner + jobs},
            "Summary": {
                "ColData": [
                    {"value": f"Total {customer.display_name}"},
                    {"value": _amount(subtotal(number))},
                ]
            },
            "type": "Section",
        }

    rows = [r for r in (row(number) for number in children[None]) if r is not None]
    if rows:
        rows.append(
            {
                "Summary": {
                    "ColData": [{"value": "TOTAL"}, {"value": _amount(sum(amounts.values()))}]
                },
                "type": "Section",
                "group": "GrandTotal",
            }
        )
    return {
        "Header": _header(name, empty=not rows, params=params, extra=header),
        "Columns": {
            "Column": [
                {"ColTitle": "", "ColType": "Customer"},
                {"ColTitle": "Total", "ColType": "Money"},
            ]
        },
        "Rows": {"Row": rows} if rows else {},
    }


def transaction_list(*, realm_id: str, params: dict[str, str], max_cells: int) -> dict[str, Any]:
    """Transaction List: one Data row per transaction in the period (voided ones with 0 and
    "Voided" in their memo), by date; cut short at `max_cells` cells, its last row then
    saying so."""
    span, basis, wanted = period(params), _basis(params), _customer_filter(params)
    columns = [c.strip() for c in params.get("columns", "").split(",") if c.strip()] or list(
        DEFAULT_LIST_COLUMNS
    )
    unknown = [c for c in columns if c not in LIST_COLUMNS]
    if unknown:
        raise ReportError(f"columns not supported: {', '.join(unknown)}", element="columns")
    rows_of = SalesTransaction.objects.filter(
        realm_id=realm_id, txn_date__gte=span.start, txn_date__lte=span.end
    ).exclude(state=SalesTransaction.DELETED)
    kind = params.get("transaction_type")
    if kind:
        if kind not in TRANSACTION_TYPE_FILTER:
            raise ReportError(
                f"transaction_type {kind} is not supported", element="transaction_type"
            )
        rows_of = rows_of.filter(entity=TRANSACTION_TYPE_FILTER[kind])
    if wanted is not None:
        rows_of = rows_of.filter(customer_number__in=wanted)
    names = dict(Customer.objects.filter(realm_id=realm_id).values_list("number", "display_name"))
    limit = max(max_cells // len(columns) - 1, 0)  # room for the row that says it was cut
    rows: list[dict[str, Any]] = []
    for sale in rows_of.order_by("txn_date", "number").iterator():
        if len(rows) == limit:
            rows.append(
                {
                    "ColData": [{"value": CUT_SHORT}] + [{"value": ""}] * (len(columns) - 1),
                    "type": "Data",
                }
            )
            break
        rows.append({"ColData": [_cell(sale, c, names) for c in columns], "type": "Data"})
    return {
        "Header": _header(
            "TransactionList",
            empty=not rows,
            params=params,
            extra={
                "ReportBasis": basis,
                "StartPeriod": span.start.isoformat(),
                "EndPeriod": span.end.isoformat(),
            },
        ),
        "Columns": {
            "Column": [
                {
                    "ColTitle": LIST_COLUMNS[c][0],
                    "ColType": LIST_COLUMNS[c][1],
                    "MetaData": [{"Name": "ColKey", "Value": c}],
                }
                for c in columns
            ]
        },
        "Rows": {"Row": rows} if rows else {},
    }


def _cell(sale: SalesTransaction, column: str, names: dict[int, str]) -> dict[str, str]:
    voided = sale.state == SalesTransaction.VOIDED
    sign = -1 if sale.entity in RETURNS else 1
    values = {
        "tx_date": {"value": sale.txn_date.isoformat()},
        "txn_type": {"value": TXN_TYPES[sale.entity], "id": sale.transaction_id},
        "doc_num": {"value": sale.doc_number},
        "is_no_post": {"value": "false"},
        "name": {"value": names.get(sale.customer_number, ""), "id": str(sale.customer_number)},
        "memo": {"value": "Voided" if voided else sale.description},
        "account_name": {"value": "Accounts Receivable (A/R)"},
        "other_account": {"value": "Services"},
        "subt_nat_amount": {"value": _amount(sign * _home_cents(sale, sale.subtotal_cents))},
        "nat_open_bal": {"value": _amount(_home_cents(sale, sale.balance_cents))},
    }
    return values[column]
