"""The sandbox's V3 lists and contacts, each call checked against the OpenAPI spec by the
`contract` hook of the `api` fixture."""

import time
from datetime import UTC, datetime, timedelta

import requests

from tests.sandbox.constantcontact.conftest import unique


def _contact(email: str, list_ids: list[str], **fields) -> dict:
    return {
        "email_address": {"address": email, "permission_to_send": "implicit"},
        "create_source": "Account",
        "list_memberships": list_ids,
        **fields,
    }


def test_account_summary(api, cc_account):
    summary = api.get("/account/summary").json()
    assert summary["encoded_account_id"] == cc_account["account_id"]
    assert summary["contact_email"] == f"{cc_account['username']}@example.com"


def test_lists_paging_counts_and_duplicate_names(api, cc_account):
    created = api.post("/contact_lists", json={"name": "VIP", "favorite": True, "description": "d"})
    assert created.status_code == 201
    assert created.json()["name"] == "VIP" and created.json()["favorite"] is True
    duplicate = api.post("/contact_lists", json={"name": "vip"})
    assert duplicate.status_code == 409
    assert duplicate.json()[0]["error_key"] and duplicate.json()[0]["error_message"]

    customers = cc_account["lists"]["Customers"]
    assert api.post("/contacts", json=_contact("a@example.com", [customers])).status_code == 201

    first = api.get("/contact_lists?limit=2&include_count=true&include_membership_count=all")
    assert first.status_code == 200
    body = first.json()
    assert body["lists_count"] == 3 and len(body["lists"]) == 2
    counts = {item["name"]: item["membership_count"] for item in body["lists"]}
    assert counts["Customers"] == 1
    second = api.follow(body["_links"]["next"]["href"]).json()
    assert [item["name"] for item in second["lists"]] == ["VIP"]
    assert "_links" not in second
    by_name = api.get("/contact_lists?name=Donors").json()["lists"]
    assert [item["list_id"] for item in by_name] == [cc_account["lists"]["Donors"]]
    one = api.get(f"/contact_lists/{customers}?include_membership_count=active").json()
    assert one["membership_count"] == 1
    renamed = api.put(f"/contact_lists/{created.json()['list_id']}", json={"name": "Top"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "Top"
    assert api.get("/contact_lists/00000000-0000-4000-8000-000000000000").status_code == 404


def test_lists_come_at_most_500_a_page(api):
    """The spec (GET /contact_lists, `limit`): "from 1 - 500, default = 50" in its
    description; its schema's maximum says 1,000: the stricter holds."""
    assert api.get("/contact_lists?limit=500").status_code == 200
    over = api.get("/contact_lists?limit=501")
    assert over.status_code == 400 and "500" in over.json()[0]["error_message"]


def test_an_address_of_80_characters_is_created_and_put(api, cc_account, contract):
    """The spec: `email_address.address` has maxLength 80 in createContact_request and
    updateContact_request (an import's `email` only 50)."""
    eighty = "a" * 68 + "@example.com"
    created = api.post("/contacts", json=_contact(eighty, [cc_account["lists"]["Customers"]]))
    assert created.status_code == 201, created.text
    path = f"/contacts/{created.json()['contact_id']}"
    moved = api.put(
        path, json={"email_address": {"address": "b" + eighty[1:]}, "update_source": "Account"}
    )
    assert moved.status_code == 200 and moved.json()["email_address"]["address"] == "b" + eighty[1:]
    with contract.expect_invalid_request():
        too_long = {"email_address": {"address": "c" + eighty}, "update_source": "Account"}
        assert api.put(path, json=too_long).status_code == 400
        assert api.post("/contacts", json=_contact("c" + eighty, [])).status_code == 400


def test_create_get_and_conflict(api, cc_account):
    customers = cc_account["lists"]["Customers"]
    body = _contact(
        "Jane@Example.com",
        [customers],
        first_name="Jane",
        last_name="Doe",
        phone_numbers=[{"phone_number": "555-0100", "kind": "work"}],
        street_addresses=[{"kind": "work", "street": "1 Main St", "city": "Boston"}],
    )
    created = api.post("/contacts", json=body)
    assert created.status_code == 201
    contact = created.json()
    assert contact["email_address"]["permission_to_send"] == "implicit"
    assert contact["create_source"] == "Account"
    assert contact["list_memberships"] == [customers]
    again = api.post("/contacts", json=_contact("jane@example.com", [customers]))
    assert again.status_code == 409

    include = "list_memberships,phone_numbers,street_addresses"
    fetched = api.get(f"/contacts/{contact['contact_id']}?include={include}").json()
    assert fetched["phone_numbers"][0]["phone_number"] == "555-0100"
    assert fetched["street_addresses"][0]["city"] == "Boston"
    plain = api.get(f"/contacts/{contact['contact_id']}").json()
    assert "phone_numbers" not in plain and plain["first_name"] == "Jane"
    assert api.get("/contacts/00000000-0000-4000-8000-000000000000").status_code == 404


def test_over_long_and_too_many_values_are_refused(api, cc_account, contract):
    customers = cc_account["lists"]["Customers"]
    cases = [
        _contact("x" * 75 + "@example.com", [customers]),
        _contact("ok@example.com", [customers], first_name="n" * 51),
        _contact("ok@example.com", [customers], company_name="c" * 51),
        _contact(
            "ok@example.com",
            [customers],
            phone_numbers=[{"phone_number": "1", "kind": "home"}] * 4,
        ),
        _contact(
            "ok@example.com",
            [customers],
            street_addresses=[{"kind": "home", "street": "s" * 256}],
        ),
    ]
    for body in cases:
        with contract.expect_invalid_request():
            answer = api.post("/contacts", json=body)
        assert answer.status_code == 400, body
        assert answer.json()[0]["error_key"]
    with contract.expect_invalid_request():
        assert api.get("/contacts?limit=501").status_code == 400
    bad_kind = _contact(
        "ok@example.com", [customers], phone_numbers=[{"phone_number": "1", "kind": "fax"}]
    )
    assert api.post("/contacts", json=bad_kind).status_code == 400
    assert api.get("/contacts?email=ok@example.com").json()["contacts"] == []


def test_paging_follows_links_until_absent(api, cc_account):
    customers = cc_account["lists"]["Customers"]
    for number in range(7):
        created = api.post("/contacts", json=_contact(f"p{number}@example.com", [customers]))
        assert created.status_code == 201
    first = api.get(f"/contacts?limit=3&lists={customers}&include_count=true").json()
    assert first["contacts_count"] == 7 and len(first["contacts"]) == 3
    assert "cursor=" in first["_links"]["next"]["href"]
    found = api.all_contacts(f"limit=3&lists={customers}&include=list_memberships")
    emails = [item["email_address"]["address"] for item in found]
    assert emails == [f"p{number}@example.com" for number in range(7)]
    assert all(item["list_memberships"] == [customers] for item in found)
    everyone = api.all_contacts("limit=2")
    assert len(everyone) == 8  # and the seeded unsubscribed contact


def test_status_filters_and_optout_after(api, cc_account, sandbox):
    customers = cc_account["lists"]["Customers"]
    api.post("/contacts", json=_contact("stay@example.com", [customers]))
    time.sleep(1.1)  # the seeded contact unsubscribed earlier, in a past second
    since = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    leaving = api.post("/contacts", json=_contact("leave@example.com", [customers])).json()
    requests.post(
        f"{sandbox.url}/_sandbox/cc/accounts/{cc_account['username']}/unsubscribe",
        json={"email": "leave@example.com"},
        timeout=10,
    ).raise_for_status()
    recent = api.all_contacts(f"status=unsubscribed&optout_after={since}")
    assert [item["contact_id"] for item in recent] == [leaving["contact_id"]]
    assert recent[0]["email_address"]["opt_out_date"] >= since
    unsubscribed = api.all_contacts("status=unsubscribed")
    assert {item["email_address"]["address"] for item in unsubscribed} == {
        "gone@example.com",
        "leave@example.com",
    }
    active = api.all_contacts("status=active")
    assert [item["email_address"]["address"] for item in active] == ["stay@example.com"]
    later = (datetime.now(UTC) + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert api.all_contacts(f"updated_after={later}") == []

    deleted = api.call("DELETE", f"/contacts/{leaving['contact_id']}")
    assert deleted.status_code == 204
    default = {item["email_address"]["address"] for item in api.all_contacts("limit=50")}
    assert "leave@example.com" not in default
    everything = {i["email_address"]["address"] for i in api.all_contacts("status=all")}
    assert "leave@example.com" in everything
    by_email = api.get("/contacts?email=STAY@example.com&status=all").json()["contacts"]
    assert len(by_email) == 1


def test_put_replaces_top_level_fields_and_changes_email(api, cc_account, contract):
    customers, donors = cc_account["lists"]["Customers"], cc_account["lists"]["Donors"]
    created = api.post(
        "/contacts",
        json=_contact(
            "old@example.com",
            [customers],
            first_name="Old",
            job_title="Boss",
            phone_numbers=[{"phone_number": "1", "kind": "home"}],
        ),
    ).json()
    api.post("/contacts", json=_contact("taken@example.com", [customers]))
    path = f"/contacts/{created['contact_id']}"
    time.sleep(1.1)
    replaced = api.put(
        path,
        json={
            "email_address": {"address": "new@example.com"},
            "first_name": "New",
            "update_source": "Account",
            "list_memberships": [customers, donors],
        },
    )
    assert replaced.status_code == 200
    body = replaced.json()
    assert body["email_address"]["address"] == "new@example.com"
    assert body["first_name"] == "New"
    assert "job_title" not in body  # omitted top-level fields are emptied
    assert body["phone_numbers"][0]["phone_number"] == "1"  # omitted sub-resources are kept
    assert sorted(body["list_memberships"]) == sorted([customers, donors])
    assert body["contact_id"] == created["contact_id"]
    assert body["updated_at"] > created["updated_at"]
    clash = api.put(
        path, json={"email_address": {"address": "taken@example.com"}, "update_source": "Account"}
    )
    assert clash.status_code == 409
    # "Any properties left blank or not included in the request are overwritten with null
    # value": a PUT that leaves out the address would leave the contact without one.
    unaddressed = api.put(path, json={"first_name": "X", "update_source": "Account"})
    assert unaddressed.status_code == 400 and "email_address" in unaddressed.text
    with contract.expect_invalid_request():
        assert api.put(path, json={"first_name": "X"}).status_code == 400  # no update_source


def test_put_sets_the_permission_it_is_sent_and_keeps_the_one_it_is_not(api, cc_account):
    """A PUT that carries permission_to_send sets it, an unsubscribed contact's included:
    the spec warns that using "the Opt-in features of the API to opt a contact back in
    without his or her own action" violates the law and the terms of service, and
    developer.constantcontact.com/api_guide/contacts_re-subscribe.html re-subscribes by a
    PUT of permission_to_send. Nothing says an Account update is refused, so the sandbox
    takes the reading that does the most harm. A PUT without the permission keeps it
    (the spec: "Omitted subresources are not overwritten with null")."""
    gone = api.get("/contacts?email=gone@example.com").json()["contacts"][0]
    path = f"/contacts/{gone['contact_id']}"
    kept = api.put(
        path,
        json={"email_address": {"address": "gone@example.com"}, "update_source": "Account"},
    )
    assert kept.status_code == 200
    assert kept.json()["email_address"]["permission_to_send"] == "unsubscribed"
    answer = api.put(
        path,
        json={
            "email_address": {"address": "gone@example.com", "permission_to_send": "implicit"},
            "update_source": "Account",
        },
    )
    assert answer.status_code == 200
    assert answer.json()["email_address"]["permission_to_send"] == "implicit"


def test_sign_up_form_resubscribes_and_appends_lists(api, cc_account):
    customers, donors = cc_account["lists"]["Customers"], cc_account["lists"]["Donors"]
    gone = api.get("/contacts?email=gone@example.com").json()["contacts"][0]
    assert gone["email_address"]["permission_to_send"] == "unsubscribed"
    answer = api.post(
        "/contacts/sign_up_form",
        json={"email_address": "gone@example.com", "list_memberships": [customers]},
    )
    assert answer.status_code == 200 and answer.json()["action"] == "updated"
    again = api.get(f"/contacts/{gone['contact_id']}?include=list_memberships").json()
    assert again["email_address"]["permission_to_send"] == "explicit"
    assert again["list_memberships"] == [customers]
    api.post(
        "/contacts/sign_up_form",
        json={"email_address": "gone@example.com", "list_memberships": [donors]},
    )
    again = api.get(f"/contacts/{gone['contact_id']}?include=list_memberships").json()
    assert sorted(again["list_memberships"]) == sorted([customers, donors])
    new = api.post(
        "/contacts/sign_up_form",
        json={
            "email_address": f"{unique('n')}@example.com",
            "list_memberships": [customers],
            "first_name": "Ann",
        },
    )
    assert new.status_code == 201 and new.json()["action"] == "created"


def test_errors_are_documented_arrays(api, sandbox, contract):
    with contract.expect_invalid_request():
        bad_json = api.post(
            "/contact_lists", data="{", headers={"Content-Type": "application/json"}
        )
        assert bad_json.status_code == 400
        assert api.get("/contacts?include=everything").status_code == 400
    assert api.get("/contacts?cursor=not-ours").status_code == 400
    lists = ",".join(["00000000-0000-4000-8000-000000000000"] * 26)
    assert api.get(f"/contacts?lists={lists}").status_code == 400
    missing = requests.get(f"{sandbox.cc_api_base}/contacts", timeout=10)
    assert missing.status_code == 401
    assert missing.json()[0]["error_key"] == "unauthorized"
