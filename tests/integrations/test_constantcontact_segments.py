"""The client's custom fields, tags and tagging activity, and list membership counts."""

import json

import pytest
import responses

from integrations.constantcontact.client import ConstantContactClient
from integrations.constantcontact.errors import Conflict
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
                {"limit": "1000", "include_membership_count": "all"}
            )
        ],
    )
    mocked.get(
        f"{CC_BASE}/contact_lists",
        json={"lists": [{"list_id": "l1"}]},
        match=[responses.matchers.query_param_matcher({"limit": "1000"})],
    )

    assert client.all_lists(include_membership_count=True)[0]["membership_count"] == 3
    assert client.all_lists() == [{"list_id": "l1"}]
