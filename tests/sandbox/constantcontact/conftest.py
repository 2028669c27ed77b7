"""Fixtures for the sandbox's Constant Contact: accounts, the OAuth dance through the pages,
and an API client whose every call is checked against Constant Contact's OpenAPI spec."""

import contextlib
import copy
import json
import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
import requests
from openapi_core import OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse
from openapi_core.templating.responses.exceptions import ResponseNotFound
from requests_oauthlib import OAuth2Session

from support.query_string import query_of
from support.specs import CONSTANT_CONTACT_SPEC, shared_spec

SPEC_PATH = shared_spec(CONSTANT_CONTACT_SPEC)
SPEC_SERVER = "https://api.cc.email/v3"
REDIRECT_URI = "http://127.0.0.1:8000/auth/constantcontact/callback/"
SCOPES = ["contact_data", "offline_access", "account_read"]


def _fix_spec(spec: dict) -> dict:
    """Known inconsistencies of the spec (build 3.0.161) with Constant Contact's documented
    behaviour, patched so that they do not hide real contract breaks:

    1. Query parameters declared `type: string, format: csv` with an `enum` (contacts
       `include`/`status`, account `extra_fields`) document comma-separated values, but an
       enum only admits one (and no validator knows a "csv" format): they become a pattern
       of comma-separated enum values.
    2. `list_memberships` of PUT/POST /contacts is marked readOnly in the request bodies,
       yet it is how a PUT sets a contact's lists (the docs' own examples send it).
    """
    spec = copy.deepcopy(spec)
    for item in spec["paths"].values():
        for operation in item.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                schema = parameter.get("schema", {})
                if schema.get("format") == "csv" and "enum" in schema:
                    del schema["format"]  # not a format openapi-core knows either
                    one = "|".join(re.escape(value) for value in schema.pop("enum"))
                    schema["pattern"] = f"^({one})(,({one}))*$"
    schemas = spec["components"]["schemas"]
    for name in ("updateContact_request", "createContact_request"):
        schemas[name]["properties"]["list_memberships"]["items"].pop("readOnly", None)
    return spec


@pytest.fixture(scope="session")
def cc_spec_dict() -> dict:
    return _fix_spec(json.loads(SPEC_PATH.read_text()))


@pytest.fixture(scope="session")
def cc_spec(cc_spec_dict) -> OpenAPI:
    return OpenAPI.from_dict(cc_spec_dict)


class Contract:
    """Validates every V3 call made through a session it is hooked into: the request against
    the spec's operation, the response against the operation's documented status and body,
    and every error body against the documented error array."""

    def __init__(self, spec: OpenAPI, spec_dict: dict, api_base: str) -> None:
        self.spec = spec
        self.api_base = api_base
        self.error_schema = {
            **spec_dict["components"]["schemas"]["APIErrorSchema"],
            "components": spec_dict["components"],
        }
        self.invalid_request_expected = False
        self.sample_imports = False
        self.checked = 0
        self.undocumented: list[tuple[str, str, int]] = []

    def hook(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        if response.request.url.startswith(self.api_base + "/"):
            self.check(response)

    def check(self, response: requests.Response) -> None:
        prepared = response.request.copy()
        prepared.url = SPEC_SERVER + prepared.url[len(self.api_base) :]
        if self.sample_imports:
            body = json.loads(prepared.body)
            prepared.prepare_body(None, None, {**body, "import_data": body["import_data"][:50]})
        request = RequestsOpenAPIRequest(prepared)
        request_errors = self.spec.unmarshal_request(request).errors
        if self.invalid_request_expected:
            assert request_errors, f"the spec accepts this request: {prepared.url}"
        else:
            assert not request_errors, f"{prepared.method} {prepared.url}: {request_errors}"
        if response.status_code >= 400:
            jsonschema.validate(response.json(), self.error_schema)
        try:
            self.spec.validate_response(request, RequestsOpenAPIResponse(response))
        except ResponseNotFound:
            # The spec documents 429 only on the bulk activity endpoints, though the limits
            # apply to every call: the error array was checked above.
            assert response.status_code == 429, response.text
            self.undocumented.append((prepared.method, prepared.path_url, 429))
        self.checked += 1

    @contextlib.contextmanager
    def expect_invalid_request(self) -> Iterator[None]:
        """For requests the spec itself forbids (too long, too many...): the sandbox must
        refuse them too, with a documented error."""
        self.invalid_request_expected = True
        try:
            yield
        finally:
            self.invalid_request_expected = False

    @contextlib.contextmanager
    def sampled_imports(self) -> Iterator[None]:
        """openapi-core takes minutes over 40,000 rows: check the request's first 50 rows
        (the rows are alike), and the response in full."""
        self.sample_imports = True
        try:
            yield
        finally:
            self.sample_imports = False


class CCApi:
    """A V3 client over one access token; every call goes through the contract."""

    def __init__(self, base: str, token: str, contract: Contract) -> None:
        self.base = base
        self.contract = contract
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.session.hooks["response"].append(contract.hook)

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.session.request(method, self.base + path, timeout=30, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("PUT", path, **kwargs)

    def follow(self, href: str) -> requests.Response:
        """`_links.*.href` is relative to the API host, as at Constant Contact ("/v3/...")."""
        assert href.startswith("/v3/"), href
        return self.call("GET", href[len("/v3") :])

    def all_contacts(self, query: str) -> list[dict]:
        found, answer = [], self.get(f"/contacts?{query}")
        while True:
            assert answer.status_code == 200, answer.text
            found += answer.json()["contacts"]
            link = answer.json().get("_links", {}).get("next")
            if not link:
                return found
            answer = self.follow(link["href"])


@pytest.fixture
def contract(sandbox, cc_spec, cc_spec_dict) -> Contract:
    return Contract(cc_spec, cc_spec_dict, sandbox.cc_api_base)


@pytest.fixture(autouse=True)
def _relaxed_limits(sandbox, monkeypatch):
    """Tests run calls back to back: the limits are on only where a test turns them on.
    (oauthlib refuses plain-HTTP token URLs unless told that this is a test.)"""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    sandbox.set_knobs(enforce_rate_limits=False)
    yield
    sandbox.reset_knobs()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def seed(sandbox, **body: Any) -> dict:
    answer = requests.post(f"{sandbox.url}/_sandbox/cc/accounts", json=body, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.fixture
def cc_account(sandbox) -> dict:
    """A fresh account (password "pw") with two lists and one unsubscribed contact."""
    username = unique("user")
    made = seed(
        sandbox,
        username=username,
        password="pw",
        list_names=["Customers", "Donors"],
        unsubscribed_emails=["gone@example.com"],
    )
    return {**made, "password": "pw"}


def wait_completed(api, activity_id: str, *, timeout: float = 20) -> dict:
    """The activity once completed (or as it is after `timeout` seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        activity = api.get(f"/activities/{activity_id}").json()
        if activity["state"] == "completed" or time.monotonic() > deadline:
            return activity
        time.sleep(0.2)


def contacts_by_email(sandbox, username: str) -> dict[str, dict]:
    """Every contact of the account, as the control API lists them, by email address."""
    answer = requests.get(f"{sandbox.url}/_sandbox/cc/accounts/{username}/contacts", timeout=30)
    answer.raise_for_status()
    return {item["email"]: item for item in answer.json()["contacts"]}


def form_fields(html: str) -> dict[str, str]:
    """The named inputs of the page's last form, hidden ones and the CSRF token included."""
    form = html[html.rindex("<form") :]
    fields = {}
    for tag in re.findall(r"<input[^>]*>", form):
        name = re.search(r'name="([^"]*)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name:
            fields[name.group(1)] = _unescape(value.group(1)) if value else ""
    return fields


def _unescape(value: str) -> str:
    for escaped, plain in (
        ("&amp;", "&"),
        ("&quot;", '"'),
        ("&#x27;", "'"),
        ("&lt;", "<"),
        ("&gt;", ">"),
    ):
        value = value.replace(escaped, plain)
    return value


class Browser:
    """A person at the sandbox's Constant Contact pages (requests.Session, no redirects
    followed into the app)."""

    def __init__(self, sandbox) -> None:
        self.url = sandbox.url
        self.session = requests.Session()

    def get(self, path_or_url: str) -> requests.Response:
        url = path_or_url if path_or_url.startswith("http") else self.url + path_or_url
        return self.session.get(url, allow_redirects=False, timeout=30)

    def submit(self, page: requests.Response, **values: str) -> requests.Response:
        action = re.findall(r'<form method="post" action="([^"]*)"', page.text)[-1]
        data = {**form_fields(page.text), **values}
        return self.session.post(self.url + action, data=data, allow_redirects=False, timeout=30)

    def log_in(
        self, page: requests.Response, username: str, password: str, **extra
    ) -> requests.Response:
        assert "Log In" in page.text
        return self.submit(page, username=username, password=password, **extra)


def start_authorization(sandbox) -> tuple[OAuth2Session, str]:
    oauth = OAuth2Session(
        sandbox.cc_client_id, redirect_uri=REDIRECT_URI, scope=SCOPES, pkce="S256"
    )
    url, _state = oauth.authorization_url(f"{sandbox.cc_oauth_base}/authorize")
    return oauth, url


def authorize(
    sandbox, browser: Browser, account: dict, *, decision: str = "allow"
) -> requests.Response:
    """Through the pages: authorize -> log in -> consent -> the redirect to the app."""
    _, url = start_authorization(sandbox)
    return consent(browser, url, account, decision=decision)


def consent(
    browser: Browser, url: str, account: dict, *, decision: str = "allow"
) -> requests.Response:
    answer = browser.get(url)
    if answer.status_code == 302 and "/cc/login" in answer.headers["Location"]:
        answer = browser.log_in(
            browser.get(answer.headers["Location"]), account["username"], account["password"]
        )
        assert answer.status_code == 302, answer.text
        answer = browser.get(answer.headers["Location"])
    assert answer.status_code == 200, answer.text
    assert "Allow Access?" in answer.text
    return browser.submit(answer, decision=decision)


def callback_query(answer: requests.Response) -> dict[str, str]:
    assert answer.status_code == 302, answer.text
    location = answer.headers["Location"]
    assert location.startswith(REDIRECT_URI), location
    return query_of(location)


def tokens_for(sandbox, account: dict) -> dict:
    oauth, url = start_authorization(sandbox)
    answer = consent(Browser(sandbox), url, account)
    return oauth.fetch_token(
        f"{sandbox.cc_oauth_base}/token",
        authorization_response=answer.headers["Location"],
        client_secret=sandbox.cc_client_secret,
    )


class FixedToken:
    """The app's TokenSource over one fresh access token, which is never refused."""

    def __init__(self, token: str) -> None:
        self.token = token

    def access_token(self) -> str:
        return self.token

    def renew(self, *, rejected: str) -> str:
        raise AssertionError("a fresh token is not refused")


@pytest.fixture
def api(sandbox, cc_account, contract) -> CCApi:
    """The V3 API as cc_account, with a token obtained through the real flow."""
    token = tokens_for(sandbox, cc_account)
    return CCApi(sandbox.cc_api_base, token["access_token"], contract)
