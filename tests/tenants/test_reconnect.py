"""The Reconnect URL (an app setting Intuit requires since January 2026) and the refresh
token's five-year limit: stored from Intuit's answer, a banner and one email per person
30 days before, reconnecting keeps everything and replaces the date.

Sources: Intuit's developer blog, "Important changes to refresh token policy", 2025-11-12
(https://blogs.a.intuit.com/2025/11/12/important-changes-to-refresh-token-policy);
intuit-oauth 1.2.7 (x-include-refresh-token-hard-expires-in, x_refresh_token_hard_expires_in).
"""

from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from ccsync.sync import services as sync_services
from support.query_string import query_of
from tenants import tasks
from tenants.models import (
    ConstantContactConnection,
    ListSelection,
    Membership,
    QuickBooksConnection,
    Tenant,
    User,
)
from tenants.tokens import QuickBooksTokenSource, mark_broken, warn_of_expiring_grants

DAY = timedelta(days=1)
FIVE_YEARS = timedelta(days=5 * 365)
EXPIRY_EMAIL = "tenants.email_quickbooks_expiring"


@pytest.fixture
def resumed(monkeypatch):
    """The runs reconnecting starts (sync now), recorded instead of run."""
    started = []
    monkeypatch.setattr(sync_services, "start_first_sync", lambda *, tenant: None)
    monkeypatch.setattr(sync_services, "sync_now", lambda *, tenant: started.append(tenant.pk))
    return started


@pytest.fixture
def installed(journey, resumed):
    identity = journey.new_identity()
    account = journey.new_account("Customers")
    assert journey.full_install(identity, account, "Customers").status_code == 200
    return identity, account, Tenant.objects.get(realm_id=identity.realm_id)


def cc_api_calls(sandbox) -> int:
    return requests.get(f"{sandbox.url}/_sandbox/cc/usage", timeout=10).json()["calls_total"]


def hard_expiry(tenant: Tenant):
    return QuickBooksConnection.objects.get(tenant=tenant).hard_expires_at


def test_an_install_stores_the_grants_five_year_limit(installed):
    _, _, tenant = installed
    left = hard_expiry(tenant) - timezone.now()
    assert FIVE_YEARS - DAY < left <= FIVE_YEARS


def test_an_answer_without_the_field_is_tolerated_and_a_refresh_keeps_the_known_date(
    journey, resumed, knobs
):
    """Before Intuit gives the field (or if it ever leaves it out), nothing is stored and
    nothing warned; a refresh of the same grant that leaves it out keeps what is known."""
    knobs(intuit_refresh_token_hard_expiry="never")
    identity = journey.new_identity()
    assert journey.install(identity).status_code == 302
    tenant = Tenant.objects.get(realm_id=identity.realm_id)
    assert hard_expiry(tenant) is None
    known = timezone.now() + 40 * DAY
    QuickBooksConnection.objects.filter(tenant=tenant).update(hard_expires_at=known)
    refresh(tenant)
    assert hard_expiry(tenant) == known
    knobs(intuit_refresh_token_hard_expiry="requested")
    refresh(tenant)
    assert FIVE_YEARS - DAY < hard_expiry(tenant) - timezone.now() <= FIVE_YEARS


def refresh(tenant: Tenant) -> None:
    """Beat's refresh of an access token about to expire."""
    stored = QuickBooksConnection.objects.get(tenant=tenant)
    QuickBooksTokenSource(tenant=tenant).renew(rejected=stored.access_token)
    assert QuickBooksConnection.objects.get(tenant=tenant).refreshed_at != stored.refreshed_at


def test_thirty_days_before_a_banner_on_our_pages_and_one_email_per_person(
    journey, resumed, knobs, enqueued, mailoutbox, django_capture_on_commit_callbacks, settings
):
    settings.PUBLIC_BASE_URL = "https://ccsync.example"
    knobs(intuit_refresh_token_hard_lifetime=20 * 24 * 3600)  # a grant of 2021's, say
    identity = journey.new_identity()
    account = journey.new_account("Customers")
    journey.full_install(identity, account, "Customers")
    tenant = Tenant.objects.get(realm_id=identity.realm_id)
    assert 19 * DAY < hard_expiry(tenant) - timezone.now() <= 20 * DAY
    colleague = User.objects.create(username="lee", intuit_sub="sub-lee", email="lee@example.com")
    Membership.objects.create(user=colleague, tenant=tenant)

    day = hard_expiry(tenant).strftime("%-d %b %Y")  # the pages' one format of a day
    for path in ("/status/", "/settings/", "/sync/customers/"):
        page = journey.client.get(path).content.decode()
        assert f"Reconnect QuickBooks by {day}." in page, path
        assert 'href="/reconnect/">Reconnect</a>' in page, path

    with django_capture_on_commit_callbacks(execute=True):
        assert warn_of_expiring_grants() == 1
        assert warn_of_expiring_grants() == 0  # beat's next run: already warned
    [job] = [job for job in enqueued if job.task == EXPIRY_EMAIL]
    tasks.email_quickbooks_expiring.apply(args=job.args)
    assert sorted(message.to[0] for message in mailoutbox) == sorted(
        [identity.email, "lee@example.com"]
    )
    assert all(len(message.to) == 1 for message in mailoutbox)
    message = mailoutbox[0]
    assert message.subject.startswith(f"Reconnect QuickBooks by {day} to keep syncing")
    assert "https://ccsync.example/reconnect/" in message.body
    assert "nothing is lost" in message.body


def test_no_warning_far_from_the_date_nor_for_a_disconnected_company(
    installed, enqueued, mailoutbox
):
    tenant = installed[2]
    assert warn_of_expiring_grants() == 0  # five years away
    QuickBooksConnection.objects.filter(tenant=tenant).update(
        hard_expires_at=timezone.now() + 10 * DAY
    )
    Tenant.objects.filter(pk=tenant.pk).update(state=Tenant.State.DISCONNECTED)
    assert warn_of_expiring_grants() == 0
    assert [job for job in enqueued if job.task == EXPIRY_EMAIL] == []
    # A warning already queued when the company disconnected is not sent.
    QuickBooksConnection.objects.filter(tenant=tenant).update(
        expiry_warned_for=QuickBooksConnection.objects.get(tenant=tenant).hard_expires_at
    )
    tasks.email_quickbooks_expiring.apply(args=[tenant.pk])
    assert mailoutbox == []


def test_the_reconnect_url_reconnects_quickbooks_and_keeps_everything(
    installed, new_journey, sandbox, knobs, resumed, enqueued
):
    """Someone not signed in (from the email, or Intuit's Reconnect URL): straight to
    Intuit's sign-in and consent (accounting: a new grant), back to the same tenant, list
    and history; syncing resumes; the new grant's date replaces the old. No Constant
    Contact call."""
    identity, _, tenant = installed
    connection = QuickBooksConnection.objects.get(tenant=tenant)
    mark_broken(connection, reason="QuickBooks no longer accepts the app's authorization.")
    QuickBooksConnection.objects.filter(tenant=tenant).update(
        hard_expires_at=timezone.now() + 3 * DAY, expiry_warned_for=timezone.now() + 3 * DAY
    )
    lists = list(ListSelection.objects.filter(tenant=tenant).values_list("pk", flat=True))
    calls = cc_api_calls(sandbox)

    person = new_journey()
    answer = person.client.get("/reconnect/")
    assert answer.status_code == 302
    to_intuit = answer["Location"]
    assert "com.intuit.quickbooks.accounting" in query_of(to_intuit)["scope"].split()
    back = person.get(person.browser.intuit_authorize(to_intuit, identity))
    assert back.status_code == 302 and back["Location"] == "/status/"

    assert Tenant.objects.filter(realm_id=identity.realm_id).count() == 1
    connection = QuickBooksConnection.objects.get(tenant=tenant)
    assert connection.is_connected and connection.expiry_warned_for is None
    assert FIVE_YEARS - DAY < connection.hard_expires_at - timezone.now() <= FIVE_YEARS
    assert ConstantContactConnection.objects.get(tenant=tenant).is_connected
    assert list(ListSelection.objects.filter(tenant=tenant).values_list("pk", flat=True)) == lists
    assert resumed == [tenant.pk]  # the sync it stopped goes on
    assert cc_api_calls(sandbox) == calls
    page = person.client.get("/status/").content.decode()
    assert "Reconnect QuickBooks by" not in page


def test_the_reconnect_page_of_a_signed_in_person_offers_what_is_broken(installed, journey):
    _, _, tenant = installed
    page = journey.client.get("/reconnect/").content.decode()
    assert "Reconnect Constant Contact for QuickBooks Online" in page
    assert 'href="/connect/">Reconnect QuickBooks</a>' in page
    assert "Reconnect Constant Contact</a>" not in page  # it is connected
    mark_broken(
        ConstantContactConnection.objects.get(tenant=tenant),
        reason="Constant Contact no longer accepts the app's authorization.",
    )
    page = journey.client.get("/reconnect/").content.decode()
    assert 'href="/constantcontact/connect/">Reconnect Constant Contact</a>' in page
    assert "Constant Contact no longer accepts the app&#x27;s authorization." in page
