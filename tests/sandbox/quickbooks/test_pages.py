"""The QuickBooks Customers page: a person adds, edits, deactivates, merges and deletes."""

import pytest
import requests

from tests.sandbox.intuit.conftest import Browser


@pytest.fixture
def signed_in(sandbox, company):
    browser = Browser(sandbox)
    browser.sign_in(company.identity.email)
    return browser


def by_name(company) -> dict[str, dict]:
    return {customer["DisplayName"]: customer for customer in company.all_customers()}


def test_customers_page_needs_sign_in(sandbox):
    answer = requests.get(f"{sandbox.url}/qbo/customers/", allow_redirects=False, timeout=10)
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/qbo/?next=")


def test_add_edit_and_sub_customer(sandbox, company, signed_in, receiver):
    form = signed_in.get("/qbo/customers/new/")
    assert form.status_code == 200
    saved = signed_in.submit(
        form,
        "Save",
        GivenName="Renée",
        FamilyName="Dupont",
        CompanyName="Crème Brûlée Bakery",
        Email="renee@example.com, billing@example.com",
        PrimaryPhone="(650) 555-0101",
        BillAddr_Line1="1 Rue de Paris",
        BillAddr_City="Bayshore",
        ShipAddr_City="Oakland",
    )
    assert saved.status_code == 302
    renee = by_name(company)["Renée Dupont"]
    assert renee["PrimaryEmailAddr"] == {"Address": "renee@example.com, billing@example.com"}
    placed = {"Lat": "INVALID", "Long": "INVALID"}  # as QuickBooks shows an address unplaced
    assert renee["BillAddr"] == {
        "Line1": "1 Rue de Paris",
        "City": "Bayshore",
        "Id": str(2 * int(renee["Id"])),
        **placed,
    }
    assert renee["ShipAddr"] == {"City": "Oakland", "Id": str(2 * int(renee["Id"]) + 1), **placed}

    listing = signed_in.get("/qbo/customers/")
    assert "Renée Dupont" in listing.text and "Crème Brûlée Bakery" in listing.text
    assert "Renée" not in signed_in.get("/qbo/customers/", params={"q": "nobody"}).text

    edit = signed_in.get(f"/qbo/customers/{renee['Id']}/")
    assert 'value="renee@example.com, billing@example.com"' in edit.text
    signed_in.submit(edit, "Save", Email="renee@new.example.com", DisplayName="Renée D.")
    edited = by_name(company)["Renée D."]
    assert edited["PrimaryEmailAddr"] == {"Address": "renee@new.example.com"}
    assert edited["SyncToken"] == "1" and edited["CompanyName"] == "Crème Brûlée Bakery"

    signed_in.submit(
        signed_in.get("/qbo/customers/new/"),
        "Save",
        DisplayName="Wedding cake",
        Parent=renee["Id"],
        Email="renee@new.example.com",
    )
    job = by_name(company)["Wedding cake"]
    assert job["FullyQualifiedName"] == "Renée D.:Wedding cake" and job["Job"] is True

    refused = signed_in.submit(signed_in.get("/qbo/customers/new/"), "Save", DisplayName="")
    assert refused.status_code == 200 and "display name" in refused.text

    types = [event["type"] for event in receiver.wait_for_cloud_events(3)]
    assert types == [
        "qbo.customer.created.v1",
        "qbo.customer.updated.v1",
        "qbo.customer.created.v1",
    ]


def test_deactivate_merge_and_delete(sandbox, company, signed_in, receiver):
    keep, away, gone = company.create(
        [{"DisplayName": "Keep"}, {"DisplayName": "Away"}, {"DisplayName": "Gone"}]
    )
    receiver.wait_for_cloud_events(3)

    page = signed_in.get(f"/qbo/customers/{keep['Id']}/")
    signed_in.submit(page, "Make inactive")
    assert by_name(company)["Keep"]["Active"] is False
    assert "Keep" not in signed_in.get("/qbo/customers/").text
    assert "Keep" in signed_in.get("/qbo/customers/", params={"inactive": "1"}).text
    signed_in.submit(signed_in.get(f"/qbo/customers/{keep['Id']}/"), "Make active")
    assert by_name(company)["Keep"]["Active"] is True

    signed_in.submit(signed_in.get(f"/qbo/customers/{away['Id']}/"), "Merge", into=keep["Id"])
    signed_in.submit(signed_in.get(f"/qbo/customers/{gone['Id']}/"), "Delete")
    assert set(by_name(company)) == {"Keep"}

    events = receiver.wait_for_cloud_events(7)[3:]
    assert [(e["type"], e["intuitentityid"]) for e in events] == [
        ("qbo.customer.updated.v1", keep["Id"]),
        ("qbo.customer.updated.v1", keep["Id"]),
        ("qbo.customer.merged.v1", keep["Id"]),
        ("qbo.customer.deleted.v1", gone["Id"]),
    ]
    assert events[2]["data"] == {"deletedid": away["Id"]}


def test_a_customers_page_under_quickbooks_onlines_own_address(sandbox, company, signed_in):
    """QuickBooks Online shows a customer's page at /app/customerdetail?nameId=<Customer.Id>
    of app.qbo.intuit.com (app.sandbox.qbo.intuit.com for Intuit's sandbox companies), in
    the company open in the browser. Intuit publishes no deep-link reference: this is the
    address QuickBooks Online's own address bar shows on a customer's page, the one public
    integrations link to (GitHub code search: "app.qbo.intuit.com/app/customerdetail?nameId=").
    The app links each customer not in the list there (QUICKBOOKS_APP_BASE)."""
    mine = company.create({"DisplayName": "Fix Me"})
    answer = signed_in.get(
        "/app/customerdetail", params={"nameId": mine["Id"]}, allow_redirects=False
    )
    assert answer.status_code == 302
    assert answer.headers["Location"] == f"/qbo/customers/{mine['Id']}/"
    assert "Fix Me" in signed_in.follow(answer).text
    assert signed_in.get("/app/customerdetail", params={"nameId": "999999"}).status_code == 404
    signed_out = requests.get(
        f"{sandbox.url}/app/customerdetail",
        params={"nameId": mine["Id"]},
        allow_redirects=False,
        timeout=10,
    )
    assert signed_out.status_code == 302  # QuickBooks' sign-in first, then the customer
    assert signed_out.headers["Location"].startswith("/qbo/?next=%2Fapp%2Fcustomerdetail")


def test_page_changes_need_csrf_and_stay_in_the_company(sandbox, company, connect_company):
    other = connect_company()
    theirs = other.create({"DisplayName": "Not yours"})
    browser = Browser(sandbox)
    browser.sign_in(company.identity.email)
    assert browser.get(f"/qbo/customers/{theirs['Id']}/").status_code == 404
    mine = company.create({"DisplayName": "Mine"})
    forged = requests.post(
        f"{sandbox.url}/qbo/customers/{mine['Id']}/delete/",
        cookies=browser.session.cookies,
        allow_redirects=False,
        timeout=10,
    )
    assert forged.status_code == 403
    assert "Mine" in by_name(company)


def test_create_an_invoice_and_receive_its_payment_on_the_customer_page(
    sandbox, company, signed_in, receiver
):
    """A person invoices a customer and records its payment: the page lists the sale, the
    customer's open balance moves, and the app hears of the Invoice and the Payment."""
    buyer = company.create({"DisplayName": "Buyer"})
    receiver.wait_for_cloud_events(1)

    page = signed_in.get(f"/qbo/customers/{buyer['Id']}/")
    assert "No transactions yet." in page.text
    signed_in.submit(page, "Create invoice", amount="250.00", date="2025-02-03")
    page = signed_in.get(f"/qbo/customers/{buyer['Id']}/")
    assert "2025-02-03" in page.text and "Open" in page.text
    assert company.get(f"customer/{buyer['Id']}").json()["Customer"]["Balance"] == 250.0

    signed_in.submit(page, "Receive payment")
    page = signed_in.get(f"/qbo/customers/{buyer['Id']}/")
    assert "Paid" in page.text and "Receive payment" not in page.text
    assert company.get(f"customer/{buyer['Id']}").json()["Customer"]["Balance"] == 0

    events = receiver.wait_for_cloud_events(4)[1:]
    assert [e["type"] for e in events] == [
        "qbo.invoice.created.v1",
        "qbo.payment.created.v1",
        "qbo.invoice.updated.v1",
    ]
