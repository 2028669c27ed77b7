"""Issue 14, sales data for segmenting, clicked in Chromium against the whole running stack:
the option turned on before Connect or later, each contact's figures and tag as the
sandbox's Constant Contact shows them, kept current as invoices and payments are made on the
sandbox's QuickBooks customer page, and our status and sales pages."""

from playwright.sync_api import Page, expect

from tests.browser.journey import (
    LIST,
    Camera,
    World,
    connect,
    expect_settings_page,
    install,
    install_and_sync,
    open_constantcontact_list,
    open_my_apps,
    reload_until,
)
from tests.browser.sales import (
    BALANCE,
    DEFAULT_TAG,
    INVOICES,
    LAST,
    TOTAL,
    TWELVE_MONTHS,
    WITHIN_SECONDS,
    a_customer_with_history,
    create_invoice_in_quickbooks,
    expect_customer_figures,
    expect_sales_line,
    expect_tags,
    open_constantcontact_contact,
    receive_payment_in_quickbooks,
    reload_until_figures,
    turn_on_sales_data,
)


def expect_every_contact_tagged(page: Page, world: World, camera: Camera) -> None:
    """The list's page: each synced contact with the tag and its figures (zero sales too)."""
    open_constantcontact_list(page, world, camera, LIST)
    for address in world.eligible:
        row = page.get_by_role("row").filter(has=page.get_by_role("link", name=address))
        expect(row).to_contain_text(DEFAULT_TAG)
        expect(row).to_contain_text(f"{TOTAL}: ")


def test_sales_data_from_the_first_sync_then_an_invoice_and_its_payment(
    page: Page, world: World, camera: Camera
) -> None:
    """The issue's "Done when": turned on with the tag before Connect, the first sync gives
    each contact its figures and the tag; an invoice, then its payment, made in QuickBooks
    reach the contact within seconds; the status page and the sales page show them."""
    figures = a_customer_with_history(world, key="ada")
    ada = world.address("ada")
    install(page, world, camera)
    turn_on_sales_data(page, camera, tag=True)
    camera.section(page.locator("#sales-data"), "settings-sales-data-section")
    connect(page, camera, list_name=LIST)
    page.get_by_role("link", name="See the sync's progress").click()
    reload_until(page, "First sync: Completed", what="the first sync with sales data")
    expect_sales_line(page, world, contacts=len(world.eligible))
    camera(page, "status-sales-data")

    open_constantcontact_contact(page, world, email=ada)
    reload_until_figures(page, figures, what="the first sync's figures")
    expect_tags(page, [DEFAULT_TAG])
    camera(page, "constantcontact-contact-figures")
    expect_every_contact_tagged(page, world, camera)

    dated = create_invoice_in_quickbooks(page, world, camera, key="ada", amount="80.00")
    invoiced = {
        **figures,
        TOTAL: "230.50",
        TWELVE_MONTHS: "130.50",
        BALANCE: "80.00",
        INVOICES: "2",
        LAST: dated,
    }
    open_constantcontact_contact(page, world, email=ada)
    reload_until_figures(page, invoiced, what="the invoice's figures", timeout=WITHIN_SECONDS)
    camera(page, "constantcontact-contact-invoiced")

    receive_payment_in_quickbooks(page, world, camera, key="ada", amount="80.00")
    paid = {**invoiced, BALANCE: "0.00"}
    open_constantcontact_contact(page, world, email=ada)
    reload_until_figures(page, paid, what="the payment's balance", timeout=WITHIN_SECONDS)
    expect_tags(page, [DEFAULT_TAG])
    camera(page, "constantcontact-contact-paid")

    expect_sales_line(page, world, contacts=len(world.eligible))
    camera(page, "status-after-payment")
    expect_customer_figures(page, camera, name=world.customers["ada"]["DisplayName"], figures=paid)


def test_sales_data_turned_on_later_reaches_the_contacts_already_synced(
    page: Page, world: World, camera: Camera
) -> None:
    """A company synced without the option turns it on in Settings (My Apps -> Settings):
    a full check gives every synced contact its figures and the tag (the backfill)."""
    figures = a_customer_with_history(world, key="grace")
    grace = world.address("grace")
    install_and_sync(page, world, camera, list_name=LIST)
    # Already synced: the first sync is over (its imports confirmed).
    page.goto(f"{world.stack.app_url}/status/")
    reload_until(page, "First sync: Completed", what="the first sync without sales data")
    open_constantcontact_contact(page, world, email=grace)
    expect(page.get_by_text("No custom field values.")).to_be_visible()
    expect(page.get_by_text("No tags.")).to_be_visible()
    camera(page, "constantcontact-contact-before")

    open_my_apps(page, world, camera).get_by_role("link", name="Settings").click()
    expect_settings_page(page, camera, "settings-from-my-apps", heading="Settings")
    turn_on_sales_data(page, camera, tag=True)
    page.get_by_role("button", name="Save").click()
    expect(page.locator('[data-field="sales"]')).to_contain_text("Sales data:")
    camera(page, "status-sales-data-on")
    reload_until(page, "Full check: Completed", what="the full check that sends the figures")

    open_constantcontact_contact(page, world, email=grace)
    reload_until_figures(page, figures, what="the backfilled figures")
    expect_tags(page, [DEFAULT_TAG])
    camera(page, "constantcontact-contact-backfilled")
    expect_every_contact_tagged(page, world, camera)

    expect_sales_line(page, world, contacts=len(world.eligible))
    camera(page, "status-after-backfill")
    expect_customer_figures(
        page, camera, name=world.customers["grace"]["DisplayName"], figures=figures
    )
