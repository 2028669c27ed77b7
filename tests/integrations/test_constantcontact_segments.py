"""The client's custom fields, tags and tagging activity, and list membership counts."""

import json

import pytest
import responses

from integrations.constantcontact.client import ConstantContactClient
from integrations.constantcontact.errors import (
    BadRequest,
    Conflict,
    CustomFieldLimitReached,
    Forbidden,
    NotPermitted,
)
from tests.integrations.conftest import CC_BASE

pytestmark = pytest.mark.usefixtures("provider_settings")


@pytest.fixture
def client(tokens):
    return ConstantContactClient(tokens=tokens)


def test_custom_fields_reads_every_page_100_at_a_time(client, mocked):
    mocked.get(
        f"{CC_BASE}/contact_custom_fields",
        json={
            "custom_fields": [{"custom_field_id": "f1", "name": "Total_sales"}],
            "_links": {"next": {"href": "/v3/contact_custom_fields?cursor=abc"}},
        },
        match=[responses.matchers.query_param_matcher({"limit": "100"})],
    )
    mocked.get(
        f"{CC_BASE}/contact_custom_fields",
        json={"custom_fields": [{"custom_field_id": "f2", "name": "Invoices"}]},
        match=[responses.matchers.query_param_matcher({"cursor": "abc"})],
    )

    assert [item["custom_field_id"] for item in client.custom_fields()] == ["f1", "f2"]


def test_create_custom_field_sends_only_what_is_given(client, mocked):
    mocked.post(f"{CC_BASE}/contact_custom_fields", status=201, json={"custom_field_id": "f1"})
    mocked.post(f"{CC_BASE}/contact_custom_fields", status=201, json={"custom_field_id": "f2"})

    assert client.create_custom_field(label="Note", type="string")["custom_field_id"] == "f1"
    client.create_custom_field(
        label="Last purchase", type="date", metadata={"display_format": "MM/DD/YYYY"}, version=2
    )

    bodies = [json.loads(call.request.body) for call in mocked.calls]
    assert bodies == [
        {"label": "Note", "type": "string"},
        {
            "label": "Last purchase",
            "type": "date",
            "metadata": {"display_format": "MM/DD/YYYY"},
            "version": 2,
        },
    ]


@pytest.mark.parametrize(
    ("url", "create"),
    [
        (
            f"{CC_BASE}/contact_custom_fields",
            lambda client: client.create_custom_field(label="Note", type="string"),
        ),
        (f"{CC_BASE}/contact_tags", lambda client: client.create_tag(name="QuickBooks Online")),
    ],
)
def test_a_taken_name_is_conflict(client, mocked, url, create):
    mocked.post(url, status=409, json=[{"error_key": "conflict", "error_message": "taken"}])

    with pytest.raises(Conflict):
        create(client)


def _fields(count: int) -> dict:
    return {"custom_fields": [{"custom_field_id": f"f{n}"} for n in range(count)]}


@pytest.mark.parametrize(("held", "error"), [(100, CustomFieldLimitReached), (12, BadRequest)])
def test_a_refused_custom_field_says_whether_the_account_is_full(client, mocked, held, error):
    """The spec: "A user can configure up to 100 custom_fields in their account", no error
    named for the 101st; a 400 is "a data validation error". One list of the fields (1
    call, only when a creation is refused) tells the two apart."""
    refused = [{"error_key": "contacts.api.validation.error", "error_message": "no"}]
    mocked.post(f"{CC_BASE}/contact_custom_fields", status=400, json=refused)
    mocked.get(f"{CC_BASE}/contact_custom_fields", json=_fields(held))

    with pytest.raises(error) as caught:
        client.create_custom_field(label="Note", type="string")
    assert type(caught.value) is error
    assert len(mocked.calls) == 2


@pytest.mark.parametrize(
    ("method", "url", "call"),
    [
        (
            "POST",
            "contact_custom_fields",
            lambda c: c.create_custom_field(label="N", type="string"),
        ),
        ("GET", "contact_tags", lambda c: c.tags()),
        ("POST", "contact_tags", lambda c: c.create_tag(name="QuickBooks Online")),
        (
            "POST",
            "activities/contacts_taggings_add",
            lambda c: c.add_taggings(tag_ids=["t1"], list_ids=["l1"]),
        ),
    ],
)
def test_a_403_to_what_needs_a_role_is_the_role_not_the_token(client, mocked, method, url, call):
    """The tags overview (developer.constantcontact.com/api_guide/tags_overview.html): tags
    need the Account Owner or Manager role; custom fields the contacts:write privilege
    (create_custom_fields.html). The spec's 403: "you lack the necessary user privileges"
    among others. These 403s are NotPermitted, which no caller reads as a refused
    connection; elsewhere a 403 stays Forbidden."""
    forbidden = [{"error_key": "forbidden", "error_message": "Forbidden request."}]
    mocked.add(method, f"{CC_BASE}/{url}", status=403, json=forbidden)
    mocked.get(f"{CC_BASE}/contact_custom_fields", status=403, json=forbidden)

    with pytest.raises(NotPermitted) as caught:
        call(client)
    assert not isinstance(caught.value, Forbidden)
    with pytest.raises(Forbidden):
        client.custom_fields()


def test_tags_reads_every_page_500_at_a_time(client, mocked):
    mocked.get(
        f"{CC_BASE}/contact_tags",
        json={
            "tags": [{"tag_id": "t1"}],
            "_links": {"next": {"href": "/v3/contact_tags?cursor=abc"}},
        },
        match=[responses.matchers.query_param_matcher({"limit": "500"})],
    )
    mocked.get(
        f"{CC_BASE}/contact_tags",
        json={"tags": [{"tag_id": "t2"}], "_links": {}},
        match=[responses.matchers.query_param_matcher({"cursor": "abc"})],
    )

    assert [item["tag_id"] for item in client.tags()] == ["t1", "t2"]


def test_create_tag(client, mocked):
    mocked.post(f"{CC_BASE}/contact_tags", status=201, json={"tag_id": "t1", "name": "QBO"})

    assert client.create_tag(name="QBO")["tag_id"] == "t1"
    assert json.loads(mocked.calls[0].request.body) == {"name": "QBO"}


def test_add_taggings_by_contacts_or_by_lists(client, mocked):
    url = f"{CC_BASE}/activities/contacts_taggings_add"
    mocked.post(url, status=201, json={"activity_id": "a1", "state": "initialized"})
    mocked.post(url, status=201, json={"activity_id": "a2", "state": "initialized"})

    assert client.add_taggings(tag_ids=["t1"], contact_ids=["c1", "c2"])["activity_id"] == "a1"
    client.add_taggings(tag_ids=["t1", "t2"], list_ids=["l1"], exclude_contact_ids=["c3"])

    bodies = [json.loads(call.request.body) for call in mocked.calls]
    assert bodies == [
        {"source": {"contact_ids": ["c1", "c2"]}, "tag_ids": ["t1"]},
        {
            "source": {"list_ids": ["l1"]},
            "exclude": {"contact_ids": ["c3"]},
            "tag_ids": ["t1", "t2"],
        },
    ]


@pytest.mark.parametrize(
    "arguments",
    [
        {"tag_ids": [], "contact_ids": ["c1"]},
        {"tag_ids": [f"t{n}" for n in range(51)], "contact_ids": ["c1"]},
        {"tag_ids": ["t1"]},
        {"tag_ids": ["t1"], "contact_ids": ["c1"], "list_ids": ["l1"]},
        {"tag_ids": ["t1"], "contact_ids": [f"c{n}" for n in range(501)]},
        {"tag_ids": ["t1"], "list_ids": [f"l{n}" for n in range(51)]},
        {"tag_ids": ["t1"], "contact_ids": ["c1"], "exclude_contact_ids": ["c2"]},
    ],
)
def test_add_taggings_refuses_what_the_spec_forbids(client, arguments):
    """The spec's createTagRemoveActivity_request: one source, contact_ids up to 500,
    list_ids up to 50, tag_ids up to 50, `exclude` only with list_ids."""
    with pytest.raises(ValueError):
        client.add_taggings(**arguments)


def test_all_lists_with_membership_counts(client, mocked):
    mocked.get(
        f"{CC_BASE}/contact_lists",
        json={"lists": [{"list_id": "l1", "membership_count": 3}]},
        match=[
            responses.matchers.query_param_matcher(
                {"limit": "500", "include_membership_count": "all"}
            )
        ],
    )
    mocked.get(
        f"{CC_BASE}/contact_lists",
        json={"lists": [{"list_id": "l1"}]},
        match=[responses.matchers.query_param_matcher({"limit": "500"})],
    )

    assert client.all_lists(include_membership_count=True)[0]["membership_count"] == 3
    assert client.all_lists() == [{"list_id": "l1"}]
