"""A person's side of the install journey on the sandbox: an Intuit identity, a Constant
Contact account, and a browser that signs in and consents on the sandbox's pages."""

from dataclasses import dataclass
from urllib.parse import urljoin

import requests

from support.html_page import Page
from support.sandbox_server import Sandbox

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

    def __init__(self, sandbox: Sandbox) -> None:
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
        assert self.page is not None, "open a page before pressing its buttons"
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
