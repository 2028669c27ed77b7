"""Both OAuth callbacks refuse missing, forged or replayed state, used or expired codes and
unknown realms with a clear page, and save nothing."""

from urllib.parse import urlencode

import pytest

from support.query_string import query_of
from tenants.models import ConstantContactConnection, QuickBooksConnection, Tenant, User


def callback(journey, path: str, **params: str):
    return journey.client.get(f"{path}?{urlencode(params)}")


def assert_refused(answer, *, title: str = "This sign-in link has expired"):
    assert answer.status_code == 400
    assert title in answer.content.decode()


# --- Intuit -------------------------------------------------------------------------------


@pytest.fixture
def intuit_back(journey):
    """A genuine Intuit answer (code, state, realmId) not yet given to our app."""
    identity = journey.new_identity()
    back = journey.browser.intuit_authorize(journey.start_install(), identity)
    return identity, query_of(back)


def test_intuit_callback_without_state_is_refused(journey, intuit_back):
    identity, params = intuit_back
    del params["state"]
    assert_refused(callback(journey, "/auth/intuit/callback/", **params))
    assert not Tenant.objects.filter(realm_id=identity.realm_id).exists()


def test_intuit_callback_with_a_forged_state_is_refused_and_ends_the_flow(journey, intuit_back):
    identity, params = intuit_back
    assert_refused(callback(journey, "/auth/intuit/callback/", **{**params, "state": "forged"}))
    # The genuine state is no good any more either: a state is tried once.
    assert_refused(callback(journey, "/auth/intuit/callback/", **params))
    assert not Tenant.objects.filter(realm_id=identity.realm_id).exists()


def test_intuit_callback_in_another_session_is_refused(journey, intuit_back, new_journey):
    identity, params = intuit_back
    attacker = new_journey()
    assert_refused(callback(attacker, "/auth/intuit/callback/", **params))
    assert not Tenant.objects.filter(realm_id=identity.realm_id).exists()
    assert User.objects.filter(membership__tenant__realm_id=identity.realm_id).count() == 0


def test_intuit_callback_replayed_is_refused(journey, intuit_back):
    identity, params = intuit_back
    assert callback(journey, "/auth/intuit/callback/", **params).status_code == 302
    stored = QuickBooksConnection.objects.get(tenant__realm_id=identity.realm_id).refresh_token
    assert_refused(callback(journey, "/auth/intuit/callback/", **params))
    assert (
        QuickBooksConnection.objects.get(tenant__realm_id=identity.realm_id).refresh_token == stored
    )


def test_intuit_code_used_twice_is_refused(journey, intuit_back):
    identity, params = intuit_back
    assert callback(journey, "/auth/intuit/callback/", **params).status_code == 302
    stored = QuickBooksConnection.objects.get(tenant__realm_id=identity.realm_id).refresh_token
    # A new flow in the same session, fed the old code.
    state = query_of(journey.start_install())["state"]
    answer = callback(journey, "/auth/intuit/callback/", **{**params, "state": state})
    assert_refused(answer)
    assert (
        QuickBooksConnection.objects.get(tenant__realm_id=identity.realm_id).refresh_token == stored
    )


def test_intuit_code_expired_is_refused(journey, knobs):
    identity = journey.new_identity()
    back = journey.browser.intuit_authorize(journey.start_install(), identity)
    knobs(clock_offset_seconds=600.5)  # Intuit's codes live 10 minutes
    assert_refused(journey.get(back))
    assert not Tenant.objects.filter(realm_id=identity.realm_id).exists()


def test_intuit_flow_started_too_long_ago_is_refused(journey, intuit_back):
    identity, params = intuit_back
    session = journey.client.session
    session["oauth_intuit"]["created"] -= 3600
    session.save()
    assert_refused(callback(journey, "/auth/intuit/callback/", **params))
    assert not Tenant.objects.filter(realm_id=identity.realm_id).exists()


def test_intuit_callback_for_an_unknown_realm_is_refused(journey, intuit_back):
    identity, params = intuit_back
    answer = callback(journey, "/auth/intuit/callback/", **{**params, "realmId": "4620816365"})
    assert answer.status_code == 400
    assert "different QuickBooks company" in answer.content.decode()
    assert not Tenant.objects.exists()


def test_intuit_callback_without_a_realm_is_refused(journey, intuit_back):
    _, params = intuit_back
    del params["realmId"]
    answer = callback(journey, "/auth/intuit/callback/", **params)
    assert answer.status_code == 400
    assert "Unknown QuickBooks company" in answer.content.decode()
    assert not Tenant.objects.exists()


def test_intuit_access_denied_saves_nothing_even_with_the_right_state(journey):
    state = query_of(journey.start_install())["state"]
    answer = callback(journey, "/auth/intuit/callback/", error="access_denied", state=state)
    assert answer.status_code == 400
    assert "QuickBooks was not connected" in answer.content.decode()
    assert not Tenant.objects.exists() and not User.objects.exists()


# --- Constant Contact ---------------------------------------------------------------------


@pytest.fixture
def cc_back(journey):
    """An installed tenant and a genuine Constant Contact answer not yet given to our app."""
    identity = journey.new_identity()
    journey.install(identity)
    account = journey.new_account("Customers")
    start = journey.client.get("/constantcontact/connect/")["Location"]
    back = journey.browser.cc_authorize(start, account)
    return identity, query_of(back)


def _no_cc_connection(identity) -> bool:
    return not ConstantContactConnection.objects.filter(tenant__realm_id=identity.realm_id).exists()


def test_cc_callback_without_state_is_refused(journey, cc_back):
    identity, params = cc_back
    del params["state"]
    assert_refused(callback(journey, "/auth/constantcontact/callback/", **params))
    assert _no_cc_connection(identity)


def test_cc_callback_with_a_forged_state_is_refused(journey, cc_back):
    identity, params = cc_back
    forged = {**params, "state": "forged"}
    assert_refused(callback(journey, "/auth/constantcontact/callback/", **forged))
    assert_refused(callback(journey, "/auth/constantcontact/callback/", **params))
    assert _no_cc_connection(identity)


def test_cc_callback_replayed_is_refused(journey, cc_back):
    identity, params = cc_back
    assert callback(journey, "/auth/constantcontact/callback/", **params).status_code == 302
    stored = ConstantContactConnection.objects.get(tenant__realm_id=identity.realm_id)
    assert_refused(callback(journey, "/auth/constantcontact/callback/", **params))
    again = ConstantContactConnection.objects.get(tenant__realm_id=identity.realm_id)
    assert again.refresh_token == stored.refresh_token


def test_cc_code_used_twice_is_refused(journey, cc_back):
    identity, params = cc_back
    assert callback(journey, "/auth/constantcontact/callback/", **params).status_code == 302
    stored = ConstantContactConnection.objects.get(tenant__realm_id=identity.realm_id)
    state = query_of(journey.client.get("/constantcontact/connect/")["Location"])["state"]
    answer = callback(journey, "/auth/constantcontact/callback/", **{**params, "state": state})
    assert_refused(answer)
    again = ConstantContactConnection.objects.get(tenant__realm_id=identity.realm_id)
    assert again.refresh_token == stored.refresh_token


def test_cc_code_expired_is_refused(journey, knobs):
    identity = journey.new_identity()
    journey.install(identity)
    account = journey.new_account("Customers")
    start = journey.client.get("/constantcontact/connect/")["Location"]
    back = journey.browser.cc_authorize(start, account)
    knobs(clock_offset_seconds=300.5)  # Constant Contact's codes live 5 minutes
    assert_refused(journey.get(back))
    assert _no_cc_connection(identity)


def test_cc_callback_in_another_session_is_refused(journey, cc_back, new_journey):
    identity, params = cc_back
    # Someone else (even signed in to their own company) cannot finish this flow.
    other = new_journey()
    other.install(other.new_identity())
    assert_refused(callback(other, "/auth/constantcontact/callback/", **params))
    assert not ConstantContactConnection.objects.exists()
    assert _no_cc_connection(identity)


def test_pkce_verifier_never_leaves_the_server(journey):
    identity = journey.new_identity()
    journey.install(identity)
    answer = journey.client.get("/constantcontact/connect/")
    verifier = journey.client.session["oauth_constantcontact"]["code_verifier"]
    assert verifier not in answer["Location"]
    assert all(verifier not in morsel.value for morsel in journey.client.cookies.values())
    assert verifier not in journey.client.get("/status/").content.decode()
