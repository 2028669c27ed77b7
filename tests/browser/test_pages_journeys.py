"""Issue 21, clicked in Chromium against the whole running stack, each page photographed as a
desktop (1280 px) and a phone (375 px) show it: the status page tells the truth (numbers that
never go backwards, only customers not in the list under "Not in the list", what to do about
each reason, each customer one click from its page in QuickBooks), Help where the question
arises (each reason, Settings, QuickBooks' My Apps "Support"), and the sales data page right
and readable."""

import re

from playwright.sync_api import Page, expect

from support.stack import wait_for
from tests.browser.journey import (
    LIST,
    SYNC_TIMEOUT,
    Camera,
    World,
    connect,
    edit_customer_in_quickbooks,
    fill_customer_form,
    install,
    install_and_sync,
    open_my_apps,
    reload_until,
    run_in_the_app,
)
from tests.browser.sales import (
    TOTAL,
    WITHIN_SECONDS,
    a_customer_with_history,
    create_invoice_in_quickbooks,
    open_constantcontact_contact,
    record_sale,
    reload_until_figures,
    turn_on_sales_data,
)

IN_LIST = '[data-count="in_list"]'
NOT_IN_LIST = '[data-count="not_in_list"]'
SENT = '[data-count="sent"]'


def confirm_waiting_imports(world: World) -> None:
    """What beat does hours after a run of changes (sync.confirm_overdue, then
    sync.confirm_imports): Constant Contact asked to confirm the company's waiting imports."""
    run_in_the_app(
        world,
        "from ccsync.sync import services; from tenants.models import Tenant; "
        "services.confirm_tenant_imports("
        f"tenant_id=Tenant.objects.get(realm_id={world.realm_id!r}).pk)",
    )


def status_page(page: Page, world: World) -> None:
    page.goto(f"{world.stack.app_url}/status/")
    expect(page.get_by_role("heading", name="Sync", exact=True)).to_be_visible()


def wait_for_contact(world: World, *, email: str, last_name: str) -> None:
    """Constant Contact holds the contact with this last name (the edit arrived)."""

    def arrived() -> bool:
        return any(
            c["email"].lower() == email and c.get("last_name") == last_name
            for c in world.contacts()
        )

    wait_for(arrived, timeout=SYNC_TIMEOUT, what=f"{email}'s edit in Constant Contact")


def test_the_status_page_tells_the_truth_and_help_is_where_the_question_arises(
    page: Page, world: World, camera: Camera
) -> None:
    """Point 1 and 2: the numbers, the reasons with what to do, a fix one click away in
    QuickBooks, an edit that does not take anyone out of the list, and Help from a reason,
    from Settings and from My Apps' Support."""
    install_and_sync(page, world, camera, list_name=LIST)
    status_page(page, world)
    reload_until(page, "First sync: Completed", what="the first sync's result")
    in_list = len(world.eligible)  # Ada, Grace, Alan, Edsger (the first of two addresses)
    expect(page.locator(IN_LIST)).to_have_text(str(in_list))
    expect(page.locator(NOT_IN_LIST)).to_have_text("3")
    expect(page.get_by_role("heading", name="Not in the list, and why: 3")).to_be_visible()
    # Only customers not in the list, those the person can fix first, each with what to do.
    reasons = page.locator("#sync-panel ul.reasons").first.locator("li")
    expect(reasons).to_have_count(3)
    expect(reasons.nth(0)).to_contain_text("No email address: 1.")
    expect(reasons.nth(0)).to_contain_text("Add an email address to the customer in QuickBooks")
    expect(reasons.nth(1)).to_contain_text("Inactive in QuickBooks before it was synced: 1.")
    expect(reasons.nth(1)).to_contain_text("Make the customer active")
    expect(reasons.nth(2)).to_contain_text("Unsubscribed in Constant Contact: 1.")
    expect(reasons.nth(2)).to_contain_text("only they can opt back in")
    preview = page.locator("table.sync-customers tbody tr")
    expect(preview).to_have_count(3)
    expect(preview.first).to_contain_text("Nora Nomail")
    expect(page.locator("table.sync-customers")).not_to_contain_text("Edsger")
    # Notes about customers in the list have their own place.
    expect(page.get_by_role("heading", name="In the list, with a note: 1")).to_be_visible()
    camera.widths(page, "status-after-first-sync")

    # An edit: the customer stays counted as in the list while its update is on its way.
    edit_customer_in_quickbooks(page, world, camera, key="ada", **{"Last name": "King"})
    wait_for_contact(world, email=world.address("ada"), last_name="King")
    status_page(page, world)
    reload_until(page, "Changes: Completed", what="the edit's run of changes")
    expect(page.locator(IN_LIST)).to_have_text(str(in_list))
    expect(page.locator(SENT)).to_have_text("0")
    expect(page.get_by_text("with an update on its way")).to_be_visible()
    changes = page.locator("table.sync-history tbody tr").first
    expect(changes.locator('td[data-label="Sent"]')).to_contain_text(
        "1 (1 waiting for Constant Contact to confirm)"
    )
    camera.widths(page, "status-after-an-edit")

    # The full listing counts what the status page counts; a fix is one click away.
    page.get_by_role("link", name="See all 3").click()
    expect(page.get_by_role("heading", name="Not in your Constant Contact list: 3")).to_be_visible()
    camera.widths(page, "customers-not-in-the-list")
    nora = world.customers["nomail"]
    page.get_by_role("link", name=f"Open {nora['DisplayName']} in QuickBooks Online").click()
    expect(page.get_by_role("heading", name=re.compile(f"^Customer {nora['Id']}:"))).to_be_visible()
    camera.widths(page, "quickbooks-customer-from-our-page")
    fill_customer_form(page, Email=world.address("nora"))
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Customer saved.")).to_be_visible()
    status_page(page, world)

    def fixed() -> bool:
        page.reload()
        return page.locator(NOT_IN_LIST).inner_text() == "2"

    wait_for(fixed, timeout=SYNC_TIMEOUT, what="Nora to leave the not-in-the-list count")
    # Sent: in the list once Constant Contact confirms it (hours later, with others).
    expect(page.locator(SENT)).to_have_text("1")
    expect(page.locator(IN_LIST)).to_have_text(str(in_list))
    camera.widths(page, "status-after-a-fix")

    # Help from a reason.
    page.locator("#sync-panel ul.reasons li", has_text="Inactive").get_by_role(
        "link", name="More in Help"
    ).click()
    expect(page).to_have_url(re.compile(r"/help/#inactive$"))
    expect(
        page.get_by_role("heading", name="Inactive in QuickBooks before it was synced")
    ).to_be_visible()
    camera.widths(page, "help-from-a-reason")

    # Help from Settings.
    page.goto(f"{world.stack.app_url}/settings/")
    page.get_by_role("main").get_by_role("link", name="Help", exact=True).click()
    expect(page.get_by_role("heading", name="Help", exact=True)).to_be_visible()

    # Help from QuickBooks' My Apps "Support".
    open_my_apps(page, world, camera).get_by_role("link", name="Support").click()
    expect(page.get_by_role("heading", name="Help", exact=True)).to_be_visible()
    for question in (
        "My number of customers in QuickBooks Online and the list in Constant Contact aren't "
        "the same - what happened?",
        "How many customers can I sync?",
        "What happens if I change the list I sync to?",
        "What do the sales data figures mean?",
        "How do I disconnect, and connect again?",
    ):
        expect(page.get_by_role("heading", name=question)).to_be_visible()
    expect(page.get_by_role("link", name="support@example.com")).to_be_visible()
    camera.widths(page, "help-from-my-apps-support")


def test_the_sales_data_page_is_right_and_readable(
    page: Page, world: World, camera: Camera
) -> None:
    """Point 3: one compact row a customer, nothing on its way for a customer never sent,
    an invoice shown on its way until Constant Contact confirms it (hours later, beat's
    confirmation: done at once here), then as Constant Contact holds it; totals said to be
    before tax, in the home currency, refunds subtracted."""
    figures = a_customer_with_history(world, key="ada")
    record_sale(world, key="inactive", amount="75.00")  # never sent: inactive
    install(page, world, camera)
    turn_on_sales_data(page, camera, tag=False)
    settings_text = page.locator("#sales-data")
    expect(settings_text).to_contain_text("Totals are before tax")
    expect(settings_text).to_contain_text("credit memos and refunds subtracted")
    camera.section(settings_text, "settings-sales-data-words")
    connect(page, camera, list_name=LIST)
    status_page(page, world)
    reload_until(page, "First sync: Completed", what="the first sync with sales data")

    page.locator('[data-field="sales"]').get_by_role(
        "link", name="See each customer's figures"
    ).click()
    expect(page.get_by_role("heading", name="Sales data in Constant Contact")).to_be_visible()
    expect(page.get_by_text("before tax, with credit memos and refunds")).to_be_visible()
    headings = page.locator("table.sales thead th")
    expect(headings).to_contain_text(["Customer", "Total sales", "Last 12 months", "Open balance"])
    ada = world.customers["ada"]["DisplayName"]
    ada_row = page.locator("table.sales tbody tr", has_text=ada)
    expect(ada_row.locator('td[data-fact="total_sales"]')).to_have_text(figures[TOTAL])
    ivan = page.locator("table.sales tbody tr", has_text=world.customers["inactive"]["DisplayName"])
    expect(ivan).to_contain_text("Not synced: Inactive in QuickBooks before it was synced")
    expect(ivan.locator(".coming")).to_have_count(0)  # nothing on its way, ever
    expect(ivan.locator('td[data-fact="total_sales"]')).to_have_text("—")
    camera.widths(page, "sales-page-after-first-sync")
    # The detail on demand: the customer's name.
    ada_row.get_by_role("link", name=ada).click()
    total_line = page.locator("table.sales-detail tr").filter(
        has=page.get_by_role("cell", name=TOTAL, exact=True)
    )
    expect(total_line.locator('td[data-label="In Constant Contact"]')).to_have_text(figures[TOTAL])
    camera.widths(page, "sales-customer-detail")

    # An invoice: in Constant Contact within seconds; on its way here until confirmed.
    create_invoice_in_quickbooks(page, world, camera, key="ada", amount="80.00")
    open_constantcontact_contact(page, world, email=world.address("ada"))
    reload_until_figures(page, {TOTAL: "230.50"}, what="the invoice", timeout=WITHIN_SECONDS)
    page.goto(f"{world.stack.app_url}/sync/sales/?q={world.address('ada')}")
    total = page.locator('table.sales tbody tr td[data-fact="total_sales"]')
    expect(total).to_have_text("150.50 → 230.50")
    camera.widths(page, "sales-page-invoice-on-its-way")
    page.get_by_role("link", name=ada).click()
    expect(total_line.locator('td[data-label="On its way"]')).to_have_text(
        "230.50 (sent, waiting for Constant Contact to confirm)"
    )
    camera.widths(page, "sales-customer-invoice-on-its-way")
    page.go_back()

    # Hours later beat asks Constant Contact to confirm the import (here: at once).
    confirm_waiting_imports(world)
    page.reload()
    expect(total).to_have_text("230.50")
    camera.widths(page, "sales-page-after-confirmation")
