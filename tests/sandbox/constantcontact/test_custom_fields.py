"""Custom fields: creating them, the values imports and PUTs give contacts, and reading them
back; every call checked against the spec."""

import pytest

from tests.sandbox.constantcontact.conftest import contacts_by_email, wait_completed

SALES = {
    "label": "Total sales",
    "type": "currency",
    "metadata": {"integer": False, "decimal_places": 2},
}
LAST_PURCHASE = {
    "label": "Last purchase",
    "type": "date",
    "metadata": {"display_format": "MM/DD/YYYY"},
}


def _import(api, account, rows):
    activity = api.post(
        "/activities/contacts_json_import",
        json={"import_data": rows, "list_ids": [account["lists"]["Customers"]]},
    )
    assert activity.status_code == 201, activity.text
    return wait_completed(api, activity.json()["activity_id"])


def test_create_get_and_page_custom_fields(api):
    """The spec (POST/GET /contact_custom_fields, getCustomField_200_response: `name` "is
    constructed from the label by replacing blanks with underscores"; GET limit 1-100) and
    the guide https://developer.constantcontact.com/api_guide/create_custom_fields.html
    (types string, date, datetime, single_select, currency, text_area, multi_select, number,
    boolean; `version` 2 for dates; metadata allow_negative, decimal_places)."""
    created = api.post("/contact_custom_fields", json=SALES)
    assert created.status_code == 201, created.text
    field = created.json()
    assert field["name"] == "Total_sales" and field["type"] == "currency"
    assert field["metadata"] == SALES["metadata"]
    date = api.post("/contact_custom_fields", json=LAST_PURCHASE).json()
    assert date["version"] == 2
    got = api.get(f"/contact_custom_fields/{field['custom_field_id']}")
    assert got.json() == field
    for number in range(3):
        api.post("/contact_custom_fields", json={"label": f"Field {number}", "type": "string"})
    first = api.get("/contact_custom_fields?limit=2").json()
    rest = api.follow(first["_links"]["next"]["href"]).json()
    rest2 = api.follow(rest["_links"]["next"]["href"]).json()
    names = [f["name"] for page in (first, rest, rest2) for f in page["custom_fields"]]
    assert names == ["Total_sales", "Last_purchase", "Field_0", "Field_1", "Field_2"]
    assert "_links" not in rest2
    assert api.get("/contact_custom_fields/00000000-0000-0000-0000-000000000000").status_code == 404


def test_duplicates_unknown_types_and_the_hundredth_field(api, contract):
    """The spec documents 409 "conflicts with an existing resource" for POST
    /contact_custom_fields, and "A user can configure up to 100 custom_fields in their
    account" without naming the error: the sandbox answers the 101st with 400 (a data
    validation error, the spec's 400). The guide: "Specify a unique label"; a label that
    differs only in case counts as taken (the conservative reading)."""
    assert api.post("/contact_custom_fields", json=SALES).status_code == 201
    again = api.post("/contact_custom_fields", json={**SALES, "label": "total SALES"})
    assert again.status_code == 409, again.text
    assert (
        api.post("/contact_custom_fields", json={"label": "X", "type": "color"}).status_code == 400
    )
    bad_places = {"label": "Y", "type": "number", "metadata": {"integer": False}}
    assert api.post("/contact_custom_fields", json=bad_places).status_code == 400
    for number in range(99):
        made = api.post("/contact_custom_fields", json={"label": f"F{number}", "type": "string"})
        assert made.status_code == 201
    over = api.post("/contact_custom_fields", json={"label": "One more", "type": "string"})
    assert over.status_code == 400 and "100" in over.json()[0]["error_message"]
    with contract.expect_invalid_request():
        assert (
            api.post(
                "/contact_custom_fields", json={"label": "L" * 51, "type": "string"}
            ).status_code
            == 400
        )


def test_imports_set_values_each_type_checks(api, sandbox, cc_account):
    """The spec (contacts_json_import): "prefix the custom field name with `cf:`", "The
    custom field must already exist", "Each contact can contain up to 25 custom fields", the
    value is a string. It does not say what a missing field or a refused value does: the
    sandbox reports an activity error for the value and imports the rest of the row. Dates
    take the formats the spec lists for an import's dates (MM/DD/YYYY, M/D/YYYY, YYYY/MM/DD,
    YYYY-MM-DD, M-D-YYYY...), stored as YYYY-MM-DD; a number field refuses a negative
    unless `allow_negative` (the spec: "By default, this value is false")."""
    sales = api.post("/contact_custom_fields", json=SALES).json()
    count = api.post(
        "/contact_custom_fields",
        json={"label": "Invoices", "type": "number", "metadata": {"integer": True}},
    ).json()
    last = api.post(
        "/contact_custom_fields", json={"label": "Last purchase", "type": "date"}
    ).json()
    rows = [
        {
            "email": "a@example.com",
            "cf:Total_sales": "1234.50",
            "cf:Invoices": "3",
            "cf:Last_purchase": "03/07/2025",
        },
        {"email": "b@example.com", "first_name": "Bo", "cf:Invoices": "abc", "cf:Nope": "1"},
        {"email": "c@example.com", "cf:Total_sales": "-5.00", "cf:Last_purchase": "2025-13-01"},
        {"email": "d@example.com", "cf:Invoices": "2.5", "cf:Last_purchase": "2025/3/7"},
        {"email": "e@example.com", **{f"cf:F{n}": "x" for n in range(26)}},
    ]
    finished = _import(api, cc_account, rows)
    assert finished["activity_errors"] == [
        "Custom field 'Invoices' is not a valid number.",
        "Custom field 'Nope' does not exist.",
        "Custom field 'Total_sales' cannot be negative.",
        "Custom field 'Last_purchase' is not a valid date.",
        "Custom field 'Invoices' can have at most 0 decimal places.",
        "A contact can have at most 25 custom fields.",
    ]
    assert finished["status"]["person_count"] == 4
    contacts = contacts_by_email(sandbox, cc_account["username"])
    values = {
        email: {item["custom_field_id"]: item["value"] for item in contacts[email]["custom_fields"]}
        for email in ("a@example.com", "b@example.com", "c@example.com", "d@example.com")
    }
    ids = sales["custom_field_id"], count["custom_field_id"], last["custom_field_id"]
    assert values["a@example.com"] == dict(zip(ids, ("1234.50", "3", "2025-03-07"), strict=True))
    assert values["b@example.com"] == {} and contacts["b@example.com"]["first_name"] == "Bo"
    assert values["c@example.com"] == {}
    assert values["d@example.com"] == {ids[2]: "2025-03-07"}
    assert "e@example.com" not in contacts


def test_values_read_back_kept_when_empty_and_replaced_by_put(api, cc_account):
    """The spec: GET /contacts and /contacts/{id} with `include=custom_fields` answer
    `custom_fields: [{custom_field_id, value}]`; an import leaves alone what it is sent empty
    (knowledge base articles 33113 and 49485); a PUT's `custom_fields` replace the stored ones
    (and are checked as an import's are: 400)."""
    sales = api.post("/contact_custom_fields", json=SALES).json()["custom_field_id"]
    note = api.post("/contact_custom_fields", json={"label": "Note", "type": "string"}).json()
    _import(
        api, cc_account, [{"email": "a@example.com", "cf:Total_sales": "10.00", "cf:Note": "hi"}]
    )
    _import(api, cc_account, [{"email": "a@example.com", "cf:Total_sales": "", "cf:Note": "bye"}])
    [contact] = api.get("/contacts?email=a@example.com&include=custom_fields").json()["contacts"]
    assert sorted((c["custom_field_id"], c["value"]) for c in contact["custom_fields"]) == sorted(
        [(sales, "10.00"), (note["custom_field_id"], "bye")]
    )
    path = f"/contacts/{contact['contact_id']}"
    body = {"email_address": {"address": "a@example.com"}, "update_source": "Account"}
    refused = api.put(
        path, json={**body, "custom_fields": [{"custom_field_id": sales, "value": "x"}]}
    )
    assert refused.status_code == 400, refused.text
    put = api.put(
        path, json={**body, "custom_fields": [{"custom_field_id": sales, "value": "7.25"}]}
    )
    assert put.status_code == 200, put.text
    got = api.get(f"{path}?include=custom_fields").json()
    assert got["custom_fields"] == [{"custom_field_id": sales, "value": "7.25"}]


@pytest.mark.parametrize(
    ("field", "good", "bad"),
    [
        ({"type": "number", "metadata": {"allow_negative": True}}, "-3", "1e5"),
        (
            {"type": "currency", "metadata": {"integer": False, "decimal_places": 2}},
            "9.99",
            "$9.99",
        ),
        ({"type": "date"}, "7-4-2025", "July 4, 2025"),
        ({"type": "boolean"}, "true", "yes"),
        ({"type": "single_select", "choices": [{"choice_label": "Gold"}]}, "Gold", "Silver"),
    ],
)
def test_each_type_takes_its_values(api, cc_account, field, good, bad):
    """The guide https://developer.constantcontact.com/api_guide/create_custom_fields.html
    (types, choices, metadata); formats beyond it are the sandbox's narrowest reading:
    numbers without thousands separators, exponents or currency symbols."""
    api.post("/contact_custom_fields", json={"label": "Thing", **field})
    finished = _import(
        api,
        cc_account,
        [{"email": "g@example.com", "cf:Thing": good}, {"email": "b@example.com", "cf:Thing": bad}],
    )
    assert len(finished["activity_errors"]) == 1 and "Thing" in finished["activity_errors"][0]


@pytest.mark.parametrize(
    ("reading", "punctuated"),
    [("kept", "QuickBooks:_total_sales"), ("dropped", "QuickBooks_total_sales"), ("refused", None)],
)
def test_what_a_label_s_punctuation_does_is_each_reading(api, knobs, reading, punctuated):
    """The spec (getCustomField_200_response.name): "constructed from the label by replacing
    blanks with underscores"; what punctuation does is undocumented (the design's audit of
    2026-12-07): the knob `cc_custom_field_punctuation` gives each reading, the literal one
    by default. A label of letters, digits and blanks is the same under all three."""
    knobs(cc_custom_field_punctuation=reading)
    plain = api.post("/contact_custom_fields", json={"label": "QuickBooks sales", "type": "string"})
    assert plain.status_code == 201 and plain.json()["name"] == "QuickBooks_sales"
    made = api.post(
        "/contact_custom_fields", json={"label": "QuickBooks: total sales", "type": "string"}
    )
    if punctuated is None:
        assert made.status_code == 400, made.text
    else:
        assert made.status_code == 201 and made.json()["name"] == punctuated


@pytest.mark.parametrize(
    ("reading", "read"),
    [
        ("YYYY-MM-DD", "2025-03-07"),
        ("MM/DD/YYYY", "03/07/2025"),
        ("M/D/YYYY", "3/7/2025"),
        ("YYYY/MM/DD", "2025/03/07"),
        ("YYYY/M/D", "2025/3/7"),
        ("YYYY-M-D", "2025-3-7"),
        ("MM-DD-YYYY", "03-07-2025"),
        ("M-D-YYYY", "3-7-2025"),
        ("M-DD-YYYY", "3-07-2025"),
        ("display_format", "03/07/2025"),
    ],
)
def test_a_date_value_reads_back_in_each_format_the_spec_allows(
    api, cc_account, knobs, reading, read
):
    """A date field (version 2) stores dates "to support date comparisons"; how GET
    /contacts gives its value back is undocumented. The spec lists a contact's date formats
    (MM/DD/YYYY, M/D/YYYY, YYYY/MM/DD, YYYY/M/D, YYYY-MM-DD, YYYY-M-D, MM-DD-YYYY, M-D-YYYY,
    M-DD-YYYY) and a date field's `metadata.display_format` (its example MM/DD/YYYY): the
    knob `cc_custom_field_date_format` reads the value back in any of them, or in the
    field's own display format. A PUT that carries the value back as read keeps the date."""
    field = api.post("/contact_custom_fields", json=LAST_PURCHASE).json()
    _import(api, cc_account, [{"email": "a@example.com", "cf:Last_purchase": "2025-03-07"}])
    knobs(cc_custom_field_date_format=reading)
    [contact] = api.get("/contacts?email=a@example.com&include=custom_fields").json()["contacts"]
    assert contact["custom_fields"] == [
        {"custom_field_id": field["custom_field_id"], "value": read}
    ]
    body = {"email_address": {"address": "a@example.com"}, "update_source": "Account"}
    put = api.put(
        f"/contacts/{contact['contact_id']}",
        json={**body, "custom_fields": contact["custom_fields"]},
    )
    assert put.status_code == 200 and put.json()["custom_fields"][0]["value"] == read


def test_a_refused_value_may_go_unreported(api, sandbox, cc_account, knobs):
    """The spec does not promise that a refused `cf:` value appears in `activity_errors`
    (the design's audit of 2026-12-07): with `cc_import_custom_field_errors` "silent" the
    value is dropped without an error and the import counts none; only reading the contact
    back (`include=custom_fields`) shows it."""
    knobs(cc_import_custom_field_errors="silent")
    api.post("/contact_custom_fields", json=SALES)
    finished = _import(
        api, cc_account, [{"email": "a@example.com", "first_name": "Al", "cf:Total_sales": "x"}]
    )
    assert finished["activity_errors"] == [] and finished["status"]["error_count"] == 0
    contact = contacts_by_email(sandbox, cc_account["username"])["a@example.com"]
    assert contact["first_name"] == "Al" and contact["custom_fields"] == []
