"""The install journey driven like a person would: our app through Django's test client,
Intuit's and Constant Contact's pages through a requests.Session on the running sandbox."""

import uuid
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import pytest
import requests
from django.core.cache import cache
from django.test import Client

from tests.html_page import Form, Page  # noqa: F401  (other test packages import them from here)

PASSWORD = "correct horse"


@dataclass
class Identity:
    email: str
    companies: list[dict[str, str]]  # realm_id, name

    @property
    def realm_id(self) -> str:
        return self.companies[0]["realm_id"]


@dataclass
class Account:
    username: str
    lists: dict[str, str]  # name -> list id


class Browser:
    """A person's browser on the sandbox's pages; redirects back to our app are returned."""

    def __init__(self, sandbox) -> None:
        self.sandbox = sandbox
        self.session = requests.Session()
        self.url = ""
        self.page: Page | None = None
        self.html = ""

    def open(self, url: str, *, method: str = "GET", data=None) -> str | None:
        """Goes to url and follows redirects within the sandbox; returns a URL outside it."""
        while True:
            answer = self.session.request(method, url, data=data, allow_redirects=False, timeout=30)
            if answer.is_redirect:
                target = urljoin(url, answer.headers["Location"])
                if not target.startswith(self.sandbox.url):
                    return target
                url, method, data = target, "GET", None
                continue
            assert answer.status_code < 500, answer.text[:2000]
            self.url, self.html, self.page = url, answer.text, Page(answer.text)
            return None

    def press(self, button_text: str, **values: str) -> str | None:
        form, (name, value, _) = self.page.form_with(button_text)
        data = {**form.fields, **values}
        if name:
            data[name] = value
        action = urljoin(self.url, form.action or self.url)
        return self.open(action, method=form.method.upper(), data=data)

    # Intuit

    def intuit_sign_in(self, url: str, identity: Identity, *, realm_id: str = "") -> str | None:
        """From Intuit's authorize URL: sign in, pick the company, stop at the consent page."""
        back = self.open(url)
        if back is None and "Sign in" in self.html and 'name="password"' in self.html:
            back = self.press("Sign in", email=identity.email, password=PASSWORD)
        if back is None and "Which company" in self.html:
            back = self.press("Next", realm_id=realm_id or identity.realm_id)
        return back

    def intuit_authorize(
        self, url: str, identity: Identity, *, realm_id: str = "", allow: bool = True
    ) -> str:
        back = self.intuit_sign_in(url, identity, realm_id=realm_id)
        if back is None:
            back = self.press("Allow" if allow else "Cancel")
        assert back is not None, self.html[:2000]
        return back

    # Constant Contact

    def cc_authorize(self, url: str, account: Account, *, allow: bool = True) -> str:
        back = self.open(url)
        if back is None and "Log In" in self.html and 'name="password"' in self.html:
            back = self.press("Log In", username=account.username, password=PASSWORD)
        if back is None:
            assert "Allow Access?" in self.html, self.html[:2000]
            back = self.press("Allow" if allow else "Deny")
        assert back is not None, self.html[:2000]
        return back


def local(url: str) -> str:
    """Our app's URL as the test client takes it (path and query)."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


class Journey:
    """Seeds the sandbox and walks the install journey for one person."""

    def __init__(self, sandbox) -> None:
        self.sandbox = sandbox
        self.client = Client()
        self.browser = Browser(sandbox)

    def new_identity(self, *companies: str) -> Identity:
        tag = uuid.uuid4().hex[:8]
        names = [f"{name} {tag}" for name in companies or ("Craig's Design",)]
        answer = requests.post(
            f"{self.sandbox.url}/_sandbox/intuit/companies",
            json={
                "email": f"owner-{tag}@example.com",
                "password": PASSWORD,
                "name": "Pat Owner",
                "company_names": names,
            },
            timeout=10,
        )
        answer.raise_for_status()
        return Identity(email=f"owner-{tag}@example.com", companies=answer.json()["companies"])

    def new_account(self, *list_names: str) -> Account:
        username = f"cc-{uuid.uuid4().hex[:8]}"
        answer = requests.post(
            f"{self.sandbox.url}/_sandbox/cc/accounts",
            json={"username": username, "password": PASSWORD, "list_names": list(list_names)},
            timeout=10,
        )
        answer.raise_for_status()
        return Account(username=username, lists=answer.json()["lists"])

    def get(self, url: str, **kwargs):
        return self.client.get(local(url), **kwargs)

    def start_install(self) -> str:
        """Get App Now: our Connect URL, which sends the person to Intuit."""
        answer = self.client.get("/connect/")
        assert answer.status_code == 302
        return answer["Location"]

    def install(self, identity: Identity, *, realm_id: str = ""):
        """Get App Now → Intuit sign-in and consent → our callback. Returns our answer."""
        back = self.browser.intuit_authorize(self.start_install(), identity, realm_id=realm_id)
        return self.get(back)

    def connect_constantcontact(self, account: Account, *, allow: bool = True):
        answer = self.client.get("/constantcontact/connect/")
        assert answer.status_code == 302, answer
        back = self.browser.cc_authorize(answer["Location"], account, allow=allow)
        return self.get(back)

    def full_install(self, identity: Identity, account: Account, list_name: str):
        """Install, Allow Constant Contact, choose the list and Connect: the success page."""
        assert self.install(identity)["Location"] == "/constantcontact/connect/"
        assert self.connect_constantcontact(account)["Location"] == "/settings/"
        return self.client.post("/settings/", {"list_id": account.lists[list_name]})


@pytest.fixture(autouse=True)
def _plain_http_oauth(monkeypatch):
    # The sandbox speaks plain http on 127.0.0.1; oauthlib refuses that unless told.
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def journey(sandbox, sandbox_settings, db) -> Journey:
    return Journey(sandbox)


@pytest.fixture
def new_journey(sandbox, sandbox_settings, db):
    """Another person with their own browser and session."""
    return lambda: Journey(sandbox)
