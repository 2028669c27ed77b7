"""The sandbox's reports (CustomerSales, CustomerBalance, TransactionList) over HTTP, and the
app's QuickBooks client reading them.

Sources: Intuit's report references
(https://developer.intuit.com/app/developer/qbo/docs/api/accounting/report-entities/
salesbycustomer, .../customerbalance, .../transactionlist, .../transactionlistbycustomer:
Header.Option NoReportData, Columns with ColKey, Rows of Data and Section rows, each
report's query parameters, the customer filter as comma-separated Ids, transaction_type,
ColData values "localized", the multicurrency column table) and the sample answers they
publish (tests/samples/quickbooks/reports/SOURCES.md); "limit the date range ... to six
months" (https://developer.intuit.com/app/developer/qbo/docs/workflows/run-reports); a
report answered 504 GatewayTimeout, Fault 6002, and an unlisted parameter that caused one
(https://github.com/mcohen01/node-quickbooks/issues/242).
Where Intuit is silent, knobs: a report past 400,000 cells (the limit public clients name)
is cut short with a last row saying so, in the company's language; a report too heavy times
out; a parent's own amount is a Data row in its Section, or only in its Summary.
"""

from datetime import date, timedelta
from decimal import Decimal

from integrations.quickbooks.client import QuickBooksClient
from tests.samples import sample, shape_differences
from tests.sandbox.quickbooks.conftest import act, prefer, report, sell


def client_for(company, settings) -> tuple[QuickBooksClient, list[str]]:
    """The app's client on the sandbox company, and the endpoints it called."""
    settings.QUICKBOOKS_API_BASE = company.sandbox.quickbooks_api_base
    calls: list[str] = []

    class Tokens:
        def access_token(self) -> str:
            return company.access_token

        def renew(self, *, rejected: str) -> str:
            raise AssertionError("no renewal expected")

    client = QuickBooksClient(
        realm_id=company.realm_id, tokens=Tokens(), before_request=calls.append
    )
    return client, calls


def test_reports_in_intuits_shape(shop):
    company, parent, job, nobody = shop
    sell(company, parent, entity="Invoice", amount="100.00", tax="8.00", TxnDate="2023-01-10")
    sell(company, job, entity="SalesReceipt", amount="40.00", TxnDate="2024-02-01")
    sell(company, job, entity="RefundReceipt", amount="15.00", TxnDate="2024-03-01")
    gone = sell(company, job, entity="Invoice", amount="999.00", TxnDate="2024-03-02")
    act(company, gone["Id"], "void")

    sales = report(company, "CustomerSales", start_date="2000-01-01", end_date="2030-01-01")
    assert sales["Header"]["Option"] == [{"Name": "NoReportData", "Value": "false"}]
    assert [c["ColType"] for c in sales["Columns"]["Column"]] == ["Customer", "Money"]
    (parent_row, total) = sales["Rows"]["Row"]
    assert parent_row["type"] == "Section"
    assert [row["ColData"] for row in parent_row["Rows"]["Row"]] == [
        [{"value": "Parent Co", "id": parent}, {"value": "100.00"}],  # before tax
        [{"value": "Kitchen", "id": job}, {"value": "25.00"}],  # less the refund
    ]
    assert parent_row["Summary"]["ColData"] == [{"value": "Total Parent Co"}, {"value": "125.00"}]
    assert total["group"] == "GrandTotal" and total["Summary"]["ColData"][1] == {"value": "125.00"}

    only_job = report(
        company, "CustomerSales", customer=job, start_date="2024-01-01", end_date="2030-01-01"
    )
    assert only_job["Header"]["Customer"] == job
    assert [row["ColData"][0]["id"] for row in only_job["Rows"]["Row"][0]["Rows"]["Row"]] == [job]

    empty = report(
        company, "CustomerSales", customer=nobody, start_date="2000-01-01", end_date="2030-01-01"
    )
    assert empty["Header"]["Option"] == [{"Name": "NoReportData", "Value": "true"}]
    assert empty["Rows"] == {}

    balance = report(company, "CustomerBalance")
    # The job owes nothing (a receipt, a refund, a voided invoice): the parent is a plain row.
    assert balance["Rows"]["Row"][0] == {
        "ColData": [{"value": "Parent Co", "id": parent}, {"value": "108.00"}],
        "type": "Data",
    }

    listed = report(
        company,
        "TransactionList",
        start_date="2000-01-01",
        end_date="2030-01-01",
        columns="tx_date,txn_type,name,subt_nat_amount,memo",
    )
    assert [c["MetaData"][0]["Value"] for c in listed["Columns"]["Column"]] == [
        "tx_date",
        "txn_type",
        "name",
        "subt_nat_amount",
        "memo",
    ]
    assert [
        [cell["value"] for cell in row["ColData"][:2]] + [row["ColData"][3]["value"]]
        for row in listed["Rows"]["Row"]
    ] == [
        ["2023-01-10", "Invoice", "100.00"],
        ["2024-02-01", "Sales Receipt", "40.00"],
        ["2024-03-01", "Refund", "-15.00"],
        ["2024-03-02", "Invoice", "0.00"],
    ]
    assert listed["Rows"]["Row"][-1]["ColData"][4] == {"value": "Voided"}
    receipts = report(
        company,
        "TransactionList",
        start_date="2000-01-01",
        end_date="2030-01-01",
        transaction_type="SalesReceipt",
    )
    assert [row["ColData"][0]["value"] for row in receipts["Rows"]["Row"]] == ["2024-02-01"]
    assert company.get("reports/CustomerSales", accounting_method="Cash").status_code == 400


def test_the_answers_have_the_shape_of_intuits_samples(company, unthrottled):
    """Every field of each sample Intuit publishes (SOURCES.md) is in the sandbox's answer
    to the same request, as the same JSON type."""
    (amy,) = company.create([{"DisplayName": "Amy's Bird Sanctuary"}])
    sell(company, amy["Id"], entity="Invoice", amount="1200.00", TxnDate="2015-08-10")
    answers = {
        "customersales.json": report(
            company,
            "CustomerSales",
            customer=amy["Id"],
            start_date="2015-08-01",
            end_date="2015-09-30",
        ),
        "customerbalance.json": report(company, "CustomerBalance", customer=amy["Id"]),
        "transactionlistbycustomer.json": report(
            company, "TransactionList", start_date="2016-06-01", end_date="2016-07-31"
        ),
        "transactionlist-multicurrency.built.json": report(
            company, "TransactionList", start_date="2015-01-01", end_date="2015-12-31"
        ),
    }
    for name, answer in answers.items():
        assert shape_differences(sample(f"quickbooks/reports/{name}"), answer) == [], name


def test_a_report_past_the_cell_limit_is_cut_short(shop, knobs):
    company, parent, _, _ = shop
    for day in range(1, 6):
        sell(company, parent, entity="Invoice", amount="1.00", TxnDate=f"2024-01-0{day}")
    knobs(quickbooks_report_max_cells=12, enforce_rate_limits=False)
    listed = report(
        company,
        "TransactionList",
        start_date="2024-01-01",
        end_date="2024-01-31",
        columns="tx_date,txn_type,name,subt_nat_amount",
    )
    rows = listed["Rows"]["Row"]
    assert len(rows) == 3 and rows[-1]["ColData"][0]["value"].startswith(
        "Unable to display more data"
    )


def test_a_report_too_heavy_answers_a_gateway_timeout(shop, knobs):
    company, parent, _, _ = shop
    for day in range(1, 4):
        sell(company, parent, entity="Invoice", amount="1.00", TxnDate=f"2024-01-0{day}")
    knobs(quickbooks_report_timeout_rows=2, enforce_rate_limits=False)
    for name in ("CustomerSales", "TransactionList"):
        slow = company.get(f"reports/{name}", start_date="2024-01-01", end_date="2024-01-31")
        assert slow.status_code == 504
        assert slow.json()["Fault"]["Error"][0]["code"] == "6002"
        quick = company.get(f"reports/{name}", start_date="2024-01-02", end_date="2024-01-31")
        assert quick.status_code == 200
    assert company.get("reports/CustomerBalance").status_code == 504

    knobs(quickbooks_report_timeout_rows=0, quickbooks_report_timeout_days=184)
    year = company.get("reports/TransactionList", start_date="2024-01-01", end_date="2024-12-31")
    half = company.get("reports/TransactionList", start_date="2024-01-01", end_date="2024-07-02")
    assert (year.status_code, half.status_code) == (504, 200)


def test_each_report_refuses_a_parameter_its_reference_does_not_list(company, unthrottled):
    refused = {
        "TransactionList": {"accounting_method": "Accrual"},
        "CustomerSales": {"format": "json"},
        "CustomerBalance": {"start_date": "2024-01-01"},
    }
    for name, params in refused.items():
        answer = company.get(f"reports/{name}", **params)
        assert answer.status_code == 400, name
        assert answer.json()["Fault"]["Error"][0]["element"] == next(iter(params))
    listed = company.get(
        "reports/TransactionList", transaction_type="Invoice", customer="1", minorversion="75"
    )
    assert listed.status_code == 200


def test_a_multicurrency_company_reports_in_its_home_currency(shop):
    """The TransactionList amount column of a multicurrency company is subt_nat_home_amount
    (the column table of .../transactionlistbycustomer, "MULTICURRENCY ENABLED"); figures
    are the home currency's."""
    company, parent, _, _ = shop
    prefer(company, MultiCurrencyEnabled=True, HomeCurrency="CAD")
    euros = {"currency": "EUR", "ExchangeRate": "1.5", "TxnDate": "2024-05-01"}
    sell(company, parent, entity="Invoice", amount="100.00", **euros)
    sell(company, parent, entity="SalesReceipt", amount="10.00", TxnDate="2024-05-02")
    span = {"start_date": "2024-01-01", "end_date": "2024-12-31"}

    sales = report(company, "CustomerSales", **span)
    assert sales["Header"]["Currency"] == "CAD"
    assert sales["Rows"]["Row"][0]["ColData"][1] == {"value": "160.00"}
    assert report(company, "CustomerBalance")["Rows"]["Row"][0]["ColData"][1] == {"value": "150.00"}
    listed = report(company, "TransactionList", **span)
    keys = [c["MetaData"][0]["Value"] for c in listed["Columns"]["Column"]]
    assert keys[-1] == "subt_nat_home_amount" and "subt_nat_amount" not in keys
    assert [row["ColData"][-1]["value"] for row in listed["Rows"]["Row"]] == ["150.00", "10.00"]
    asked = company.get("reports/TransactionList", columns="tx_date,subt_nat_amount", **span)
    assert asked.status_code == 400


def test_a_single_currency_company_has_no_home_amount_column(company, unthrottled):
    answer = company.get("reports/TransactionList", columns="tx_date,subt_nat_home_amount")
    assert answer.status_code == 400


def test_a_french_company_writes_its_report_texts_in_french(shop):
    """ColData values and ColTitles are localized (the report references' Row and Column
    attributes); the transaction_type filter is not."""
    company, parent, job, _ = shop
    prefer(company, Language="fr")
    sell(company, parent, entity="Invoice", amount="10.00", TxnDate="2024-05-01")
    sell(company, job, entity="SalesReceipt", amount="5.00", TxnDate="2024-05-02")
    span = {"start_date": "2024-01-01", "end_date": "2024-12-31"}

    listed = report(company, "TransactionList", **span)
    assert [c["ColTitle"] for c in listed["Columns"]["Column"]][:2] == [
        "Date",
        "Type de transaction",
    ]
    assert [row["ColData"][1]["value"] for row in listed["Rows"]["Row"]] == [
        "Facture",
        "Reçu de vente",
    ]
    invoices = report(company, "TransactionList", transaction_type="Invoice", **span)
    assert [row["ColData"][1]["value"] for row in invoices["Rows"]["Row"]] == ["Facture"]
    sales = report(company, "CustomerSales", **span)
    assert sales["Rows"]["Row"][0]["Summary"]["ColData"][0] == {"value": "Total de Parent Co"}


def test_a_parents_own_amount_is_a_row_of_its_own_or_only_in_its_total(shop, knobs):
    company, parent, job, _ = shop
    sell(company, parent, entity="Invoice", amount="100.00", TxnDate="2024-05-01")
    sell(company, job, entity="Invoice", amount="30.00", TxnDate="2024-05-02")
    span = {"start_date": "2024-01-01", "end_date": "2024-12-31"}

    def parent_section(parent_row: str) -> dict:
        knobs(quickbooks_report_parent_row=parent_row, enforce_rate_limits=False)
        return report(company, "CustomerSales", **span)["Rows"]["Row"][0]

    with_row = parent_section("data")
    assert [row["ColData"][0]["id"] for row in with_row["Rows"]["Row"]] == [parent, job]
    only_total = parent_section("summary")
    assert [row["ColData"][0]["id"] for row in only_total["Rows"]["Row"]] == [job]
    assert with_row["Header"] == only_total["Header"]
    assert only_total["Header"]["ColData"][0]["id"] == parent
    assert only_total["Summary"]["ColData"][1] == {"value": "130.00"}


def test_a_sale_without_a_customer_is_nobodys_in_the_reports(shop):
    company, parent, _, _ = shop
    sell(company, parent, entity="Invoice", amount="10.00", TxnDate="2024-05-01")
    sell(company, None, amount="4.00", TxnDate="2024-05-02")
    span = {"start_date": "2024-01-01", "end_date": "2024-12-31"}

    rows = report(company, "CustomerSales", **span)["Rows"]["Row"]
    assert rows[1]["ColData"] == [{"value": "Not Specified"}, {"value": "4.00"}]
    assert rows[-1]["Summary"]["ColData"][1] == {"value": "14.00"}
    listed = report(company, "TransactionList", **span)
    assert listed["Rows"]["Row"][1]["ColData"][4] == {"value": ""}  # the name, no id


def test_the_client_reads_every_figure_in_five_calls_and_splits_a_cut_or_slow_report(
    shop, knobs, settings
):
    company, parent, job, nobody = shop
    today = date.today()

    def day(days_ago: int) -> str:
        return (today - timedelta(days=days_ago)).isoformat()

    sell(company, parent, entity="Invoice", amount="100.00", TxnDate=day(800))
    recent = sell(company, job, entity="Invoice", amount="30.00", tax="2.00", TxnDate=day(10))
    sell(company, job, entity="SalesReceipt", amount="20.00", TxnDate=day(5))
    act(company, recent["Id"], "pay", amount="12.00")
    client, calls = client_for(company, settings)

    figures = client.sales_figures(today=today)

    assert calls == ["report"] * 5
    assert set(figures) == {parent, job}
    assert figures[job].total_sales == Decimal("50.00")
    assert figures[job].sales_last_12_months == Decimal("50.00")
    assert figures[job].open_balance == Decimal("20.00")
    assert (figures[job].invoices, figures[job].sales_receipts) == (1, 1)
    assert figures[job].last_purchase == today - timedelta(days=5)
    assert figures[parent].sales_last_12_months == 0 and figures[parent].total_sales == 100

    knobs(quickbooks_report_max_cells=18, enforce_rate_limits=False)  # 1 row of 9 columns
    calls.clear()
    assert client.sales_figures(today=today) == figures
    assert len(calls) > 5
    knobs(quickbooks_report_max_cells=400_000, quickbooks_report_timeout_days=20_000)
    calls.clear()
    assert client.sales_figures(today=today) == figures
    # The three all-time reads, each in four windows: 3 splits of 2 calls each.
    assert len(calls) == 5 + 3 * 3 * 2

    assert client.transaction_customers(entity="Invoice", ids=[recent["Id"], "99999", "x"]) == {
        recent["Id"]: job
    }
    assert client.sales_figures(today=today, customer_ids=[nobody]) == {}


def test_the_client_reads_a_multicurrency_french_company_whose_parents_come_as_totals(
    shop, knobs, settings
):
    """Each documented reading at once: home-currency amounts under subt_nat_home_amount,
    French texts, a parent's own figures only in its Section's total, a receipt without a
    customer, a voided invoice."""
    company, parent, job, _ = shop
    prefer(company, MultiCurrencyEnabled=True, HomeCurrency="CAD", Language="fr")
    knobs(quickbooks_report_parent_row="summary", enforce_rate_limits=False)
    today = date.today()
    long_ago, lately = today - timedelta(days=800), today - timedelta(days=3)
    euros = {"currency": "EUR", "ExchangeRate": "1.5", "TxnDate": long_ago.isoformat()}
    sell(company, parent, entity="Invoice", amount="100.00", **euros)
    sell(company, parent, entity="SalesReceipt", amount="10.00", TxnDate=lately.isoformat())
    sell(company, job, entity="SalesReceipt", amount="40.00", TxnDate=lately.isoformat())
    voided = sell(company, job, entity="Invoice", amount="999.00", TxnDate=lately.isoformat())
    act(company, voided["Id"], "void")
    sell(company, None, amount="7.00", TxnDate=lately.isoformat())
    client, calls = client_for(company, settings)

    figures = client.sales_figures(today=today)

    assert calls == ["report"] * 5
    assert set(figures) == {parent, job}
    mine = figures[parent]
    assert (mine.total_sales, mine.sales_last_12_months) == (Decimal("160.00"), Decimal("10.00"))
    assert (mine.open_balance, mine.invoices, mine.sales_receipts) == (Decimal("150.00"), 1, 1)
    assert (mine.first_purchase, mine.last_purchase) == (long_ago, lately)
    theirs = figures[job]
    assert (theirs.total_sales, theirs.invoices, theirs.sales_receipts) == (Decimal(40), 0, 1)
