"""The sales data journeys' steps (issue 14): the Settings section, a contact's figures and
tag in the sandbox's Constant Contact, invoices and payments in its QuickBooks, our status
and sales pages."""

import re
import time
from datetime import date, timedelta

from playwright.sync_api import Page, expect

from support.stack import wait_for
from tests.browser.journey import SYNC_TIMEOUT, Camera, World, open_quickbooks_customer

DEFAULT_TAG = "QuickBooks Online"
TOTAL = "QuickBooks total sales"
TWELVE_MONTHS = "QuickBooks sales last 12 months"
BALANCE = "QuickBooks open balance"
INVOICES = "QuickBooks invoices"
RECEIPTS = "QuickBooks sales receipts"
FIRST = "QuickBooks first purchase"
LAST = "QuickBooks last purchase"
CUSTOMER_ID = "QuickBooks customer id"
# An invoice or a payment made in QuickBooks reaches the contact within this (the issue's
# "within seconds"): the webhook, the change window, one import, Constant Contact's import.
WITHIN_SECONDS = 15.0


def days_ago(days: int) -> str:
    return (date.today() - timedelta(days=days)).isoformat()


def record_sale(
    world: World, *, key: str, amount: str, entity: str = "Invoice", day: str = ""
) -> dict[str, str]:
    """A sale made in the company's QuickBooks before the journey (the control API)."""
    body = {"entity": entity, "amount": amount, "tax": "0.00", "TxnDate": day}
    customer_id = world.customers[key]["Id"]
    created = world.stack.control(
        "POST", f"/_sandbox/quickbooks/{world.realm_id}/customers/{customer_id}/sales", body
    )
    return created[entity]


def pay_in_full(world: World, *, invoice_id: str) -> None:
    world.stack.control(
        "POST", f"/_sandbox/quickbooks/{world.realm_id}/transactions/{invoice_id}/pay", {}
    )


def a_customer_with_history(world: World, *, key: str) -> dict[str, str]:
    """An invoice paid long ago and a recent sales receipt: the figures Constant Contact
    should show after the first sync."""
    invoice = record_sale(world, key=key, amount="100.00", day=days_ago(400))
    pay_in_full(world, invoice_id=invoice["Id"])
    record_sale(world, key=key, amount="50.50", entity="SalesReceipt", day=days_ago(10))
    return {
        TOTAL: "150.50",
        TWELVE_MONTHS: "50.50",
        BALANCE: "0.00",
        INVOICES: "1",
        RECEIPTS: "1",
        FIRST: days_ago(400),
        LAST: days_ago(10),
        CUSTOMER_ID: world.customers[key]["Id"],
    }


def turn_on_sales_data(page: Page, camera: Camera, *, tag: bool) -> None:
    """Settings' "Sales data for segmenting (optional)": every fact (offered ticked), and
    the tag under its usual name."""
    section = page.locator("#sales-data")
    expect(section.get_by_text("Sales data for segmenting (optional)")).to_be_visible()
    section.get_by_label("Also send sales data for segmenting").check()
    for label in (TOTAL, BALANCE, LAST):
        expect(section.get_by_label(re.compile(re.escape(f"“{label}”")))).to_be_checked()
    if tag:
        section.get_by_label("Tag every contact the app syncs").check()
        expect(section.get_by_label("Tag", exact=True)).to_have_value(DEFAULT_TAG)
    camera(page, "settings-sales-data")


def figure_lines(figures: dict[str, str]) -> list[str]:
    """The lines the sandbox's contact page shows, one a custom field."""
    return [f"{label}: {value}" for label, value in figures.items()]


def open_constantcontact_contact(page: Page, world: World, *, email: str) -> None:
    """The sandbox's Constant Contact: All contacts -> the contact's page."""
    page.goto(f"{world.stack.sandbox.url}/cc/account/contacts/")
    page.get_by_role("link", name=email, exact=True).click()
    expect(page.get_by_role("heading", name=email, exact=True)).to_be_visible()


def reload_until_figures(
    page: Page, figures: dict[str, str], *, what: str, timeout: float = SYNC_TIMEOUT
) -> float:
    """Reloads the contact's page until it shows `figures`; the answer is how long it took."""
    wanted = set(figure_lines(figures))
    started = time.monotonic()

    def shown() -> bool:
        page.reload()
        return wanted <= set(page.locator(".cc-custom-fields li").all_inner_texts())

    try:
        wait_for(shown, timeout=timeout, what=what, interval=0.5)
    except AssertionError:
        held = page.locator(".cc-custom-fields li").all_inner_texts()
        raise AssertionError(f"{what}: wanted {sorted(wanted)}, the page shows {held}") from None
    return time.monotonic() - started


def expect_tags(page: Page, tags: list[str]) -> None:
    expect(page.locator(".cc-tags li")).to_have_text(tags)


def create_invoice_in_quickbooks(
    page: Page, world: World, camera: Camera, *, key: str, amount: str
) -> str:
    """The customer's page, Sales: Create invoice, dated as QuickBooks offers (its today);
    the answer is that date."""
    open_quickbooks_customer(page, world, key=key)
    return create_invoice_here(page, camera, amount=amount)


def create_invoice_here(page: Page, camera: Camera, *, amount: str) -> str:
    """On a customer's page of the sandbox's QuickBooks: Create invoice, as above."""
    sales = page.locator("#sales")
    open_invoices = sales.get_by_role("cell", name="Open", exact=True)
    already_open = open_invoices.count()
    sales.get_by_label("Amount").fill(amount)
    dated = sales.get_by_label("Date").input_value()
    camera(page, "quickbooks-new-invoice")
    sales.get_by_role("button", name="Create invoice").click()
    expect(page.get_by_text(re.compile(r"^Invoice \S+ saved\.$"))).to_be_visible()
    expect(open_invoices).to_have_count(already_open + 1)
    camera(page, "quickbooks-invoice-saved")
    return dated


def receive_payment_in_quickbooks(
    page: Page, world: World, camera: Camera, *, key: str, amount: str
) -> None:
    """The customer's page, Sales: Receive payment on the one open invoice (in full)."""
    open_quickbooks_customer(page, world, key=key)
    page.locator("#sales").get_by_role("button", name="Receive payment").click()
    expect(page.get_by_text(f"Payment of {amount} received.")).to_be_visible()
    expect(page.locator("#sales").get_by_role("cell", name="Open", exact=True)).to_have_count(0)
    camera(page, "quickbooks-payment-received")


def expect_sales_line(page: Page, world: World, *, contacts: int) -> None:
    """Our status page's sales data line, once the figures were read and sent."""
    page.goto(f"{world.stack.app_url}/status/")
    line = page.locator('[data-field="sales"]')
    expect(line).to_contain_text("Sales data: last read from QuickBooks Online")
    carry = "contact carries it" if contacts == 1 else "contacts carry it"
    expect(line).to_contain_text(f"{contacts} {carry}")


def expect_customer_figures(
    page: Page, camera: Camera, *, name: str, figures: dict[str, str]
) -> None:
    """From the status page's sales line, the sales page: one customer found by name, one
    row; its name opens the detail: each figure Constant Contact was sent (confirmed, or on
    its way)."""
    page.locator('[data-field="sales"]').get_by_role(
        "link", name="See each customer's figures"
    ).click()
    expect(page.get_by_role("heading", name="Sales data in Constant Contact")).to_be_visible()
    page.get_by_label("Find a customer").fill(name)
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("1 customer.", exact=True)).to_be_visible()
    row = page.locator("table.sales tbody tr")
    expect(row).to_have_count(1)
    camera(page, "sales-page")
    row.get_by_role("link", name=name).click()
    expect(page.get_by_role("heading", name=re.compile(re.escape(name)))).to_be_visible()
    for label, value in figures.items():
        line = page.locator("table.sales-detail tr").filter(
            has=page.get_by_role("cell", name=label, exact=True)
        )
        expect(line).to_contain_text(value)
    camera(page, "sales-customer")
