"""The sales figures read from QuickBooks' reports (integrations/quickbooks/reports.py).

Answers are shaped as Intuit's report reference shows them:
https://developer.intuit.com/app/developer/qbo/docs/api/accounting/report-entities/salesbycustomer
(Header.Option NoReportData, Rows.Row[] of Data rows and Sections with Header/Rows/Summary,
a GrandTotal Section), .../customerbalance and .../transactionlist (Columns with ColKey).
"""

import json
import re
from datetime import date
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest

from integrations.quickbooks import reports
from integrations.quickbooks.client import QuickBooksClient
from integrations.quickbooks.reports import CustomerSales
from tests.integrations.conftest import QB_BASE

pytestmark = pytest.mark.usefixtures("provider_settings")

REPORTS = f"{QB_BASE}/v3/company/4620816365/reports/"


def header(name: str, *, empty: bool = False) -> dict:
    return {
        "ReportName": name,
        "Option": [{"Name": "NoReportData", "Value": "true" if empty else "false"}],
        "Currency": "USD",
    }


def summary(name: str, rows: list[dict]) -> dict:
    return {
        "Header": header(name, empty=not rows),
        "Columns": {
            "Column": [
                {"ColType": "Customer", "ColTitle": ""},
                {"ColType": "Money", "ColTitle": "Total"},
            ]
        },
        "Rows": {"Row": rows} if rows else {},
    }


def data(customer_id: str, name: str, amount: str) -> dict:
    return {"ColData": [{"id": customer_id, "value": name}, {"value": amount}], "type": "Data"}


def section(customer_id: str, name: str, inner: list[dict], total: str) -> dict:
    return {
        "Header": {"ColData": [{"id": customer_id, "value": name}, {"value": ""}]},
        "Rows": {"Row": inner},
        "Summary": {"ColData": [{"value": f"Total {name}"}, {"value": total}]},
        "type": "Section",
    }


GRAND_TOTAL = {
    "group": "GrandTotal",
    "type": "Section",
    "Summary": {"ColData": [{"value": "TOTAL"}, {"value": "999.00"}]},
}


def transaction_list(rows: list[tuple[str, str, str, str]]) -> dict:
    keys = reports.LIST_COLUMNS
    return {
        "Header": header("TransactionList", empty=not rows),
        "Columns": {
            "Column": [{"ColTitle": k, "MetaData": [{"Name": "ColKey", "Value": k}]} for k in keys]
        },
        "Rows": {
            "Row": [
                {
                    "ColData": [
                        {"value": when},
                        {"value": kind, "id": "77"},
                        {"value": "Someone", "id": customer},
                        {"value": amount},
                    ],
                    "type": "Data",
                }
                for when, kind, customer, amount in rows
            ]
        }
        if rows
        else {},
    }


@pytest.fixture
def client(tokens):
    return QuickBooksClient(realm_id="4620816365", tokens=tokens)


def params_of(call) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(call.request.url).query).items()}


def test_money_strings_as_quickbooks_writes_them():
    assert reports.money("1234.50") == Decimal("1234.50")
    assert reports.money("-12.00") == Decimal("-12.00")
    assert reports.money(".00") == Decimal(0)
    assert reports.money("") == Decimal(0)
    assert reports.money(None) == Decimal(0)


def test_sections_give_each_customer_its_own_figures_and_totals_are_skipped():
    report = summary(
        "CustomerSales",
        [
            data("1", "Amy's Bird Sanctuary", "1200.00"),
            section(
                "5",
                "Parent Co",
                [data("5", "Parent Co", "100.50"), data("6", "Parent Co:Job", "-20.25")],
                "80.25",
            ),
            section("8", "No Own Sales", [data("9", "No Own Sales:Job", "7.00")], "7.00"),
            GRAND_TOTAL,
        ],
    )
    assert reports.amounts_by_customer(report) == {
        "1": Decimal("1200.00"),
        "5": Decimal("100.50"),
        "6": Decimal("-20.25"),
        "9": Decimal("7.00"),
    }


def test_no_report_data_is_an_empty_report():
    empty = summary("CustomerSales", [])
    assert reports.amounts_by_customer(empty) == {}
    # Even if rows came along, NoReportData true means there is nothing.
    empty["Rows"] = {"Row": [data("1", "X", "5.00")]}
    assert reports.amounts_by_customer(empty) == {}


def test_sales_figures_for_every_customer_cost_four_calls(client, mocked):
    mocked.get(
        re.compile(REPORTS + "CustomerSales"),
        json=summary(
            "CustomerSales", [data("1", "A", "300.00"), data("2", "B", "-50.00"), GRAND_TOTAL]
        ),
    )
    mocked.get(
        re.compile(REPORTS + "CustomerBalance"),
        json=summary("CustomerBalance", [data("1", "A", "120.00"), data("3", "C", "15.00")]),
    )
    mocked.get(
        re.compile(REPORTS + "TransactionList"),
        json=transaction_list(
            [
                ("2023-02-01", "Invoice", "1", "100.00"),
                ("2024-05-06", "Sales Receipt", "1", "200.00"),
                ("2024-06-01", "Invoice", "1", "0.00"),  # voided: no purchase
                ("2024-07-01", "Payment", "1", "100.00"),
                ("2025-01-02", "Credit Memo", "2", "-50.00"),
            ]
        ),
    )

    figures = client.sales_figures(today=date(2025, 3, 1))

    assert len(mocked.calls) == 4
    assert figures["1"] == CustomerSales(
        total_sales=Decimal("300.00"),
        sales_last_12_months=Decimal("300.00"),
        open_balance=Decimal("120.00"),
        first_purchase=date(2023, 2, 1),
        last_purchase=date(2024, 5, 6),
        invoices=1,
        sales_receipts=1,
    )
    assert figures["2"].total_sales == Decimal("-50.00")
    assert figures["2"].first_purchase is None and figures["2"].invoices == 0
    assert figures["3"].open_balance == Decimal("15.00")
    sent = [params_of(call) for call in mocked.calls]
    assert sent[0]["start_date"] == "1900-01-01" and sent[0]["end_date"] == "2025-03-01"
    assert sent[1]["start_date"] == "2024-03-02"
    assert all(p["accounting_method"] == "Accrual" and "customer" not in p for p in sent)
    assert sent[3]["columns"] == "tx_date,txn_type,name,subt_nat_amount"


def test_customer_ids_are_sent_comma_separated_200_a_call(client, mocked):
    for name in ("CustomerSales", "CustomerBalance"):
        mocked.get(re.compile(REPORTS + name), json=summary(name, []))
    mocked.get(re.compile(REPORTS + "TransactionList"), json=transaction_list([]))

    ids = [str(n) for n in range(1, 251)]
    assert client.sales_figures(today=date(2025, 3, 1), customer_ids=ids) == {}

    assert len(mocked.calls) == 8
    customers = [params_of(call)["customer"] for call in mocked.calls]
    assert customers[0] == ",".join(ids[:200]) and customers[-1] == ",".join(ids[200:])


def test_a_transaction_list_cut_short_is_read_again_in_halves(client, mocked):
    cut = transaction_list([("2020-01-01", "Invoice", "1", "10.00")])
    cut["Rows"]["Row"].append(
        {
            "ColData": [{"value": "Unable to display more data. Please reduce the date range."}],
            "type": "Data",
        }
    )
    answers = iter(
        [
            cut,
            transaction_list([("2001-01-01", "Invoice", "1", "10.00")]),
            transaction_list([("2020-01-01", "Sales Receipt", "1", "5.00")]),
        ]
    )
    mocked.add_callback(
        "GET",
        re.compile(REPORTS + "TransactionList"),
        callback=lambda request: (200, {}, json.dumps(next(answers))),
    )

    found = list(
        reports.purchases(client._report, start=date(1900, 1, 1), end=date(2025, 3, 1), customer="")
    )

    assert found == [("1", "invoices", date(2001, 1, 1)), ("1", "sales_receipts", date(2020, 1, 1))]
    halves = [params_of(call) for call in mocked.calls]
    assert [(p["start_date"], p["end_date"]) for p in halves] == [
        ("1900-01-01", "2025-03-01"),
        ("1900-01-01", "1962-08-01"),
        ("1962-08-02", "2025-03-01"),
    ]


def test_transaction_customers_queries_ids_and_skips_ones_that_are_no_ids(client, mocked):
    mocked.get(
        f"{QB_BASE}/v3/company/4620816365/query",
        json={
            "QueryResponse": {
                "Invoice": [{"Id": "12", "CustomerRef": {"value": "5", "name": "Job"}}],
                "startPosition": 1,
                "maxResults": 1,
            }
        },
    )

    assert client.transaction_customers(entity="Invoice", ids=["12", "13", "abc"]) == {"12": "5"}
    text = params_of(mocked.calls[0])["query"]
    assert text == "SELECT * FROM Invoice WHERE Id IN ('12', '13') MAXRESULTS 1000"
    with pytest.raises(ValueError):
        client.transaction_customers(entity="Bill", ids=["1"])


def test_customer_types(client, mocked):
    mocked.get(
        f"{QB_BASE}/v3/company/4620816365/query",
        json={
            "QueryResponse": {
                "CustomerType": [{"Id": "1", "Name": "Wholesale"}, {"Id": "2", "Name": "Retail"}]
            }
        },
    )
    assert client.customer_types() == {"1": "Wholesale", "2": "Retail"}
    assert "FROM CustomerType" in params_of(mocked.calls[0])["query"]
