"""CSRF, tenant isolation, open redirects, security headers, and tokens kept out of sight."""

import logging

import pytest
import requests
from django.contrib.sessions.models import Session
from django.db import connection as db
from django.test import Client
from django.views.debug import ExceptionReporter

from tenants.models import (
    ConstantContactConnection,
    ListSelection,
    QuickBooksConnection,
    Tenant,
    User,
)


@pytest.fixture
def two_companies(journey, new_journey):
    """Company A (this journey's person) and company B (someone else), both fully set up."""
    alpha = journey.new_identity("Alpha Books")
    alpha_account = journey.new_account("Alpha list")
    assert journey.full_install(alpha, alpha_account, "Alpha list").status_code == 200
    other = new_journey()
    bravo = other.new_identity("Bravo Books")
    bravo_account = other.new_account("Bravo list")
    assert other.full_install(bravo, bravo_account, "Bravo list").status_code == 200
    return (
        Tenant.objects.get(realm_id=alpha.realm_id),
        Tenant.objects.get(realm_id=bravo.realm_id),
        alpha_account,
        bravo_account,
    )


def account_lists(sandbox, account) -> dict[str, str]:
    """The account's lists as the sandbox has them now (seeding again adds nothing)."""
    answer = requests.post(
        f"{sandbox.url}/_sandbox/cc/accounts",
        json={"username": account.username, "password": "correct horse", "list_names": []},
        timeout=10,
    )
    return answer.json()["lists"]


def test_company_a_cannot_see_or_change_company_b_through_any_view(journey, two_companies, sandbox):
    mine, theirs, my_account, their_account = two_companies
    client = journey.client
    their_list = their_account.lists["Bravo list"]
    names = {"tenant_id": theirs.pk, "realmId": theirs.realm_id, "realm_id": theirs.realm_id}

    page = client.get("/status/", names).content.decode()
    assert "Alpha list" in page and "Bravo list" not in page and theirs.realm_id not in page

    page = client.get("/settings/", {**names, "list": their_list}).content.decode()
    assert their_list not in page and "Alpha list" in page

    answer = client.post("/settings/", {**names, "list_id": their_list})
    assert answer.status_code == 400
    for tenant, name in ((theirs, "Bravo list"), (mine, "Alpha list")):
        chosen = ListSelection.objects.filter(tenant=tenant).values_list("list_name", flat=True)
        assert list(chosen) == [name]

    assert client.post("/settings/lists/", {**names, "name": "Made by A"}).status_code == 302
    assert "Made by A" in account_lists(sandbox, my_account)
    assert "Made by A" not in account_lists(sandbox, their_account)

    assert client.post("/companies/switch/", {"tenant_id": theirs.pk}).status_code == 404
    assert client.post("/companies/switch/", {"tenant_id": "x"}).status_code == 404
    # Launch for a company A has not signed in to asks Intuit, which knows A's companies.
    assert client.get("/launch/", names)["Location"].startswith(sandbox.url)
    assert client.session["tenant_id"] == mine.pk

    page = client.get("/disconnect/confirm/", names).content.decode()
    assert theirs.realm_id not in page
    # The Disconnect URL asks Intuit who this is (OpenID alone), whatever the URL says.
    assert theirs.realm_id not in client.get("/disconnect/", names).content.decode()
    answer = client.get("/disconnect/sign-in/", names)
    assert answer["Location"].startswith(sandbox.url) and "accounting" not in answer["Location"]

    client.get("/constantcontact/connect/", names)
    assert client.session["oauth_constantcontact"]["tenant_id"] == mine.pk

    # Even a session pointing at B (say, a removed membership) falls back to A.
    session = client.session
    session["tenant_id"] = theirs.pk
    session.save()
    assert "Alpha list" in client.get("/status/").content.decode()

    # Disconnecting acts on A only, whatever the form says.
    assert client.post("/disconnect/", names).status_code == 302
    theirs.refresh_from_db()
    mine.refresh_from_db()
    assert theirs.is_connected and not mine.is_connected
    assert QuickBooksConnection.objects.get(tenant=theirs).is_connected
    assert ConstantContactConnection.objects.get(tenant=theirs).refresh_token

    # The admin is for operators only.
    assert client.get("/admin/tenants/tenant/").status_code == 302


NOT_LOCAL_PATHS = [
    "https://evil.example/",
    "//evil.example/",
    "/\\evil.example/",
    "http://127.0.0.1:9/x",
    "javascript:x",
    # Words redirect() would take for a view's name (a 500 before issue 12).
    "abc",
    "status",
    "settings/",
    "",
]


@pytest.mark.parametrize("target", NOT_LOCAL_PATHS)
def test_next_never_leaves_the_site(journey, target):
    identity = journey.new_identity()
    journey.install(identity)
    assert journey.client.get("/launch/", {"next": target})["Location"] == "/status/"
    tenant = Tenant.objects.get(realm_id=identity.realm_id)
    answer = journey.client.post("/companies/switch/", {"tenant_id": tenant.pk, "next": target})
    assert answer["Location"] == "/status/"
    # Without a session the next page is remembered only if it is ours.
    stranger = Client()
    stranger.get("/launch/", {"next": target})
    assert stranger.session["oauth_intuit"]["next"] == ""


@pytest.mark.parametrize("target", ["abc", "settings", "//evil.example/"])
def test_a_bad_next_still_signs_the_person_in_on_the_default_page(journey, new_journey, target):
    """Issue 12: /launch/?next=abc without a session, through Intuit's sign-in and back:
    the status page, signed in, never a 500."""
    identity = journey.new_identity()
    journey.install(identity)
    later = new_journey()
    later.browser = journey.browser
    answer = later.client.get("/launch/", {"next": target})
    assert answer.status_code == 302
    back = later.browser.intuit_authorize(answer["Location"], identity)
    answer = later.get(back)
    assert answer.status_code == 302 and answer["Location"] == "/status/"
    assert later.client.get("/status/").status_code == 200
    assert later.client.session["_auth_user_id"]


def test_next_within_the_site_is_kept(journey):
    journey.install(journey.new_identity())
    assert journey.client.get("/launch/", {"next": "/settings/"})["Location"] == "/settings/"


def test_pages_are_not_cached_and_carry_security_headers(journey, two_companies):
    for path in ("/status/", "/settings/", "/disconnect/confirm/", "/", "/no-such-page/"):
        answer = journey.client.get(path, follow=True)
        assert "no-store" in answer["Cache-Control"], path
        assert "default-src 'self'" in answer["Content-Security-Policy"], path
        assert "frame-ancestors 'none'" in answer["Content-Security-Policy"], path
        assert answer["X-Frame-Options"] == "DENY", path
        assert answer["X-Content-Type-Options"] == "nosniff", path
    secure = journey.client.get("/status/", secure=True)
    assert "max-age=31536000" in secure["Strict-Transport-Security"]


def test_production_settings_are_secure(settings):
    assert settings.DEBUG is False
    assert settings.SESSION_COOKIE_SECURE and settings.CSRF_COOKIE_SECURE
    assert settings.SESSION_COOKIE_HTTPONLY and settings.CSRF_COOKIE_HTTPONLY
    assert settings.SECURE_HSTS_SECONDS >= 31536000


@pytest.mark.django_db
def test_every_form_needs_its_csrf_token(sandbox_settings):
    tenant = Tenant.objects.create(realm_id="9130350009")
    user = User.objects.create(username="pat-csrf", intuit_sub="sub-csrf")
    user.membership_set.create(tenant=tenant)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    for path, data in (
        ("/settings/", {"list_id": "x"}),
        ("/settings/lists/", {"name": "x"}),
        ("/disconnect/", {}),
        ("/companies/switch/", {"tenant_id": tenant.pk}),
        ("/sign-out/", {}),
    ):
        answer = client.post(path, data)
        assert answer.status_code == 403, path
        assert "This page has expired" in answer.content.decode()
    tenant.refresh_from_db()
    assert tenant.is_connected
    assert "_auth_user_id" in client.session

    # With the token from a page, the same form goes through.
    client.get("/status/")
    token = client.cookies["csrftoken"].value
    answer = client.post(
        "/companies/switch/", {"tenant_id": tenant.pk, "csrfmiddlewaretoken": token}
    )
    assert answer.status_code == 302


def test_no_token_in_the_database_logs_pages_or_admin(journey, caplog, sandbox):
    caplog.set_level(logging.DEBUG)
    identity = journey.new_identity()
    account = journey.new_account("Customers")
    pages = [journey.full_install(identity, account, "Customers").content.decode()]
    pages += [journey.client.get(path).content.decode() for path in ("/status/", "/settings/")]
    tenant = Tenant.objects.get(realm_id=identity.realm_id)
    intuit = QuickBooksConnection.objects.get(tenant=tenant)
    cc = ConstantContactConnection.objects.get(tenant=tenant)
    secrets = [intuit.access_token, intuit.refresh_token, cc.access_token, cc.refresh_token]
    assert all(len(secret) >= 16 for secret in secrets)

    admin = User.objects.create_superuser("operator", password="operator-pass")
    operator = Client()
    operator.force_login(admin)
    for path in (
        "/admin/tenants/quickbooksconnection/",
        f"/admin/tenants/quickbooksconnection/{intuit.pk}/change/",
        "/admin/tenants/constantcontactconnection/",
        f"/admin/tenants/constantcontactconnection/{cc.pk}/change/",
        f"/admin/tenants/tenant/{tenant.pk}/change/",
    ):
        answer = operator.get(path)
        assert answer.status_code == 200, path
        pages.append(answer.content.decode())
    for page in pages:
        assert intuit.refresh_token_encrypted not in page
        assert cc.access_token_encrypted not in page

    rows = []
    with db.cursor() as cursor:
        for table in db.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 (our own table names)
            rows += [repr(row) for row in cursor.fetchall()]
    rows += [repr(session.get_decoded()) for session in Session.objects.all()]
    logs = caplog.text
    for secret in secrets:
        assert not any(secret in row for row in rows)
        assert secret not in logs
        assert not any(secret in page for page in pages)
    assert identity.email not in logs


def test_error_reports_leave_tokens_out(journey, monkeypatch):
    from integrations.quickbooks import oauth as qb_oauth
    from tenants import services

    issued = []
    real_exchange = qb_oauth.exchange_code

    def exchange_and_keep(**kwargs):
        issued.append(real_exchange(**kwargs))
        return issued[-1]

    def failing_install(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(qb_oauth, "exchange_code", exchange_and_keep)
    monkeypatch.setattr(services, "install", failing_install)
    back = journey.browser.intuit_authorize(journey.start_install(), journey.new_identity())
    with pytest.raises(RuntimeError) as failure:
        journey.get(back)

    report = ExceptionReporter(None, failure.type, failure.value, failure.tb).get_traceback_html()
    assert "database went away" in report and "intuit_callback" in report
    tokens = issued[0].tokens
    for secret in (tokens.access_token, tokens.refresh_token, tokens.id_token):
        assert secret not in report


def test_a_broken_quickbooks_connection_shows_a_banner_and_reconnects(journey):
    from integrations.quickbooks import errors as qb_errors
    from integrations.quickbooks import oauth as qb_oauth
    from tenants.tokens import QuickBooksTokenSource

    identity = journey.new_identity()
    account = journey.new_account("Customers")
    journey.full_install(identity, account, "Customers")
    tenant = Tenant.objects.get(realm_id=identity.realm_id)
    connection = QuickBooksConnection.objects.get(tenant=tenant)
    qb_oauth.revoke(token=connection.refresh_token)  # revoked at Intuit's side
    with pytest.raises(qb_errors.InvalidGrant):
        QuickBooksTokenSource(tenant=tenant).renew(rejected=connection.access_token)

    page = journey.client.get("/status/").content.decode()
    assert "Syncing has stopped: QuickBooks is not connected." in page
    assert 'href="/reconnect/">Reconnect QuickBooks</a>' in page
    reconnect = journey.client.get("/reconnect/").content.decode()
    assert 'href="/connect/">Reconnect QuickBooks</a>' in reconnect  # Get App Now's flow
    # Reconnecting through Intuit lands back on the status page, connected again.
    answer = journey.install(identity)
    assert answer["Location"] == "/status/"
    assert QuickBooksConnection.objects.get(tenant=tenant).is_connected
    assert "Syncing has stopped" not in journey.client.get("/status/").content.decode()
