"""Provider faults injected through the sandbox's knobs while the sync task runs (in
process; Celery's retries run at once instead of after their backoff): the run resumes from
its checkpoint after every passing error and the list ends equal to QuickBooks'. Faults
that cannot pass (a revoked grant) break the connection until the person reconnects."""

from datetime import timedelta

import pytest

from ccsync.sync import dispatch, runs, selectors, tasks
from ccsync.sync.models import Run
from integrations import http
from integrations.constantcontact import oauth as cc_oauth
from integrations.quickbooks import oauth as qb_oauth
from tenants.models import ConstantContactConnection, QuickBooksConnection
from tests.faults.expect import assert_list_matches_company, differences

FAULTS = {
    f"{provider}_{knob}": rate
    for provider in ("quickbooks", "constantcontact")
    for knob, rate in (("error_rate", 0.10), ("throttle_rate", 0.05), ("drop_rate", 0.05))
}


def run_task(run: Run) -> Run:
    tasks.run_sync.apply(args=[run.pk])
    run.refresh_from_db()
    return run


def change_customers(installed) -> None:
    """Edits, an email change, a new customer: each with its webhook, delivered to us."""
    company = installed.company
    customers = [c for c in company.customers() if c.get("PrimaryEmailAddr") and c["Active"]]
    first, second, third = customers[:3]
    company.change(first["Id"], GivenName="Renamed", FamilyName="Twice")
    company.change(second["Id"], PrimaryEmailAddr={"Address": "moved.away@example.com"})
    company.change(third["Id"], FamilyName="Edited")
    (added,) = company.add(
        {
            "DisplayName": "New Comer",
            "GivenName": "New",
            "FamilyName": "Comer",
            "PrimaryEmailAddr": {"Address": "new.comer@example.com"},
        }
    )
    changes = [("updated", c["Id"]) for c in (first, second, third)] + [("created", added["Id"])]
    assert company.webhook(*changes) == 200


def test_first_syncs_and_runs_of_changes_through_5xx_429_and_dropped_connections(
    installed, knobs, monkeypatch
):
    monkeypatch.setattr(http, "THROTTLE_BACKOFF", (0.1, 0.2, 0.4))
    company = installed(customers=30)
    knobs(**FAULTS)
    run = run_task(selectors.open_run(tenant=company.company.tenant))
    assert run.state == Run.State.COMPLETED, run.error
    assert_list_matches_company(company.target)

    change_customers(company)
    changes = dispatch.start_changes(tenant_id=company.company.tenant.pk)
    run = run_task(changes)
    assert run.state == Run.State.COMPLETED, run.error
    assert_list_matches_company(company.target)


def test_access_tokens_expiring_mid_run_are_renewed(installed, knobs, monkeypatch):
    # Tokens live one second and are used until refused (no refresh ahead of time), with
    # every call slowed down: both providers answer 401 mid-run, more than once.
    monkeypatch.setattr("tenants.tokens.REFRESH_MARGIN", timedelta(0))
    knobs(intuit_access_token_ttl=1, cc_access_token_ttl=1)
    company = installed(customers=20)
    tenant = company.company.tenant
    before = {
        model: model.objects.get(tenant=tenant).refresh_token
        for model in (QuickBooksConnection, ConstantContactConnection)
    }
    knobs(quickbooks_latency_ms=250, constantcontact_latency_ms=250)
    run = run_task(selectors.open_run(tenant=tenant))
    assert run.state == Run.State.COMPLETED, run.error
    assert_list_matches_company(company.target)
    for model, old_refresh_token in before.items():
        connection = model.objects.get(tenant=tenant)
        assert connection.is_connected and connection.refreshed_at is not None
        assert connection.refresh_token != old_refresh_token  # rotated, and the new one saved


@pytest.mark.parametrize("provider", ["intuit", "constantcontact"])
def test_a_revoked_grant_breaks_the_connection_and_a_reconnect_finishes(
    installed, monkeypatch, provider
):
    company = installed(customers=20)
    tenant = company.company.tenant
    model, revoke = {
        "intuit": (QuickBooksConnection, qb_oauth.revoke),
        "constantcontact": (ConstantContactConnection, cc_oauth.revoke),
    }[provider]
    stored = model.objects.get(tenant=tenant)
    tokens = (stored.access_token, stored.refresh_token)

    real, calls = runs.checkpoint, {"n": 0}

    def revoke_midway(sync, **changes):
        real(sync, **changes)
        calls["n"] += 1
        if calls["n"] == 4:  # some pages read: the person revokes the app's access
            revoke(token=tokens[1])

    monkeypatch.setattr(runs, "checkpoint", revoke_midway)
    run = run_task(selectors.open_run(tenant=tenant))
    monkeypatch.undo()

    assert run.state == Run.State.FAILED
    assert "reconnect" in run.error.lower()
    broken = model.objects.get(tenant=tenant)
    assert broken.is_broken
    assert (broken.access_token, broken.refresh_token) == tokens  # nothing half-saved
    page = company.company.journey.client.get("/status/").content.decode()
    reconnect = "Reconnect QuickBooks" if provider == "intuit" else "Reconnect Constant Contact"
    assert reconnect in page
    # Nothing was sent that should not be: at most some eligible customers are missing.
    assert all(problem.startswith("missing: ") for problem in differences(company.target))

    journey = company.company.journey
    if provider == "intuit":
        answer = journey.install(company.identity)
    else:
        answer = journey.connect_constantcontact(company.account)
    assert answer.status_code == 302
    assert model.objects.get(tenant=tenant).is_connected
    resumed = selectors.open_run(tenant=tenant)
    assert resumed is not None, "reconnecting did not start the sync again"
    assert run_task(resumed).state == Run.State.COMPLETED
    assert_list_matches_company(company.target)
    assert "Reconnect" not in journey.client.get("/status/").content.decode()
