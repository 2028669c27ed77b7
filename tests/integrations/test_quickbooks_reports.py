"""The sales figures read from QuickBooks' reports (integrations/quickbooks/reports.py).

Answers are shaped as Intuit's report reference shows them, and the samples Intuit publishes
are parsed as stored (tests/samples/quickbooks/reports/SOURCES.md names each one's page):
https://developer.intuit.com/app/developer/qbo/docs/api/accounting/report-entities/
salesbycustomer, .../customerbalance, .../transactionlist, .../transactionlistbycustomer
(Header.Option NoReportData, Rows.Row[] of Data rows and Sections with Header/Rows/Summary,
a GrandTotal Section, columns keyed by MetaData ColKey or by ColType; a ColData value "is
localized"; the multicurrency column table). Long histories: "limit the date range ... to
six months" (https://developer.intuit.com/app/developer/qbo/docs/workflows/run-reports); a
504 GatewayTimeout for a report too heavy (node-quickbooks issue 242).
"""

import json
import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from integrations.quickbooks import reports
from integrations.quickbooks.client import QuickBooksClient
from integrations.quickbooks.errors import TransientError
from integrations.quickbooks.reports import CustomerSales, ReportUnreadable
from tests import samples
from tests.integrations.conftest import QB_BASE

pytestmark = pytest.mark.usefixtures("provider_settings")

REPORTS = f"{QB_BASE}/v3/company/4620816365/reports/"
# The columns of a TransactionList asked without `columns`, by their keys (Intuit's
# starred defaults; the amount's key is the company's).
DEFAULT_KEYS = ("tx_date", "txn_type", "doc_num", "is_no_post", "name", "memo", "amount")


def sample(name: str) -> dict:
    return samples.sample(f"quickbooks/reports/{name}")


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


def transaction_list(
    rows: list[tuple[str, str, str]], *, amount_key: str = "subt_nat_amount", kind: str = "Facture"
) -> dict:
    """A default-column TransactionList of (date, customer id, amount) rows, its texts in
    French."""
    keys = [amount_key if key == "amount" else key for key in DEFAULT_KEYS]

    def cells(when: str, customer: str, amount: str) -> list[dict]:
        by_key = {
            "tx_date": {"value": when},
            "txn_type": {"value": kind, "id": "77"},
            "doc_num": {"value": "1001"},
            "is_no_post": {"value": "Oui"},
            "name": {"value": "Quelqu'un", "id": customer} if customer else {"value": ""},
            "memo": {"value": ""},
            amount_key: {"value": amount},
        }
        return [by_key[key] for key in keys]

    return {
        "Header": header("TransactionList", empty=not rows),
        "Columns": {
            "Column": [
                {"ColTitle": k, "ColType": "String", "MetaData": [{"Name": "ColKey", "Value": k}]}
                for k in keys
            ]
        },
        "Rows": {"Row": [{"ColData": cells(*row), "type": "Data"} for row in rows]} if rows else {},
    }


def cut_short(report: dict, text: str) -> dict:
    width = len(report["Columns"]["Column"])
    row = {"ColData": [{"value": text}] + [{"value": ""}] * (width - 1), "type": "Data"}
    report["Rows"] = {"Row": [*report["Rows"].get("Row", []), row]}
    report["Header"]["Option"] = [{"Name": "NoReportData", "Value": "false"}]
    return report


@pytest.fixture
def client(tokens):
    return QuickBooksClient(realm_id="4620816365", tokens=tokens)


def params_of(call) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(call.request.url).query).items()}


def name_of(call) -> str:
    return urlsplit(call.request.url).path.rsplit("/", 1)[-1]


Answer = Callable[[str, dict[str, str]], dict | int | Exception]


def serve(mocked, answer: Answer) -> None:
    """Every report asked answers answer(name, params): a report, an HTTP status (a Fault),
    or an exception the connection raises."""

    def reply(request):
        query = {k: v[0] for k, v in parse_qs(urlsplit(request.url).query).items()}
        given = answer(urlsplit(request.url).path.rsplit("/", 1)[-1], query)
        if isinstance(given, Exception):
            raise given
        if isinstance(given, int):
            fault = {"Fault": {"Error": [{"Message": "m", "Detail": "d", "code": "6002"}]}}
            return given, {}, json.dumps(fault)
        return 200, {}, json.dumps(given)

    mocked.add_callback("GET", re.compile(REPORTS + ".*"), callback=reply)


def test_money_strings_as_quickbooks_writes_them():
    assert reports.money("1234.50") == Decimal("1234.50")
    assert reports.money("-12.00") == Decimal("-12.00")
    assert reports.money(".00") == Decimal(0)
    assert reports.money("") == Decimal(0)
    assert reports.money(None) == Decimal(0)
    with pytest.raises(ReportUnreadable):
        reports.money("12,00 €")


def test_intuits_samples_parse():
    """Each sample Intuit publishes (SOURCES.md), read as the client reads an answer."""
    assert reports.amounts_by_customer(sample("customersales.json")) == {"1": Decimal("1200.00")}
    assert reports.amounts_by_customer(sample("customerbalance.json")) == {"1": Decimal("1593.50")}
    assert list(reports.bought(sample("transactionlistbycustomer.json"))) == []
    # Keys in ColType (Intuit's older samples), a Section per customer, the multicurrency
    # amount key; the transaction's kind is not read from its text.
    assert list(reports.bought(sample("transactionlist.json"))) == [("1", date(2016, 6, 14))]
    # Built from the column table (not Intuit's): the voided invoice (0) is no purchase.
    assert list(reports.bought(sample("transactionlist-multicurrency.built.json"))) == [
        ("24", date(2026, 2, 3))
    ]


def test_every_documented_amount_key_and_none_at_all_are_read():
    for key in reports.AMOUNT_KEYS:
        listed = transaction_list([("2024-01-02", "1", "5.00"), ("2024-01-03", "1", "0.00")])
        listed["Columns"]["Column"][-1]["MetaData"][0]["Value"] = key
        assert list(reports.bought(listed)) == [("1", date(2024, 1, 2))], key
    # No amount column: every row counts (no voided one can be told), nothing fails.
    listed = transaction_list([("2024-01-02", "1", "5.00"), ("2024-01-03", "1", "0.00")])
    listed["Columns"]["Column"][-1]["MetaData"][0]["Value"] = "nat_amount"
    assert [when.day for _, when in reports.bought(listed)] == [2, 3]
    # Without its date or name column the list cannot be read: said, not guessed.
    listed["Columns"]["Column"][0]["MetaData"][0]["Value"] = "inv_date"
    with pytest.raises(ReportUnreadable):
        list(reports.bought(listed))


def test_sections_give_each_customer_its_own_figures_and_totals_are_skipped():
    """A parent's own figures as a Data row of its own inside its Section."""
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
            {"ColData": [{"value": "Not Specified"}, {"value": "3.00"}]},  # nobody's
            GRAND_TOTAL,
        ],
    )
    assert reports.amounts_by_customer(report) == {
        "1": Decimal("1200.00"),
        "5": Decimal("100.50"),
        "6": Decimal("-20.25"),
        "9": Decimal("7.00"),
    }


def test_a_parent_given_only_in_its_summary_gets_its_total_less_its_jobs():
    """The other shape: no Data row of the parent's own, only the Section's total."""
    report = summary(
        "CustomerSales",
        [
            section(
                "5",
                "Parent Co",
                [
                    data("6", "Parent Co:Job", "-20.25"),
                    section(
                        "7", "Parent Co:Site", [data("8", "Parent Co:Site:Room", "4.00")], "10.00"
                    ),
                ],
                "90.25",
            ),
            section("9", "Even", [data("10", "Even:Job", "7.00")], "7.00"),
            GRAND_TOTAL,
        ],
    )
    assert reports.amounts_by_customer(report) == {
        "5": Decimal("100.50"),  # 90.25 - (-20.25 + 10.00)
        "6": Decimal("-20.25"),
        "7": Decimal("6.00"),  # 10.00 - 4.00
        "8": Decimal("4.00"),
        "10": Decimal("7.00"),
    }


def test_no_report_data_is_an_empty_report_and_other_shapes_are_unreadable():
    empty = summary("CustomerSales", [])
    assert reports.amounts_by_customer(empty) == {}
    # Even if rows came along, NoReportData true means there is nothing.
    empty["Rows"] = {"Row": [data("1", "X", "5.00")]}
    assert reports.amounts_by_customer(empty) == {}
    for odd in ({"Rows": {"Row": []}}, {"Header": {}, "Rows": {"Row": {"ColData": []}}}):
        with pytest.raises(ReportUnreadable):
            reports.amounts_by_customer(odd)


def test_sales_figures_for_every_customer_cost_five_calls_of_documented_parameters(client, mocked):
    """Invoices and sales receipts counted by the transaction_type filter, one list each,
    whatever language their type is written in."""
    lists = {
        "Invoice": transaction_list(
            [
                ("2023-02-01", "1", "100.00"),
                ("2024-06-01", "1", "0.00"),  # voided: no purchase
            ]
        ),
        "SalesReceipt": transaction_list(
            [("2024-05-06", "1", "200.00"), ("2024-05-07", "", "9.00")],  # one for nobody
            kind="Reçu de vente",
        ),
    }

    def answer(name: str, params: dict[str, str]) -> dict:
        if name == "CustomerSales":
            return summary(name, [data("1", "A", "300.00"), data("2", "B", "-50.00"), GRAND_TOTAL])
        if name == "CustomerBalance":
            return summary(name, [data("1", "A", "120.00"), data("3", "C", "15.00")])
        return lists[params["transaction_type"]]

    serve(mocked, answer)
    figures = client.sales_figures(today=date(2025, 3, 1))

    assert [name_of(call) for call in mocked.calls] == [
        "CustomerSales",
        "CustomerSales",
        "CustomerBalance",
        "TransactionList",
        "TransactionList",
    ]
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
    # Only what each report's reference lists (TransactionList takes no accounting_method;
    # its default columns hold the amount under the company's own key).
    dated = {"start_date", "end_date", "minorversion"}
    assert [set(p) for p in sent] == [
        dated | {"accounting_method"},
        dated | {"accounting_method"},
        {"report_date", "accounting_method", "minorversion"},
        dated | {"transaction_type"},
        dated | {"transaction_type"},
    ]
    assert sent[0]["start_date"] == "1900-01-01" and sent[0]["end_date"] == "2025-03-01"
    assert sent[1]["start_date"] == "2024-03-02"
    assert sent[2]["report_date"] == "2025-03-01"
    assert [p["transaction_type"] for p in sent[3:]] == ["Invoice", "SalesReceipt"]


def test_customer_ids_are_sent_comma_separated_200_a_call(client, mocked):
    serve(
        mocked,
        lambda name, params: (
            transaction_list([]) if name == "TransactionList" else summary(name, [])
        ),
    )

    ids = [str(n) for n in range(1, 251)]
    assert client.sales_figures(today=date(2025, 3, 1), customer_ids=ids) == {}

    assert len(mocked.calls) == 10
    customers = [params_of(call)["customer"] for call in mocked.calls]
    assert customers[0] == ",".join(ids[:200]) and customers[-1] == ",".join(ids[200:])


def halves(mocked) -> list[tuple[str, str]]:
    return [(p["start_date"], p["end_date"]) for p in map(params_of, mocked.calls)]


def read(client, *, start=date(1900, 1, 1), end=date(2025, 3, 1), splits=None):
    return list(
        reports.purchases(
            client._report,
            kind="Invoice",
            start=start,
            end=end,
            customer="",
            splits=splits or reports.Splits(),
        )
    )


@pytest.mark.parametrize(
    "signal",
    [
        "Unable to display more data. Please reduce the date range.",
        "Impossible d'afficher plus de données. Veuillez réduire la plage de dates.",
        504,
        requests.ReadTimeout("slow"),
    ],
    ids=["cut-short", "cut-short-in-french", "gateway-timeout", "read-timeout"],
)
def test_a_list_cut_short_or_too_slow_is_read_again_in_halves(client, mocked, signal):
    def answer(name: str, params: dict[str, str]) -> dict | int | Exception:
        if params["start_date"] == "1900-01-01" and params["end_date"] == "2025-03-01":
            if isinstance(signal, str):
                return cut_short(transaction_list([("2020-01-01", "1", "10.00")]), signal)
            return signal
        if params["start_date"] == "1900-01-01":
            return transaction_list([("2001-01-01", "1", "10.00")])
        return transaction_list([("2020-01-01", "2", "5.00")])

    serve(mocked, answer)

    assert read(client) == [("1", date(2001, 1, 1)), ("2", date(2020, 1, 1))]
    assert halves(mocked) == [
        ("1900-01-01", "2025-03-01"),
        ("1900-01-01", "1962-08-01"),
        ("1962-08-02", "2025-03-01"),
    ]


def test_splitting_is_bounded_and_other_failures_are_not_retried(client, mocked):
    serve(mocked, lambda name, params: 504)
    with pytest.raises(ReportUnreadable, match="after"):
        read(client, splits=reports.Splits(left=3))
    assert len(mocked.calls) == 4  # the whole range, then 3 halves, never the same twice
    assert len(set(halves(mocked))) == 4

    mocked.calls.reset()
    with pytest.raises(ReportUnreadable, match="one day"):
        read(client, start=date(2025, 3, 1))
    assert len(mocked.calls) == 1

    mocked.calls.reset()
    with pytest.raises(ReportUnreadable, match="one day"):
        read(client, start=date(2025, 2, 28))  # two days: split once, then one day fails
    assert halves(mocked) == [("2025-02-28", "2025-03-01"), ("2025-02-28", "2025-02-28")]


def test_a_passing_failure_is_raised_and_a_refusal_is_unreadable(client, mocked):
    answers = iter([503, 400])
    serve(mocked, lambda name, params: next(answers))
    with pytest.raises(TransientError):  # the run's retry policy decides
        read(client)
    with pytest.raises(ReportUnreadable, match="refused"):
        read(client)
    assert len(mocked.calls) == 2


def test_all_time_sales_too_slow_are_summed_over_windows(client, mocked):
    def answer(name: str, params: dict[str, str]) -> dict | int:
        if name == "CustomerSales" and params["start_date"] == "1900-01-01":
            if params["end_date"] == "2025-03-01":
                return 504
            return summary(name, [data("1", "A", "10.00")])
        if name == "CustomerSales":
            return summary(name, [data("1", "A", "5.00"), data("2", "B", "1.00")])
        if name == "CustomerBalance":
            return summary(name, [])
        return transaction_list([])

    serve(mocked, answer)
    figures = client.sales_figures(today=date(2025, 3, 1))

    assert figures["1"].total_sales == Decimal("15.00")  # 10.00 + 5.00, each window once
    assert figures["1"].sales_last_12_months == Decimal("5.00")
    assert figures["2"].total_sales == Decimal("1.00")
    assert len(mocked.calls) == 5 + 2


def test_a_balance_report_too_slow_is_unreadable_at_once(client, mocked):
    serve(
        mocked,
        lambda name, params: 504 if name == "CustomerBalance" else summary(name, []),
    )
    with pytest.raises(ReportUnreadable, match="CustomerBalance"):
        client.sales_figures(today=date(2025, 3, 1))
    assert [name_of(call) for call in mocked.calls][-1] == "CustomerBalance"
    assert len(mocked.calls) == 3


def test_transaction_customers_tells_a_sale_without_customer_from_one_gone(client, mocked):
    mocked.get(
        f"{QB_BASE}/v3/company/4620816365/query",
        json={
            "QueryResponse": {
                "SalesReceipt": [
                    {"Id": "12", "CustomerRef": {"value": "5", "name": "Job"}},
                    {"Id": "14"},  # CustomerRef is optional on a receipt
                ],
                "startPosition": 1,
                "maxResults": 2,
            }
        },
    )

    found = client.transaction_customers(entity="SalesReceipt", ids=["12", "13", "14", "abc"])
    assert found == {"12": "5", "14": ""}  # 13 is gone: absent
    text = params_of(mocked.calls[0])["query"]
    assert text == "SELECT * FROM SalesReceipt WHERE Id IN ('12', '13', '14') MAXRESULTS 1000"
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
