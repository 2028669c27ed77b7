"""Journey 1 (Get App Now → Intuit → our app), Launch, and accountants with several companies."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils.html import escape

from integrations.quickbooks import oauth as qb_oauth
from tenants.models import Membership, QuickBooksConnection, Tenant, User


def test_connect_url_starts_intuit_sign_in_with_openid_and_accounting(journey, sandbox):
    location = journey.start_install()
    parts = urlsplit(location)
    query = parse_qs(parts.query)
    assert location.startswith(f"{sandbox.url}/intuit/connect/oauth2")
    assert set(query["scope"][0].split()) == {
        "com.intuit.quickbooks.accounting",
        "openid",
        "profile",
        "email",
    }
    state = query["state"][0]
    assert len(state) >= 32
    # The state is bound to this session, and a second start makes a new one.
    assert journey.client.session["oauth_intuit"]["state"] == state
    again = parse_qs(urlsplit(journey.start_install()).query)["state"][0]
    assert again != state


def test_install_creates_tenant_user_membership_and_signs_in(journey):
    identity = journey.new_identity("Craig's Design")
    answer = journey.install(identity)

    # Straight on to Constant Contact: nothing connected there yet.
    assert answer.status_code == 302
    assert answer["Location"] == "/constantcontact/connect/"
    tenant = Tenant.objects.get(realm_id=identity.realm_id)
    assert tenant.state == Tenant.State.CONNECTED
    # Named after the QuickBooks company (CompanyInfo), as the sandbox knows it.
    assert tenant.company_name.startswith("Craig's Design ")
    user = Membership.objects.get(tenant=tenant).user
    assert user.intuit_sub and user.first_name == "Pat"
    connection = QuickBooksConnection.objects.get(tenant=tenant)
    assert connection.is_connected and connection.access_token and connection.refresh_token
    assert journey.client.session["_auth_user_id"] == str(user.pk)

    status = journey.client.get("/status/")
    assert status.status_code == 200
    assert escape(tenant.company_name) in status.content.decode()


def test_installing_twice_finds_the_same_tenant_and_user(journey):
    identity = journey.new_identity()
    journey.install(identity)
    journey.install(identity)
    assert Tenant.objects.filter(realm_id=identity.realm_id).count() == 1
    assert Membership.objects.filter(tenant__realm_id=identity.realm_id).count() == 1
    assert User.objects.filter(membership__tenant__realm_id=identity.realm_id).count() == 1


def test_intuit_cancel_ends_on_a_clear_page_with_nothing_saved(journey):
    identity = journey.new_identity()
    back = journey.browser.intuit_authorize(journey.start_install(), identity, allow=False)
    answer = journey.get(back)
    assert answer.status_code == 400
    assert "QuickBooks was not connected" in answer.content.decode()
    assert 'href="/connect/"' in answer.content.decode()
    assert not Tenant.objects.filter(realm_id=identity.realm_id).exists()
    assert "_auth_user_id" not in journey.client.session


def test_accountant_switches_between_their_companies_only(journey, new_journey):
    accountant = journey.new_identity("Books One", "Books Two")
    one, two = (company["realm_id"] for company in accountant.companies)
    journey.install(accountant, realm_id=one)
    journey.install(accountant, realm_id=two)
    stranger = new_journey()
    other = stranger.new_identity("Someone Else")
    stranger.install(other)

    user = User.objects.get(membership__tenant__realm_id=one)
    assert set(user.tenants.values_list("realm_id", flat=True)) == {one, two}
    tenant_one = Tenant.objects.get(realm_id=one)
    tenant_two = Tenant.objects.get(realm_id=two)
    foreign = Tenant.objects.get(realm_id=other.realm_id)

    # The last install is the current company; the switcher lists exactly their two.
    page = journey.client.get("/status/").content.decode()
    assert f'value="{tenant_one.pk}"' in page and f'value="{tenant_two.pk}"' in page
    assert f'value="{foreign.pk}"' not in page
    assert journey.client.session["tenant_id"] == tenant_two.pk

    answer = journey.client.post("/companies/switch/", {"tenant_id": tenant_one.pk})
    assert answer.status_code == 302 and answer["Location"] == "/status/"
    assert journey.client.session["tenant_id"] == tenant_one.pk

    # Somebody else's company cannot be switched to.
    answer = journey.client.post("/companies/switch/", {"tenant_id": foreign.pk})
    assert answer.status_code == 404
    assert journey.client.session["tenant_id"] == tenant_one.pk


def test_launch_without_session_signs_in_through_intuit_and_lands_on_status(journey, new_journey):
    identity = journey.new_identity()
    journey.install(identity)

    later = new_journey()  # another day, another browser: no session in our app
    later.browser = journey.browser  # but still signed in to QuickBooks
    answer = later.client.get("/launch/")
    assert answer.status_code == 302
    assert answer["Location"].startswith(journey.sandbox.url)
    back = later.browser.intuit_authorize(answer["Location"], identity)
    answer = later.get(back)
    assert answer.status_code == 302 and answer["Location"] == "/status/"
    assert later.client.get("/status/").status_code == 200

    # With a session, Launch goes straight to the status page.
    answer = later.client.get("/launch/")
    assert answer.status_code == 302 and answer["Location"] == "/status/"


def test_a_page_without_session_comes_back_to_it_after_sign_in(journey, new_journey):
    identity = journey.new_identity()
    journey.install(identity)
    later = new_journey()
    later.browser = journey.browser
    answer = later.client.get("/settings/")
    assert answer.status_code == 302 and answer["Location"] == "/launch/?next=/settings/"
    answer = later.client.get(answer["Location"])
    back = later.browser.intuit_authorize(answer["Location"], identity)
    assert later.get(back)["Location"] == "/settings/"


def _connection_state(realm_id: str) -> tuple:
    connection = QuickBooksConnection.objects.filter(tenant__realm_id=realm_id).first()
    members = Membership.objects.filter(tenant__realm_id=realm_id).count()
    return (connection.access_token, connection.refresh_token, members) if connection else None


def test_an_id_token_without_realmid_installs_nothing(journey, knobs):
    """No `realmid` claim in the signed ID token, no install: the callback's realmId alone
    names no company (sandbox: tests/sandbox/intuit/test_oauth.py)."""
    identity = journey.new_identity()
    knobs(intuit_id_token_realmid="none")
    answer = journey.install(identity)
    assert answer.status_code == 400
    page = answer.content.decode()
    assert "Intuit did not confirm which QuickBooks company you chose." in page
    assert "Nothing was saved." in page
    assert not Tenant.objects.filter(realm_id=identity.realm_id).exists()
    assert "_auth_user_id" not in journey.client.session


def test_a_consent_for_one_company_cannot_take_over_another(journey, new_journey, knobs):
    """A genuine consent for company A, its callback's realmId changed to company B: B's
    tokens and members stay as they were, with or without the realmid claim."""
    victim = new_journey()
    theirs = victim.new_identity("Victim Books")
    assert victim.install(theirs).status_code == 302
    before = _connection_state(theirs.realm_id)
    attacker = journey.new_identity("Attacker Books")
    for claim in ("none", ""):
        knobs(intuit_id_token_realmid=claim)
        back = journey.browser.intuit_authorize(journey.start_install(), attacker)
        forged = back.replace(f"realmId={attacker.realm_id}", f"realmId={theirs.realm_id}")
        assert forged != back
        answer = journey.get(forged)
        assert answer.status_code == 400, claim
        assert "Nothing was saved." in answer.content.decode()
    assert _connection_state(theirs.realm_id) == before
    assert not Tenant.objects.filter(realm_id=attacker.realm_id).exists()
    assert "_auth_user_id" not in journey.client.session


def test_the_new_tokens_must_open_the_company_before_anything_is_saved(journey, new_journey, knobs):
    """Even a signed claim that matches the callback's realmId is checked: CompanyInfo
    read with the new tokens, before anything is written (here the ID token claims the
    victim's company, as the forged realmId does; the tokens open only the attacker's)."""
    victim = new_journey()
    theirs = victim.new_identity("Victim Books")
    assert victim.install(theirs).status_code == 302
    before = _connection_state(theirs.realm_id)
    attacker = journey.new_identity("Attacker Books")
    knobs(intuit_id_token_realmid=theirs.realm_id)
    back = journey.browser.intuit_authorize(journey.start_install(), attacker)
    answer = journey.get(back.replace(attacker.realm_id, theirs.realm_id))
    assert answer.status_code == 400
    assert "QuickBooks did not confirm the company you chose." in answer.content.decode()
    assert _connection_state(theirs.realm_id) == before
    assert not Tenant.objects.filter(realm_id=attacker.realm_id).exists()


def test_launch_signs_in_with_openid_alone(journey, new_journey, sandbox):
    """Launch (My Apps) asks Intuit who the person is (openid email profile), not for the
    company's data again; only Get App Now and reconnecting ask for accounting:
    https://developer.intuit.com/app/developer/qbo/docs/develop/authentication-and-authorization/openid-connect
    """
    identity = journey.new_identity()
    journey.install(identity)
    later = new_journey()
    later.browser = journey.browser
    answer = later.client.get("/launch/")
    query = parse_qs(urlsplit(answer["Location"]).query)
    assert set(query["scope"][0].split()) == {"openid", "email", "profile"}
    back = later.browser.intuit_authorize(answer["Location"], identity)
    assert "realmId" not in back  # no company chosen at Intuit: none connected again
    assert later.get(back)["Location"] == "/status/"
    assert later.client.session["tenant_id"] == Tenant.objects.get(realm_id=identity.realm_id).pk


def test_launch_for_a_company_not_yet_theirs_goes_to_get_app_now(journey, new_journey):
    """Signed in with OpenID alone, a person who is a member of no company here is sent to
    Get App Now, where Intuit asks for the company's consent."""
    identity = journey.new_identity()
    answer = journey.client.get("/launch/", {"realmId": identity.realm_id})
    back = journey.browser.intuit_authorize(answer["Location"], identity)
    assert journey.get(back)["Location"] == "/connect/"
    assert not Tenant.objects.filter(realm_id=identity.realm_id).exists()


@pytest.fixture
def intuit_down(knobs):
    """Intuit's discovery document or JWKS unreachable; no discovery document kept from
    before."""
    qb_oauth._discovery.clear()
    yield lambda *endpoints: knobs(intuit_endpoints_down=list(endpoints))
    qb_oauth._discovery.clear()


@pytest.mark.parametrize("path", ["/connect/", "/launch/"])
def test_without_intuits_discovery_document_connect_and_launch_say_try_again(
    journey, intuit_down, path
):
    intuit_down("discovery")
    answer = journey.client.get(path)
    assert answer.status_code == 503
    page = answer.content.decode()
    assert "Intuit is not answering" in page and "Please try again in a minute." in page
    assert f'href="{path}"' in page


def test_without_intuits_jwks_the_callback_says_try_again_and_saves_nothing(journey, intuit_down):
    identity = journey.new_identity()
    to_intuit = journey.start_install()
    back = journey.browser.intuit_authorize(to_intuit, identity)
    intuit_down("jwks")
    answer = journey.get(back)
    assert answer.status_code == 503
    assert "Intuit is not answering" in answer.content.decode()
    assert not Tenant.objects.filter(realm_id=identity.realm_id).exists()
    assert "_auth_user_id" not in journey.client.session
