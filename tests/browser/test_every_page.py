"""Issue 21, point 5: every page of the app, clicked to in Chromium against the whole running
stack, at a desktop's 1280 px and a phone's 375 px (tests/browser/fit.py): nothing runs past
its card, no sideways scroll on a phone, the search box's placeholder whole, no serious or
critical axe-core violation; one time format with its zone, counts that read naturally.
`camera.widths` photographs, measures and runs axe-core on each page; nothing here costs
Constant Contact a call beyond the journeys' own (install, first sync, disconnect)."""

import re

from playwright.sync_api import Page, expect

from support.stack import Stack
from tests.browser.journey import (
    APP_NAME,
    LIST,
    Camera,
    World,
    add_second_company,
    connect,
    constantcontact_consent,
    disconnect_in_my_apps,
    expect_settings_page,
    log_in_to_constantcontact,
    open_app_card,
    open_quickbooks_company,
    reload_until,
    run_in_the_app,
    sign_in_to_quickbooks,
)
from tests.browser.sales import a_customer_with_history, turn_on_sales_data

# "7 Dec 2026, 14:05 UTC": the one format of a moment on every page (docs/product.md).
MOMENT = r"\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2} UTC"


def break_quickbooks(world: World) -> None:
    """What a refused refresh does (tenants.tokens.mark_broken): the company's QuickBooks
    connection broken."""
    run_in_the_app(
        world,
        "from tenants import tokens; from tenants.models import QuickBooksConnection; "
        "tokens.mark_broken(QuickBooksConnection.objects.get("
        f"tenant__realm_id={world.realm_id!r}), reason='Intuit refused the app\\'s access.')",
    )


def anonymous_pages(page: Page, stack: Stack, camera: Camera) -> None:
    """Home, Help, a page that does not exist, the Disconnect URL's sign-in line."""
    page.goto(f"{stack.app_url}/")
    expect(page.get_by_role("heading", name=APP_NAME)).to_be_visible()
    favicon = page.locator('link[rel="icon"]').get_attribute("href")
    assert favicon and page.request.get(f"{stack.app_url}{favicon}").ok
    camera.widths(page, "home")
    page.goto(f"{stack.app_url}/help/")
    expect(page.get_by_role("heading", name="Help", exact=True)).to_be_visible()
    camera.widths(page, "help")
    assert page.goto(f"{stack.app_url}/no-such-page/").status == 404
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    camera.widths(page, "404")
    page.goto(f"{stack.app_url}/disconnect/")
    expect(page.get_by_text("To confirm which company was disconnected")).to_be_visible()
    camera.widths(page, "disconnect-sign-in")


def install_after_a_cancel_and_a_deny(page: Page, world: World, camera: Camera) -> None:
    """Get App Now, Intuit's Cancel (our error page), then Allow; Constant Contact's Deny
    (its own page), then Allow; Settings with sales data, Connect, the success page."""
    sign_in_to_quickbooks(page, world, camera)
    open_app_card(page, camera)
    page.get_by_role("link", name="Get App Now").click()
    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("heading", name="QuickBooks was not connected")).to_be_visible()
    camera.widths(page, "intuit-cancelled")
    page.get_by_role("link", name="Try again").click()
    page.get_by_role("button", name="Allow").click()
    log_in_to_constantcontact(page, world, camera)
    constantcontact_consent(page, camera, decision="Deny")
    expect(page.get_by_role("heading", name="Constant Contact was not connected")).to_be_visible()
    camera.widths(page, "constantcontact-denied")
    page.get_by_role("link", name="Try again").click()
    constantcontact_consent(page, camera, decision="Allow")
    expect_settings_page(page, camera)
    turn_on_sales_data(page, camera, tag=True)
    camera.widths(page, "settings-before-connect")
    connect(page, camera, list_name=LIST)
    camera.widths(page, "success")


def status_and_its_pages(page: Page, world: World, camera: Camera) -> None:
    """The status page after the first sync, the customers not in the list (and the CSV),
    those with a note, the sales data page and one customer's figures."""
    page.get_by_role("link", name="See the sync's progress").click()
    reload_until(page, "First sync: Completed", what="the first sync's result")
    # One format for every time, with its zone; counts that read naturally.
    started = page.locator('table.sync-history td[data-label="Started"]').first
    expect(started).to_have_text(re.compile(f"^{MOMENT}$"))
    expect(page.get_by_text("7 of 7 customers")).to_be_visible()
    expect(page.locator('[data-field="sales"]')).to_contain_text(
        re.compile(f"last read from QuickBooks Online (just now|\\d+ minutes? ago) \\({MOMENT}\\)")
    )
    camera.widths(page, "status")

    page.get_by_role("link", name="See all 3").click()
    expect(page.get_by_role("heading", name="Not in your Constant Contact list: 3")).to_be_visible()
    expect(page.get_by_text("3 customers.", exact=True)).to_be_visible()
    camera.widths(page, "customers-not-in-the-list")
    csv = page.get_by_role("link", name="Download as CSV").get_attribute("href")
    answer = page.request.get(f"{world.stack.app_url}{csv}")
    assert answer.ok and answer.headers["content-type"].startswith("text/csv")
    assert "Nora" in answer.text()

    page.get_by_role("link", name="Back to the status page").click()
    page.get_by_role("link", name="See them").click()
    expect(page.get_by_role("heading", name=re.compile("with a note: 1$"))).to_be_visible()
    expect(page.get_by_text("1 customer.", exact=True)).to_be_visible()
    camera.widths(page, "customers-with-a-note")

    page.get_by_role("link", name="Back to the status page").click()
    page.get_by_role("link", name="See each customer's figures").click()
    expect(page.get_by_role("heading", name="Sales data in Constant Contact")).to_be_visible()
    camera.widths(page, "sales")
    page.get_by_role("link", name=world.customers["ada"]["DisplayName"]).click()
    expect(page.locator("table.sales-detail")).to_be_visible()
    camera.widths(page, "sales-customer")


def a_sales_data_problem(world: World, *, gone: bool = False) -> None:
    """What a 403 to making the custom fields does (optional.attempt): the sales-data
    problem of the connected user's role, told on the status and Settings pages; or gone."""
    change = (
        "sales_state.problem_gone(tenant_id=tenant.pk, source=Source.CUSTOM_FIELDS)"
        if gone
        else "sales_state.problem_met(tenant_id=tenant.pk, source=Source.CUSTOM_FIELDS, "
        "told=optional.told(Source.CUSTOM_FIELDS, NotPermitted('refused', status=403)))"
    )
    run_in_the_app(
        world,
        "from ccsync.sync import optional, sales_state; "
        "from ccsync.sync.sales_state import Source; "
        "from integrations.constantcontact.errors import NotPermitted; "
        "from tenants.models import Tenant; "
        f"tenant = Tenant.objects.get(realm_id={world.realm_id!r}); {change}",
    )


def settings_reconnect_and_disconnect_pages(page: Page, world: World, camera: Camera) -> None:
    """Settings once connected, the Reconnect page, our Disconnect's confirmation (left
    with Cancel), a broken QuickBooks connection's banner and its way back."""
    app = world.stack.app_url
    page.goto(f"{app}/settings/")
    expect_settings_page(page, camera, heading="Settings")
    camera.widths(page, "settings-after-connect")
    # A sales-data problem: said with what to do, and that the contacts still sync.
    a_sales_data_problem(world)
    for where in ("status", "settings"):
        page.goto(f"{app}/{where}/")
        note = page.locator('[data-field="sales-problems"]')
        expect(note).to_contain_text("Account Owner or Account Manager role")
        expect(note).to_contain_text("Your contacts are still syncing")
        camera.widths(page, f"{where}-sales-data-problem")
    a_sales_data_problem(world, gone=True)
    page.goto(f"{app}/reconnect/")
    expect(page.get_by_role("heading", name=f"Reconnect {APP_NAME}")).to_be_visible()
    camera.widths(page, "reconnect")
    page.goto(f"{app}/status/")
    page.get_by_role("link", name="Disconnect").click()
    expect(page.get_by_role("heading", name=re.compile("^Are you sure"))).to_be_visible()
    camera.widths(page, "disconnect-confirm")
    page.get_by_role("link", name="Cancel").click()

    break_quickbooks(world)
    page.goto(f"{app}/status/")
    banner = page.get_by_role("alert")
    expect(banner).to_contain_text("Syncing has stopped: QuickBooks is not connected.")
    camera.widths(page, "status-quickbooks-broken")
    # The banner leads to the Reconnect URL, whose button is Get App Now's flow.
    banner.get_by_role("link", name="Reconnect QuickBooks").click()
    expect(page).to_have_url(f"{app}/reconnect/")
    expect(page.get_by_text("Not connected: Intuit refused the app's access.")).to_be_visible()
    camera.widths(page, "reconnect-quickbooks-broken")
    page.get_by_role("main").get_by_role("link", name="Reconnect QuickBooks").click()
    page.get_by_role("button", name="Allow").click()
    expect(page.get_by_role("heading", name="Sync", exact=True)).to_be_visible()
    expect(page.get_by_role("alert")).to_have_count(0)


def a_second_company(page: Page, world: World, camera: Camera) -> str:
    """An accountant's second company, installed: the header's company switcher."""
    second = f"Second Books {world.tag}"
    add_second_company(world, second)
    open_quickbooks_company(page, world, second)
    page.goto(f"{world.stack.sandbox.url}/qbo/apps/")
    open_app_card(page, camera)
    page.get_by_role("link", name="Get App Now").click()
    page.get_by_label(second).check()
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Allow").click()
    constantcontact_consent(page, camera, decision="Allow")
    expect_settings_page(page, camera)
    page.get_by_role("link", name="Cancel").click()
    expect(page.get_by_label("Company")).to_have_value(re.compile(r"\d+"))
    camera.widths(page, "status-with-the-company-switcher")
    return second


def test_every_page_fits_a_desktop_and_a_phone_and_passes_axe(
    page: Page, world: World, camera: Camera, stack: Stack
) -> None:
    a_customer_with_history(world, key="ada")
    anonymous_pages(page, stack, camera)
    install_after_a_cancel_and_a_deny(page, world, camera)
    status_and_its_pages(page, world, camera)
    settings_reconnect_and_disconnect_pages(page, world, camera)

    # A form opened too long ago (its CSRF cookie gone): the "This page has expired" page.
    page.context.clear_cookies(name="csrftoken")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="This page has expired")).to_be_visible()
    camera.widths(page, "403-form-expired")

    a_second_company(page, world, camera)
    # QuickBooks' My Apps disconnects the first company: its sign-in line, its result.
    open_quickbooks_company(page, world, world.company_name)
    disconnect_in_my_apps(page, world, camera)
    # The Disconnect URL again: Intuit has revoked nothing more, "We will confirm".
    page.goto(f"{stack.app_url}/disconnect/")
    page.get_by_role("link", name="Sign in with Intuit").click()
    page.get_by_role("button", name="Allow").click()
    expect(page.get_by_role("heading", name="We will confirm with QuickBooks")).to_be_visible()
    camera.widths(page, "disconnect-pending")
    # The disconnected company's status page.
    page.goto(f"{stack.app_url}/status/")
    page.get_by_label("Company").select_option(label=world.company_name)
    page.get_by_role("button", name="Switch").click()
    expect(page.get_by_text("is disconnected from this company")).to_be_visible()
    camera.widths(page, "status-disconnected")
