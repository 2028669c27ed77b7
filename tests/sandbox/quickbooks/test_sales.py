"""The sandbox's sales transactions, customer types and their webhooks, over HTTP (the
reports: test_reports.py).

Sources: Intuit's entity references (Invoice, SalesReceipt, CreditMemo, RefundReceipt,
Payment, CustomerType: https://developer.intuit.com/app/developer/qbo/docs/api/accounting/
all-entities/invoice and siblings: Id and SyncToken strings, CustomerRef (optional on a
SalesReceipt and a RefundReceipt, required on the others), TxnDate, TotalAmt, Balance,
TxnTaxDetail.TotalTax, CurrencyRef/ExchangeRate); webhooks
(https://developer.intuit.com/app/developer/qbo/docs/develop/webhooks: Invoice, Payment,
SalesReceipt, CreditMemo, RefundReceipt with Create, Update, Delete, Void).
Where Intuit is silent: a voided transaction keeps every amount 0 and "Voided" as its note;
a payment also reports its invoice Updated.
"""

import time
from datetime import date, timedelta
from decimal import Decimal

import pytest
import requests

from tests.sandbox.quickbooks.conftest import act, customer, prefer, report, sell


def test_invoices_payments_voids_and_deletes_keep_balances(shop):
    company, parent, job, _ = shop
    invoice = sell(
        company, job, entity="Invoice", amount="100.00", tax="8.25", TxnDate="2024-05-01"
    )
    assert invoice["TotalAmt"] == 108.25 and invoice["Balance"] == 108.25
    assert invoice["CustomerRef"] == {"value": job, "name": "Kitchen"}
    assert invoice["CurrencyRef"]["value"] == "USD" and invoice["TxnTaxDetail"]["TotalTax"] == 8.25
    assert (customer(company, job)["Balance"], customer(company, parent)["BalanceWithJobs"]) == (
        108.25,
        108.25,
    )

    payment = act(company, invoice["Id"], "pay", amount="50.00").json()["Payment"]
    assert payment["Line"][0]["LinkedTxn"] == [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]
    read = company.get(f"invoice/{invoice['Id']}").json()["Invoice"]
    assert read["Balance"] == 58.25 and read["SyncToken"] == "1"
    assert customer(company, job)["Balance"] == 58.25

    credit = sell(company, parent, entity="CreditMemo", amount="10.00")
    assert customer(company, parent)["Balance"] == -10.0
    assert customer(company, parent)["BalanceWithJobs"] == 48.25

    act(company, payment["Id"], "void")
    assert customer(company, job)["Balance"] == 108.25
    voided = act(company, invoice["Id"], "void").json()["Invoice"]
    assert voided["TotalAmt"] == 0 and voided["PrivateNote"] == "Voided"
    assert customer(company, job)["Balance"] == 0
    assert act(company, credit["Id"], "delete").json() == {"deleted": credit["Id"]}
    assert company.get(f"creditmemo/{credit['Id']}").status_code == 400
    assert customer(company, parent)["BalanceWithJobs"] == 0
    assert act(company, invoice["Id"], "pay").status_code == 400  # voided: nothing to pay


def test_query_by_ids_paging_customer_types_and_cdc(shop):
    company, parent, job, _ = shop
    ids = [sell(company, parent, entity="Invoice", amount=f"{n}.00")["Id"] for n in range(1, 4)]
    receipt = sell(company, job, entity="SalesReceipt", amount="5.00")
    assert int(receipt["Id"]) == int(ids[-1]) + 1  # one sequence for every kind

    found = company.query(f"select * from Invoice where Id in ('{ids[0]}', '{ids[2]}', '999')")
    assert [row["Id"] for row in found.json()["QueryResponse"]["Invoice"]] == [ids[0], ids[2]]
    page = company.query("select * from Invoice STARTPOSITION 2 MAXRESULTS 1").json()
    assert [row["Id"] for row in page["QueryResponse"]["Invoice"]] == [ids[1]]
    assert company.query("select count(*) from SalesReceipt").json()["QueryResponse"] == {
        "totalCount": 1
    }

    made = requests.post(
        f"{company.control}/customer-types", json={"Name": "Wholesale"}, timeout=30
    )
    kind = made.json()["CustomerType"]
    company.change(parent, {"CustomerTypeRef": {"value": kind["Id"]}})
    types = company.query("select * from CustomerType").json()["QueryResponse"]["CustomerType"]
    assert [(t["Id"], t["Name"]) for t in types] == [(kind["Id"], "Wholesale")]
    assert customer(company, parent)["CustomerTypeRef"] == {"value": kind["Id"]}

    act(company, ids[1], "delete")
    since = (date.today() - timedelta(days=1)).isoformat()
    cdc = company.get("cdc", entities="Invoice,SalesReceipt", changedSince=since).json()
    invoices, receipts = cdc["CDCResponse"][0]["QueryResponse"]
    assert {row["Id"]: row.get("status") for row in invoices["Invoice"]} == {
        ids[0]: None,
        ids[1]: "Deleted",
        ids[2]: None,
    }
    assert [row["Id"] for row in receipts["SalesReceipt"]] == [receipt["Id"]]


def test_receipts_and_refunds_may_have_no_customer_and_foreign_currency_needs_multicurrency(
    shop,
):
    """CustomerRef is optional on a SalesReceipt and a RefundReceipt, required on the other
    sales (Intuit's entity references, .../all-entities/salesreceipt, .../refundreceipt,
    .../creditmemo); a sale in another currency than the home one needs multicurrency and
    carries its ExchangeRate (.../invoice: CurrencyRef, ExchangeRate)."""
    company, parent, _, _ = shop
    receipt = sell(company, None, amount="12.00")
    refund = sell(company, None, entity="RefundReceipt", amount="2.00")
    assert "CustomerRef" not in receipt and "CustomerRef" not in refund
    found = company.query(f"select * from SalesReceipt where Id in ('{receipt['Id']}')").json()
    assert found["QueryResponse"]["SalesReceipt"][0]["Id"] == receipt["Id"]
    assert "CustomerRef" not in found["QueryResponse"]["SalesReceipt"][0]
    for entity in ("Invoice", "CreditMemo"):
        answer = requests.post(
            f"{company.control}/sales", json={"entity": entity, "amount": "1.00"}, timeout=30
        )
        assert answer.status_code == 400, entity

    euros = {"entity": "Invoice", "amount": "100.00", "currency": "EUR", "ExchangeRate": "1.5"}
    refused = requests.post(f"{company.control}/customers/{parent}/sales", json=euros, timeout=30)
    assert refused.status_code == 400  # multicurrency is off
    assert prefer(company, MultiCurrencyEnabled=True, HomeCurrency="CAD") == {
        "MultiCurrencyEnabled": True,
        "HomeCurrency": "CAD",
        "Language": "en",
    }
    invoice = sell(company, parent, **euros)
    assert invoice["CurrencyRef"] == {"value": "EUR", "name": "Euro"}
    assert invoice["ExchangeRate"] == 1.5 and invoice["TotalAmt"] == 100.0
    no_rate = {**euros, "ExchangeRate": None}
    answer = requests.post(f"{company.control}/customers/{parent}/sales", json=no_rate, timeout=30)
    assert answer.status_code == 400
    answer = requests.post(
        f"{company.control}/preferences", json={"MultiCurrencyEnabled": False}, timeout=30
    )
    assert answer.status_code == 400  # QuickBooks cannot turn it off again


@pytest.mark.parametrize("webhook_format", ["cloudevents", "legacy"])
def test_sales_changes_emit_webhook_events_named_for_their_entity(
    company, unthrottled, receiver, knobs, webhook_format
):
    """Intuit's webhooks list Invoice, Payment, SalesReceipt, CreditMemo and RefundReceipt
    (operations Create, Update, Delete, Void); CloudEvents types read qbo.<entity>.<op>.v1
    in lower case (https://developer.intuit.com/app/developer/qbo/docs/develop/webhooks)."""
    knobs(webhook_format=webhook_format, webhook_delay_seconds=0.3)
    buyer = company.create({"DisplayName": "Buyer"})["Id"]
    receiver.wait_for(1)
    invoice = sell(company, buyer, entity="Invoice", amount="10.00")
    payment = act(company, invoice["Id"], "pay").json()["Payment"]
    receipt = sell(company, buyer, entity="SalesReceipt", amount="3.00")
    act(company, receipt["Id"], "void")
    refund = sell(company, buyer, entity="RefundReceipt", amount="1.00")
    act(company, refund["Id"], "delete")
    expected = [
        ("Invoice", invoice["Id"], "created"),
        ("Payment", payment["Id"], "created"),
        ("Invoice", invoice["Id"], "updated"),
        ("SalesReceipt", receipt["Id"], "created"),
        ("SalesReceipt", receipt["Id"], "voided"),
        ("RefundReceipt", refund["Id"], "created"),
        ("RefundReceipt", refund["Id"], "deleted"),
    ]
    if webhook_format == "cloudevents":
        events = receiver.wait_for_cloud_events(1 + len(expected))[1:]
        assert [(e["type"], e["intuitentityid"]) for e in events] == [
            (f"qbo.{entity.lower()}.{operation}.v1", entity_id)
            for entity, entity_id, operation in expected
        ]
        return
    legacy = {"created": "Create", "updated": "Update", "voided": "Void", "deleted": "Delete"}
    deadline = time.monotonic() + 10
    while True:
        entities = [
            entity
            for delivery in receiver.wait_for(1)[1:]
            for notification in delivery.json()["eventNotifications"]
            for entity in notification["dataChangeEvent"]["entities"]
        ]
        if len(entities) >= len(expected) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert [(e["name"], e["id"], e["operation"]) for e in entities] == [
        (entity, entity_id, legacy[operation]) for entity, entity_id, operation in expected
    ]


def test_seeded_sales_are_consistent_and_fast(company, unthrottled):
    """The seed (sandbox/quickbooks/seed_sales.py): about 3 transactions a customer, a
    quarter of customers with none, balances that agree with the open invoices."""
    started = time.monotonic()
    answer = requests.post(
        f"{company.control}/seed", json={"count": 2000, "sales": True}, timeout=120
    )
    assert answer.json() == {"created": 2000}
    assert time.monotonic() - started < 30
    invoices = company.query("select count(*) from Invoice").json()["QueryResponse"]["totalCount"]
    receipts = company.query("select count(*) from SalesReceipt").json()["QueryResponse"]
    assert 2000 < invoices + receipts["totalCount"] < 6000
    balance = report(company, "CustomerBalance")
    sales = report(company, "CustomerSales", start_date="1900-01-01")
    buyers = {
        row["ColData"][0]["id"]
        for row in sales["Rows"]["Row"]
        if row.get("type") == "Data" and "id" in row["ColData"][0]
    }
    assert 1000 < len(buyers) < 1800  # about 75% of top-level customers bought
    total = next(row for row in balance["Rows"]["Row"] if row.get("group") == "GrandTotal")
    balances = sum(Decimal(str(c["Balance"])) for c in company.all_customers())
    assert Decimal(total["Summary"]["ColData"][1]["value"]) == balances
    types = company.query("select * from CustomerType").json()["QueryResponse"]["CustomerType"]
    assert [t["Name"] for t in types] == ["Wholesale", "Retail", "Nonprofit"]
    typed = [c for c in company.all_customers() if "CustomerTypeRef" in c]
    assert 1000 < len(typed) < 1400


def all_of(company, entity: str) -> list[dict]:
    found: list[dict] = []
    while True:
        text = f"select * from {entity} STARTPOSITION {len(found) + 1} MAXRESULTS 1000"
        page = company.query(text).json()["QueryResponse"].get(entity, [])
        found += page
        if len(page) < 1000:
            return found


def test_seeded_history_is_one_a_real_company_could_have(company, unthrottled):
    """The demo's history (issue 21): a customer buys before anything is given back, a
    credit memo or refund gives back part of one purchase, nothing is dated before the
    customer existed, so no customer's total sales are below zero."""
    answer = requests.post(
        f"{company.control}/seed", json={"count": 600, "sales": True}, timeout=120
    )
    assert answer.status_code == 200, answer.text
    created = {c["Id"]: c["MetaData"]["CreateTime"][:10] for c in company.all_customers()}
    first_purchase: dict[str, str] = {}
    for entity in ("Invoice", "SalesReceipt"):
        for sale in all_of(company, entity):
            who, day = sale["CustomerRef"]["value"], sale["TxnDate"]
            assert day >= created[who], sale
            first_purchase[who] = min(day, first_purchase.get(who, day))
    credits = all_of(company, "CreditMemo") + all_of(company, "RefundReceipt")
    assert credits  # the seed's 10%: a few dozen for 600 customers
    for credit in credits:
        who = credit["CustomerRef"]["value"]
        assert who in first_purchase and credit["TxnDate"] >= first_purchase[who], credit
    sales = report(company, "CustomerSales", start_date="1900-01-01")
    totals = [
        Decimal(str(row["ColData"][1]["value"] or "0"))
        for row in sales["Rows"]["Row"]
        if row.get("type") == "Data"
    ]
    assert totals and min(totals) >= 0
