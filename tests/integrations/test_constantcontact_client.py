import json
from datetime import UTC, date, datetime

import pytest
import requests
import responses

from integrations.constantcontact.client import ConstantContactClient, read_date, resolve_link
from integrations.constantcontact.errors import (
    ActivityQueueFull,
    BadRequest,
    Conflict,
    ConstantContactError,
    Forbidden,
    NotFound,
    QuotaExceeded,
    Throttled,
    TransientError,
    Unauthorized,
)
from support.query_string import query_of
from tests.integrations.conftest import CC_BASE, bearer

pytestmark = pytest.mark.usefixtures("provider_settings")

SANDBOX_BASE = "http://127.0.0.1:8001/cc/v3"
EMAIL = "pat.doe@example.com"


@pytest.fixture
def client(tokens):
    return ConstantContactClient(tokens=tokens)


def contact(n: int, email: str | None = None) -> dict:
    return {"contact_id": f"c{n}", "email_address": {"address": email or f"p{n}@example.com"}}


def test_account_summary(client, mocked):
    mocked.get(f"{CC_BASE}/account/summary", json={"organization_name": "Acme"})

    assert client.account_summary() == {"organization_name": "Acme"}
    assert bearer(mocked.calls[0]) == "access-1"
    assert mocked.calls[0].request.req_kwargs["timeout"] == (3.0, 7.0)


def test_all_lists_follows_next_links(client, mocked):
    mocked.get(
        f"{CC_BASE}/contact_lists",
        json={
            "lists": [{"list_id": "l1", "name": "Customers"}],
            "_links": {"next": {"href": "/v3/contact_lists?cursor=abc"}},
        },
        match=[responses.matchers.query_param_matcher({"limit": "500"})],
    )
    mocked.get(
        f"{CC_BASE}/contact_lists",
        json={"lists": [{"list_id": "l2", "name": "Donors"}], "_links": {}},
        match=[responses.matchers.query_param_matcher({"cursor": "abc"})],
    )

    assert [item["list_id"] for item in client.all_lists()] == ["l1", "l2"]


def test_paging_against_a_base_with_a_path_prefix(client, mocked, settings):
    settings.CONSTANTCONTACT_API_BASE = SANDBOX_BASE
    mocked.get(
        f"{SANDBOX_BASE}/contacts",
        json={"contacts": [contact(1)], "_links": {"next": {"href": "/v3/contacts?cursor=c2"}}},
    )
    mocked.get(
        f"{SANDBOX_BASE}/contacts",
        json={"contacts": [contact(2)], "_links": {"next": {"href": "/cc/v3/contacts?cursor=c3"}}},
    )
    mocked.get(f"{SANDBOX_BASE}/contacts", json={"contacts": [contact(3)]})

    found = list(client.iter_contacts(status="unsubscribed"))

    assert [c["contact_id"] for c in found] == ["c1", "c2", "c3"]
    assert [call.request.url for call in mocked.calls] == [
        f"{SANDBOX_BASE}/contacts?status=unsubscribed&limit=500",
        f"{SANDBOX_BASE}/contacts?cursor=c2",
        f"{SANDBOX_BASE}/contacts?cursor=c3",
    ]


@pytest.mark.parametrize(
    ("base", "href", "url"),
    [
        (CC_BASE, "/v3/contacts?cursor=x", f"{CC_BASE}/contacts?cursor=x"),
        (CC_BASE, "https://api.cc.email/v3/contacts?cursor=x", f"{CC_BASE}/contacts?cursor=x"),
        (SANDBOX_BASE, "/v3/contact_lists?cursor=y", f"{SANDBOX_BASE}/contact_lists?cursor=y"),
        (SANDBOX_BASE, "/cc/v3/contacts?cursor=z", f"{SANDBOX_BASE}/contacts?cursor=z"),
        # Another host in a link is not followed: the token only goes to the API base.
        (CC_BASE, "https://evil.test/v3/contacts?c=1", f"{CC_BASE}/contacts?c=1"),
    ],
)
def test_resolve_link(settings, base, href, url):
    settings.CONSTANTCONTACT_API_BASE = base
    assert resolve_link(href) == url


def test_resolve_link_rejects_links_outside_the_api(settings):
    with pytest.raises(ConstantContactError):
        resolve_link("/somewhere/else")


def test_iter_contacts_sends_the_filters(client, mocked):
    mocked.get(f"{CC_BASE}/contacts", json={"contacts": []})

    after = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
    assert (
        list(
            client.iter_contacts(
                status="all",
                lists=["l1", "l2"],
                updated_after=after,
                optout_after=after,
                include=["list_memberships", "custom_fields"],
                limit=100,
            )
        )
        == []
    )
    assert query_of(mocked.calls[0].request.url) == {
        "status": "all",
        "lists": "l1,l2",
        "updated_after": "2024-05-01T08:00:00+00:00",
        "optout_after": "2024-05-01T08:00:00+00:00",
        "include": "list_memberships,custom_fields",
        "limit": "100",
    }


def test_iter_contacts_needs_aware_times(client):
    with pytest.raises(ValueError):
        list(client.iter_contacts(updated_after=datetime(2024, 5, 1)))


def test_find_contact(client, mocked):
    mocked.get(f"{CC_BASE}/contacts", json={"contacts": [contact(1, "Pat.Doe@Example.com")]})

    assert client.find_contact(email=EMAIL)["contact_id"] == "c1"
    assert query_of(mocked.calls[0].request.url) == {
        "status": "all",
        "email": EMAIL,
        "include": "list_memberships",
        "limit": "500",
    }


def test_find_contact_none(client, mocked):
    mocked.get(f"{CC_BASE}/contacts", json={"contacts": [], "_links": {}})

    assert client.find_contact(email=EMAIL) is None


def test_find_contact_ignores_other_addresses(client, mocked):
    mocked.get(f"{CC_BASE}/contacts", json={"contacts": [contact(1, "other@example.com")]})

    assert client.find_contact(email=EMAIL) is None


def test_get_contact(client, mocked):
    mocked.get(f"{CC_BASE}/contacts/c1", json=contact(1))

    assert client.get_contact(contact_id="c1", include=["list_memberships"]) == contact(1)
    assert query_of(mocked.calls[0].request.url) == {"include": "list_memberships"}


def test_put_contact_sends_the_writable_body_from_the_account(client, mocked):
    mocked.put(f"{CC_BASE}/contacts/c1", json=contact(1))
    fetched = {
        "contact_id": "c1",
        "email_address": {
            "address": "new@example.com",
            "permission_to_send": "implicit",
            "created_at": "2024-01-01T00:00:00Z",
            "opt_in_date": "2024-01-01T00:00:00Z",
        },
        "first_name": "Pat",
        "create_source": "Contact",
        "update_source": "Contact",
        "created_at": "2024-01-01T00:00:00Z",
        "updated_at": "2024-01-02T00:00:00Z",
        "list_memberships": ["l1"],
    }

    client.put_contact(contact_id="c1", contact=fetched)

    # The permission is never sent: a PUT that carries it sets it.
    assert json.loads(mocked.calls[0].request.body) == {
        "email_address": {"address": "new@example.com"},
        "first_name": "Pat",
        "update_source": "Account",
        "list_memberships": ["l1"],
    }
    assert fetched["update_source"] == "Contact"  # the caller's dict is not changed
    assert fetched["email_address"]["permission_to_send"] == "implicit"


@pytest.mark.parametrize(
    "email_address",
    [
        None,
        {},
        {"address": ""},
        {"permission_to_send": "implicit"},
        {"address": "a" * 75 + "@x.com"},  # 81 characters
    ],
)
def test_a_put_or_post_without_an_address_that_fits_is_not_sent(client, mocked, email_address):
    """The spec (PUT /contacts/{contact_id}): "Any properties left blank or not included in
    the request are overwritten with null value": the address is always sent, at most 80
    characters (EmailAddressPut.address)."""
    contact = {"first_name": "Pat", "email_address": email_address}
    with pytest.raises(ValueError):
        client.put_contact(contact_id="c1", contact=contact)
    with pytest.raises(ValueError):
        client.create_contact(contact=contact)
    assert len(mocked.calls) == 0


def test_create_contact_gives_the_import_s_permission_and_source(client, mocked):
    """POST /contacts (createContact_request): `create_source` Account and permission
    implicit, what an import gives a new contact; 409 when the address is taken, whatever
    the contact's status, so a POST never opts anyone back in."""
    address = "a" * 60 + "@example.com"  # 72 characters: too long for an import
    mocked.post(f"{CC_BASE}/contacts", status=201, json=contact(1))
    mocked.post(f"{CC_BASE}/contacts", status=409, json=errors("conflict"))
    body = {
        "email_address": {"address": address, "permission_to_send": "explicit"},
        "first_name": "Pat",
        "list_memberships": ["l1"],
        "update_source": "Account",
    }

    client.create_contact(contact=body)
    with pytest.raises(Conflict):
        client.create_contact(contact=body)

    assert json.loads(mocked.calls[0].request.body) == {
        "email_address": {"address": address, "permission_to_send": "implicit"},
        "first_name": "Pat",
        "list_memberships": ["l1"],
        "create_source": "Account",
    }


def test_import_contacts(client, mocked):
    activity = {"activity_id": "a1", "state": "initialized"}
    mocked.post(f"{CC_BASE}/activities/contacts_json_import", status=201, json=activity)
    rows = [{"email": EMAIL, "first_name": "Pat"}]

    assert client.import_contacts(rows=rows, list_ids=("l1",)) == activity
    assert json.loads(mocked.calls[0].request.body) == {"import_data": rows, "list_ids": ["l1"]}


@pytest.mark.parametrize(
    ("rows", "list_ids"),
    [
        ([], ["l1"]),
        ([{"email": "a@example.com"}] * 40_001, ["l1"]),
        ([{"email": "a@example.com", "notes": "x" * 4_000_000}], ["l1"]),
        ([{"email": "a@example.com"}], []),
        ([{"email": "a@example.com"}], [f"l{i}" for i in range(51)]),
    ],
)
def test_import_contacts_refuses_what_constant_contact_would_drop(client, mocked, rows, list_ids):
    with pytest.raises(ValueError):
        client.import_contacts(rows=rows, list_ids=list_ids)
    assert len(mocked.calls) == 0


def test_get_activity(client, mocked):
    mocked.get(f"{CC_BASE}/activities/a1", json={"activity_id": "a1", "state": "completed"})

    assert client.get_activity(activity_id="a1")["state"] == "completed"


def test_add_list_memberships(client, mocked):
    mocked.post(
        f"{CC_BASE}/activities/add_list_memberships", status=201, json={"activity_id": "a2"}
    )

    assert client.add_list_memberships(contact_ids=["c1", "c2"], list_ids=["l1"]) == {
        "activity_id": "a2"
    }
    assert json.loads(mocked.calls[0].request.body) == {
        "source": {"contact_ids": ["c1", "c2"]},
        "list_ids": ["l1"],
    }


def test_add_list_memberships_takes_at_most_500_contacts(client):
    with pytest.raises(ValueError):
        client.add_list_memberships(contact_ids=[f"c{i}" for i in range(501)], list_ids=["l1"])


def test_create_list(client, mocked):
    mocked.post(f"{CC_BASE}/contact_lists", status=201, json={"list_id": "l9", "name": "QBO"})

    assert client.create_list(name="QBO")["list_id"] == "l9"
    assert json.loads(mocked.calls[0].request.body) == {"name": "QBO"}


def test_create_list_conflict(client, mocked):
    mocked.post(
        f"{CC_BASE}/contact_lists",
        status=409,
        json=[{"error_key": "conflict", "error_message": "List name already exists"}],
    )

    with pytest.raises(Conflict) as caught:
        client.create_list(name="QBO")
    assert caught.value.error_key == "conflict"


def errors(key: str, message: str = "message") -> list[dict]:
    return [{"error_key": key, "error_message": message}]


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        ({"status": 429, "json": errors("throttled", "Too Many Requests")}, Throttled),
        ({"status": 429, "json": errors("quota_exceeded", "Limit Exceeded")}, QuotaExceeded),
        ({"status": 429, "body": ""}, Throttled),
        ({"status": 403, "json": errors("forbidden")}, Forbidden),
        ({"status": 404, "json": errors("not_found")}, NotFound),
        ({"status": 400, "json": errors("contacts.api.validation.error")}, BadRequest),
        ({"status": 415, "body": ""}, BadRequest),
        ({"status": 500, "json": errors("server_error")}, TransientError),
        ({"status": 503, "body": "<html>"}, TransientError),
        ({"body": requests.ConnectionError("reset")}, TransientError),
        ({"body": requests.ReadTimeout("slow")}, TransientError),
        ({"json": ["not", "an", "object"]}, ConstantContactError),
        ({"body": "not json"}, ConstantContactError),
    ],
)
def test_errors(client, mocked, tokens, answer, error):
    mocked.add(responses.GET, f"{CC_BASE}/account/summary", **answer)

    with pytest.raises(error) as caught:
        client.account_summary()
    assert type(caught.value) is error
    assert tokens.rejected == []


def test_429_keys_are_kept(client, mocked):
    mocked.get(f"{CC_BASE}/account/summary", status=429, json=errors("quota_exceeded"))

    with pytest.raises(QuotaExceeded) as caught:
        client.account_summary()
    assert (caught.value.status, caught.value.error_key) == (429, "quota_exceeded")


def test_error_messages_keep_emails_out(client, mocked):
    mocked.get(
        f"{CC_BASE}/contacts",
        status=400,
        json=errors("contacts.api.validation.error", f"Email {EMAIL} is invalid"),
    )

    with pytest.raises(BadRequest) as caught:
        client.find_contact(email=EMAIL)
    assert EMAIL not in str(caught.value)
    assert EMAIL in caught.value.error_message  # available, for whoever needs it


def test_network_failure_message_keeps_the_email_out(client, mocked):
    mocked.get(f"{CC_BASE}/contacts", body=requests.ConnectionError(f"failed for email={EMAIL}"))

    with pytest.raises(TransientError) as caught:
        client.find_contact(email=EMAIL)
    assert EMAIL not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_401_renews_once_and_retries(client, mocked, tokens):
    mocked.get(f"{CC_BASE}/account/summary", status=401, json=errors("unauthorized"))
    mocked.get(f"{CC_BASE}/account/summary", json={"organization_name": "Acme"})

    assert client.account_summary() == {"organization_name": "Acme"}
    assert tokens.rejected == ["access-1"]
    assert [bearer(call) for call in mocked.calls] == ["access-1", "access-2"]


def test_second_401_is_unauthorized(client, mocked, tokens):
    mocked.get(f"{CC_BASE}/account/summary", status=401, json=errors("unauthorized"))
    mocked.get(f"{CC_BASE}/account/summary", status=401, json=errors("unauthorized"))

    with pytest.raises(Unauthorized):
        client.account_summary()
    assert tokens.rejected == ["access-1"]
    assert len(mocked.calls) == 2


def test_renewal_failure_propagates(tokens, mocked):
    class Disconnected(Exception):
        pass

    def renew(*, rejected: str) -> str:
        raise Disconnected

    tokens.renew = renew
    client = ConstantContactClient(tokens=tokens)
    mocked.get(f"{CC_BASE}/account/summary", status=401, json=errors("unauthorized"))

    with pytest.raises(Disconnected):
        client.account_summary()


def test_before_request_names_every_call(tokens, mocked):
    seen = []
    client = ConstantContactClient(tokens=tokens, before_request=seen.append)
    mocked.get(
        f"{CC_BASE}/contacts",
        json={"contacts": [contact(1)], "_links": {"next": {"href": "/v3/contacts?cursor=2"}}},
    )
    mocked.get(f"{CC_BASE}/contacts", status=401, json=errors("unauthorized"))
    mocked.get(f"{CC_BASE}/contacts", json={"contacts": []})
    mocked.post(f"{CC_BASE}/activities/contacts_json_import", status=201, json={"activity_id": "a"})
    mocked.get(f"{CC_BASE}/activities/a", json={"activity_id": "a"})

    list(client.iter_contacts())
    client.import_contacts(rows=[{"email": EMAIL}], list_ids=["l1"])
    client.get_activity(activity_id="a")

    assert seen == ["contacts", "contacts", "contacts", "contacts_json_import", "get_activity"]


def test_a_throttled_page_is_asked_again_alone(client, mocked):
    mocked.get(
        f"{CC_BASE}/contacts",
        json={"contacts": [contact(1)], "_links": {"next": {"href": "/v3/contacts?cursor=2"}}},
    )
    mocked.get(f"{CC_BASE}/contacts", status=429, json=errors("throttled"))
    mocked.get(f"{CC_BASE}/contacts", json={"contacts": [contact(2)]})

    found = list(client.iter_contacts(status="unsubscribed"))

    assert [c["contact_id"] for c in found] == [contact(1)["contact_id"], contact(2)["contact_id"]]
    assert len(mocked.calls) == 3  # the first page is not read again


IMPORT = f"{CC_BASE}/activities/contacts_json_import"
QUEUED = "Too many requests. You exceeded 1,000 queued activities for this user account."


@pytest.mark.parametrize(
    ("url", "body", "error", "calls"),
    [
        (IMPORT, errors("too_many_requests", QUEUED), ActivityQueueFull, 1),
        (IMPORT, "", ActivityQueueFull, 1),
        (IMPORT, errors("throttled", "Too Many Requests"), Throttled, 4),
        (IMPORT, errors("quota_exceeded", "Limit Exceeded"), QuotaExceeded, 1),
        (IMPORT, errors("mashery.not.authorized.over.qps"), Throttled, 4),
        (IMPORT, errors("mashery.not.authorized.over.ratelimit"), QuotaExceeded, 1),
        (f"{CC_BASE}/account/summary", "", Throttled, 4),
        (f"{CC_BASE}/account/summary", errors("too_many_requests", QUEUED), ActivityQueueFull, 1),
    ],
)
def test_which_limit_a_429_is(client, mocked, url, body, error, calls):
    """The spec documents on bulk activity POSTs (contacts_json_import,
    add_list_memberships, contacts_taggings_add) a 429 "You exceeded 1,000 queued activities
    for this user account"; the rate limits guide the bodies `throttled` (4 a second) and
    `quota_exceeded` (the day); Constant Contact's older gateway answered
    mashery.not.authorized.over.qps / over.ratelimit (community.constantcontact.com, API
    Developer Support). On an activity POST a 429 that is not a documented rate-limit body
    is the account's queue: not waited out in place, and it holds no one else."""
    method = responses.POST if url == IMPORT else responses.GET
    answer = {"json": body} if body else {"body": ""}
    for _ in range(calls):  # a fifth call would find none: responses raises
        mocked.add(method, url, status=429, **answer)

    with pytest.raises(error) as caught:
        if url == IMPORT:
            client.import_contacts(rows=[{"email": EMAIL}], list_ids=["l1"])
        else:
            client.account_summary()
    assert type(caught.value) is error
    assert len(mocked.calls) == calls


@pytest.mark.parametrize(
    "value",
    [
        "2025-03-07",
        "2025-3-7",
        "2025/03/07",
        "2025/3/7",
        "03/07/2025",
        "3/7/2025",
        "03-07-2025",
        "3-7-2025",
        "3-07-2025",
        "2025-03-07T00:00:00Z",
    ],
)
def test_a_date_reads_in_every_format_the_spec_allows(value):
    """The spec's date formats (`anniversary`: MM/DD/YYYY, M/D/YYYY, YYYY/MM/DD, YYYY/M/D,
    YYYY-MM-DD, YYYY-M-D, MM-DD-YYYY, M-D-YYYY, M-DD-YYYY); a date custom field (version 2)
    may display as MM/DD/YYYY (getCustomField_200_response_metadata.display_format)."""
    assert read_date(value) == date(2025, 3, 7)


@pytest.mark.parametrize("value", ["", "March 7, 2025", "2025-02-30", "7.3.2025", "20250307"])
def test_what_is_no_date_reads_as_none(value):
    assert read_date(value) is None


@pytest.mark.parametrize("key", ["throttled", "quota_exceeded"])
def test_a_lasting_throttle_and_the_daily_quota_go_to_the_caller(client, mocked, key):
    mocked.get(f"{CC_BASE}/account/summary", status=429, json=errors(key))

    with pytest.raises(QuotaExceeded if key == "quota_exceeded" else Throttled):
        client.account_summary()
    # A throttle is asked again after each wait; the day's quota is not.
    assert len(mocked.calls) == (1 if key == "quota_exceeded" else 4)


def test_a_get_that_met_a_closed_connection_goes_once_more_through_the_limiter(tokens, mocked):
    seen = []
    client = ConstantContactClient(tokens=tokens, before_request=seen.append)
    mocked.get(f"{CC_BASE}/account/summary", body=requests.ConnectionError("reset"))
    mocked.get(f"{CC_BASE}/account/summary", json={"organization_name": "Acme"})
    assert client.account_summary() == {"organization_name": "Acme"}
    assert seen == ["account_summary", "account_summary"]  # both counted by the limiter


def test_an_import_that_met_a_closed_connection_is_not_sent_again(tokens, mocked):
    seen = []
    client = ConstantContactClient(tokens=tokens, before_request=seen.append)
    mocked.post(
        f"{CC_BASE}/activities/contacts_json_import", body=requests.ConnectionError("reset")
    )
    with pytest.raises(TransientError):
        client.import_contacts(rows=[{"email": EMAIL}], list_ids=["l1"])
    assert seen == ["contacts_json_import"]  # the worker's retry decides, from its checkpoint
