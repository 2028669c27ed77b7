"""Token sources: refresh before expiry and on a 401, one refresh at a time, invalid_grant."""

import json
import threading
import time
from datetime import timedelta

import pytest
import responses
from django.db import connection as db_connection
from django.utils import timezone

from integrations.constantcontact import errors as cc_errors
from integrations.quickbooks import errors as qb_errors
from tenants import tasks
from tenants.models import ConstantContactConnection, Membership, QuickBooksConnection, Tenant, User
from tenants.tokens import (
    ConnectionUnavailable,
    ConstantContactTokenSource,
    QuickBooksTokenSource,
    mark_broken,
)

DISCOVERY = "https://intuit.test/.well-known/openid_configuration"
INTUIT_TOKEN = "https://intuit.test/oauth2/v1/tokens/bearer"
CC_TOKEN = "https://authz.cc.test/oauth2/default/v1/token"


@pytest.fixture
def intuit(settings):
    settings.INTUIT_ENVIRONMENT = DISCOVERY
    settings.CONSTANTCONTACT_TOKEN_URL = CC_TOKEN
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        mocked.get(
            DISCOVERY,
            json={
                "issuer": "https://intuit.test/op/v1",
                "authorization_endpoint": "https://intuit.test/connect/oauth2",
                "token_endpoint": INTUIT_TOKEN,
                "revocation_endpoint": "https://intuit.test/v2/oauth2/tokens/revoke",
                "userinfo_endpoint": "https://intuit.test/v1/openid_connect/userinfo",
                "jwks_uri": "https://intuit.test/op/v1/jwks",
            },
        )
        yield mocked


def make_tenant(realm_id: str = "9130350001", *, expires_in: timedelta = timedelta(hours=1)):
    tenant = Tenant.objects.create(realm_id=realm_id, company_name="Craig's Design")
    now = timezone.now()
    for model in (QuickBooksConnection, ConstantContactConnection):
        connection = model(tenant=tenant)
        connection.access_token = "access-old"
        connection.refresh_token = "refresh-old"
        connection.access_expires_at = now + expires_in
        connection.refresh_expires_at = now + timedelta(days=100)
        connection.save()
    return tenant


def intuit_answer(access: str, refresh: str) -> dict:
    return {
        "access_token": access,
        "refresh_token": refresh,
        "token_type": "bearer",
        "expires_in": 3600,
        "x_refresh_token_expires_in": 8640000,
    }


def token_calls(mocked, url: str) -> list:
    return [call for call in mocked.calls if call.request.url == url]


@pytest.mark.django_db
def test_a_fresh_access_token_is_used_as_stored(intuit):
    tenant = make_tenant()
    assert QuickBooksTokenSource(tenant=tenant).access_token() == "access-old"
    assert token_calls(intuit, INTUIT_TOKEN) == []


@pytest.mark.django_db
def test_an_access_token_about_to_expire_is_refreshed_and_the_new_refresh_token_stored(intuit):
    tenant = make_tenant(expires_in=timedelta(minutes=2))
    intuit.post(INTUIT_TOKEN, json=intuit_answer("access-new", "refresh-new"))

    assert QuickBooksTokenSource(tenant=tenant).access_token() == "access-new"
    stored = QuickBooksConnection.objects.get(tenant=tenant)
    assert stored.refresh_token == "refresh-new" and stored.access_token == "access-new"
    assert stored.access_expires_at > timezone.now() + timedelta(minutes=50)
    assert stored.refreshed_at is not None
    assert "refresh_token=refresh-old" in token_calls(intuit, INTUIT_TOKEN)[0].request.body


@pytest.mark.django_db
def test_renew_after_a_401_refreshes_even_a_token_not_yet_expired(intuit):
    tenant = make_tenant()
    intuit.post(INTUIT_TOKEN, json=intuit_answer("access-new", "refresh-new"))
    assert QuickBooksTokenSource(tenant=tenant).renew(rejected="access-old") == "access-new"
    assert len(token_calls(intuit, INTUIT_TOKEN)) == 1


@pytest.mark.django_db
def test_renew_uses_the_token_another_worker_already_stored(intuit):
    tenant = make_tenant()
    # Worker 1 was rejected with a token that has been replaced since.
    assert QuickBooksTokenSource(tenant=tenant).renew(rejected="access-older") == "access-old"
    assert token_calls(intuit, INTUIT_TOKEN) == []


def another_session_waits_on_a_lock() -> bool:
    with db_connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # else the transaction's first view
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


@pytest.mark.django_db(transaction=True)
def test_two_workers_renewing_at_once_refresh_exactly_once(intuit):
    tenant = make_tenant()

    def slow_refresh(request):
        # Intuit answers once the other worker is waiting on the connection's row lock.
        deadline = time.monotonic() + 10
        while not another_session_waits_on_a_lock() and time.monotonic() < deadline:
            time.sleep(0.01)
        return 200, {}, json.dumps(intuit_answer("access-new", "refresh-new"))

    intuit.add_callback(responses.POST, INTUIT_TOKEN, callback=slow_refresh)
    results: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def worker():
        try:
            barrier.wait()
            results.append(QuickBooksTokenSource(tenant=tenant).renew(rejected="access-old"))
        except BaseException as error:  # surfaced below
            errors.append(error)
        finally:
            db_connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert results == ["access-new", "access-new"]
    assert len(token_calls(intuit, INTUIT_TOKEN)) == 1
    assert QuickBooksConnection.objects.get(tenant=tenant).refresh_token == "refresh-new"


@pytest.mark.django_db
def test_invalid_grant_marks_the_connection_broken_and_raises(intuit):
    tenant = make_tenant(expires_in=timedelta(0))
    intuit.post(INTUIT_TOKEN, status=400, json={"error": "invalid_grant"})

    with pytest.raises(qb_errors.InvalidGrant):
        QuickBooksTokenSource(tenant=tenant).access_token()
    connection = QuickBooksConnection.objects.get(tenant=tenant)
    assert connection.state == QuickBooksConnection.State.BROKEN
    assert "Reconnect QuickBooks" in connection.reason
    # Nothing is lost: the tokens stay until the person reconnects or disconnects.
    assert connection.refresh_token == "refresh-old"
    # Syncing stops: no more tokens from a broken connection, and no more refresh calls.
    with pytest.raises(ConnectionUnavailable):
        QuickBooksTokenSource(tenant=tenant).access_token()
    assert len(token_calls(intuit, INTUIT_TOKEN)) == 1


@pytest.mark.django_db
def test_constant_contact_invalid_grant_shows_a_banner_with_a_reconnect_button(intuit, client):
    tenant = make_tenant()
    intuit.post(CC_TOKEN, status=400, json={"error": "invalid_grant"})
    with pytest.raises(cc_errors.InvalidGrant):
        ConstantContactTokenSource(tenant=tenant).renew(rejected="access-old")

    user = User.objects.create(username="pat", intuit_sub="sub-1")
    Membership.objects.create(user=user, tenant=tenant)
    client.force_login(user)
    page = client.get("/status/").content.decode()
    assert "Syncing has stopped: Constant Contact is not connected." in page
    assert 'href="/constantcontact/connect/">Reconnect Constant Contact</a>' in page
    assert "QuickBooks is not connected" not in page


@pytest.mark.django_db
def test_constant_contact_refresh_rotates_the_stored_refresh_token(intuit):
    tenant = make_tenant(expires_in=timedelta(seconds=30))
    intuit.post(
        CC_TOKEN,
        json={
            "access_token": "cc-access-new",
            "refresh_token": "cc-refresh-new",
            "token_type": "Bearer",
            "expires_in": 86400,
        },
    )
    assert ConstantContactTokenSource(tenant=tenant).access_token() == "cc-access-new"
    stored = ConstantContactConnection.objects.get(tenant=tenant)
    assert stored.refresh_token == "cc-refresh-new"
    assert stored.access_expires_at > timezone.now() + timedelta(hours=23)


@pytest.mark.django_db
def test_a_broken_connection_emails_each_person_of_the_company_once(
    intuit, mailoutbox, django_capture_on_commit_callbacks, enqueued, settings
):
    settings.PUBLIC_BASE_URL = "https://ccsync.example"
    tenant, other = make_tenant(), make_tenant("9130350002")
    for name, email, company in (
        ("pat", "pat@example.com", tenant),
        ("lee", "lee@example.com", tenant),
        ("sam", "", tenant),  # no address: nobody to write to
        ("kim", "kim@example.com", other),
    ):
        user = User.objects.create(username=name, intuit_sub=f"sub-{name}", email=email)
        Membership.objects.create(user=user, tenant=company)
    intuit.post(CC_TOKEN, status=400, json={"error": "invalid_grant"})

    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(cc_errors.InvalidGrant):
            ConstantContactTokenSource(tenant=tenant).renew(rejected="access-old")
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(ConnectionUnavailable):
            ConstantContactTokenSource(tenant=tenant).access_token()
    [job] = enqueued  # once, when it broke
    assert (job.task, job.args) == (
        "tenants.email_connection_broken",
        (tenant.pk, "constantcontactconnection"),
    )

    tasks.email_connection_broken.apply(args=job.args)
    assert sorted(message.to[0] for message in mailoutbox) == ["lee@example.com", "pat@example.com"]
    assert all(len(message.to) == 1 for message in mailoutbox)
    message = mailoutbox[0]
    assert message.subject == "Reconnect Constant Contact: syncing has stopped for Craig's Design"
    assert "Syncing has stopped for Craig's Design: Constant Contact is not connected." in (
        message.body
    )
    assert "https://ccsync.example/constantcontact/connect/" in message.body
    assert "https://ccsync.example/status/" in message.body
    assert "refresh-old" not in message.body and "access-old" not in message.body


@pytest.mark.django_db
def test_no_email_once_the_connection_is_back(intuit, mailoutbox, settings):
    settings.PUBLIC_BASE_URL = "https://ccsync.example"
    tenant = make_tenant()
    user = User.objects.create(username="pat", intuit_sub="sub-1", email="pat@example.com")
    Membership.objects.create(user=user, tenant=tenant)
    connection = QuickBooksConnection.objects.get(tenant=tenant)
    mark_broken(connection, reason="QuickBooks no longer accepts the app's authorization.")
    QuickBooksConnection.objects.filter(pk=connection.pk).update(
        state=QuickBooksConnection.State.CONNECTED
    )
    tasks.email_connection_broken.apply(args=[tenant.pk, "quickbooksconnection"])
    assert mailoutbox == []
    QuickBooksConnection.objects.filter(pk=connection.pk).update(
        state=QuickBooksConnection.State.BROKEN
    )
    tasks.email_connection_broken.apply(args=[tenant.pk, "quickbooksconnection"])
    [message] = mailoutbox
    assert message.subject == "Reconnect QuickBooks: syncing has stopped for Craig's Design"
    # The Reconnect URL: whoever opens it is signed in with Intuit, or sees both connections.
    assert "https://ccsync.example/reconnect/" in message.body
    assert "https://ccsync.example/connect/" not in message.body
