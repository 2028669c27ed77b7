"""The sandbox's Intuit and QuickBooks pages clicked through like a browser, with the app's
registration and Intuit's OAuth client (tests/sandbox's Intuit and QuickBooks tests, and the
sync's webhook tests)."""

import json
import uuid
from dataclasses import dataclass
from urllib.parse import urljoin

import pytest
import requests
from intuitlib.client import AuthClient
from intuitlib.enums import Scopes

from support.html_page import Page
from support.query_string import query_of

APP_BASE = "http://127.0.0.1:8000"
REDIRECT_URI = f"{APP_BASE}/auth/intuit/callback/"
SCOPES = [Scopes.ACCOUNTING, Scopes.OPENID, Scopes.PROFILE, Scopes.EMAIL]
PASSWORD = "correct horse"


def run_in_sandbox(sandbox, code: str):
    """The JSON the code prints, run by the sandbox's own Django against its database (for
    what the sandbox's apps call each other with, which has no HTTP endpoint)."""
    return json.loads(sandbox.manage("shell", "-c", code).strip().splitlines()[-1])


class Browser:
    """A person's browser on the sandbox: cookies kept, redirects to the app not followed."""

    def __init__(self, sandbox) -> None:
        self.sandbox = sandbox
        self.session = requests.Session()

    def get(self, url: str, **kwargs) -> requests.Response:
        return self.session.get(urljoin(self.sandbox.url, url), timeout=10, **kwargs)

    def submit(
        self, page: requests.Response, button: str, value: str | None = None, **fields: str
    ) -> requests.Response:
        """Click the button labelled `button` (of that value, if given), fields filled in."""
        for form in Page(page.text).forms:
            for name, button_value, text in form.buttons:
                if text.strip() == button and value in (None, button_value):
                    data = {**form.fields, **fields}
                    if name:
                        data[name] = button_value
                    target = urljoin(page.url, form.action) if form.action else page.url
                    return self.session.post(target, data=data, allow_redirects=False, timeout=10)
        raise AssertionError(f"no {button!r} button on {page.url}")

    def follow(self, answer: requests.Response) -> requests.Response:
        assert answer.status_code in (301, 302), answer.status_code
        return self.get(answer.headers["Location"])

    def sign_in(self, email: str, password: str = PASSWORD) -> requests.Response:
        return self.follow(
            self.submit(self.get("/qbo/"), "Sign in", email=email, password=password)
        )


def callback_query(answer: requests.Response) -> dict[str, str]:
    """The query the authorize page sent the app's redirect URI."""
    assert answer.status_code == 302, answer.text
    location = answer.headers["Location"]
    assert location.startswith(REDIRECT_URI)
    return query_of(location)


@dataclass
class Identity:
    email: str
    realm_ids: list[str]


@pytest.fixture
def seed_identity(sandbox):
    def seed(*company_names: str) -> Identity:
        email = f"{uuid.uuid4().hex[:12]}@example.com"
        names = [f"{name} {uuid.uuid4().hex[:8]}" for name in company_names or ["Books"]]
        answer = requests.post(
            f"{sandbox.url}/_sandbox/intuit/companies",
            json={"email": email, "password": PASSWORD, "name": "Pat Doe", "company_names": names},
            timeout=10,
        )
        assert answer.status_code == 201, answer.text
        return Identity(email=email, realm_ids=[c["realm_id"] for c in answer.json()["companies"]])

    return seed


@pytest.fixture
def auth_client(sandbox):
    def make(**kwargs) -> AuthClient:
        return AuthClient(
            client_id=kwargs.get("client_id", sandbox.intuit_client_id),
            client_secret=kwargs.get("client_secret", sandbox.intuit_client_secret),
            redirect_uri=kwargs.get("redirect_uri", REDIRECT_URI),
            environment=sandbox.discovery_url,
        )

    return make


@pytest.fixture
def app_registration(sandbox):
    """Change the app's registration for one test; restored afterwards."""
    url = f"{sandbox.url}/_sandbox/intuit/app"
    before = requests.get(url, timeout=10).json()

    def change(**values) -> dict:
        answer = requests.post(url, json=values, timeout=10)
        assert answer.status_code == 200, answer.text
        return answer.json()

    yield change
    editable = {k: v for k, v in before.items() if k not in ("client_id", "name", "slug")}
    requests.post(url, json=editable, timeout=10).raise_for_status()


def connect(
    sandbox, browser: Browser, auth: AuthClient, identity: Identity, scopes=SCOPES, **choice
) -> dict:
    """Drive the authorize pages to Allow; the callback query (code, state, realmId)."""
    state = uuid.uuid4().hex
    page = browser.get(auth.get_authorization_url(scopes, state_token=state))
    # Each step answers with the next page itself.
    if 'name="password"' in page.text:
        page = browser.submit(page, "Sign in", email=identity.email, password=PASSWORD)
    if "Which company" in page.text:
        page = browser.submit(page, "Next", **choice)
    query = callback_query(browser.submit(page, "Allow"))
    assert query["state"] == state
    return query


@pytest.fixture
def connected(sandbox, seed_identity, auth_client):
    """A fresh identity whose one company is connected to the app: (identity, AuthClient)."""
    identity = seed_identity()
    auth = auth_client()
    query = connect(sandbox, Browser(sandbox), auth, identity)
    auth.get_bearer_token(query["code"], realm_id=query["realmId"])
    return identity, auth
