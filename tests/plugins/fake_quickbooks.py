"""QuickBooks Online in process: companies' customers, sales transactions and customer types
in memory. FakeQuickBooksClient is QuickBooksClient with its one request (`_get`) answered
from them as the sandbox answers it over HTTP: queries, CDC, CompanyInfo and the reports.

The changes mirror sandbox/quickbooks/services.py and sales.py, the reads its selectors.py,
sales_selectors.py and reports.py, and queries are parsed by the sandbox's own parser
(sandbox/quickbooks/query.py, pure Python), a customer's and a money amount's rules by its
rules.py. tests/contract/ holds this fake and the sandbox to the same assertions, so neither
can drift from the other.
"""

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from integrations.http import AfterResponse, BeforeRequest
from integrations.quickbooks import errors as qb_errors
from integrations.quickbooks.client import CDC_MAX_OBJECTS, QuickBooksClient
from integrations.tokens import TokenSource
from sandbox.quickbooks import query as qbo_query
from sandbox.quickbooks.rules import (
    CustomerError,
    cents,
    customer_type_json,
    quickbooks_time,
    settle_name,
    with_changes,
)

Clock = Callable[[], datetime]
CDC_MAX_DAYS = 30
SALES = ("Invoice", "SalesReceipt")
RETURNS = ("CreditMemo", "RefundReceipt")
CREDITS = ("CreditMemo", "Payment")  # open amounts that lower what a customer owes
# TransactionList's transaction_type filter, and the columns it has unless asked for others
# (those the app reads: sandbox/quickbooks/reports.py has Intuit's whole default set).
TRANSACTION_TYPE_FILTER = {
    "Invoice": "Invoice",
    "SalesReceipt": "SalesReceipt",
    "CreditMemo": "CreditMemo",
    "CreditRefund": "RefundReceipt",
    "ReceivePayment": "Payment",
}
LIST_COLUMNS = ["tx_date", "txn_type", "name", "subt_nat_amount"]
TXN_TYPES = {
    "Invoice": "Invoice",
    "SalesReceipt": "Sales Receipt",
    "CreditMemo": "Credit Memo",
    "RefundReceipt": "Refund",
    "Payment": "Payment",
}


def fault(status: int, code: str, message: str, detail: str = "") -> qb_errors.QuickBooksError:
    """The error QuickBooksClient raises for this Fault answer (the sandbox's faults.py)."""
    body = {"Fault": {"Error": [{"Message": message, "Detail": detail, "code": code}]}}
    error = qb_errors.error_for(status, body)
    assert error is not None
    return error


@dataclass
class Customer:
    number: int
    data: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    sync_token: int = 0
    state: str = "live"  # live, deleted, merged

    @property
    def customer_id(self) -> str:
        return str(self.number)

    @property
    def live(self) -> bool:
        return self.state == "live"

    @property
    def parent_number(self) -> int | None:
        parent = (self.data.get("ParentRef") or {}).get("value")
        return int(parent) if parent else None

    def column(self, name: str) -> Any:
        """A queryable property's value (sandbox/quickbooks/selectors.py _COLUMNS)."""
        return {
            "Id": self.number,
            "Active": self.data.get("Active", True),
            "DisplayName": self.data.get("DisplayName", ""),
            "GivenName": self.data.get("GivenName", ""),
            "FamilyName": self.data.get("FamilyName", ""),
            "CompanyName": self.data.get("CompanyName", ""),
            "PrimaryEmailAddr": (self.data.get("PrimaryEmailAddr") or {}).get("Address", ""),
            "MetaData.CreateTime": self.created_at,
            "MetaData.LastUpdatedTime": self.updated_at,
        }[name]


@dataclass
class Sale:
    entity: str
    number: int
    customer_number: int
    txn_date: date
    subtotal_cents: int
    tax_cents: int
    created_at: datetime
    updated_at: datetime
    balance_cents: int = 0
    applied_to: int | None = None
    state: str = "live"  # live, voided, deleted
    sync_token: int = 0

    @property
    def transaction_id(self) -> str:
        return str(self.number)

    @property
    def total_cents(self) -> int:
        return self.subtotal_cents + self.tax_cents

    def column(self, name: str) -> Any:
        return {
            "Id": self.number,
            "DocNumber": str(1000 + self.number),
            "TxnDate": self.txn_date,
            "CustomerRef": self.customer_number,
            "MetaData.CreateTime": self.created_at,
            "MetaData.LastUpdatedTime": self.updated_at,
        }[name]


@dataclass
class CustomerType:
    number: int
    name: str
    created_at: datetime
    active: bool = True

    @property
    def updated_at(self) -> datetime:
        return self.created_at

    def column(self, name: str) -> Any:
        return {
            "Id": self.number,
            "Name": self.name,
            "Active": self.active,
            "MetaData.CreateTime": self.created_at,
            "MetaData.LastUpdatedTime": self.created_at,
        }[name]


def _matches(row: Any, condition: qbo_query.Condition) -> bool:
    value = row.column(condition.field)
    wanted = condition.value
    if condition.operator == "IN":
        assert isinstance(wanted, tuple)
        return value in wanted
    if condition.operator == "LIKE":
        return re.match(qbo_query.like_regex(str(wanted)), str(value), re.IGNORECASE) is not None
    compare = {
        "=": lambda a, b: a == b,
        "<": lambda a, b: a < b,
        ">": lambda a, b: a > b,
        "<=": lambda a, b: a <= b,
        ">=": lambda a, b: a >= b,
    }[condition.operator]
    return compare(value, wanted)


@dataclass
class QuickBooksCompany:
    """One company (realm) of the fake QuickBooks."""

    realm_id: str
    name: str
    clock: Clock
    customers: dict[int, Customer] = field(default_factory=dict)
    sales: dict[int, Sale] = field(default_factory=dict)
    types: dict[int, CustomerType] = field(default_factory=dict)
    _last_customer: int = 0
    _last_transaction: int = 0
    _last_change: datetime | None = None  # the latest customer's LastUpdatedTime
    # The live customers' numbers by parent (their jobs) and by display name (lower case),
    # kept up to date customer by customer (_reindex): a company of thousands is not read
    # whole at every change. Made when first needed.
    _index: tuple[dict[int, set[int]], dict[str, set[int]]] | None = None
    _indexed: dict[int, tuple[int | None, str]] = field(default_factory=dict)

    def _now(self) -> datetime:
        # Every change a moment after the last, as the sandbox's clock (microseconds) gives.
        moment = self.clock()
        if self._last_change is None:
            return moment
        return max(moment, self._last_change + timedelta(microseconds=1))

    def _live_index(self) -> tuple[dict[int, set[int]], dict[str, set[int]]]:
        if self._index is None:
            self._index, self._indexed = ({}, {}), {}
            for customer in self.customers.values():
                self._reindex(customer)
        assert self._index is not None
        return self._index

    def _reindex(self, customer: Customer) -> None:
        """The index as the customer is now (stored, live or not, its parent and name)."""
        if self._index is None:
            return
        jobs, names = self._index
        if customer.number in self._indexed:
            parent, name = self._indexed.pop(customer.number)
            if parent is not None:
                jobs[parent].discard(customer.number)
            names[name].discard(customer.number)
        if customer.live and self.customers.get(customer.number) is customer:
            parent, name = customer.parent_number, customer.column("DisplayName").lower()
            if parent is not None:
                jobs.setdefault(parent, set()).add(customer.number)
            names.setdefault(name, set()).add(customer.number)
            self._indexed[customer.number] = (parent, name)

    # --- customers, as a QuickBooks user changes them --------------------------------------

    def create_customers(self, customers: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        created = []
        for fields in customers:
            moment = self._now()
            self._last_customer += 1
            customer = Customer(
                number=self._last_customer,
                data=with_changes({}, fields),
                created_at=moment,
                updated_at=moment,
            )
            self._settle(customer)
            self.customers[customer.number] = customer
            self._reindex(customer)
            self._last_change = moment
            created.append(customer)
        return [self.customer_json(customer) for customer in created]

    def update_customer(self, customer_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """A sparse update: the given properties replace the stored ones (None or "" removes
        one); SyncToken and LastUpdatedTime move on; deactivating takes the jobs along."""
        customer = self._live(customer_id)
        data = with_changes(customer.data, changes)
        before = customer.data
        customer.data = data
        try:
            self._save_change(customer)
        except CustomerError:
            customer.data = before
            self._reindex(customer)
            raise
        if data.get("Active", True) is False:
            self._deactivate_jobs(customer)
        return self.customer_json(customer)

    def set_active(self, customer_id: str, *, active: bool) -> dict[str, Any]:
        return self.update_customer(customer_id, {"Active": active})

    def delete_customer(self, customer_id: str) -> None:
        customer = self._live(customer_id)
        if self._jobs(customer):
            raise CustomerError("This customer has sub-customers: delete or move them first.")
        self._bury(customer, "deleted")

    def merge_customer(self, customer_id: str, into_id: str) -> dict[str, Any]:
        merged, survivor = self._live(customer_id), self._live(into_id)
        if merged.number == survivor.number:
            raise CustomerError("A customer cannot be merged into itself.")
        for child in self._jobs(merged):
            child.data = {**child.data, "ParentRef": {"value": survivor.customer_id}}
            self._save_change(child)
        self._bury(merged, "merged")
        self._touch(survivor)
        return self.customer_json(survivor)

    def _live(self, customer_id: str) -> Customer:
        found = self.customers.get(int(customer_id)) if str(customer_id).isdigit() else None
        if found is None or not found.live:
            raise CustomerError(f"There is no customer {customer_id}.")
        return found

    def _jobs(self, customer: Customer) -> list[Customer]:
        return [self.customers[n] for n in sorted(self._live_index()[0].get(customer.number, ()))]

    def _touch(self, customer: Customer) -> None:
        customer.sync_token += 1
        customer.updated_at = self._last_change = self._now()

    def _bury(self, customer: Customer, state: str) -> None:
        self._touch(customer)
        customer.state = state
        self._reindex(customer)

    def _save_change(self, customer: Customer) -> None:
        self._settle(customer)
        self._touch(customer)
        for child in self._jobs(customer):
            before = child.data.get("FullyQualifiedName")
            self._settle(child)
            if child.data.get("FullyQualifiedName") != before:
                self._save_change(child)

    def _deactivate_jobs(self, customer: Customer) -> None:
        for child in self._jobs(customer):
            if child.data.get("Active", True):
                child.data = {**child.data, "Active": False}
                self._save_change(child)
                self._deactivate_jobs(child)

    def _settle(self, customer: Customer) -> None:
        """What QuickBooks derives (DisplayName, Job, Level, FullyQualifiedName) and refuses
        (no name, a name in use, a bad parent, a too long email)."""
        data = customer.data
        settle_name(data)
        taken = data["DisplayName"].lower()
        if any(n != customer.number for n in self._live_index()[1].get(taken, ())):
            raise CustomerError(
                "Another customer is already using this name. Use a different name."
            )
        parent_id = (data.get("ParentRef") or {}).get("value")
        if parent_id:
            parent = self.customers.get(int(parent_id)) if str(parent_id).isdigit() else None
            if parent is None or not parent.live:
                raise CustomerError(f"The parent customer {parent_id} does not exist.")
            if parent.number == customer.number:
                raise CustomerError("A customer cannot be its own parent.")
            data["ParentRef"] = {"value": parent.customer_id}
            data["Job"] = True
            data["Level"] = int(parent.data.get("Level", 0)) + 1
            data["FullyQualifiedName"] = (
                f"{parent.data['FullyQualifiedName']}:{data['DisplayName']}"
            )
        else:
            data.pop("ParentRef", None)
            data.pop("Level", None)
            data["Job"] = False
            data["FullyQualifiedName"] = data["DisplayName"]
        self._reindex(customer)

    # --- sales, as a QuickBooks user makes them ---------------------------------------------

    def create_transaction(
        self, *, entity: str, customer_id: str, amount: str, txn_date: date | None = None
    ) -> dict[str, Any]:
        if entity not in (*SALES, *RETURNS):
            raise CustomerError(f"A sale is one of {', '.join((*SALES, *RETURNS))}, not {entity}.")
        customer = self._live(customer_id)
        moment = self._now()
        self._last_transaction += 1
        sale = Sale(
            entity=entity,
            number=self._last_transaction,
            customer_number=customer.number,
            txn_date=txn_date or timezone.localdate(),
            subtotal_cents=cents(amount),
            tax_cents=0,
            created_at=moment,
            updated_at=moment,
        )
        sale.balance_cents = sale.total_cents if entity in ("Invoice", *CREDITS) else 0
        self.sales[sale.number] = sale
        return self.transaction_json(sale)

    def receive_payment(self, invoice_id: str, amount: str | None = None) -> dict[str, Any]:
        invoice = self._sale(invoice_id)
        if invoice.entity != "Invoice" or invoice.state != "live":
            raise CustomerError(f"Transaction {invoice_id} is not an invoice one can pay.")
        paid = invoice.balance_cents if amount in (None, "") else cents(amount)
        if not 0 < paid <= invoice.balance_cents:
            raise CustomerError("A payment is more than 0 and at most the invoice's balance.")
        moment = self._now()
        self._last_transaction += 1
        payment = Sale(
            entity="Payment",
            number=self._last_transaction,
            customer_number=invoice.customer_number,
            txn_date=timezone.localdate(),
            subtotal_cents=paid,
            tax_cents=0,
            created_at=moment,
            updated_at=moment,
            applied_to=invoice.number,
        )
        self.sales[payment.number] = payment
        invoice.balance_cents -= paid
        self._touch_sale(invoice)
        return self.transaction_json(payment)

    def end_transaction(self, transaction_id: str, state: str) -> dict[str, Any]:
        """Void (every amount 0, the transaction stays) or delete a transaction."""
        sale = self._sale(transaction_id)
        if sale.state == "deleted" or (state == "voided" and sale.state == "voided"):
            raise CustomerError(f"Transaction {transaction_id} is already {sale.state}.")
        if sale.entity == "Payment" and sale.applied_to and sale.total_cents:
            invoice = self.sales[sale.applied_to]
            invoice.balance_cents += sale.total_cents
            self._touch_sale(invoice)
        if sale.entity == "Invoice":
            for payment in self.sales.values():
                if payment.applied_to == sale.number and payment.state == "live":
                    payment.applied_to = None
                    payment.balance_cents = payment.total_cents
                    self._touch_sale(payment)
        sale.state = state
        sale.subtotal_cents = sale.tax_cents = sale.balance_cents = 0
        self._touch_sale(sale)
        return self.transaction_json(sale)

    def add_customer_type(self, name: str) -> dict[str, Any]:
        number = len(self.types) + 1
        self.types[number] = CustomerType(number=number, name=name, created_at=self._now())
        return customer_type_json(self.types[number])

    def _sale(self, transaction_id: str) -> Sale:
        found = self.sales.get(int(transaction_id)) if str(transaction_id).isdigit() else None
        if found is None or found.state == "deleted":
            raise CustomerError(f"There is no transaction {transaction_id}.")
        return found

    def _touch_sale(self, sale: Sale) -> None:
        sale.sync_token += 1
        sale.updated_at = self._now()

    # --- reads, in the Accounting API's shapes ------------------------------------------------

    def customer_json(self, customer: Customer) -> dict[str, Any]:
        data = dict(customer.data)
        data.setdefault("PrintOnCheckName", data.get("DisplayName", ""))
        own = self._balance(customer.number)
        return {
            "domain": "QBO",
            "sparse": False,
            "Id": customer.customer_id,
            "SyncToken": str(customer.sync_token),
            "BillWithParent": False,
            "Taxable": False,
            "PreferredDeliveryMethod": "Print",
            **data,
            "Balance": own / 100,
            "BalanceWithJobs": self._balance_with_jobs(customer) / 100,
            "MetaData": {
                "CreateTime": quickbooks_time(customer.created_at),
                "LastUpdatedTime": quickbooks_time(customer.updated_at),
            },
        }

    def _balance(self, number: int) -> int:
        """Open invoices less unused credits and unapplied payments."""
        total = 0
        for sale in self.sales.values():
            if sale.customer_number == number and sale.state == "live" and sale.balance_cents:
                if sale.entity == "Invoice":
                    total += sale.balance_cents
                elif sale.entity in CREDITS:
                    total -= sale.balance_cents
        return total

    def _balance_with_jobs(self, customer: Customer) -> int:
        return self._balance(customer.number) + sum(
            self._balance_with_jobs(child) for child in self._jobs(customer)
        )

    def live_customers(self) -> list[dict[str, Any]]:
        return [
            self.customer_json(c) for c in sorted(self.customers.values(), key=_number) if c.live
        ]

    def transaction_json(self, sale: Sale) -> dict[str, Any]:
        customer = self.customers.get(sale.customer_number)
        body: dict[str, Any] = {
            "domain": "QBO",
            "sparse": False,
            "Id": sale.transaction_id,
            "SyncToken": str(sale.sync_token),
            "MetaData": {
                "CreateTime": quickbooks_time(sale.created_at),
                "LastUpdatedTime": quickbooks_time(sale.updated_at),
            },
            "TxnDate": sale.txn_date.isoformat(),
            "CurrencyRef": {"value": "USD", "name": "United States Dollar"},
            "ExchangeRate": 1.0,
            "CustomerRef": {
                "value": str(sale.customer_number),
                "name": customer.data.get("DisplayName", "") if customer else "",
            },
            "TotalAmt": sale.total_cents / 100,
        }
        if sale.state == "voided":
            body["PrivateNote"] = "Voided"
        if sale.entity == "Payment":
            body["UnappliedAmt"] = sale.balance_cents / 100
            body["Line"] = (
                [
                    {
                        "Amount": sale.total_cents / 100,
                        "LinkedTxn": [{"TxnId": str(sale.applied_to), "TxnType": "Invoice"}],
                    }
                ]
                if sale.applied_to
                else []
            )
            return body
        body["DocNumber"] = str(1000 + sale.number)
        body["TxnTaxDetail"] = {"TotalTax": sale.tax_cents / 100}
        if sale.entity == "Invoice":
            body["Balance"] = sale.balance_cents / 100
        if sale.entity == "CreditMemo":
            body["RemainingCredit"] = body["Balance"] = sale.balance_cents / 100
        return body

    def query(self, text: str) -> dict[str, Any]:
        """The QueryResponse of a query, or the Fault QuickBooks answers it with."""
        try:
            parsed = qbo_query.parse(text)
        except qbo_query.QueryParserError as error:
            raise fault(400, "4000", "Error parsing query", str(error)) from None
        except qbo_query.QueryValidationError as error:
            raise fault(400, "4001", "Invalid query", str(error)) from None
        except qbo_query.UnsupportedEntity as error:
            raise fault(400, "4001", "Invalid query", f"not {error}") from None
        rows: list[Any]
        render: Callable[[Any], dict[str, Any]]
        if parsed.entity == "Customer":
            rows, render = [c for c in self.customers.values() if c.live], self.customer_json
        elif parsed.entity == "CustomerType":
            rows, render = list(self.types.values()), customer_type_json
        else:
            rows = [
                s for s in self.sales.values() if s.entity == parsed.entity and s.state != "deleted"
            ]
            render = self.transaction_json
        # Name lists answer active ones unless the query says something about Active.
        if parsed.entity in ("Customer", "CustomerType") and not parsed.names("Active"):
            rows = [row for row in rows if row.column("Active")]
        rows = [row for row in rows if all(_matches(row, c) for c in parsed.where)]
        if parsed.count:
            return {"totalCount": len(rows)}
        rows.sort(key=_number)
        for name, descending in reversed(parsed.order_by):
            rows.sort(key=lambda row, name=name: row.column(name), reverse=descending)
        first = parsed.start_position - 1
        page = rows[first : first + parsed.max_results]
        if not page:
            return {}
        rendered = [render(row) for row in page]
        if parsed.fields is not None:
            rendered = [_project(row, parsed.fields) for row in rendered]
        return {
            parsed.entity: rendered,
            "startPosition": parsed.start_position,
            "maxResults": len(rendered),
        }

    def changed(self, *, since: datetime, entities: Sequence[str]) -> list[tuple[str, list[dict]]]:
        """CDC: per entity, the objects changed at or after `since`, oldest first (deleted
        ones as tombstones); 1,000 objects at most in all."""
        if since < self.clock() - timedelta(days=CDC_MAX_DAYS):
            raise fault(
                400,
                "2010",
                "Request has invalid or unsupported property",
                f"Operation cdc with changedSince date {since.isoformat()} which is older than "
                "fixed days is not supported.",
            )
        left = CDC_MAX_OBJECTS
        answers = []
        for entity in entities:
            if entity == "Customer":
                changed: list[Any] = [c for c in self.customers.values() if c.updated_at >= since]
            else:
                changed = [
                    s for s in self.sales.values() if s.entity == entity and s.updated_at >= since
                ]
            changed.sort(key=lambda row: (row.updated_at, row.number))
            rows = [self._cdc_json(row) for row in changed[:left]]
            left -= len(rows)
            answers.append((entity, rows))
        return answers

    def _cdc_json(self, row: Customer | Sale) -> dict[str, Any]:
        gone = (isinstance(row, Customer) and not row.live) or (
            isinstance(row, Sale) and row.state == "deleted"
        )
        if gone:
            return {
                "domain": "QBO",
                "status": "Deleted",
                "Id": str(row.number),
                "MetaData": {"LastUpdatedTime": quickbooks_time(row.updated_at)},
            }
        return self.customer_json(row) if isinstance(row, Customer) else self.transaction_json(row)

    def info(self) -> dict[str, Any]:
        return {
            "Id": "1",
            "SyncToken": "0",
            "domain": "QBO",
            "CompanyName": self.name,
            "LegalName": self.name,
            "Country": "US",
            "SupportedLanguages": "en",
            "MetaData": {"CreateTime": quickbooks_time(self.clock())},
        }

    def report(self, name: str, params: dict[str, str]) -> dict[str, Any]:
        """CustomerSales, CustomerBalance or TransactionList as the Reports API answers
        them (sandbox/quickbooks/reports.py): a Data row a customer (or a transaction),
        amounts as text; a customer's jobs in rows of their own."""
        wanted = {int(i) for i in params.get("customer", "").split(",") if i.strip().isdigit()}
        start = date.fromisoformat(params.get("start_date", "1900-01-01"))
        end = date.fromisoformat(params.get("end_date", params.get("report_date", "9999-12-31")))
        live = [
            s
            for s in self.sales.values()
            if s.state != "deleted" and (not wanted or s.customer_number in wanted)
        ]
        if name == "TransactionList":
            columns = [c for c in params.get("columns", "").split(",") if c] or LIST_COLUMNS
            kind = TRANSACTION_TYPE_FILTER.get(params.get("transaction_type", ""))
            dated = sorted(
                (s for s in live if start <= s.txn_date <= end and kind in (None, s.entity)),
                key=lambda s: (s.txn_date, s.number),
            )
            rows = [{"ColData": [self._cell(s, c) for c in columns], "type": "Data"} for s in dated]
            meta = [{"ColTitle": c, "MetaData": [{"Name": "ColKey", "Value": c}]} for c in columns]
            return _report(name, rows, Columns={"Column": meta})
        amounts: dict[int, int] = {}
        for sale in live:
            if sale.state != "live":
                continue
            if name == "CustomerSales" and sale.entity in (*SALES, *RETURNS):
                if start <= sale.txn_date <= end:
                    sign = -1 if sale.entity in RETURNS else 1
                    amounts[sale.customer_number] = (
                        amounts.get(sale.customer_number, 0) + sign * sale.subtotal_cents
                    )
            elif name == "CustomerBalance" and sale.balance_cents:
                sign = 1 if sale.entity == "Invoice" else -1 if sale.entity in CREDITS else 0
                amounts[sale.customer_number] = (
                    amounts.get(sale.customer_number, 0) + sign * sale.balance_cents
                )
        rows = [
            {"ColData": [self._name(number), {"value": _money(amount)}], "type": "Data"}
            for number, amount in sorted(amounts.items())
            if amount
        ]
        return _report(name, rows)

    def _name(self, number: int) -> dict[str, str]:
        customer = self.customers.get(number)
        return {"value": customer.column("DisplayName") if customer else "", "id": str(number)}

    def _cell(self, sale: Sale, column: str) -> dict[str, str]:
        sign = -1 if sale.entity in RETURNS else 1
        return {
            "tx_date": {"value": sale.txn_date.isoformat()},
            "txn_type": {"value": TXN_TYPES[sale.entity], "id": sale.transaction_id},
            "name": self._name(sale.customer_number),
            "subt_nat_amount": {"value": _money(sign * sale.subtotal_cents)},
        }[column]


def _money(cents: int) -> str:
    return f"{Decimal(cents) / 100:.2f}"


def _report(name: str, rows: list[dict], **extra: Any) -> dict[str, Any]:
    empty = {"Name": "NoReportData", "Value": "true" if not rows else "false"}
    return {
        "Header": {"ReportName": name, "Currency": "USD", "Option": [empty]},
        **extra,
        "Rows": {"Row": rows} if rows else {},
    }


def _number(row: Any) -> int:
    return row.number


def _project(row: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    wanted = {name.split(".")[0].lower() for name in fields} | {"id", "synctoken", "domain"}
    projected = {name: value for name, value in row.items() if name.lower() in wanted}
    projected["sparse"] = True
    return projected


@dataclass
class FakeQuickBooks:
    """Every company of the fake QuickBooks, the access tokens that open them, and the
    knobs that make its API fail as the sandbox's do (same names)."""

    clock: Clock = timezone.now
    companies: dict[str, QuickBooksCompany] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)  # access token -> realm id
    knobs: dict[str, Any] = field(default_factory=dict)

    def new_company(self, *, realm_id: str, name: str) -> tuple[QuickBooksCompany, str]:
        """A company, and an access token that opens it."""
        company = QuickBooksCompany(realm_id=realm_id, name=name, clock=self.clock)
        self.companies[realm_id] = company
        token = f"fake-qb-access-{realm_id}"
        self.tokens[token] = realm_id
        return company, token

    def knob(self, name: str, default: Any) -> Any:
        return self.knobs.get(name, default)


class FakeQuickBooksClient(QuickBooksClient):
    """QuickBooksClient itself, its requests answered by a FakeQuickBooks instead of the
    Accounting API over HTTP: every public method is the real one (paging, lookups split
    around refused ids, CDC, the sales figures read from reports by reports.py); only
    `_get`, the one request the client makes, is answered here, through `before_request`
    and `after_response` as the transport does, failing as the sandbox would."""

    def __init__(
        self,
        world: FakeQuickBooks,
        *,
        realm_id: str,
        tokens: TokenSource,
        before_request: BeforeRequest | None = None,
        after_response: AfterResponse | None = None,
        session: Any = None,
    ):
        self.world = world
        self.realm_id = realm_id
        self.tokens = tokens
        self.before_request = before_request
        self.after_response = after_response

    def _get(self, path: str, *, endpoint: str, params: dict | None = None) -> dict:
        company = self._company(endpoint)
        asked = dict(params or {})
        if path == "query":
            return {"QueryResponse": company.query(asked["query"])}
        if path == "cdc":
            since = datetime.fromisoformat(asked["changedSince"])
            changed = company.changed(since=since, entities=asked["entities"].split(","))
            answers = [
                {"startPosition": 1, "maxResults": len(rows), **({entity: rows} if rows else {})}
                for entity, rows in changed
            ]
            return {"CDCResponse": [{"QueryResponse": answers}]}
        if path == f"companyinfo/{self.realm_id}":
            return {"CompanyInfo": company.info()}
        if path.startswith("reports/"):
            return company.report(path.removeprefix("reports/"), asked)
        raise AssertionError(f"the fake QuickBooks does not answer {path}")

    def _company(self, endpoint: str) -> QuickBooksCompany:
        """The company, once this call got through: the same checks as the sandbox's, in
        the same order (token, company's authorization, injected faults)."""
        token = self.tokens.access_token()
        error = self._refusal(token, endpoint)
        if isinstance(error, qb_errors.Unauthorized):
            token = self.tokens.renew(rejected=token)
            error = self._refusal(token, endpoint)
        if error is not None:
            raise error
        return self.world.companies[self.realm_id]

    def _refusal(self, token: str, endpoint: str) -> qb_errors.QuickBooksError | None:
        if self.before_request is not None:
            self.before_request(endpoint)
        knob = self.world.knob
        error: qb_errors.QuickBooksError | None = None
        if self.world.tokens.get(token) != self.realm_id:
            error = fault(401, "3200", "message=AuthenticationFailed", "Token expired or invalid")
        elif self.realm_id in knob("quickbooks_forbidden_realms", []):
            error = fault(403, "3100", "message=ApplicationAuthorizationFailed")
        else:
            roll = random.random()
            if roll < knob("quickbooks_error_rate", 0.0):
                error = fault(500, "10000", "An application error has occurred")
            elif roll - knob("quickbooks_error_rate", 0.0) < knob("quickbooks_throttle_rate", 0.0):
                error = fault(429, "3001", "message=ThrottleExceeded")
        if self.after_response is not None:
            self.after_response("quickbooks", endpoint, error.status if error else 200, error)
        return error
