"""Intuit's App Store bookkeeping: the webhook targets sandbox.quickbooks sends to, and
seeding identities and companies.

webhook_targets runs inside the sandbox (its own settings and database), so it is called
through `python -m sandbox shell` against the running server's database.
"""

import requests

from tests.plugins.intuit_pages import Browser, run_in_sandbox


def targets_for(sandbox, realm_id: str) -> list[dict]:
    return run_in_sandbox(
        sandbox,
        "import json, dataclasses; from sandbox.intuit.services import webhook_targets as w; "
        f"print(json.dumps([dataclasses.asdict(t) for t in w(realm_id={realm_id!r})]))",
    )


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
