"""What sandbox.quickbooks relies on: realm_for_access_token and webhook_targets.

They run inside the sandbox (its own settings and database), so they are called through
`python -m sandbox shell` against the running server's database.
"""

import json

import requests
from intuitlib.enums import Scopes

from tests.sandbox.intuit.conftest import Browser, connect


def run_in_sandbox(sandbox, code: str):
    """The JSON the code prints, run by the sandbox's own Django against its database."""
    return json.loads(sandbox.manage("shell", "-c", code).strip().splitlines()[-1])


def realm_for(sandbox, token: str) -> str | None:
    return run_in_sandbox(
        sandbox,
        "import json; from sandbox.intuit.services import realm_for_access_token as r; "
        f"print(json.dumps(r(token={token!r})))",
    )


def targets_for(sandbox, realm_id: str) -> list[dict]:
    return run_in_sandbox(
        sandbox,
        "import json, dataclasses; from sandbox.intuit.services import webhook_targets as w; "
        f"print(json.dumps([dataclasses.asdict(t) for t in w(realm_id={realm_id!r})]))",
    )


def test_realm_for_access_token(sandbox, connected, auth_client):
    identity, auth = connected
    assert realm_for(sandbox, auth.access_token) == identity.realm_ids[0]
    assert realm_for(sandbox, "not-a-token") is None
    auth_client().revoke(token=auth.refresh_token)
    assert realm_for(sandbox, auth.access_token) is None


def test_realm_needs_an_unexpired_accounting_token(sandbox, seed_identity, auth_client):
    identity = seed_identity()
    openid_only = auth_client()
    query = connect(
        sandbox, Browser(sandbox), openid_only, identity, scopes=[Scopes.OPENID, Scopes.EMAIL]
    )
    openid_only.get_bearer_token(query["code"])
    assert openid_only.access_token
    assert realm_for(sandbox, openid_only.access_token) is None

    expired = auth_client()
    query = connect(sandbox, Browser(sandbox), expired, identity)
    with sandbox.knobs(intuit_access_token_ttl=0):
        expired.get_bearer_token(query["code"])
    assert realm_for(sandbox, expired.access_token) is None


def test_webhook_targets(sandbox, connected, seed_identity, auth_client, app_registration):
    identity, auth = connected
    registration = requests.get(f"{sandbox.url}/_sandbox/intuit/app", timeout=10).json()
    assert targets_for(sandbox, identity.realm_ids[0]) == [
        {
            "url": registration["webhook_url"],
            "verifier_token": sandbox.webhook_verifier_token,
        }
    ]
    # A company that never connected the app gets no webhooks.
    assert targets_for(sandbox, seed_identity().realm_ids[0]) == []
    app_registration(webhook_url="")
    assert targets_for(sandbox, identity.realm_ids[0]) == []
    app_registration(webhook_url=registration["webhook_url"])
    auth_client().revoke(token=auth.access_token)
    assert targets_for(sandbox, identity.realm_ids[0]) == []


def test_id_token_encoding_avoids_base64url_only_characters(sandbox):
    """Claims full of the characters that would give '-' or '_' still decode with b64decode."""
    claims = run_in_sandbox(
        sandbox,
        "import json, base64; from sandbox.intuit.idtokens import sign; "
        "token = sign({'x': '?>~o/O_' * 9, 'y': 'ü/?'}); "
        "head, body, _ = token.split('.'); "
        "assert not set('-_') & set(head + body), token; "
        "print(base64.b64decode(body + '===').decode())",
    )
    assert claims == {"x": "?>~o/O_" * 9, "y": "ü/?"}


def test_seeding_is_idempotent_by_email_and_company_name(sandbox):
    body = {
        "email": "seed-twice@example.com",
        "password": "first",
        "name": "Sam Seed",
        "company_names": ["Seed Twice Books", "Seed Twice Garden"],
    }
    url = f"{sandbox.url}/_sandbox/intuit/companies"
    first = requests.post(url, json=body, timeout=10).json()["companies"]
    again = requests.post(url, json={**body, "password": "second"}, timeout=10).json()["companies"]
    assert first == again
    assert all(company["realm_id"].isdigit() for company in first)
    assert requests.post(url, json={"email": "x@example.com"}, timeout=10).status_code == 400
    # The password of the second run is the one that signs in.
    browser = Browser(sandbox)
    page = browser.get("/qbo/")
    assert browser.submit(page, "Sign in", email=body["email"], password="first").status_code == 401
    page = browser.get("/qbo/")
    assert (
        browser.submit(page, "Sign in", email=body["email"], password="second").status_code == 302
    )
