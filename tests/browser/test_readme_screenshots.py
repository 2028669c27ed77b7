"""Issue 21, point 6: the README's screenshots, taken from the demo's own company (the
sandbox seeded as `make demo` seeds it: demo@example.com's "Amy's Bird Sanctuary" and its
300 customers, the Constant Contact account demo and its lists), and the README's words
about what a person sees checked against the pages. `make screenshots` runs this journey
and copies its pictures to docs/screenshots/ (CCSYNC_README_SCREENSHOTS names the folder);
any other run keeps them under var/screenshots/ only.

Its Constant Contact calls are the demo's own: one first sync (with sales data's custom
fields and tag set up) and one run of changes for an invoice."""

import os
import re
import shutil
from decimal import Decimal

from playwright.sync_api import Page, expect

from support.sandbox_server import ROOT
from support.stack import Stack
from tests.browser.journey import (
    Camera,
    World,
    connect,
    install,
    reload_until,
)
from tests.browser.sales import (
    TOTAL,
    create_invoice_here,
    reload_until_figures,
    turn_on_sales_data,
)

README = ROOT / "README.md"
# The demo's world, as the README tells a person to sign in (sandbox/control's seed command).
DEMO_EMAIL, DEMO_PASSWORD = "demo@example.com", "demo"
DEMO_COMPANIES = ["Amy's Bird Sanctuary", "Keystone Food Bank"]
DEMO_CC = "demo"
DEMO_LIST = "QuickBooks Customers"
# Each step's picture in the README: the journey's step name -> its file in docs/screenshots.
README_PICTURES = {
    "app-card": "02-app-card",
    "intuit-consent": "04-intuit-consent",
    "constantcontact-login": "05-cc-login",
    "constantcontact-consent": "06-cc-consent",
    "settings": "07-settings",
    "success": "08-success",
    "status": "09-status",
    "settings-sales-data-section": "10-sales-settings",
    "constantcontact-contact": "11-sales-contact",
    "sales-page": "12-sales-page",
}


def demo_world(stack: Stack) -> World:
    """The sandbox seeded as `make demo` seeds it; the first company is the README's."""
    stack.sandbox.manage("seed", "--if-empty")
    # The same person and company names answer the seeded companies.
    companies = stack.control(
        "POST",
        "/_sandbox/intuit/companies",
        {
            "email": DEMO_EMAIL,
            "password": DEMO_PASSWORD,
            "name": "Demo User",
            "company_names": DEMO_COMPANIES,
        },
    )["companies"]
    return World(
        stack=stack,
        tag="demo",
        intuit_email=DEMO_EMAIL,
        intuit_password=DEMO_PASSWORD,
        company_name=DEMO_COMPANIES[0],
        realm_id=companies[0]["realm_id"],
        cc_username=DEMO_CC,
        cc_password=DEMO_PASSWORD,
    )


def quickbooks_customers_shown(page: Page, world: World) -> int:
    """How many customers the sandbox's QuickBooks Customers page says it lists."""
    page.goto(f"{world.stack.sandbox.url}/qbo/customers/")
    count = page.get_by_text(re.compile(r"^\d+ customers?$")).inner_text()
    return int(count.split()[0])


def invoice_the_first_synced_customer(page: Page, world: World, camera: Camera) -> tuple[str, str]:
    """From our sales page, the first synced customer in the list: its page in QuickBooks
    (the product's own link), an invoice of 80.00. The answer is the customer's name and
    the total Constant Contact then holds, once the run of changes has sent it."""
    page.goto(f"{world.stack.app_url}/sync/sales/")
    synced = page.locator("div.note", has_text=re.compile(r"^Synced"))
    link = page.locator("table.sales tbody tr").filter(has=synced).first.get_by_role("link")
    name = link.inner_text()
    link.click()
    email = page.locator("dl.states dd").first.inner_text()
    held = page.locator("table.sales-detail tr").filter(
        has=page.get_by_role("cell", name=TOTAL, exact=True)
    )
    total = Decimal(held.locator('td[data-label="In Constant Contact"]').inner_text())
    page.get_by_role("link", name="Open in QuickBooks Online").click()
    create_invoice_here(page, camera, amount="80.00")
    invoiced = f"{total + Decimal('80.00'):.2f}"
    # The contact's page in the sandbox's Constant Contact (All contacts lists 100 a page).
    (contact_id,) = [c["contact_id"] for c in world.contacts() if c["email"] == email.lower()]
    page.goto(f"{world.stack.sandbox.url}/cc/account/contacts/{contact_id}/")
    reload_until_figures(page, {TOTAL: invoiced}, what="the invoice in Constant Contact")
    return name, invoiced


def test_the_readme_pictures_the_demo_and_says_what_its_pages_say(
    page: Page, camera: Camera, stack: Stack
) -> None:
    world = demo_world(stack)
    readme = " ".join(README.read_text().split())  # its words, whatever the line breaks
    camera.keep = README_PICTURES
    # The README's figures: the company's customers, and those its QuickBooks page lists
    # (the active ones: inactive customers show with "Include inactive").
    install(page, world, camera)
    active = quickbooks_customers_shown(page, world)
    assert f"lists the {active} active ones" in readme
    page.goto(f"{stack.app_url}/settings/")
    # "Settings' last box, above Connect", off until ticked.
    legends = page.locator("main fieldset legend").all_inner_texts()
    assert legends[-1] == "Sales data for segmenting (optional)"
    assert "last box, above **Connect**: **Sales data for segmenting (optional)**" in readme
    expect(page.get_by_label("Also send sales data for segmenting")).not_to_be_checked()
    turn_on_sales_data(page, camera, tag=True)
    camera.section(page.locator("#sales-data"), "settings-sales-data-section")
    connect(page, camera, list_name=DEMO_LIST)
    page.get_by_role("link", name="See the sync's progress").click()
    reload_until(page, "First sync: Completed", what="the demo company's first sync")
    customers = int(page.locator('[data-field="done"]').inner_text().split()[0])
    assert f'the {customers} customers of "{world.company_name}"' in readme
    camera(page, "status")
    camera.widths(page, "status-of-the-demo")  # a real company's volumes fit too

    name, invoiced = invoice_the_first_synced_customer(page, world, camera)
    camera(page, "constantcontact-contact")
    # Our sales page: that customer's total held, the invoice's on its way (confirmed
    # hours later, with other imports).
    page.goto(f"{stack.app_url}/sync/sales/")
    customer = page.get_by_role("link", name=name, exact=True)
    row = page.locator("table.sales tbody tr").filter(has=customer)
    expect(row.locator('td[data-fact="total_sales"] .coming')).to_have_text(f"→ {invoiced}")
    camera.widths(page, "sales-page-of-the-demo")
    camera.screen(page, "sales-page")

    pictured = set(re.findall(r"docs/screenshots/([\w-]+)\.png", readme))
    assert pictured == set(camera.kept) == set(README_PICTURES.values())
    if folder := os.environ.get("CCSYNC_README_SCREENSHOTS"):
        for name, path in camera.kept.items():
            shutil.copyfile(path, ROOT / folder / f"{name}.png")
