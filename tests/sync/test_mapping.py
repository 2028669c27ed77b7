import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccsync.sync.mapping import (
    STREET_JOIN,
    chunk_rows,
    contact_update,
    emptied,
    fit,
    import_body_size,
    import_row,
    names,
    row_hash,
)

AMY = {
    "Id": "1",
    "GivenName": "Amy",
    "FamilyName": "Lauterbach",
    "DisplayName": "Amy's Bird Sanctuary",
    "CompanyName": "Amy's Bird Sanctuary",
    "Title": "Dr.",
    "PrimaryEmailAddr": {"Address": "Birds@Intuit.com"},
    "PrimaryPhone": {"FreeFormNumber": "(650) 555-3311"},
    "Mobile": {"FreeFormNumber": "(650) 555-0000"},
    "AlternatePhone": {"FreeFormNumber": "555-1111"},
    "Fax": {"FreeFormNumber": "555-2222"},
    "BillAddr": {
        "Line1": "4581 Finch St.",
        "Line2": "Suite 2",
        "Line3": "",
        "Line4": "Building B",
        "City": "Bayshore",
        "CountrySubDivisionCode": "CA",
        "PostalCode": "94326",
        "Country": "USA",
    },
    "ShipAddr": {"Line1": "1 Dock Rd", "City": "Harbor", "PostalCode": "94000"},
}


def test_full_customer_maps_every_field_with_its_kind():
    assert import_row(AMY, email="birds@intuit.com") == {
        "email": "birds@intuit.com",
        "first_name": "Amy",
        "last_name": "Lauterbach",
        "company_name": "Amy's Bird Sanctuary",
        "work_phone": "(650) 555-3311",
        "mobile_phone": "(650) 555-0000",
        "other_phone": "555-1111",
        "work_street": "4581 Finch St.",
        "work_street2": "Suite 2, Building B",
        "work_city": "Bayshore",
        "work_state": "CA",
        "work_zip": "94326",
        "work_country": "USA",
        "other_street": "1 Dock Rd",
        "other_city": "Harbor",
        "other_zip": "94000",
    }


@pytest.mark.parametrize(
    ("customer", "expected"),
    [
        ({"GivenName": "Ann", "FamilyName": "Lee", "DisplayName": "X Y"}, ("Ann", "Lee")),
        ({"GivenName": "Ann", "DisplayName": "X Y"}, ("Ann", "")),
        ({"FamilyName": "Lee", "DisplayName": "X Y"}, ("", "Lee")),
        ({"DisplayName": "Mary Ann  Smith"}, ("Mary", "Ann Smith")),
        ({"DisplayName": "Cher"}, ("Cher", "")),
        ({"GivenName": "  ", "DisplayName": "Bo Li"}, ("Bo", "Li")),
        ({}, ("", "")),
    ],
)
def test_names_from_given_family_or_split_display_name(customer, expected):
    assert names(customer) == expected


@pytest.mark.parametrize(
    ("title", "job"), [("Dr.", None), ("mrs", None), ("MS.", None), ("Treasurer", "Treasurer")]
)
def test_title_is_a_job_title_unless_it_is_an_honorific(title, job):
    assert import_row({"Title": title}, email="a@example.com").get("job_title") == job


def test_values_are_cut_to_constant_contact_lengths():
    long = {
        "GivenName": "G" * 80,
        "FamilyName": "F" * 80,
        "CompanyName": "C" * 80,
        "Title": "T" * 80,
        "PrimaryPhone": {"FreeFormNumber": "1" * 40},
        "BillAddr": {
            "Line1": "S" * 300,
            "Line2": "L" * 300,
            "City": "c" * 80,
            "CountrySubDivisionCode": "s" * 80,
            "PostalCode": "z" * 80,
            "Country": "n" * 80,
        },
    }
    row = import_row(long, email="a@example.com")
    limits = {"first_name": 50, "last_name": 50, "company_name": 50, "job_title": 50}
    limits |= {"work_phone": 25, "work_street": 255}
    limits |= {f"work_{k}": 50 for k in ("city", "state", "zip", "country")}
    for field, limit in limits.items():
        assert len(row[field]) == limit, field
    assert "work_street2" not in row  # no room left: street and street2 share 255


def test_street2_takes_the_room_street_leaves():
    row = import_row(
        {"BillAddr": {"Line1": "S" * 200, "Line2": "Unit 7 " * 15, "Line3": "x"}}, email="a@b.co"
    )
    assert row["work_street2"] == " ".join(["Unit 7"] * 7 + ["Unit"])  # 53 left: whole words
    assert len(row["work_street"]) + len(STREET_JOIN) + len(row["work_street2"]) <= 255
    put = contact_update(row, existing={}, list_ids=["l"])
    assert put["street_addresses"][0]["street"] == f"{row['work_street']}, {row['work_street2']}"


@pytest.mark.parametrize(
    ("number", "sent"),
    [
        ("(650) 555-3311 extension 123456", "(650) 555-3311"),
        ("+1 (650) 555-3311 ext. 98765", "+1 (650) 555-3311"),
        ("+44 20 7946 0958, ext 1234", "+44 20 7946 0958"),
        ("(650) 555-3311 x12345678901", "(650) 555-3311"),
        ("(650) 555-3311 ext 12", "(650) 555-3311 ext 12"),  # fits: kept whole
        ("555-1234 or 555-9876 in the evening", "555-1234 or 555-9876 in"),
    ],
)
def test_a_phone_that_does_not_fit_loses_its_extension_whole(number, sent):
    row = import_row({"PrimaryPhone": {"FreeFormNumber": number}}, email="a@example.com")
    assert row["work_phone"] == sent
    assert len(sent) <= 25


def test_values_are_cut_at_a_word_boundary():
    words = "Northern California Association of Independent Bird Sanctuaries"
    customer = {
        "CompanyName": words,
        "Title": "Senior Vice President of Development and Communications",
        "BillAddr": {
            "Line1": "1 " + "Long Road " * 30,
            "Line2": "Building " * 10,
            "City": "Llanfairpwllgwyngyll near the Menai Strait, Anglesey, Wales",
        },
    }
    row = import_row(customer, email="a@example.com")
    assert row["company_name"] == "Northern California Association of Independent"
    assert row["job_title"] == "Senior Vice President of Development and"
    assert row["work_city"] == "Llanfairpwllgwyngyll near the Menai Strait"
    assert row["work_street"] == "1" + " Long Road" * 25  # 251 characters
    assert "work_street2" not in row  # 2 characters left: no fragment of "Building"


@pytest.mark.parametrize(
    ("text", "limit", "cut"),
    [
        ("Suite 200 Building", 12, "Suite 200"),
        ("Suite 200 Building", 9, "Suite 200"),
        ("Suite 200, Building", 12, "Suite 200"),  # no dangling comma
        ("Supercalifragilistic", 5, "Super"),  # one word: cut inside, nothing else to do
        ("Supercalifragilistic", 0, ""),
        ("short", 50, "short"),
    ],
)
def test_fit_cuts_at_the_last_whole_word(text, limit, cut):
    assert fit(text, limit) == cut


def test_display_name_split_is_cut_too():
    first, last = names({"DisplayName": "A" * 70 + " " + "B" * 70})
    assert (len(first), len(last)) == (50, 50)
    first, last = names({"DisplayName": "Ann " + "Maria-Theresa von Habsburg " * 3})
    assert (first, last) == ("Ann", "Maria-Theresa von Habsburg Maria-Theresa von")


def test_the_fields_emptied_since_the_last_send_are_named():
    sent = {"email": "a@example.com", "last_name": "Li", "work_phone": "111", "work_city": "X"}
    row = {"email": "a@example.com", "first_name": "Bo", "work_city": "Y"}
    assert emptied(row, sent=sent) == ["last_name", "work_phone"]
    assert emptied(row, sent={}) == []  # never sent: nothing to empty


def test_hash_is_stable_and_sensitive():
    row = import_row(AMY, email="birds@intuit.com")
    shuffled = dict(reversed(list(row.items())))
    assert row_hash(row) == row_hash(shuffled)
    assert row_hash(row) != row_hash({**row, "work_city": "Elsewhere"})
    assert len(row_hash(row)) == 64


def test_contact_update_keeps_what_we_do_not_manage_and_adds_our_list():
    row = import_row(AMY, email="new@example.com")
    existing = {
        "contact_id": "c1",
        "email_address": {"address": "old@example.com", "permission_to_send": "implicit"},
        "first_name": "Old",
        "custom_fields": [{"custom_field_id": "x", "value": "1"}],
        "notes": [{"note_id": "n1", "content": "Met at the fair"}],
        "list_memberships": ["list-old"],
        "phone_numbers": [
            {"phone_number_id": "p1", "kind": "home", "phone_number": "555-9999"},
            {"phone_number_id": "p2", "kind": "work", "phone_number": "old work"},
        ],
        "street_addresses": [
            {"street_address_id": "a1", "kind": "home", "street": "9 Home Way", "city": "Town"},
            {"street_address_id": "a2", "kind": "work", "street": "old street"},
        ],
    }
    body = contact_update(row, existing=existing, list_ids=["list-new", "list-old"])
    # The address changes, the permission is never sent (a PUT would set it).
    assert body["email_address"] == {"address": "new@example.com"}
    assert body["first_name"] == "Amy"
    assert body["custom_fields"] == existing["custom_fields"]
    assert body["notes"] == existing["notes"]
    assert body["list_memberships"] == ["list-old", "list-new"]
    assert body["update_source"] == "Account"
    # Ours replace the kinds QuickBooks owns; a home phone is carried back. At most three.
    assert body["phone_numbers"] == [
        {"kind": "work", "phone_number": "(650) 555-3311"},
        {"kind": "mobile", "phone_number": "(650) 555-0000"},
        {"kind": "other", "phone_number": "555-1111"},
    ]
    assert body["street_addresses"] == [
        {
            "kind": "work",
            "street": "4581 Finch St., Suite 2, Building B",
            "city": "Bayshore",
            "state": "CA",
            "postal_code": "94326",
            "country": "USA",
        },
        {"kind": "other", "street": "1 Dock Rd", "city": "Harbor", "postal_code": "94000"},
        {"kind": "home", "street": "9 Home Way", "city": "Town"},
    ]


def test_contact_update_of_a_bare_customer_clears_what_quickbooks_owns():
    existing = {
        "email_address": {"address": "a@example.com", "permission_to_send": "implicit"},
        "phone_numbers": [{"kind": "work", "phone_number": "1"}],
        "street_addresses": [{"kind": "other", "city": "X"}],
    }
    body = contact_update({"email": "a@example.com"}, existing=existing, list_ids=["l"])
    assert body["phone_numbers"] == [] and body["street_addresses"] == []
    # The spec: a PUT nulls what it omits: the address goes every time, its permission never.
    assert body["email_address"] == {"address": "a@example.com"}
    assert body["first_name"] == ""


rows = st.lists(
    st.fixed_dictionaries(
        {"email": st.emails(), "first_name": st.text(max_size=50), "work_street": st.text()}
    ),
    max_size=60,
)


@settings(max_examples=60, deadline=None)
@given(rows=rows, max_bytes=st.integers(3_000, 20_000), max_rows=st.integers(1, 25))
def test_chunks_keep_order_and_stay_under_both_limits(rows, max_bytes, max_rows):
    items = list(enumerate(rows))
    chunks = list(chunk_rows(items, list_ids=["l1"], max_bytes=max_bytes, max_rows=max_rows))
    assert [item for chunk in chunks for item in chunk] == items
    for chunk in chunks:
        assert 0 < len(chunk) <= max_rows
        body = json.dumps({"import_data": [r for _, r in chunk], "list_ids": ["l1"]})
        assert len(body.encode()) < max_bytes
        assert import_body_size([r for _, r in chunk], ["l1"]) == len(body.encode())


def test_ten_thousand_realistic_rows_fit_few_requests_under_four_megabytes():
    row = import_row(AMY, email="birds@intuit.com")
    items = [(i, {**row, "email": f"c{i}@example.com"}) for i in range(10_000)]
    chunks = list(chunk_rows(items, list_ids=["l1"]))
    assert len(chunks) <= 3
    assert all(import_body_size([r for _, r in c], ["l1"]) < 4_000_000 for c in chunks)


def test_a_row_too_large_for_any_request_is_refused():
    with pytest.raises(ValueError):
        list(chunk_rows([(1, {"email": "x" * 5000})], list_ids=["l"], max_bytes=1000))
