"""The app's client against the sandbox over HTTP: custom fields, tags and the tagging
activity, end to end (the sandbox's side is checked against the spec by the other tests)."""

import pytest

from integrations.constantcontact.client import ConstantContactClient
from integrations.constantcontact.errors import Conflict
from tests.sandbox.constantcontact.conftest import FixedToken, tokens_for, wait_completed


@pytest.fixture
def client(sandbox, cc_account, settings) -> ConstantContactClient:
    settings.CONSTANTCONTACT_API_BASE = sandbox.cc_api_base
    return ConstantContactClient(tokens=FixedToken(tokens_for(sandbox, cc_account)["access_token"]))


def test_custom_fields_tags_and_taggings_through_the_client(client, api, cc_account):
    customers = cc_account["lists"]["Customers"]
    sales = client.create_custom_field(
        label="Total sales", type="currency", metadata={"integer": False, "decimal_places": 2}
    )
    assert sales["name"] == "Total_sales"
    with pytest.raises(Conflict):
        client.create_custom_field(label="Total sales", type="currency")
    for number in range(99):
        client.create_custom_field(label=f"Field {number}", type="string")
    assert len(client.custom_fields()) == 100  # the account's maximum, in one page
    tag = client.create_tag(name="QuickBooks Online")
    with pytest.raises(Conflict):
        client.create_tag(name="QuickBooks Online")
    assert [item["tag_id"] for item in client.tags()] == [tag["tag_id"]]

    imported = client.import_contacts(
        rows=[{"email": "a@example.com", "cf:Total_sales": "12.50"}, {"email": "b@example.com"}],
        list_ids=[customers],
    )
    wait_completed(api, imported["activity_id"])
    activity = client.add_taggings(tag_ids=[tag["tag_id"]], list_ids=[customers])
    assert activity["state"] in ("initialized", "processing")
    assert wait_completed(api, activity["activity_id"])["state"] == "completed"
    found = {
        c["email_address"]["address"]: c
        for c in client.iter_contacts(lists=[customers], include=["custom_fields", "taggings"])
    }
    assert found["a@example.com"]["custom_fields"] == [
        {"custom_field_id": sales["custom_field_id"], "value": "12.50"}
    ]
    assert all(c["taggings"] == [tag["tag_id"]] for c in found.values())
    [customers_list] = [
        item
        for item in client.all_lists(include_membership_count=True)
        if item["list_id"] == customers
    ]
    assert customers_list["membership_count"] == 2
