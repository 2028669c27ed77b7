"""The install journey driven like a person would: our app through Django's test client,
Intuit's and Constant Contact's pages through a requests.Session on the running sandbox."""

import uuid
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from django.test import Client

from support.accounts import PASSWORD, Account, Browser, Identity


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

    def full_install(self, identity: Identity, account: Account, list_name: str, **choices: Any):
        """Install, Allow Constant Contact, choose the list (and any other Settings
        `choices`, e.g. the sales data section's) and Connect: the success page."""
        assert self.install(identity)["Location"] == "/constantcontact/connect/"
        assert self.connect_constantcontact(account)["Location"] == "/settings/"
        return self.client.post("/settings/", {"list_id": account.lists[list_name], **choices})


@pytest.fixture
def journey(sandbox, sandbox_settings, db) -> Journey:
    return Journey(sandbox)


@pytest.fixture
def new_journey(sandbox, sandbox_settings, db):
    """Another person with their own browser and session."""
    return lambda: Journey(sandbox)
