"""The knobs that make Constant Contact refuse what sales data asks (custom fields, tags,
taggings, an import's cf: columns), each answer checked against the spec
(shared/specs/constantcontact-v3-openapi.json, https://developer.constantcontact.com/
api_reference/index.html) by the `api` fixture: the status is one the spec documents for
that operation, the body its error array. POST /contact_custom_fields documents 400, 401,
403 and 409; GET /contact_custom_fields and GET /contact_tags 400, 401 and 403; POST
/contact_tags 400, 401, 403 and 409; POST /activities/contacts_taggings_add and
/activities/contacts_json_import 400, 401 and 403 ("Bad request. Either the JSON was
malformed or there was a data validation error")."""

import pytest


@pytest.mark.parametrize(
    ("operation", "status"),
    [
        ("POST /contact_custom_fields", 400),
        ("POST /contact_custom_fields", 401),
        ("POST /contact_custom_fields", 403),
        ("POST /contact_custom_fields", 409),
        ("GET /contact_custom_fields", 400),
        ("GET /contact_custom_fields", 403),
        ("POST /contact_tags", 400),
        ("POST /contact_tags", 403),
        ("POST /contact_tags", 409),
        ("GET /contact_tags", 400),
        ("POST /activities/contacts_taggings_add", 400),
        ("POST /activities/contacts_taggings_add", 403),
    ],
)
def test_an_operation_refused_by_the_knob_answers_as_the_spec_documents(
    api, cc_account, knobs, operation, status
):
    tag = api.post("/contact_tags", json={"name": "Ours"}).json()["tag_id"]
    bodies = {
        "POST /contact_custom_fields": {"label": "Total sales", "type": "string"},
        "POST /contact_tags": {"name": "QuickBooks Online"},
        "POST /activities/contacts_taggings_add": {
            "source": {"list_ids": [cc_account["lists"]["Customers"]]},
            "tag_ids": [tag],
        },
    }
    knobs(cc_refused_operations={operation: status})
    method, path = operation.split(" ")
    answer = api.call(method, path, json=bodies.get(operation))
    assert answer.status_code == status, answer.text
    knobs(cc_refused_operations={})
    assert api.call(method, path, json=bodies.get(operation)).status_code != status


def test_an_import_carrying_cf_columns_is_refused_whole_by_the_knob(api, cc_account, knobs):
    knobs(cc_import_refuses_custom_fields=True)
    customers = [cc_account["lists"]["Customers"]]
    with_figures = {"import_data": [{"email": "a@example.com", "cf:x": "1"}], "list_ids": customers}
    assert api.post("/activities/contacts_json_import", json=with_figures).status_code == 400
    without = {"import_data": [{"email": "a@example.com"}], "list_ids": customers}
    assert api.post("/activities/contacts_json_import", json=without).status_code == 201
