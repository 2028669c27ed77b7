"""The Reports API answers the app uses: CustomerSales, CustomerBalance, TransactionList.

Intuit's report JSON (the samples stored under tests/samples/quickbooks/reports/): a Header
(ReportName, Option [{"Name": "NoReportData", ...}], StartPeriod/EndPeriod, Currency,
Customer when filtered), Columns.Column[] (ColTitle, ColType, MetaData ColKey) and
Rows.Row[]: Data rows of ColData [{value, id}], and a customer with sub-customers as a
Section (Header, its jobs, a "Total <name>" Summary). Amounts are the home currency's,
strings with two decimals. Pure of HTTP: api.py reads the parameters and answers these
dicts.

What the company's preferences change (CompanyPreferences): a multicurrency company's
TransactionList amount column is `subt_nat_home_amount` (`subt_nat_amount` otherwise), as
Intuit's column table says; texts (types, titles, totals) are in the company's language,
ColData values "are localized". What Intuit leaves open is a `Limits` knob: whether a
parent's own amount is a Data row in its Section or only part of the Summary, where a
report is cut short, and when one takes too long (a 504 GatewayTimeout, Fault 6002).
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from sandbox.quickbooks.models import CompanyPreferences, Customer, SalesTransaction
from sandbox.quickbooks.query import COMPANY_TIMEZONE
from sandbox.quickbooks.sales import RETURNS, SALES, preferences
from sandbox.quickbooks.selectors import response_time

# The query parameters each report's reference lists (minorversion is every call's);
# QuickBooks has answered an unlisted one with a 504 (node-quickbooks issue 242): the
# sandbox refuses it by name.
PARAMETERS = {
    "CustomerSales": {
        *("customer", "qzurl", "accounting_method", "start_date", "end_date", "date_macro"),
        *("class", "item", "sort_order", "summarize_column_by", "department"),
    },
    "CustomerBalance": {
        *("customer", "accounting_method", "date_macro", "arpaid", "report_date"),
        *("sort_order", "summarize_column_by", "department"),
    },
    "TransactionList": {
        *("date_macro", "start_date", "end_date", "payment_method", "duedate_macro"),
        *("start_duedate", "end_duedate", "arpaid", "appaid", "bothamount"),
        *("transaction_type", "docnum", "start_moddate", "end_moddate", "moddate_macro"),
        *("start_createdate", "end_createdate", "createdate_macro", "source_account_type"),
        *("group_by", "department", "customer", "vendor", "name", "memo", "term", "printed"),
        *("cleared", "columns", "qzurl", "sort_by", "sort_order"),
    },
}
EVERY_CALL = {"minorversion"}
# transaction_type filter values (Intuit's list) for the kinds the sandbox holds.
TRANSACTION_TYPE_FILTER = {
    "Invoice": SalesTransaction.INVOICE,
    "SalesReceipt": SalesTransaction.SALES_RECEIPT,
    "CreditMemo": SalesTransaction.CREDIT_MEMO,
    "CreditRefund": SalesTransaction.REFUND_RECEIPT,
    "ReceivePayment": SalesTransaction.PAYMENT,
}
# TransactionList columns: key -> ColType. The amounts are the home currency's in a
# multicurrency company, under other keys (Intuit's column table).
LIST_COLUMNS = {
    "tx_date": "Date",
    "txn_type": "String",
    "doc_num": "String",
    "is_no_post": "Boolean",
    "name": "String",
    "memo": "String",
    "account_name": "String",
    "other_account": "String",
    "subt_nat_amount": "Money",
    "nat_open_bal": "Money",
}
MULTICURRENCY_KEYS = {
    "subt_nat_amount": "subt_nat_home_amount",
    "nat_open_bal": "nat_home_open_bal",
}
DEFAULT_LIST_COLUMNS = (
    *("tx_date", "txn_type", "doc_num", "is_no_post", "name", "memo", "account_name"),
    *("other_account", "subt_nat_amount"),
)
# Report texts by language: QuickBooks writes them in the company's.
TEXTS: dict[str, dict[str, Any]] = {
    CompanyPreferences.ENGLISH: {
        "types": {
            SalesTransaction.INVOICE: "Invoice",
            SalesTransaction.SALES_RECEIPT: "Sales Receipt",
            SalesTransaction.CREDIT_MEMO: "Credit Memo",
            SalesTransaction.REFUND_RECEIPT: "Refund",
            SalesTransaction.PAYMENT: "Payment",
        },
        "titles": {
            "tx_date": "Date",
            "txn_type": "Transaction Type",
            "doc_num": "Num",
            "is_no_post": "Posting",
            "name": "Name",
            "memo": "Memo/Description",
            "account_name": "Account",
            "other_account": "Split",
            "subt_nat_amount": "Amount",
            "nat_open_bal": "Open Balance",
        },
        "total": "Total",
        "total_of": "Total {name}",
        "grand_total": "TOTAL",
        "not_specified": "Not Specified",
        "voided": "Voided",
        "posting": "Yes",
        "receivable": "Accounts Receivable (A/R)",
        "split": "Services",
        # What QuickBooks writes in the row that ends a report it cut short.
        "cut_short": "Unable to display more data. Please reduce the date range.",
    },
    CompanyPreferences.FRENCH: {
        "types": {
            SalesTransaction.INVOICE: "Facture",
            SalesTransaction.SALES_RECEIPT: "Reçu de vente",
            SalesTransaction.CREDIT_MEMO: "Note de crédit",
            SalesTransaction.REFUND_RECEIPT: "Remboursement",
            SalesTransaction.PAYMENT: "Paiement",
        },
        "titles": {
            "tx_date": "Date",
            "txn_type": "Type de transaction",
            "doc_num": "N°",
            "is_no_post": "Comptabilisation",
            "name": "Nom",
            "memo": "Note/Description",
            "account_name": "Compte",
            "other_account": "Ventilation",
            "subt_nat_amount": "Montant",
            "nat_open_bal": "Solde impayé",
        },
        "total": "Total",
        "total_of": "Total de {name}",
        "grand_total": "TOTAL",
        "not_specified": "Non spécifié",
        "voided": "Annulé",
        "posting": "Oui",
        "receivable": "Comptes clients",
        "split": "Services",
        "cut_short": "Impossible d'afficher plus de données. Veuillez réduire la plage de dates.",
    },
}


class ReportError(ValueError):
    """A parameter QuickBooks would refuse (answered as a 400 fault naming it)."""

    def __init__(self, message: str, *, element: str):
        super().__init__(message)
        self.element = element


class ReportTimedOut(Exception):
    """The report took too long: QuickBooks' gateway answers 504."""


@dataclass(frozen=True)
class Limits:
    """What Intuit does not document, as knobs (sandbox/control/knobs.py)."""

    max_cells: int = 400_000  # a TransactionList past it is cut short
    timeout_rows: int = 0  # a report reading more transactions times out (0: never)
    timeout_days: int = 0  # a report over a longer period times out (0: never)
    parent_row: str = "data"  # "data": a parent's own row in its Section; "summary": none


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


def check_parameters(name: str, params: dict[str, str]) -> None:
    unknown = sorted(set(params) - PARAMETERS[name] - EVERY_CALL)
    if unknown:
        raise ReportError(f"{name} takes no parameter {', '.join(unknown)}", element=unknown[0])


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


def _in_time(reads: int, span: Period | None, limits: Limits) -> None:
    """A report reading too many transactions, or over too long a period, times out."""
    if limits.timeout_rows and reads > limits.timeout_rows:
        raise ReportTimedOut(f"{reads} transactions")
    if limits.timeout_days and span and (span.end - span.start).days + 1 > limits.timeout_days:
        raise ReportTimedOut(f"{(span.end - span.start).days + 1} days")


def _header(
    name: str,
    *,
    empty: bool,
    params: dict[str, str],
    prefs: CompanyPreferences,
    extra: dict,
    options: tuple[dict[str, str], ...] = (),
) -> dict[str, Any]:
    header: dict[str, Any] = {
        "Time": response_time(),
        "ReportName": name,
        **extra,
        "Currency": prefs.home_currency,
        "Option": [*options, {"Name": "NoReportData", "Value": "true" if empty else "false"}],
    }
    if params.get("customer"):
        header["Customer"] = params["customer"]
    return header


def _amount(cents: int) -> str:
    return f"{Decimal(cents) / 100:.2f}"


def _home_cents(sale: SalesTransaction, cents: int) -> int:
    return int((Decimal(cents) * sale.exchange_rate).quantize(Decimal(1)))


def customer_sales(*, realm_id: str, params: dict[str, str], limits: Limits) -> dict[str, Any]:
    """Sales by Customer Summary (accrual): each customer's sales in the period before tax
    (invoices and sales receipts, less credit memos and refund receipts), home currency;
    sales without a customer on a row "Not Specified" with no id."""
    check_parameters("CustomerSales", params)
    span, basis, wanted = period(params), _basis(params), _customer_filter(params)
    totals: dict[int | None, int] = defaultdict(int)
    sales = SalesTransaction.objects.filter(
        realm_id=realm_id,
        entity__in=(*SALES, *RETURNS),
        state=SalesTransaction.LIVE,
        txn_date__gte=span.start,
        txn_date__lte=span.end,
    )
    _in_time(sales.count(), span, limits)
    for sale in sales:
        sign = -1 if sale.entity in RETURNS else 1
        totals[sale.customer_number] += sign * _home_cents(sale, sale.subtotal_cents)
    return _summary(
        "CustomerSales",
        realm_id=realm_id,
        amounts=totals,
        wanted=wanted,
        params=params,
        limits=limits,
        header={
            "ReportBasis": basis,
            "StartPeriod": span.start.isoformat(),
            "EndPeriod": span.end.isoformat(),
            "SummarizeColumnsBy": "Total",
        },
    )


def customer_balance(*, realm_id: str, params: dict[str, str], limits: Limits) -> dict[str, Any]:
    """Customer Balance Summary: each customer's open balance now (open invoices less
    unused credits and unapplied payments), home currency."""
    check_parameters("CustomerBalance", params)
    _basis(params)
    wanted = _customer_filter(params)
    balances: dict[int | None, int] = defaultdict(int)
    open_rows = SalesTransaction.objects.filter(
        realm_id=realm_id,
        state=SalesTransaction.LIVE,
        entity__in=(
            SalesTransaction.INVOICE,
            SalesTransaction.CREDIT_MEMO,
            SalesTransaction.PAYMENT,
        ),
    ).exclude(balance_cents=0)
    _in_time(open_rows.count(), None, limits)
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
        limits=limits,
        header={"DateMacro": "all"},
        options=({"Name": "report_date", "Value": params.get("report_date") or today},),
    )


def _summary(
    name: str,
    *,
    realm_id: str,
    amounts: dict[int | None, int],
    wanted: set[int] | None,
    params: dict[str, str],
    limits: Limits,
    header: dict[str, Any],
    options: tuple[dict[str, str], ...] = (),
) -> dict[str, Any]:
    """A one-column summary by customer: rows for customers with a non-zero amount (and
    the parents whose jobs have one, as Sections), "Not Specified", then the TOTAL."""
    prefs = preferences(realm_id=realm_id)
    texts = TEXTS[prefs.language]
    anonymous = amounts.pop(None, 0) if wanted is None else 0
    owned = {n: a for n, a in amounts.items() if a and n is not None}
    owned = {n: a for n, a in owned.items() if wanted is None or n in wanted}
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
        return owned.get(number, 0) + sum(subtotal(child) for child in children[number])

    def row(number: int) -> dict[str, Any] | None:
        customer = customers[number]
        label = {"value": customer.display_name, "id": customer.customer_id}
        own = owned.get(number)
        jobs = [r for r in (row(child) for child in children[number]) if r is not None]
        if not jobs:
            if own is None:
                return None
            return {"ColData": [label, {"value": _amount(own)}], "type": "Data"}
        inner = (
            [{"ColData": [label, {"value": _amount(own)}], "type": "Data"}]
            if own and limits.parent_row == "data"
            else []
        )
        return {
            "Header": {"ColData": [label, {"value": ""}]},
            "Rows": {"Row": inner + jobs},
            "Summary": {
                "ColData": [
                    {"value": texts["total_of"].format(name=customer.display_name)},
                    {"value": _amount(subtotal(number))},
                ]
            },
            "type": "Section",
        }

    rows = [r for r in (row(number) for number in children[None]) if r is not None]
    if anonymous:
        rows.append({"ColData": [{"value": texts["not_specified"]}, {"value": _amount(anonymous)}]})
    if rows:
        grand = sum(owned.values()) + anonymous
        rows.append(
            {
                "Summary": {
                    "ColData": [{"value": texts["grand_total"]}, {"value": _amount(grand)}]
                },
                "type": "Section",
                "group": "GrandTotal",
            }
        )
    return {
        "Header": _header(
            name, empty=not rows, params=params, prefs=prefs, extra=header, options=options
        ),
        "Columns": {
            "Column": [
                {"ColTitle": "", "ColType": "Customer"},
                {"ColTitle": texts["total"], "ColType": "Money"},
            ]
        },
        "Rows": {"Row": rows} if rows else {},
    }


def transaction_list(*, realm_id: str, params: dict[str, str], limits: Limits) -> dict[str, Any]:
    """Transaction List: one Data row per transaction in the period (voided ones with 0 and
    "Voided" in their memo), by date; cut short at `limits.max_cells` cells, its last row
    then saying so."""
    check_parameters("TransactionList", params)
    span, wanted = period(params), _customer_filter(params)
    prefs = preferences(realm_id=realm_id)
    columns = _list_columns(params, prefs)
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
    _in_time(rows_of.count(), span, limits)
    rows = _list_rows(realm_id, rows_of, columns, prefs=prefs, max_cells=limits.max_cells)
    texts = TEXTS[prefs.language]
    return {
        "Header": _header(
            "TransactionList",
            empty=not rows,
            params=params,
            prefs=prefs,
            extra={"StartPeriod": span.start.isoformat(), "EndPeriod": span.end.isoformat()},
        ),
        "Columns": {
            "Column": [
                {
                    "ColTitle": texts["titles"][column],
                    "ColType": LIST_COLUMNS[column],
                    "MetaData": [{"Name": "ColKey", "Value": _key(column, prefs)}],
                }
                for column in columns
            ]
        },
        "Rows": {"Row": rows} if rows else {},
    }


def _key(column: str, prefs: CompanyPreferences) -> str:
    return MULTICURRENCY_KEYS.get(column, column) if prefs.multicurrency else column


def _list_columns(params: dict[str, str], prefs: CompanyPreferences) -> list[str]:
    """The columns asked for, by their internal names; a key the company's currency
    setting does not have is refused as QuickBooks refuses an unknown column."""
    keys = {_key(column, prefs): column for column in LIST_COLUMNS}
    asked = [c.strip() for c in params.get("columns", "").split(",") if c.strip()]
    unknown = [c for c in asked if c not in keys]
    if unknown:
        raise ReportError(f"columns not supported: {', '.join(unknown)}", element="columns")
    return [keys[c] for c in asked] or list(DEFAULT_LIST_COLUMNS)


def _list_rows(
    realm_id: str,
    rows_of: QuerySet[SalesTransaction],
    columns: list[str],
    *,
    prefs: CompanyPreferences,
    max_cells: int,
) -> list[dict[str, Any]]:
    texts = TEXTS[prefs.language]
    names = dict(Customer.objects.filter(realm_id=realm_id).values_list("number", "display_name"))
    limit = max(max_cells // len(columns) - 1, 0)  # room for the row that says it was cut
    rows: list[dict[str, Any]] = []
    for sale in rows_of.order_by("txn_date", "number").iterator():
        if len(rows) == limit:
            cut = [{"value": texts["cut_short"]}] + [{"value": ""}] * (len(columns) - 1)
            rows.append({"ColData": cut, "type": "Data"})
            break
        cells = _cells(sale, names, texts)
        rows.append({"ColData": [cells[c] for c in columns], "type": "Data"})
    return rows


def _cells(
    sale: SalesTransaction, names: dict[int, str], texts: dict[str, Any]
) -> dict[str, dict[str, str]]:
    voided = sale.state == SalesTransaction.VOIDED
    sign = -1 if sale.entity in RETURNS else 1
    number = sale.customer_number
    return {
        "tx_date": {"value": sale.txn_date.isoformat()},
        "txn_type": {"value": texts["types"][sale.entity], "id": sale.transaction_id},
        "doc_num": {"value": sale.doc_number},
        "is_no_post": {"value": texts["posting"]},
        "name": {"value": names.get(number, ""), "id": str(number)}
        if number is not None
        else {"value": ""},
        "memo": {"value": texts["voided"] if voided else sale.description},
        "account_name": {"value": texts["receivable"]},
        "other_account": {"value": texts["split"]},
        "subt_nat_amount": {"value": _amount(sign * _home_cents(sale, sale.subtotal_cents))},
        "nat_open_bal": {"value": _amount(_home_cents(sale, sale.balance_cents))},
    }
