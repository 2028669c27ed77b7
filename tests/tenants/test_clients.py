"""A tenant's Constant Contact client waits out a passing 429 throttled, web pages included."""

import pytest
import responses

from integrations import http
from integrations.constantcontact import errors as cc_errors
from tenants import clients
from tests.tenants.test_tokens import make_tenant

API = "https://api.cc.test/v3"
THROTTLED = [{"error_key": "throttled", "error_message": "Too Many Requests"}]
LISTS = {"lists": [{"list_id": "l-1", "name": "Customers"}], "lists_count": 1}


@pytest.fixture
def api(settings, monkeypatch):
    settings.CONSTANTCONTACT_API_BASE = API
    monkeypatch.setattr(http, "THROTTLE_BACKOFF", (0.01, 0.01, 0.01))
    with responses.RequestsMock() as mocked:
        yield mocked


@pytest.mark.django_db
def test_a_passing_throttle_is_waited_out(api):
    api.get(f"{API}/contact_lists", json=THROTTLED, status=429)
    api.get(f"{API}/contact_lists", json=LISTS)
    client = clients.constantcontact_client(tenant=make_tenant(), before_request=lambda _: None)
    assert [item["name"] for item in client.all_lists()] == ["Customers"]
    assert len(api.calls) == 2


@pytest.mark.django_db
def test_a_throttle_that_lasts_and_the_daily_quota_go_to_the_caller(api):
    for _ in range(4):
        api.get(f"{API}/contact_lists", json=THROTTLED, status=429)
    client = clients.constantcontact_client(tenant=make_tenant(), before_request=lambda _: None)
    with pytest.raises(cc_errors.Throttled):
        client.all_lists()
    assert len(api.calls) == 4

    api.get(
        f"{API}/contact_lists",
        json=[{"error_key": "quota_exceeded", "error_message": "Limit Exceeded"}],
        status=429,
    )
    with pytest.raises(cc_errors.QuotaExceeded):
        client.all_lists()
    assert len(api.calls) == 5


class _Holds:
    def __init__(self) -> None:
        self.held = 0

    def constantcontact_throttled(self) -> None:
        self.held += 1


@pytest.mark.django_db
def test_only_a_throttle_holds_the_whole_app_not_an_account_s_full_queue(api, monkeypatch):
    """The spec's 429 on a bulk activity: "You exceeded 1,000 queued activities for this user
    account": that account's alone, so it holds no other company (ActivityQueueFull, not
    waited out in place); a 429 throttled holds every process for a moment."""
    holds = _Holds()
    monkeypatch.setattr(clients, "get_limiter", lambda: holds)
    queued = [{"error_key": "too_many_requests", "error_message": "1,000 queued activities"}]
    api.post(f"{API}/activities/contacts_json_import", json=queued, status=429)
    client = clients.constantcontact_client(tenant=make_tenant(), before_request=lambda _: None)
    with pytest.raises(cc_errors.ActivityQueueFull):
        client.import_contacts(rows=[{"email": "a@example.com"}], list_ids=["l-1"])
    assert (len(api.calls), holds.held) == (1, 0)

    api.get(f"{API}/contact_lists", json=THROTTLED, status=429)
    api.get(f"{API}/contact_lists", json=LISTS)
    client.all_lists()
    assert holds.held == 1
