"""What a JSON contact import does to contacts: which properties it sets or adds, that it
leaves alone what it is sent empty, that it never changes a contact's permission, and the
shapes its errors come in; every call checked against the spec."""

import pytest

from tests.sandbox.constantcontact.conftest import contacts_by_email, wait_completed


def test_import_semantics(api, sandbox, cc_account):
    customers = cc_account["lists"]["Customers"]
    existing = api.post(
        "/contacts",
        json={
            "email_address": {"address": "known@example.com"},
            "create_source": "Contact",
            "first_name": "Kim",
            "job_title": "Owner",
            "list_memberships": [cc_account["lists"]["Donors"]],
        },
    ).json()
    rows = [
        {"email": "known@example.com", "last_name": "Lee", "work_phone": "555-1"},
        {"email": "gone@example.com", "first_name": "Gone"},
        {
            "email": "fresh@example.com",
            "company_name": "Acme",
            "mobile_phone": "555-2",
            "home_street": "1 Elm",
            "home_street2": "Apt 2",
            "home_city": "Salem",
            "home_zip": "01970",
        },
    ]
    activity = api.post(
        "/activities/contacts_json_import", json={"import_data": rows, "list_ids": [customers]}
    ).json()
    finished = wait_completed(api, activity["activity_id"])
    assert finished["status"]["cannot_add_to_list_count"] == 1
    assert finished["status"]["person_count"] == 3

    contacts = contacts_by_email(sandbox, cc_account["username"])
    known = contacts["known@example.com"]
    assert known["contact_id"] == existing["contact_id"]
    assert (known["first_name"], known["last_name"], known["job_title"]) == ("Kim", "Lee", "Owner")
    assert known["permission"] == "implicit"
    assert known["list_names"] == ["Customers", "Donors"]
    assert known["phone_numbers"][0]["kind"] == "work"
    gone = contacts["gone@example.com"]
    assert gone["permission"] == "unsubscribed" and gone["list_names"] == []
    assert gone["first_name"] == "Gone"  # fields are updated, the opt-out is not touched
    fresh = contacts["fresh@example.com"]
    assert fresh["permission"] == "implicit"
    assert fresh["create_source"] == "Account"
    assert fresh["email_address"]["opt_in_source"] == "Account"
    assert fresh["list_names"] == ["Customers"]
    assert fresh["phone_numbers"][0] == {**fresh["phone_numbers"][0], "kind": "mobile"}
    address = fresh["street_addresses"][0]
    assert address["kind"] == "home" and address["street"] == "1 Elm Apt 2"
    assert address["postal_code"] == "01970"


def test_an_import_leaves_alone_what_it_is_sent_empty(api, sandbox, cc_account):
    """Constant Contact's import help (knowledge base articles 33113 and 49485): an import
    updates the fields it carries with new information and leaves the rest alone; nothing
    promises that an empty value clears a stored one. Only PUT /contacts/{id} clears (the
    spec: "Any properties left blank or not included in the request are overwritten")."""
    customers = cc_account["lists"]["Customers"]
    full = {
        "email": "full@example.com",
        "first_name": "Kim",
        "last_name": "Lee",
        "job_title": "Owner",
        "work_phone": "555-1",
        "mobile_phone": "555-2",
        "work_street": "1 Elm",
        "work_city": "Salem",
        "other_city": "Boston",
    }
    emptied = {
        "email": "full@example.com",
        "first_name": "Kay",
        "last_name": "",
        "work_phone": "",
        "work_street": "",
        "work_city": "Lynn",
        "other_city": "",
    }
    for rows in ([full], [emptied]):
        activity = api.post(
            "/activities/contacts_json_import", json={"import_data": rows, "list_ids": [customers]}
        ).json()
        assert wait_completed(api, activity["activity_id"])["status"]["error_count"] == 0
    contact = contacts_by_email(sandbox, cc_account["username"])["full@example.com"]
    names = [contact.get(name) or "" for name in ("first_name", "last_name", "job_title")]
    assert names == ["Kay", "Lee", "Owner"]
    phones = {p["kind"]: p["phone_number"] for p in contact["phone_numbers"]}
    assert phones == {"work": "555-1", "mobile": "555-2"}
    addresses = {a["kind"]: (a.get("street"), a.get("city")) for a in contact["street_addresses"]}
    assert addresses == {"work": ("1 Elm", "Lynn"), "other": (None, "Boston")}


ROWS = [
    {"email": "one@example.com", "first_name": "One"},
    {"email": "two@refused.example", "first_name": "Two"},
    {"email": "three@example.com", "first_name": "Three"},
]


@pytest.mark.parametrize(
    ("style", "expected"),
    [
        ("plain", "The email address cannot be imported."),
        ("line", "Line 2: the email address cannot be imported."),
        ("line_with_header", "Line 3: the email address cannot be imported."),
    ],
)
def test_import_errors_come_in_every_shape_constant_contact_has_used(
    api, sandbox, cc_account, knobs, style, expected
):
    """The spec types `activity_errors` as an array of free-text strings; nothing promises a
    line number. Constant Contact's API support has said V3 cannot tell which contacts of an
    import failed (community.constantcontact.com, API Developer Support, "Contact import
    Errors in API"); V2's bulk activity reports said "Line N: ...", counting the header of
    the CSV it made of a JSON import as line 1. The sandbox words its errors each way."""
    knobs(cc_import_error_format=style, cc_import_refused_domains=["refused.example"])
    activity = api.post(
        "/activities/contacts_json_import",
        json={"import_data": ROWS, "list_ids": [cc_account["lists"]["Customers"]]},
    ).json()
    finished = wait_completed(api, activity["activity_id"])
    assert finished["activity_errors"] == [expected]
    assert finished["status"]["error_count"] == 1
    assert finished["status"]["person_count"] == 2
    contacts = contacts_by_email(sandbox, cc_account["username"])
    assert "two@refused.example" not in contacts
    assert {"one@example.com", "three@example.com"} <= set(contacts)


def test_an_import_takes_addresses_of_at_most_50_characters(api, sandbox, cc_account, contract):
    """The spec: an import's `email` has maxLength 50 (contacts_json_import's import_data),
    a contact's `email_address.address` 80 (POST and PUT /contacts). A longer address keeps
    its row out with an activity error (counted in error_count); the rest is imported. The
    spec's schema refuses such a request too: Constant Contact may answer it 400 whole, a
    reading the app meets by never sending one."""
    fifty = "a" * 38 + "@example.com"
    rows = [{"email": fifty}, {"email": "b" + fifty}, {"email": "ok@example.com"}]
    with contract.expect_invalid_request():
        activity = api.post(
            "/activities/contacts_json_import",
            json={"import_data": rows, "list_ids": [cc_account["lists"]["Customers"]]},
        )
    assert activity.status_code == 201, activity.text
    finished = wait_completed(api, activity.json()["activity_id"])
    assert finished["status"]["error_count"] == 1 and finished["status"]["person_count"] == 2
    assert "50" in finished["activity_errors"][0]
    contacts = contacts_by_email(sandbox, cc_account["username"])
    assert fifty in contacts and "b" + fifty not in contacts
