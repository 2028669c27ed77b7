"""Tags and the add-tags bulk activity; every call checked against the spec."""

from tests.sandbox.constantcontact.conftest import Browser, wait_completed


def _contacts(api, account, *emails):
    rows = [{"email": email} for email in emails]
    activity = api.post(
        "/activities/contacts_json_import",
        json={"import_data": rows, "list_ids": [account["lists"]["Customers"]]},
    ).json()
    wait_completed(api, activity["activity_id"])
    found = api.get("/contacts?include=taggings&limit=500").json()["contacts"]
    return {c["email_address"]["address"]: c["contact_id"] for c in found}


def test_create_list_and_page_tags(api, contract):
    """The spec (POST /contact_tags: `name` "required and must be unique", 1 to 255
    characters, 409 on conflict; GET /contact_tags `limit` up to 500, `include_count`, paging
    by `cursor`) and https://developer.constantcontact.com/api_guide/tags_overview.html."""
    made = api.post("/contact_tags", json={"name": "QuickBooks Online", "tag_source": "QBO"})
    assert made.status_code == 201, made.text
    tag = made.json()
    assert tag["name"] == "QuickBooks Online" and tag["tag_source"] == "QBO"
    assert api.post("/contact_tags", json={"name": "quickbooks online"}).status_code == 409
    with contract.expect_invalid_request():
        assert api.post("/contact_tags", json={"name": ""}).status_code == 400
    assert api.get(f"/contact_tags/{tag['tag_id']}").json() == tag
    for name in ("B", "C"):
        api.post("/contact_tags", json={"name": name})
    first = api.get("/contact_tags?limit=2&include_count=true").json()
    assert [t["contacts_count"] for t in first["tags"]] == [0, 0]
    rest = api.follow(first["_links"]["next"]["href"]).json()
    assert [t["name"] for t in first["tags"] + rest["tags"]] == ["QuickBooks Online", "B", "C"]


def test_taggings_add_is_an_activity_and_tags_show_on_contacts(api, sandbox, cc_account):
    """The spec (POST /activities/contacts_taggings_add: 201 with the activity; source
    `contact_ids` up to 500, `list_ids` up to 50, `tag_ids`, `all_active_contacts`,
    mutually exclusive; `exclude` only with list_ids or all_active_contacts; `tag_ids` up to
    50) and https://developer.constantcontact.com/api_guide/add_tagging_activity.html;
    `include=taggings` answers the contact's tag ids. The activity runs as imports do:
    initialized, processing, completed, listed in GET /activities."""
    ids = _contacts(api, cc_account, "a@example.com", "b@example.com", "c@example.com")
    tag = api.post("/contact_tags", json={"name": "QuickBooks Online"}).json()["tag_id"]
    other = api.post("/contact_tags", json={"name": "Other"}).json()["tag_id"]
    by_ids = api.post(
        "/activities/contacts_taggings_add",
        json={"source": {"contact_ids": [ids["a@example.com"]]}, "tag_ids": [tag, other]},
    )
    assert by_ids.status_code == 201, by_ids.text
    activity = by_ids.json()
    assert activity["state"] in ("initialized", "processing")
    assert activity["status"]["items_total_count"] == 1
    done = wait_completed(api, activity["activity_id"])
    assert done["state"] == "completed" and done["status"]["items_completed_count"] == 1
    listed = [a["activity_id"] for a in api.get("/activities").json()["activities"]]
    assert activity["activity_id"] in listed
    by_list = api.post(
        "/activities/contacts_taggings_add",
        json={
            "source": {"list_ids": [cc_account["lists"]["Customers"]]},
            "exclude": {"contact_ids": [ids["c@example.com"]]},
            "tag_ids": [tag],
        },
    ).json()
    wait_completed(api, by_list["activity_id"])
    found = api.get("/contacts?include=taggings").json()["contacts"]
    tagged = {c["email_address"]["address"]: c["taggings"] for c in found}
    assert tagged["a@example.com"] == sorted([tag, other])
    assert tagged["b@example.com"] == [tag] and tagged["c@example.com"] == []
    one = api.get(f"/contacts/{ids['b@example.com']}?include=taggings").json()
    assert one["taggings"] == [tag]
    counted = api.get(f"/contact_tags/{tag}?include_count=true").json()
    assert counted["contacts_count"] == 2


def test_taggings_add_refuses_what_the_spec_forbids(api, contract, cc_account):
    """Source criteria "are mutually exclusive"; `exclude` is "Only applicable if the
    specified source is either all_active_contacts or list_ids" (the spec,
    createTagRemoveActivity_request); tags must exist; the maxima are the spec's."""
    ids = _contacts(api, cc_account, "a@example.com")
    tag = api.post("/contact_tags", json={"name": "T"}).json()["tag_id"]
    contact = ids["a@example.com"]
    lists = [cc_account["lists"]["Customers"]]
    for body in (
        {"source": {"contact_ids": [contact], "list_ids": lists}, "tag_ids": [tag]},
        {"source": {}, "tag_ids": [tag]},
        {
            "source": {"contact_ids": [contact]},
            "exclude": {"contact_ids": [contact]},
            "tag_ids": [tag],
        },
        {"source": {"contact_ids": [contact]}, "tag_ids": ["00000000-0000-0000-0000-000000000000"]},
    ):
        answer = api.post("/activities/contacts_taggings_add", json=body)
        assert answer.status_code == 400, (body, answer.text)
    with contract.expect_invalid_request():
        too_many = {"source": {"contact_ids": [contact] * 501}, "tag_ids": [tag]}
        assert api.post("/activities/contacts_taggings_add", json=too_many).status_code == 400


def test_the_pages_show_custom_fields_and_tags(api, sandbox, cc_account):
    """The sandbox's own Constant Contact pages (not an API): the account page lists the
    custom fields and tags, a contact's page its values as "Label: value" and its tags."""
    api.post("/contact_custom_fields", json={"label": "Total sales", "type": "string"})
    ids = _contacts(api, cc_account, "a@example.com")
    tag = api.post("/contact_tags", json={"name": "QuickBooks Online"}).json()["tag_id"]
    activity = api.post(
        "/activities/contacts_json_import",
        json={
            "import_data": [{"email": "a@example.com", "cf:Total_sales": "12"}],
            "list_ids": [cc_account["lists"]["Customers"]],
        },
    ).json()
    wait_completed(api, activity["activity_id"])
    tagging = api.post(
        "/activities/contacts_taggings_add",
        json={"source": {"contact_ids": [ids["a@example.com"]]}, "tag_ids": [tag]},
    ).json()
    wait_completed(api, tagging["activity_id"])
    browser = Browser(sandbox)
    first = browser.get("/cc/account/")
    browser.log_in(browser.get(first.headers["Location"]), cc_account["username"], "pw")
    account = browser.get("/cc/account/").text
    assert "<td>Total sales</td><td>Total_sales</td><td>string</td>" in account
    assert "<td>QuickBooks Online</td><td>1</td>" in account
    contact = browser.get(f"/cc/account/contacts/{ids['a@example.com']}/").text
    assert "<li>Total sales: 12</li>" in contact and "<li>QuickBooks Online</li>" in contact
    listed = browser.get("/cc/account/contacts/").text
    assert "<td>Total sales: 12</td>" in listed and "<td>QuickBooks Online</td>" in listed
