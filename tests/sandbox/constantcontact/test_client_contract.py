"""Every call the app's Constant Contact client makes, against the sandbox over HTTP: the
request and the sandbox's answer (its status and body, errors included) are validated
against Constant Contact's OpenAPI spec (shared/specs/constantcontact-v3-openapi.json), the
way the `api` fixture checks the sandbox's own tests. A client method the first test does
not reach fails it: the sandbox cannot drift from the spec on a call the app makes without
these tests saying so."""

import json
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import requests
from openapi_core.validation.response.exceptions import InvalidData

from integrations import http
from integrations.constantcontact import client as cc_client
from integrations.constantcontact import errors as cc_errors
from integrations.constantcontact.client import ConstantContactClient
from tests.sandbox.constantcontact.conftest import Contract, FixedToken, tokens_for, wait_completed

LONG = "a" * 68 + "@example.com"  # 80 characters: a contact's address, not an import's


class Checked:
    """The app's client over a session whose every answer goes through its own contract,
    and the endpoints it called."""

    def __init__(self, sandbox, cc_account, cc_spec, cc_spec_dict) -> None:
        self.contract = Contract(cc_spec, cc_spec_dict, sandbox.cc_api_base)
        self.calls: Counter[str] = Counter()
        session = requests.Session()
        session.hooks["response"].append(self.contract.hook)
        self.cc = ConstantContactClient(
            tokens=FixedToken(tokens_for(sandbox, cc_account)["access_token"]),
            session=session,
            before_request=lambda endpoint: self.calls.update([endpoint]),
        )


@pytest.fixture
def checked(sandbox, cc_account, cc_spec, cc_spec_dict, settings, monkeypatch) -> Checked:
    settings.CONSTANTCONTACT_API_BASE = sandbox.cc_api_base
    monkeypatch.setattr(http, "THROTTLE_BACKOFF", (0.0, 0.0, 0.0))
    return Checked(sandbox, cc_account, cc_spec, cc_spec_dict)


def test_every_call_of_the_client_is_answered_as_the_spec_says(checked, api, cc_account):
    """The spec: each operation's request body and parameters, and its documented response
    (status, schema), for every endpoint of the client (client.ENDPOINTS)."""
    cc = checked.cc
    customers = cc_account["lists"]["Customers"]
    cc.account_summary()
    assert {item["name"] for item in cc.all_lists(include_membership_count=True)} >= {"Customers"}
    made = cc.create_list(name="Newsletter")
    sales = cc.create_custom_field(
        label="Total sales", type="number", metadata={"integer": False, "decimal_places": 2}
    )
    cc.create_custom_field(label="Last purchase", type="date", version=2)
    assert len(cc.custom_fields()) == 2
    imported = cc.import_contacts(
        rows=[{"email": "a@example.com", "first_name": "Ann", "cf:Total_sales": "12.50"}],
        list_ids=[customers],
    )
    wait_completed(api, imported["activity_id"])
    assert cc.get_activity(activity_id=imported["activity_id"])["state"] == "completed"
    assert [a["activity_id"] for a in cc.iter_activities(limit=1)] == [imported["activity_id"]]
    found = cc.find_contact(email="a@example.com", include=("list_memberships", "custom_fields"))
    assert found is not None
    contact = cc.get_contact(contact_id=found["contact_id"], include=("custom_fields",))
    put = cc.put_contact(contact_id=contact["contact_id"], contact={**contact, "last_name": "Lee"})
    assert put["last_name"] == "Lee"
    created = cc.create_contact(
        contact={"email_address": {"address": LONG}, "list_memberships": [customers]}
    )
    assert created["list_memberships"] == [customers]
    moved = cc.put_contact(
        contact_id=created["contact_id"],
        contact={**created, "email_address": {"address": LONG.replace("a", "b", 1)}},
    )
    assert moved["email_address"]["address"] == LONG.replace("a", "b", 1)
    sample = cc.sample_contacts(
        list_id=customers, updated_after=datetime.now(UTC) - timedelta(hours=1)
    )
    assert [
        c["custom_fields"] for c in sample if c["email_address"]["address"] == "a@example.com"
    ] == [[{"custom_field_id": sales["custom_field_id"], "value": "12.50"}]]
    listed = [c["email_address"]["address"] for c in cc.iter_contacts(lists=[customers])]
    assert sorted(listed) == sorted(["a@example.com", LONG.replace("a", "b", 1)])
    cc.add_list_memberships(contact_ids=[found["contact_id"]], list_ids=[made["list_id"]])
    tag = cc.create_tag(name="QuickBooks Online")
    assert [item["tag_id"] for item in cc.tags()] == [tag["tag_id"]]
    cc.add_taggings(tag_ids=[tag["tag_id"]], list_ids=[customers])
    assert sales["name"] == "Total_sales"

    assert set(checked.calls) == set(cc_client.ENDPOINTS)
    assert checked.contract.checked == sum(checked.calls.values())


def test_the_client_s_errors_are_answered_as_the_spec_says(checked, cc_account, knobs):
    """The spec's documented errors of the client's calls, each one what the client raises:
    409 for a custom field, list or contact that exists, 400 for a field refused, the 101st
    field (CustomFieldLimitReached, found with 1 more call), 404 for a contact that is not
    there, 403 for what the user's role may not do (NotPermitted: the guide's "User
    privileges" for custom fields, the tags overview's Account Owner or Manager role), and
    the bulk activities' 429 "You exceeded 1,000 queued activities for this user account"
    (ActivityQueueFull), beside the rate limits' 429s (Throttled, QuotaExceeded)."""
    cc, customers = checked.cc, cc_account["lists"]["Customers"]
    cc.create_custom_field(label="Note", type="string")
    with pytest.raises(cc_errors.Conflict):
        cc.create_custom_field(label="Note", type="text_area")
    with pytest.raises(cc_errors.BadRequest) as refused:
        cc.create_custom_field(label="Colour", type="text")  # no `text` type: string, text_area
    assert type(refused.value) is cc_errors.BadRequest
    with pytest.raises(cc_errors.Conflict):
        cc.create_list(name="customers")
    with pytest.raises(cc_errors.NotFound):
        cc.get_contact(contact_id="00000000-0000-4000-8000-000000000000")
    cc.create_contact(contact={"email_address": {"address": LONG}})
    with pytest.raises(cc_errors.Conflict):
        cc.create_contact(contact={"email_address": {"address": LONG.upper()}})

    knobs(
        cc_forbidden_operations=[
            "POST /contact_custom_fields",
            "GET /contact_tags",
            "POST /contact_tags",
            "POST /activities/contacts_taggings_add",
        ]
    )
    for call in (
        lambda: cc.create_custom_field(label="Other", type="string"),
        cc.tags,
        lambda: cc.create_tag(name="QuickBooks Online"),
        lambda: cc.add_taggings(
            tag_ids=["00000000-0000-4000-8000-000000000000"], list_ids=[customers]
        ),
    ):
        with pytest.raises(cc_errors.NotPermitted):
            call()
    assert cc.custom_fields()  # the same token reads what the role allows

    knobs(cc_forbidden_operations=[], cc_max_queued_activities=0)
    with pytest.raises(cc_errors.ActivityQueueFull):
        cc.import_contacts(rows=[{"email": "q@example.com"}], list_ids=[customers])
    knobs(constantcontact_throttle_rate=1.0)
    with pytest.raises(cc_errors.Throttled):
        cc.account_summary()
    knobs(constantcontact_throttle_rate=0.0, enforce_rate_limits=True, constantcontact_per_day=0)
    with pytest.raises(cc_errors.QuotaExceeded):
        cc.account_summary()
    assert checked.contract.checked == sum(checked.calls.values())


def test_the_hundred_and_first_custom_field_is_the_limit(checked):
    """The spec: "A user can configure up to 100 custom_fields in their account"; it names
    no error for the 101st (the sandbox answers 400): the client says which it is by
    listing the fields, 1 call."""
    cc = checked.cc
    for number in range(100):
        cc.create_custom_field(label=f"Field {number}", type="string")
    before = sum(checked.calls.values())
    with pytest.raises(cc_errors.CustomFieldLimitReached):
        cc.create_custom_field(label="One more", type="string")
    assert sum(checked.calls.values()) - before == 2  # the refused POST and 1 page of fields
    assert checked.contract.checked == sum(checked.calls.values())


def test_the_contract_catches_an_answer_the_spec_refuses(sandbox, cc_spec, cc_spec_dict):
    """The check above is not vacuous: an answer whose body breaks the operation's schema
    fails it."""
    contract = Contract(cc_spec, cc_spec_dict, sandbox.cc_api_base)
    request = requests.Request("GET", f"{sandbox.cc_api_base}/contact_custom_fields").prepare()
    answer = requests.Response()
    answer.status_code, answer.request, answer.url = 200, request, request.url
    answer.headers["Content-Type"] = "application/json"
    answer._content = json.dumps({"custom_fields": "not a list"}).encode()
    with pytest.raises(InvalidData):
        contract.check(answer)
