"""What the journeys share: a seeded world (a QuickBooks company and a Constant Contact
account), a camera for the screenshots, and the steps a person clicks through."""

import re
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page, expect

from support.sandbox_server import ROOT
from support.stack import Stack, wait_for
from tests.browser.fit import accessibility_problems, fit_problems

APP_NAME = "Constant Contact for QuickBooks Online"
SYNC_TIMEOUT = 60.0
# The Constant Contact account's lists before the journey; the app is told to use LIST.
LIST = "Customers"
SEEDED_LISTS = ("Newsletter", LIST)
WIDTHS = (1280, 375)  # a desktop and a phone


class Camera:
    """Saves one numbered, full-page screenshot per step of a journey; a page of the app
    (under `app_url`) photographed at both widths is also checked there (tests/browser/fit.py)."""

    def __init__(self, folder: Path, *, app_url: str = "") -> None:
        self.folder = folder
        self.app_url = app_url
        self.count = 0
        # Steps whose picture the README shows: step -> its name there; `kept` holds the
        # first picture of each (tests/browser/test_readme_screenshots.py).
        self.keep: dict[str, str] = {}
        self.kept: dict[str, Path] = {}

    def __call__(self, page: Page, step: str) -> None:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{step}.png"
        page.screenshot(path=path, full_page=True)
        self._taken(step, path)

    def screen(self, page: Page, step: str) -> None:
        """What the window shows, not the whole page: a long list's first rows."""
        self.count += 1
        path = self.folder / f"{self.count:02d}-{step}.png"
        page.screenshot(path=path)
        self._taken(step, path)

    def _taken(self, step: str, path: Path) -> None:
        name = self.keep.get(step)
        if name and name not in self.kept:
            self.kept[name] = path

    def widths(self, page: Page, step: str) -> None:
        """The page as a desktop (1280 px) and a phone (375 px) show it: two screenshots.
        A page of the app must fit each width and pass axe-core at each: fails naming what
        does not, at which width."""
        desktop = page.viewport_size or {"width": 1280, "height": 860}
        ours = bool(self.app_url) and page.url.startswith(self.app_url)
        problems = []
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": desktop["height"]})
            self(page, f"{step}-{width}")
            if ours:
                found = fit_problems(page) + accessibility_problems(page)
                problems += [f"{width} px: {problem}" for problem in found]
        page.set_viewport_size(desktop)
        assert not problems, f"{step} ({page.url}):\n" + "\n".join(problems)

    def section(self, part: Locator, step: str) -> Path:
        """One part of a page alone (for the README); the answer is the file."""
        self.count += 1
        path = self.folder / f"{self.count:02d}-{step}.png"
        part.screenshot(path=path)
        self._taken(step, path)
        return path


@dataclass
class World:
    """One journey's QuickBooks company and Constant Contact account, seeded through the
    sandbox's control API; `eligible` are the addresses that belong in the list."""

    stack: Stack
    tag: str
    intuit_email: str
    intuit_password: str
    company_name: str
    realm_id: str
    cc_username: str
    cc_password: str
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    eligible: set[str] = field(default_factory=set)

    def address(self, name: str) -> str:
        return f"{name}.{self.tag}@example.com"

    def add_customer(self, key: str, *, eligible: bool, **fields: Any) -> dict[str, Any]:
        created = self.stack.control(
            "POST", f"/_sandbox/quickbooks/{self.realm_id}/customers", fields
        )
        self.customers[key] = created
        if eligible:
            self.eligible.add(_first_address(fields["PrimaryEmailAddr"]["Address"]))
        return created

    def contacts(self) -> list[dict[str, Any]]:
        return self.stack.contacts(self.cc_username)

    def list_members(self, list_name: str) -> list[str]:
        """The addresses in a list, one entry per contact (so duplicates show)."""
        return sorted(
            contact["email"].lower()
            for contact in self.contacts()
            if list_name in contact["list_names"] and not contact["deleted"]
        )


def _first_address(value: str) -> str:
    return value.split(",")[0].strip().lower()


def seed_world(stack: Stack) -> World:
    """A company with customers of every kind, and a Constant Contact account with lists."""
    tag = uuid.uuid4().hex[:8]
    intuit_email, intuit_password = f"owner.{tag}@example.com", "demo-password"
    company_name = f"Browser Bakery {tag}"
    companies = stack.control(
        "POST",
        "/_sandbox/intuit/companies",
        {
            "email": intuit_email,
            "password": intuit_password,
            "name": "Olive Owner",
            "company_names": [company_name],
        },
    )["companies"]
    cc_username = f"cc-{tag}"
    unsubscribed = f"gone.{tag}@example.com"
    stack.control(
        "POST",
        "/_sandbox/cc/accounts",
        {
            "username": cc_username,
            "password": "demo-password",
            "list_names": list(SEEDED_LISTS),
            "unsubscribed_emails": [unsubscribed],
        },
    )
    world = World(
        stack=stack,
        tag=tag,
        intuit_email=intuit_email,
        intuit_password=intuit_password,
        company_name=company_name,
        realm_id=companies[0]["realm_id"],
        cc_username=cc_username,
        cc_password="demo-password",
    )
    for given, family in (("Ada", "Lovelace"), ("Grace", "Hopper"), ("Alan", "Turing")):
        world.add_customer(
            given.lower(),
            eligible=True,
            GivenName=given,
            FamilyName=family,
            CompanyName=f"{family} Ltd",
            PrimaryEmailAddr={"Address": world.address(given.lower())},
            PrimaryPhone={"FreeFormNumber": "(555) 010-0001"},
        )
    # QuickBooks takes several addresses in one field: the first one is synced.
    several = f"{world.address('edsger')}, {world.address('dijkstra')}"
    world.add_customer(
        "edsger",
        eligible=True,
        DisplayName=f"Edsger Dijkstra {tag}",
        PrimaryEmailAddr={"Address": several},
    )
    world.add_customer("nomail", eligible=False, GivenName="Nora", FamilyName="Nomail")
    world.add_customer(
        "inactive",
        eligible=False,
        GivenName="Ivan",
        FamilyName="Inactive",
        PrimaryEmailAddr={"Address": world.address("ivan")},
        Active=False,
    )
    world.add_customer(
        "unsubscribed",
        eligible=False,
        GivenName="Gary",
        FamilyName="Gone",
        PrimaryEmailAddr={"Address": unsubscribed},
    )
    return world


def run_in_the_app(world: World, code: str) -> None:
    """Python run in the app's environment (`manage.py shell`): what beat, or a provider's
    refusal, would do later, done now rather than waited for."""
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        env=world.stack.env,
        cwd=ROOT,
        check=True,
        timeout=60,
    )


def add_second_company(world: World, name: str) -> str:
    """The person becomes an accountant: a second company of theirs; the answer is its
    realm id."""
    companies = world.stack.control(
        "POST",
        "/_sandbox/intuit/companies",
        {
            "email": world.intuit_email,
            "password": world.intuit_password,
            "name": "Olive Owner",
            "company_names": [world.company_name, name],
        },
    )["companies"]
    return companies[1]["realm_id"]


def wait_for_list(world: World, list_name: str, expected: set[str]) -> list[str]:
    """Waits until the list holds exactly `expected`, each address once."""

    def settled() -> list[str] | None:
        members = world.list_members(list_name)
        return members if members == sorted(expected) else None

    try:
        return wait_for(settled, timeout=SYNC_TIMEOUT, what=f"the list {list_name!r} to settle")
    except AssertionError:
        members = world.list_members(list_name)
        raise AssertionError(
            f"list {list_name!r}: expected {sorted(expected)}, found {members}"
        ) from None


def reload_until(page: Page, text: str, *, what: str) -> None:
    """Reloads the page until `text` shows (the status page also updates itself)."""

    def shown() -> bool:
        page.reload()
        return page.get_by_text(text).count() > 0

    wait_for(shown, timeout=SYNC_TIMEOUT, what=what, interval=0.5)


def assert_no_duplicates(world: World) -> None:
    """No contact but one per eligible customer (and the account's unsubscribed ones).

    Constant Contact keeps one contact per address, so a duplicate would be a second
    contact under another address: an email change made into a new contact, in a list or not.
    """
    extra = sorted(
        contact["email"].lower()
        for contact in world.contacts()
        if not contact["deleted"]
        and contact["permission"] != "unsubscribed"
        and contact["email"].lower() not in world.eligible
    )
    assert not extra, f"contacts that no eligible customer accounts for: {extra}"


# --- The steps, clicked in the sandbox's QuickBooks and Constant Contact pages and ours ---


def sign_in_to_quickbooks(page: Page, world: World, camera: Camera) -> None:
    """Opens the Apps tab; QuickBooks asks to sign in and to pick the company first."""
    page.goto(f"{world.stack.sandbox.url}/qbo/apps/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Email or user ID").fill(world.intuit_email)
    page.get_by_label("Password").fill(world.intuit_password)
    camera(page, "intuit-sign-in")
    page.get_by_role("button", name="Sign in").click()
    apps_tab = page.get_by_role("heading", name="Apps", exact=True)
    choose = page.locator(".card").filter(has_text=world.company_name).get_by_role("button")
    expect(apps_tab.or_(choose)).to_be_visible()
    if choose.is_visible():  # QuickBooks asks which company when it cannot tell
        choose.click()
    expect(apps_tab).to_be_visible()
    expect(page.get_by_text(world.company_name).first).to_be_visible()


def open_app_card(page: Page, camera: Camera) -> None:
    """Apps tab -> search -> the app's card."""
    camera(page, "apps-tab")
    page.get_by_placeholder("Search apps").fill(APP_NAME)
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name=f'Results for "{APP_NAME}"')).to_be_visible()
    camera(page, "search-results")
    page.get_by_role("link", name=APP_NAME).click()
    expect(page.get_by_role("link", name="Get App Now")).to_be_visible()
    camera(page, "app-card")


def allow_intuit(page: Page, world: World, camera: Camera) -> None:
    """Get App Now -> Intuit's consent (already signed in to QuickBooks; the company chosen
    first when the person has several) -> Allow."""
    page.get_by_role("link", name="Get App Now").click()
    consent = page.get_by_role(
        "heading", name=f"{APP_NAME} wants to connect to {world.company_name}"
    )
    chooser = page.get_by_role("heading", name="Which company do you want to connect?")
    expect(consent.or_(chooser)).to_be_visible()
    if chooser.is_visible():
        page.get_by_label(world.company_name).check()
        camera(page, "intuit-choose-company")
        page.get_by_role("button", name="Next").click()
    expect(consent).to_be_visible()
    camera(page, "intuit-consent")
    page.get_by_role("button", name="Allow").click()


def log_in_to_constantcontact(page: Page, world: World, camera: Camera) -> None:
    expect(page.get_by_role("heading", name="Log In")).to_be_visible()
    expect(page.get_by_role("link", name="Sign up")).to_be_visible()
    page.get_by_label("Username", exact=True).fill(world.cc_username)
    page.get_by_label("Password", exact=True).fill(world.cc_password)
    page.get_by_label("Remember my username").check()
    camera(page, "constantcontact-login")
    page.get_by_role("button", name="Log In").click()


def constantcontact_consent(page: Page, camera: Camera, *, decision: str) -> None:
    expect(page.get_by_role("heading", name="Allow Access?")).to_be_visible()
    expect(
        page.get_by_text(
            f"{APP_NAME} would like to access and/or update your Constant Contact account."
        )
    ).to_be_visible()
    camera(page, "constantcontact-consent")
    page.get_by_role("button", name=decision).click()


SET_UP = "Set Up and Connect the Constant Contact App for QuickBooks Online"


def expect_settings_page(
    page: Page, camera: Camera, step: str = "settings", *, heading: str = SET_UP
) -> None:
    """Settings: titled as the user guide's set-up page until a list is chosen, then
    plain "Settings" (with Save, not Connect)."""
    expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    camera(page, step)


def choose_list(page: Page, list_name: str) -> None:
    page.get_by_label("Constant Contact list").select_option(label=list_name)


def install(page: Page, world: World, camera: Camera) -> None:
    """Journeys 1 and 2: from the Apps tab to our Settings page."""
    sign_in_to_quickbooks(page, world, camera)
    open_app_card(page, camera)
    allow_intuit(page, world, camera)
    log_in_to_constantcontact(page, world, camera)
    constantcontact_consent(page, camera, decision="Allow")
    expect_settings_page(page, camera)


def connect(page: Page, camera: Camera, *, list_name: str) -> None:
    """Journeys 3 and 4: pick the list, Connect, the success page."""
    choose_list(page, list_name)
    camera(page, "settings-list-chosen")
    page.get_by_role("button", name="Connect").click()
    expect(page.get_by_role("heading", name="You're done!")).to_be_visible()
    expect(
        page.get_by_text(f"{APP_NAME} is successfully installed and configured.")
    ).to_be_visible()
    camera(page, "success")


def install_and_sync(page: Page, world: World, camera: Camera, *, list_name: str) -> None:
    """An installed company whose first sync has filled the list."""
    install(page, world, camera)
    connect(page, camera, list_name=list_name)
    wait_for_list(world, list_name, world.eligible)


def fill_customer_form(page: Page, **labelled: str) -> None:
    for label, value in labelled.items():
        # Django's labels end with a colon.
        page.get_by_label(re.compile(rf"^{re.escape(label)}:?$")).fill(value)


def add_customer_in_quickbooks(
    page: Page, world: World, camera: Camera, *, given: str, family: str, email: str
) -> None:
    page.goto(f"{world.stack.sandbox.url}/qbo/customers/")
    page.get_by_role("link", name="New customer").click()
    expect(page.get_by_role("heading", name="New customer")).to_be_visible()
    fill_customer_form(page, **{"First name": given, "Last name": family, "Email": email})
    camera(page, "quickbooks-new-customer")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text(email)).to_be_visible()
    world.eligible.add(email.lower())


def open_quickbooks_customer(page: Page, world: World, *, key: str) -> None:
    """QuickBooks' Customers page -> the customer's Edit link -> the customer's page."""
    customer_id = world.customers[key]["Id"]
    page.goto(f"{world.stack.sandbox.url}/qbo/customers/")
    row = page.get_by_role("row").filter(has=page.get_by_role("cell", name=customer_id, exact=True))
    row.get_by_role("link", name="Edit").click()
    heading = re.compile(f"^Customer {customer_id}:")
    expect(page.get_by_role("heading", name=heading)).to_be_visible()


def edit_customer_in_quickbooks(
    page: Page, world: World, camera: Camera, *, key: str, **labelled: str
) -> None:
    open_quickbooks_customer(page, world, key=key)
    fill_customer_form(page, **labelled)
    camera(page, "quickbooks-edit-customer")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Customer saved.")).to_be_visible()


def open_my_apps(page: Page, world: World, camera: Camera) -> Locator:
    """QuickBooks' My Apps page; the answer is the app's card (Launch, Settings, Disconnect)."""
    page.goto(f"{world.stack.sandbox.url}/qbo/")
    page.get_by_role("navigation").get_by_role("link", name="My Apps").click()
    expect(page.get_by_role("heading", name="My Apps")).to_be_visible()
    camera(page, "my-apps")
    card = page.locator(".my-app").filter(has_text=APP_NAME)
    expect(card).to_be_visible()
    return card


def disconnect_in_my_apps(page: Page, world: World, camera: Camera) -> None:
    """My Apps -> Disconnect -> Intuit's confirmation -> our Disconnect URL, where Intuit
    says who this is (OpenID alone: no company asked for) -> the user guide's page."""
    open_my_apps(page, world, camera).get_by_role("link", name="Disconnect").click()
    expect(
        page.get_by_role(
            "heading", name="Are you sure you want to disconnect your data from Constant Contact?"
        )
    ).to_be_visible()
    camera(page, "intuit-disconnect-confirm")
    page.get_by_role("button", name="Disconnect").click()
    # Our Disconnect URL: one line says why Intuit comes next (issue 21.4).
    expect(
        page.get_by_text("To confirm which company was disconnected, sign in with Intuit.")
    ).to_be_visible()
    camera.widths(page, "why-sign-in-with-intuit")
    page.get_by_role("link", name="Sign in with Intuit").click()
    expect(page.get_by_role("heading", name=f"Sign in to {APP_NAME} with Intuit")).to_be_visible()
    camera(page, "intuit-sign-in-to-disconnect")
    page.get_by_role("button", name="Allow").click()
    disconnected = "You have successfully disconnected from Constant Contact."
    expect(page.get_by_role("heading", name=disconnected)).to_be_visible()
    camera.widths(page, "disconnected")
    # The result has its own address: a refresh shows it again, never "start again".
    expect(page).to_have_url(re.compile(r"/disconnect/done/[^/]+/$"))
    page.reload()
    expect(page.get_by_role("heading", name=disconnected)).to_be_visible()
    expect(page.get_by_text("This sign-in link has expired")).not_to_be_visible()
    camera(page, "disconnected-after-a-refresh")


def open_quickbooks_company(page: Page, world: World, company_name: str) -> None:
    """QuickBooks' company switcher: work in `company_name`."""
    page.goto(f"{world.stack.sandbox.url}/qbo/")
    page.locator(".card").filter(has_text=company_name).get_by_role("button", name="Open").click()
    expect(page.get_by_role("heading", name=company_name, exact=True)).to_be_visible()


def open_constantcontact_list(page: Page, world: World, camera: Camera, list_name: str) -> None:
    """The sandbox's Constant Contact lists, then one list, as the account's owner sees it."""
    page.goto(f"{world.stack.sandbox.url}/cc/account/")
    page.get_by_role("link", name=list_name, exact=True).click()
    expect(page.get_by_role("heading", name=list_name, exact=True)).to_be_visible()
    camera(page, f"constantcontact-list-{list_name.lower().replace(' ', '-')}")
