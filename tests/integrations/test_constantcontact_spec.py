"""The requests the Constant Contact client sends are valid per Constant Contact's OpenAPI spec."""

import json
import uuid
import warnings
from datetime import UTC, datetime

import pytest
import requests
from openapi_core import Config, OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest
from openapi_core.validation.request.exceptions import RequestValidationError

from integrations.constantcontact.client import ConstantContactClient
from support.specs import CONSTANT_CONTACT_SPEC, shared_spec
from tests.integrations.conftest import CC_BASE

pytestmark = pytest.mark.usefixtures("provider_settings")

SPEC = shared_spec(CONSTANT_CONTACT_SPEC)
LIST_ID = str(uuid.uuid4())
CONTACT_ID = str(uuid.uuid4())


@pytest.fixture(scope="module")
def openapi() -> OpenAPI:
    # The spec is Constant Contact's own: check requests against it, not the spec itself.
    return OpenAPI.from_dict(json.loads(SPEC.read_text()), config=Config(spec_validator_cls=None))


def validate(openapi: OpenAPI, request) -> None:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Unsupported scheme type")  # OAuth2 is not checked
        openapi.validate_request(RequestsOpenAPIRequest(request))


@pytest.fixture
def client(tokens):
    return ConstantContactClient(tokens=tokens)


def test_contacts_json_import(openapi, client, mocked):
    mocked.post(f"{CC_BASE}/activities/contacts_json_import", status=201, json={"activity_id": "a"})
    rows = [
        {
            "email": "pat.doe@example.com",
            "first_name": "Pat",
            "last_name": "Doe",
            "job_title": "Owner",
            "company_name": "Doe Bakery",
            "work_phone": "+1 555 0100",
            "mobile_phone": "+1 555 0101",
            "street": "1 Main St",
            "city": "Mountain View",
            "state": "CA",
            "zip": "94043",
            "country": "US",
        },
        {"email": "sam@example.com"},
    ]

    client.import_contacts(rows=rows, list_ids=[LIST_ID])

    validate(openapi, mocked.calls[0].request)


def test_put_contact(openapi, client, mocked):
    mocked.put(f"{CC_BASE}/contacts/{CONTACT_ID}", json={"contact_id": CONTACT_ID})
    fetched = {
        "contact_id": CONTACT_ID,
        "email_address": {
            "address": "new@example.com",
            "permission_to_send": "implicit",
            "created_at": "2024-01-01T00:00:00Z",
            "opt_out_source": "Contact",
            "confirm_status": "off",
        },
        "first_name": "Pat",
        "last_name": "Doe",
        "company_name": "Doe Bakery",
        "phone_numbers": [{"phone_number": "+1 555 0100", "kind": "work"}],
        "street_addresses": [{"kind": "work", "street": "1 Main St", "city": "Mountain View"}],
        "create_source": "Contact",
        "created_at": "2024-01-01T00:00:00Z",
        "updated_at": "2024-01-02T00:00:00Z",
    }

    client.put_contact(contact_id=CONTACT_ID, contact=fetched)

    validate(openapi, mocked.calls[0].request)


def test_create_contact(openapi, client, mocked):
    mocked.post(f"{CC_BASE}/contacts", status=201, json={"contact_id": CONTACT_ID})
    client.create_contact(
        contact={
            "email_address": {"address": "a" * 68 + "@example.com"},  # 80 characters
            "first_name": "Pat",
            "phone_numbers": [{"phone_number": "+1 555 0100", "kind": "work"}],
            "street_addresses": [{"kind": "work", "street": "1 Main St", "city": "Boston"}],
        }
    )

    validate(openapi, mocked.calls[0].request)


def test_create_list(openapi, client, mocked):
    mocked.post(f"{CC_BASE}/contact_lists", status=201, json={"list_id": LIST_ID})

    client.create_list(name="QuickBooks Online customers")

    validate(openapi, mocked.calls[0].request)


def test_get_contacts_with_params(openapi, client, mocked):
    for _ in range(3):
        mocked.get(f"{CC_BASE}/contacts", json={"contacts": []})
    after = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)

    list(
        client.iter_contacts(
            status="unsubscribed",
            lists=[LIST_ID],
            optout_after=after,
            updated_after=after,
            include=["list_memberships"],
            limit=500,
        )
    )
    client.find_contact(email="pat.doe@example.com")
    client.sample_contacts(list_id=LIST_ID, updated_after=after)

    for call in mocked.calls:
        validate(openapi, call.request)


def test_add_list_memberships(openapi, client, mocked):
    mocked.post(f"{CC_BASE}/activities/add_list_memberships", status=201, json={"activity_id": "a"})

    client.add_list_memberships(contact_ids=[CONTACT_ID, str(uuid.uuid4())], list_ids=[LIST_ID])

    validate(openapi, mocked.calls[0].request)


def test_reads(openapi, client, mocked):
    mocked.get(f"{CC_BASE}/account/summary", json={})
    mocked.get(f"{CC_BASE}/contact_lists", json={"lists": []})
    mocked.get(f"{CC_BASE}/contacts/{CONTACT_ID}", json={})
    mocked.get(f"{CC_BASE}/activities/{CONTACT_ID}", json={})

    client.account_summary()
    client.all_lists()
    client.get_contact(contact_id=CONTACT_ID, include=["list_memberships"])
    client.get_activity(activity_id=CONTACT_ID)

    for call in mocked.calls:
        validate(openapi, call.request)


def test_the_check_catches_an_invalid_request(openapi):
    """A PUT without update_source is invalid: the check above is not vacuous."""
    request = requests.Request(
        "PUT", f"{CC_BASE}/contacts/{CONTACT_ID}", json={"first_name": "Pat"}
    ).prepare()

    with pytest.raises(RequestValidationError):
        validate(openapi, request)


def test_custom_fields_tags_and_taggings(openapi, client, mocked):
    mocked.get(f"{CC_BASE}/contact_custom_fields", json={"custom_fields": []})
    mocked.post(f"{CC_BASE}/contact_custom_fields", status=201, json={})
    mocked.get(f"{CC_BASE}/contact_tags", json={"tags": []})
    mocked.post(f"{CC_BASE}/contact_tags", status=201, json={})
    mocked.post(f"{CC_BASE}/activities/contacts_taggings_add", status=201, json={})
    mocked.get(f"{CC_BASE}/contact_lists", json={"lists": []})
    tag = str(uuid.uuid4())

    client.custom_fields()
    client.create_custom_field(
        label="Total sales",
        type="currency",
        metadata={"integer": False, "decimal_places": 2, "currency_code": "USD"},
    )
    client.create_custom_field(label="Last purchase", type="date", version=2)
    client.tags()
    client.create_tag(name="QuickBooks Online")
    client.add_taggings(tag_ids=[tag], contact_ids=[CONTACT_ID])
    client.add_taggings(tag_ids=[tag], list_ids=[LIST_ID], exclude_contact_ids=[CONTACT_ID])
    client.all_lists(include_membership_count=True)

    assert len(mocked.calls) == 8
    for call in mocked.calls:
        validate(openapi, call.request)
