"""QuickBooks answering 403 / Fault 3100 ApplicationAuthorizationFailed to a valid token:
the connection is broken until the user reconnects, like a refused token refresh (the
banner with its reconnect button, the email), whether a run or beat's check meets it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from ccsync.sync import catch_up, tasks
from ccsync.sync.models import Run, TenantSync
from tenants import selectors as tenant_selectors
from tests.plugins.companies import cc_api_calls, person

BROKEN_EMAIL = "tenants.email_connection_broken"


@pytest.fixture
def synced(install):
    company = install(person("Ann Lee", "ann@example.com"))
    assert company.run().state == Run.State.COMPLETED
    return company


def assert_quickbooks_broken(company, enqueued) -> None:
    connection = tenant_selectors.quickbooks_connection(tenant=company.tenant)
    assert connection.is_broken
    assert "QuickBooks refused the app's authorization" in connection.reason
    assert [job.args for job in enqueued if job.task == BROKEN_EMAIL] == [
        (company.tenant.pk, "quickbooksconnection")
    ]
    status = company.journey.client.get("/status/").content.decode()
    assert "Reconnect QuickBooks" in status


def test_a_run_meeting_fault_3100_breaks_the_connection(
    synced, knobs, enqueued, django_capture_on_commit_callbacks
):
    """Intuit's error codes: 403 Forbidden, Fault 3100 ApplicationAuthorizationFailed.
    https://developer.intuit.com/app/developer/qbo/docs/develop/troubleshooting/error-codes"""
    ann = synced.customer_id("Ann Lee")
    synced.change(ann, FamilyName="Refused")
    knobs(quickbooks_forbidden_realms=[synced.realm_id])
    assert synced.webhook(("updated", ann)) == 200

    with django_capture_on_commit_callbacks(execute=True):
        run = synced.sync_changes(confirm=False)

    assert run.state == Run.State.FAILED
    assert "reconnect" in run.error
    assert run.constantcontact_calls == 0
    assert_quickbooks_broken(synced, enqueued)


def test_beats_change_check_meeting_fault_3100_breaks_the_connection(
    synced, knobs, enqueued, django_capture_on_commit_callbacks
):
    knobs(quickbooks_forbidden_realms=[synced.realm_id])
    TenantSync.objects.filter(tenant=synced.tenant).update(
        caught_up_at=timezone.now() - timedelta(hours=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        catch_up.catch_up(tenant_id=synced.tenant.pk)
    assert_quickbooks_broken(synced, enqueued)


def test_a_401_after_a_refresh_disconnects_the_company(
    synced, knobs, enqueued, django_capture_on_commit_callbacks
):
    """QuickBooks answering 401 to the tokens of a refresh that worked: Intuit ended the
    grant (its API saw the revoke first; the knob quickbooks_unauthorized_realms). The
    connection is broken at once, and sync.quickbooks_revoked disconnects the company as
    My Apps' Disconnect would. No Constant Contact call is made."""
    knobs(quickbooks_unauthorized_realms=[synced.realm_id])
    before = tenant_selectors.quickbooks_connection(tenant=synced.tenant)
    TenantSync.objects.filter(tenant=synced.tenant).update(
        caught_up_at=timezone.now() - timedelta(hours=1)
    )
    calls = cc_api_calls(synced.sandbox)
    with django_capture_on_commit_callbacks(execute=True):
        catch_up.catch_up(tenant_id=synced.tenant.pk)

    connection = tenant_selectors.quickbooks_connection(tenant=synced.tenant)
    assert connection.refreshed_at != before.refreshed_at  # the refresh itself worked
    assert connection.is_broken
    assert ("sync.quickbooks_revoked", (synced.tenant.pk,)) in [(j.task, j.args) for j in enqueued]
    tasks.quickbooks_revoked(synced.tenant.pk)
    synced.tenant.refresh_from_db()
    assert not synced.tenant.is_connected
    assert (
        "Disconnected in QuickBooks."
        in tenant_selectors.quickbooks_connection(tenant=synced.tenant).reason
    )
    assert cc_api_calls(synced.sandbox) == calls  # its token revoked, no API call
