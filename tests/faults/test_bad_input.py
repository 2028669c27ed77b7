"""Bad input everywhere: the webhook endpoint fuzzed with malformed, oversized and forged
bodies, the OAuth callbacks with forged, missing and replayed parameters. Never a 500,
never a state change, never a token or an email address in the logs."""

import json
import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ccsync.sync.models import CustomerRecord, Run, TenantSync, WebhookEvent
from support.query_string import query_of
from tenants.models import (
    ConstantContactConnection,
    ListSelection,
    Membership,
    QuickBooksConnection,
    Tenant,
    User,
)
from tests.sync.conftest import Company, sign

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
VICTIM = "victim.person@example.com"
MAX_BYTES = 4_000
# The same examples every run (no flake in CI; a new seed explores more), no example files.
FUZZ = settings(
    max_examples=40,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
WEBHOOK = "/webhooks/quickbooks/"


def state_of_the_world() -> dict[str, Any]:
    """Every row a bad request could create or change (tokens included, decrypted)."""
    connections = [
        (c.state, c.access_token, c.refresh_token)
        for model in (QuickBooksConnection, ConstantContactConnection)
        for c in model.objects.order_by("pk")
    ]
    return {
        "tenants": list(Tenant.objects.order_by("pk").values_list("pk", "state", "installed_at")),
        "users": list(User.objects.order_by("pk").values_list("pk", "email")),
        "memberships": Membership.objects.count(),
        "connections": connections,
        "lists": ListSelection.objects.count(),
        "runs": list(Run.objects.order_by("pk").values_list("pk", "state")),
        "records": CustomerRecord.objects.count(),
        "events": WebhookEvent.objects.count(),
        "sync_state": list(TenantSync.objects.order_by("pk").values_list()),
    }


def secrets_in_logs(text: str) -> list[str]:
    """Tokens of every connection, and any email address, found in `text`."""
    tokens = [
        token
        for model in (QuickBooksConnection, ConstantContactConnection)
        for c in model.objects.all()
        for token in (c.access_token, c.refresh_token)
        if token
    ]
    found = [f"token …{token[-6:]}" for token in tokens if token in text]
    return found + [match.group(0) for match in EMAIL.finditer(text)]


@pytest.fixture
def unchanged(caplog) -> Callable[[], None]:
    """Snapshot the world now; the returned check asserts nothing changed and the logs
    (captured at DEBUG) hold no secret."""
    caplog.set_level(logging.DEBUG)
    before = state_of_the_world()

    def check() -> None:
        assert state_of_the_world() == before
        assert not secrets_in_logs(caplog.text), secrets_in_logs(caplog.text)

    return check


@pytest.fixture
def owner(installed, settings):
    """A connected company whose first sync is done, so webhooks would matter; its owner's
    browser is signed in to our app (and to Intuit)."""
    settings.SYNC_WEBHOOK_MAX_BYTES = MAX_BYTES
    made = installed(customers=3)
    made.company.run()
    return made


@pytest.fixture
def company(owner) -> Company:
    return owner.company


@pytest.fixture
def tenant(company) -> Tenant:
    return company.tenant


# --- the webhook endpoint ---------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


def cloud_event(realm_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": "evt-1",
        "source": "intuit.qbo",
        "type": "qbo.customer.updated.v1",
        "time": datetime.now(UTC).isoformat(),
        "intuitentityid": "1",
        "intuitaccountid": realm_id,
        **fields,
    }


@st.composite
def broken_events(draw, realm_id: str) -> bytes:
    """Nearly valid CloudEvents for a company we do not serve: some fields replaced by junk
    (an email address among it), so the parser is reached and must cope."""
    fields = draw(
        st.dictionaries(
            st.sampled_from(["id", "type", "time", "intuitentityid", "intuitaccountid", "data"]),
            json_values | st.just(VICTIM),
            max_size=4,
        )
    )
    events = draw(st.lists(st.just(cloud_event(realm_id, **fields)), min_size=1, max_size=3))
    return json.dumps(draw(st.sampled_from([events, {"eventNotifications": events}]))).encode()


def post(body: bytes, signature: str | None, **headers: str):
    extra = {"HTTP_INTUIT_SIGNATURE": signature} if signature is not None else {}
    return Client().post(WEBHOOK, data=body, content_type="application/json", **extra, **headers)


@FUZZ
@given(body=st.binary(max_size=600) | json_values.map(lambda v: json.dumps(v).encode()))
def test_signed_garbage_is_refused_or_ignored(tenant, unchanged, body):
    assert post(body, sign(body)).status_code in (200, 400)
    unchanged()


@FUZZ
@given(data=st.data())
def test_signed_broken_events_are_refused_or_ignored(tenant, unchanged, data):
    body = data.draw(broken_events("99999999999"))
    assert post(body, sign(body)).status_code in (200, 400, 413)
    unchanged()


@FUZZ
@given(
    signature=st.none() | st.text(max_size=60) | st.sampled_from(["", "=", "a" * 44]),
    wrong_key=st.booleans(),
)
def test_forged_deliveries_for_a_served_company_are_refused(
    tenant, unchanged, signature, wrong_key
):
    body = json.dumps([cloud_event(tenant.realm_id, id=f"forged-{signature}")]).encode()
    if wrong_key:
        signature = sign(body, token="not-the-verifier")
    assert post(body, signature).status_code == 401
    unchanged()


@FUZZ
@given(extra=st.integers(min_value=1, max_value=3 * MAX_BYTES), lie=st.booleans())
def test_oversized_bodies_are_refused(tenant, unchanged, extra, lie):
    event = cloud_event(tenant.realm_id, data={"pad": "x" * (MAX_BYTES + extra)})
    body = json.dumps([event]).encode()
    # A client may also claim a small body and send a big one: only what it declared is
    # read, and that does not match the signature.
    headers = {"CONTENT_LENGTH": "10"} if lie else {}
    assert post(body, sign(body), **headers).status_code == (401 if lie else 413)
    unchanged()


# --- the OAuth callbacks ----------------------------------------------------------------------

PARAM_NAMES = ["state", "code", "realmId", "error", "error_description"]
FLOW_STARTS = {
    "/auth/intuit/callback/": "/connect/",
    "/auth/constantcontact/callback/": "/constantcontact/connect/",
}
param_values = st.text(max_size=40) | st.sampled_from(["access_denied", "123", VICTIM, ""])


@FUZZ
@given(params=st.dictionaries(st.sampled_from(PARAM_NAMES), param_values, max_size=5))
@pytest.mark.parametrize("path", ["/auth/intuit/callback/", "/auth/constantcontact/callback/"])
def test_callbacks_with_forged_or_missing_parameters(company, unchanged, path, params):
    """A stranger's browser, and the owner's without and with a flow started (so a state to
    compare): forged or missing state, codes, realms and errors."""
    owner = company.journey.client
    for client in (Client(), owner):
        assert client.get(f"{path}?{urlencode(params)}").status_code < 500
    assert owner.get(FLOW_STARTS[path]).status_code == 302
    assert owner.get(f"{path}?{urlencode(params)}").status_code < 500
    unchanged()


next_values = (
    st.text(max_size=40)
    | st.sampled_from(["abc", "status", "//evil.example/", "/\\evil", "javascript:x"])
    | st.text(alphabet="/\\:.%?#@abcxyz", max_size=20)
)
GET_PAGES = [
    "/launch/",
    "/connect/",
    "/disconnect/",
    "/disconnect/sign-in/",
    "/reconnect/",
    "/",
    "/status/",
    "/settings/",
]


@FUZZ
@given(next_value=next_values, realm=st.sampled_from(["", "123", "abc", VICTIM]))
@pytest.mark.parametrize("path", GET_PAGES)
def test_get_pages_with_any_next_never_fail(company, unchanged, path, next_value, realm):
    """Every GET page, with and without a session, whatever `next` and realmId say: no
    500, no redirect off the site, nothing changed."""
    for client in (Client(), company.journey.client):
        answer = client.get(path, {"next": next_value, "realmId": realm})
        assert answer.status_code < 500
        location = answer.get("Location", "")
        assert not location or location.startswith(("/", company.journey.sandbox.url))
    unchanged()


@FUZZ
@given(next_value=next_values)
def test_a_launch_with_any_next_comes_back_signed_in(owner, next_value):
    """Launch with any `next`, through Intuit's real sign-in and the callback: signed in,
    on a page of the site, never a 500."""
    journey = owner.company.journey
    client = Client()
    answer = client.get("/launch/", {"next": next_value})
    assert answer.status_code == 302
    back = journey.browser.intuit_authorize(answer["Location"], owner.identity)
    parts = urlsplit(back)
    answer = client.get(f"{parts.path}?{parts.query}")
    assert answer.status_code == 302 and answer["Location"].startswith("/")
    assert not answer["Location"].startswith(("//", "/\\"))
    assert client.session["_auth_user_id"]


def test_a_replayed_callback_changes_nothing(installed, caplog):
    """The genuine answers of a whole install, given to our app again (same session and
    another): refused, and nothing changes."""
    caplog.set_level(logging.DEBUG)
    company = installed(customers=2)
    journey = company.company.journey
    to_intuit = journey.start_install()
    intuit_back = journey.browser.intuit_authorize(to_intuit, company.identity)
    assert journey.get(intuit_back).status_code == 302
    to_cc = journey.client.get("/constantcontact/connect/")["Location"]
    cc_back = journey.browser.cc_authorize(to_cc, company.account)
    assert journey.get(cc_back).status_code == 302
    assert query_of(intuit_back)["state"] and query_of(cc_back)["code"]

    before = state_of_the_world()
    for client in (journey.client, Client()):
        for back in (intuit_back, cc_back):
            parts = urlsplit(back)
            assert client.get(f"{parts.path}?{parts.query}").status_code == 400
    assert state_of_the_world() == before
    assert not secrets_in_logs(caplog.text)
