"""Journeys 1 to 7 of docs/product.md, clicked in Chromium against the whole running stack.

Each journey seeds its own QuickBooks company and Constant Contact account through the
sandbox's control API, and checks the outcome there: every eligible customer exactly once
in the list, nothing else.
"""

import re

from playwright.sync_api import Page, expect

from support.stack import Stack
from tests.browser.journey import (
    APP_NAME,
    LIST,
    SEEDED_LISTS,
    Camera,
    World,
    add_customer_in_quickbooks,
    add_second_company,
    allow_intuit,
    assert_no_duplicates,
    connect,
    constantcontact_consent,
    disconnect_in_my_apps,
    edit_customer_in_quickbooks,
    expect_settings_page,
    install,
    install_and_sync,
    log_in_to_constantcontact,
    open_app_card,
    open_constantcontact_list,
    open_my_apps,
    open_quickbooks_company,
    reload_until,
    sign_in_to_quickbooks,
    wait_for_list,
)


def test_install_connect_and_watch_the_first_sync(
    page: Page, world: World, camera: Camera, stack: Stack
) -> None:
    """Journeys 1 to 5: Apps tab to the status page's result."""
    install(page, world, camera)
    # Journey 1: a tenant for the company (named, or shown by its realm id), signed in to it.
    company = re.compile(f"{re.escape(world.company_name)}|{world.realm_id}")
    expect(page.get_by_role("banner").get_by_text(company)).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    # Journey 3: the account's lists are offered; the list is picked from the dropdown.
    options = page.get_by_label("Constant Contact list").locator("option").all_inner_texts()
    assert set(SEEDED_LISTS) <= set(options)
    # Slow QuickBooks down so that the status page catches the first sync under way.
    with stack.sandbox.knobs(quickbooks_latency_ms=1500):
        connect(page, camera, list_name=LIST)
        expect(page.get_by_text(LIST, exact=True)).to_be_visible()
        page.get_by_role("link", name="See the sync's progress").click()
        expect(page.get_by_text("First sync").first).to_be_visible()
        expect(page.get_by_text(re.compile(r"\b(Queued|Running)\b")).first).to_be_visible()
        camera(page, "status-in-progress")
    reload_until(page, "First sync: Completed", what="the status page to show the result")
    # Journey 5: every customer not in the list, and why (the FAQ, per customer).
    for reason in (
        "No email address",
        "Inactive in QuickBooks before it was synced",
        "Unsubscribed in Constant Contact",
    ):
        expect(page.get_by_text(reason).first).to_be_visible()
    camera(page, "status-done")
    wait_for_list(world, LIST, world.eligible)
    assert_no_duplicates(world)
    open_constantcontact_list(page, world, camera, LIST)
    for address in world.eligible:
        expect(page.get_by_text(address)).to_be_visible()
    # Later, QuickBooks' My Apps -> Launch opens the status page.
    open_my_apps(page, world, camera).get_by_role("link", name="Launch").click()
    expect(page.get_by_text("First sync: Completed")).to_be_visible()
    camera(page, "status-from-launch")


def test_edits_and_new_customers_follow(page: Page, world: World, camera: Camera) -> None:
    """After the first sync, QuickBooks edits and new customers reach the list."""
    install_and_sync(page, world, camera, list_name=LIST)
    renamed = world.address("ada.king")
    edit_customer_in_quickbooks(
        page, world, camera, key="ada", **{"Last name": "King", "Email": renamed}
    )
    world.eligible = (world.eligible - {world.address("ada")}) | {renamed}
    newcomer = world.address("katherine")
    add_customer_in_quickbooks(
        page, world, camera, given="Katherine", family="Johnson", email=newcomer
    )
    # The same contact takes the new address: no second contact for Ada.
    wait_for_list(world, LIST, world.eligible)
    assert_no_duplicates(world)
    open_constantcontact_list(page, world, camera, LIST)
    expect(page.get_by_text(renamed)).to_be_visible()
    expect(page.get_by_text(newcomer)).to_be_visible()
    expect(page.get_by_role("cell", name="Ada King")).to_be_visible()


def test_change_list(page: Page, world: World, camera: Camera) -> None:
    """Journey 6: a list created in Settings; new contacts go there only, an updated one
    stands in both lists, nothing leaves the old list."""
    install_and_sync(page, world, camera, list_name=LIST)
    first_sync = set(world.eligible)
    # The user guide's way (docs/product.md, journey 3): create the list in Constant Contact,
    # come back and refresh the lists.
    elsewhere = f"Members {world.tag}"
    page.goto(f"{world.stack.sandbox.url}/cc/account/")
    page.get_by_label("List name").fill(elsewhere)
    page.get_by_role("button", name="Create list").click()
    expect(page.get_by_role("link", name=elsewhere)).to_be_visible()
    camera(page, "constantcontact-list-created")
    open_my_apps(page, world, camera).get_by_role("link", name="Settings").click()
    expect_settings_page(page, camera, "settings-from-my-apps", heading="Settings")
    page.get_by_role("link", name="Refresh lists").click()
    dropdown = page.get_by_label("Constant Contact list")
    expect(dropdown.locator("option", has_text=elsewhere)).to_have_count(1)
    expect_settings_page(page, camera, "settings-lists-refreshed", heading="Settings")
    # Going beyond the guide: create the list right here.
    new_list = f"Donors {world.tag}"
    page.get_by_label("New list name").fill(new_list)
    page.get_by_role("button", name="Create list").click()
    expect(page.get_by_text(f"The list “{new_list}” was created.")).to_be_visible()
    expect(dropdown.locator("option:checked")).to_have_text(new_list)
    camera(page, "settings-list-created")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text(f"New contacts now go to the list “{new_list}”.")).to_be_visible()
    camera(page, "status-list-changed")

    newcomer = world.address("hedy")
    add_customer_in_quickbooks(page, world, camera, given="Hedy", family="Lamarr", email=newcomer)
    edit_customer_in_quickbooks(page, world, camera, key="grace", **{"Last name": "Murray"})
    wait_for_list(world, new_list, {newcomer, world.address("grace")})
    wait_for_list(world, LIST, first_sync)
    assert_no_duplicates(world)
    open_constantcontact_list(page, world, camera, new_list)


def test_deny_then_try_again(page: Page, world: World, camera: Camera) -> None:
    """Journey 2's Deny (and Intuit's Cancel): a clear page, nothing saved, retry works."""
    sign_in_to_quickbooks(page, world, camera)
    open_app_card(page, camera)
    page.get_by_role("link", name="Get App Now").click()
    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("heading", name="QuickBooks was not connected")).to_be_visible()
    camera(page, "intuit-cancelled")
    page.get_by_role("link", name="Try again").click()
    expect(page.get_by_role("button", name="Allow")).to_be_visible()
    page.get_by_role("button", name="Allow").click()

    log_in_to_constantcontact(page, world, camera)
    constantcontact_consent(page, camera, decision="Deny")
    expect(page.get_by_role("heading", name="Constant Contact was not connected")).to_be_visible()
    expect(page.get_by_text("Nothing was saved.")).to_be_visible()
    camera(page, "constantcontact-denied")
    # Nothing half-saved: our status page, in another tab, still asks for Constant Contact.
    status = page.context.new_page()
    status.goto(f"{world.stack.app_url}/status/")
    expect(status.get_by_role("link", name="Connect Constant Contact")).to_be_visible()
    camera(status, "status-without-constantcontact")
    status.close()
    # Try again: still logged in to Constant Contact, so straight to Allow Access?
    page.get_by_role("link", name="Try again").click()
    constantcontact_consent(page, camera, decision="Allow")
    expect_settings_page(page, camera, "settings-after-retry")
    # Nothing is synced before Connect: the account holds only its unsubscribed contact.
    assert [contact["permission"] for contact in world.contacts()] == ["unsubscribed"]


def test_disconnect_and_install_again(page: Page, world: World, camera: Camera) -> None:
    """Journey 7: My Apps -> Disconnect -> Next; installing again duplicates nothing."""
    install_and_sync(page, world, camera, list_name=LIST)
    before = {contact["email"]: contact["contact_id"] for contact in world.contacts()}
    stack = world.stack
    disconnect_in_my_apps(page, world, camera)
    page.get_by_role("link", name="Next").click()
    expect(page).to_have_url(f"{stack.sandbox.url}/cc/account/")
    camera(page, "constantcontact-after-next")

    connections = stack.control("GET", f"/_sandbox/intuit/connections?realm_id={world.realm_id}")
    assert connections["live"] is False
    page.goto(f"{stack.sandbox.url}/qbo/apps/myapps/")
    expect(page.get_by_text("No apps are connected to this company yet.")).to_be_visible()
    # Nothing in Constant Contact is deleted.
    wait_for_list(world, LIST, world.eligible)
    # A customer added while disconnected comes with the next install.
    world.add_customer(
        "while-away",
        eligible=True,
        GivenName="Radia",
        FamilyName="Perlman",
        PrimaryEmailAddr={"Address": world.address("radia")},
    )

    open_app_card(page, camera)
    allow_intuit(page, world, camera)
    constantcontact_consent(page, camera, decision="Allow")
    expect_settings_page(page, camera, "settings-reinstall")
    # The success page comes once the new first sync is queued: its status is the new run's.
    connect(page, camera, list_name=LIST)
    page.get_by_role("link", name="See the sync's progress").click()
    reload_until(page, "First sync: Completed", what="the sync after the new install")
    camera(page, "status-after-reinstall")
    wait_for_list(world, LIST, world.eligible)
    assert_no_duplicates(world)
    # The same contacts were updated, none made anew.
    after = {contact["email"]: contact["contact_id"] for contact in world.contacts()}
    assert {email: after.get(email) for email in before} == before


def test_an_accountant_disconnects_one_of_two_companies(
    page: Page, world: World, camera: Camera
) -> None:
    """Journey 7 for an accountant with two companies (issue 12): company X disconnected
    in My Apps while our app's session is on company Y disconnects X, and only X."""
    stack = world.stack
    install_and_sync(page, world, camera, list_name=LIST)  # company X
    second = f"Second Books {world.tag}"
    second_realm = add_second_company(world, second)
    open_quickbooks_company(page, world, second)  # then company Y
    page.goto(f"{stack.sandbox.url}/qbo/apps/")
    open_app_card(page, camera)
    page.get_by_role("link", name="Get App Now").click()
    page.get_by_label(second).check()
    page.get_by_role("button", name="Next").click()
    expect(
        page.get_by_role("heading", name=f"{APP_NAME} wants to connect to {second}")
    ).to_be_visible()
    page.get_by_role("button", name="Allow").click()
    constantcontact_consent(page, camera, decision="Allow")
    expect_settings_page(page, camera, "settings-second-company")
    connect(page, camera, list_name="Newsletter")
    # Our app's session is on Y now; QuickBooks goes back to X and disconnects it.
    open_quickbooks_company(page, world, world.company_name)
    disconnect_in_my_apps(page, world, camera)

    live = {
        name: stack.control("GET", f"/_sandbox/intuit/connections?realm_id={realm_id}")["live"]
        for name, realm_id in (("X", world.realm_id), ("Y", second_realm))
    }
    assert live == {"X": False, "Y": True}
    page.goto(f"{stack.app_url}/status/")
    expect(page.get_by_text("is disconnected from this company")).not_to_be_visible()
    expect(page.locator("#switch-company")).to_have_value(re.compile(r"\d+"))
    page.get_by_label("Company").select_option(label=world.company_name)
    page.get_by_role("button", name="Switch").click()
    expect(page.get_by_text("is disconnected from this company")).to_be_visible()
    camera(page, "status-of-the-disconnected-company")
