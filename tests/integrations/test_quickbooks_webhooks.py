import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from integrations.quickbooks.webhooks import (
    CustomerEvent,
    MalformedWebhook,
    parse_events,
    verify_signature,
)

# Intuit's public test vector.
VECTOR_TOKEN = "b5771f19b12ddb4bcdb9f08bdc50bc63878a"
VECTOR_BODY = (
    b'{"eventNotifications":[{"realmId":"1185883450","dataChangeEvent":{"entities":'
    b'[{"name":"Customer","id":"1","operation":"Create","lastUpdated":"2015-10-05T14:42:19-0700"}]}}]}'
)
VECTOR_SIGNATURE = "JC2GUwciPmRBwEO7WvrRmKqu9tGOKL8FFallocTFi8Q="


def test_signature_test_vector():
    assert verify_signature(
        body=VECTOR_BODY, signature=VECTOR_SIGNATURE, verifier_token=VECTOR_TOKEN
    )


def test_tampered_body_fails():
    tampered = VECTOR_BODY.replace(b'"id":"1"', b'"id":"2"')
    assert not verify_signature(
        body=tampered, signature=VECTOR_SIGNATURE, verifier_token=VECTOR_TOKEN
    )


@pytest.mark.parametrize("signature", [None, "", "not base64 at all", "JC2GUwciPmRBwEO7", "é"])
def test_missing_or_wrong_signature_fails(signature):
    assert not verify_signature(body=VECTOR_BODY, signature=signature, verifier_token=VECTOR_TOKEN)


def test_other_verifier_token_fails():
    assert not verify_signature(
        body=VECTOR_BODY, signature=VECTOR_SIGNATURE, verifier_token="sandbox-webhook-verifier"
    )


def test_no_verifier_token_configured_fails():
    assert not verify_signature(body=VECTOR_BODY, signature=VECTOR_SIGNATURE, verifier_token="")


def test_legacy_format():
    (event,) = parse_events(body=VECTOR_BODY)

    assert event.realm_id == "1185883450"
    assert event.customer_id == "1"
    assert event.operation == "create"
    assert event.occurred_at == datetime(
        2015, 10, 5, 14, 42, 19, tzinfo=timezone(-timedelta(hours=7))
    )
    assert event.deleted_id is None
    assert event.event_id.startswith("legacy-")


def legacy(*entities: dict, realm: str = "123") -> bytes:
    notification = {"realmId": realm, "dataChangeEvent": {"entities": list(entities)}}
    return json.dumps({"eventNotifications": [notification]}).encode()


def entity(**overrides) -> dict:
    return {
        "name": "Customer",
        "id": "7",
        "operation": "Update",
        "lastUpdated": "2024-05-01T10:00:00.000Z",
    } | overrides


def test_legacy_event_ids_are_stable_and_distinct():
    first = parse_events(body=legacy(entity()))[0].event_id
    again = parse_events(body=legacy(entity()))[0].event_id
    later = parse_events(body=legacy(entity(lastUpdated="2024-05-01T10:00:01.000Z")))[0].event_id
    other_realm = parse_events(body=legacy(entity(), realm="456"))[0].event_id
    deleted = parse_events(body=legacy(entity(operation="Delete")))[0].event_id

    assert first == again
    assert len({first, later, other_realm, deleted}) == 4


def test_legacy_merge_and_other_entities():
    events = parse_events(
        body=legacy(
            entity(name="Invoice", id="99"),
            entity(id="8", operation="Merge", deletedId="3"),
        )
    )

    assert [(e.customer_id, e.operation, e.deleted_id) for e in events] == [("8", "merge", "3")]


def cloud(action: str = "updated", entity_type: str = "customer", **overrides) -> dict:
    return {
        "specversion": "1.0",
        "id": f"evt-{action}-{entity_type}",
        "source": "intuit.example",
        "type": f"qbo.{entity_type}.{action}.v1",
        "datacontenttype": "application/json",
        "time": "2025-03-10T18:24:11.123Z",
        "intuitentityid": "42",
        "intuitaccountid": "9130350",
        "data": {},
    } | overrides


def test_cloudevents_format():
    body = json.dumps(
        [
            cloud("created"),
            cloud("updated", intuitaccountid="777"),
            cloud("deleted"),
            cloud("merged", data={"deletedid": "41"}),
            cloud("merged", data={"deletedId": "40"}),
            cloud("created", "invoice"),
            cloud("emailed"),
        ]
    ).encode()

    events = parse_events(body=body)

    assert events[0] == CustomerEvent(
        event_id="evt-created-customer",
        realm_id="9130350",
        customer_id="42",
        operation="create",
        occurred_at=datetime(2025, 3, 10, 18, 24, 11, 123000, tzinfo=UTC),
        deleted_id=None,
    )
    assert [(e.realm_id, e.operation, e.deleted_id) for e in events] == [
        ("9130350", "create", None),
        ("777", "update", None),
        ("9130350", "delete", None),
        ("9130350", "merge", "41"),
        ("9130350", "merge", "40"),
        ("9130350", "emailed", None),
    ]


def test_cloudevent_without_data_is_fine():
    event = cloud()
    del event["data"]

    assert parse_events(body=json.dumps([event]).encode())[0].deleted_id is None


def test_empty_array_has_no_events():
    assert parse_events(body=b"[]") == []


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"\xff\xfe\x00garbage",
        b"{}",
        b'{"eventNotifications": {}}',
        b'{"eventNotifications": [1]}',
        b'{"eventNotifications": [{"realmId": "1"}]}',
        b'{"eventNotifications": [{"realmId": 1, "dataChangeEvent": {"entities": []}}]}',
        b'{"eventNotifications": [{"realmId": "1", "dataChangeEvent": {"entities": [null]}}]}',
        legacy(entity(id=None)),
        legacy(entity(lastUpdated="yesterday")),
        legacy(entity(operation=5)),
        b"[1]",
        b"[[]]",
        json.dumps([cloud(intuitentityid=None)]).encode(),
        json.dumps([cloud(intuitaccountid="")]).encode(),
        json.dumps([cloud(time="soon")]).encode(),
        json.dumps([cloud(type=None)]).encode(),
        json.dumps([cloud(id=3)]).encode(),
        json.dumps([cloud(data=[])]).encode(),
        json.dumps([cloud("merged", data={"deletedid": 41})]).encode(),
        b"[" * 100_000 + b"]" * 100_000,
        b'"a string"',
        b"42",
    ],
)
def test_malformed_bodies(body):
    with pytest.raises(MalformedWebhook):
        parse_events(body=body)


# --- fuzzing: parse_events returns a list or raises MalformedWebhook, nothing else ---

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
texts = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["Customer", "Invoice", "2024-05-01T10:00:00Z", "qbo.customer.merged.v1"]),
)


def maybe(strategy):
    """A field that is sometimes right, sometimes any JSON value."""
    return st.one_of(strategy, json_values)


cloud_events = st.fixed_dictionaries(
    {
        "id": maybe(texts),
        "type": maybe(st.sampled_from(["qbo.customer.updated.v1", "qbo.invoice.created.v1"])),
        "time": maybe(texts),
        "intuitentityid": maybe(texts),
        "intuitaccountid": maybe(texts),
        "data": maybe(st.fixed_dictionaries({"deletedid": maybe(texts)})),
    }
)
legacy_entities = st.fixed_dictionaries(
    {
        "name": maybe(texts),
        "id": maybe(texts),
        "operation": maybe(texts),
        "lastUpdated": maybe(texts),
        "deletedId": maybe(texts),
    }
)
legacy_bodies = st.fixed_dictionaries(
    {
        "eventNotifications": maybe(
            st.lists(
                maybe(
                    st.fixed_dictionaries(
                        {
                            "realmId": maybe(texts),
                            "dataChangeEvent": maybe(
                                st.fixed_dictionaries(
                                    {"entities": maybe(st.lists(legacy_entities))}
                                )
                            ),
                        }
                    )
                ),
                max_size=3,
            )
        )
    }
)
bodies = st.one_of(
    st.binary(max_size=200),
    json_values.map(lambda value: json.dumps(value).encode()),
    st.lists(maybe(cloud_events), max_size=3).map(lambda value: json.dumps(value).encode()),
    legacy_bodies.map(lambda value: json.dumps(value).encode()),
)


@settings(max_examples=400, deadline=None)
@given(bodies)
def test_parse_events_only_returns_events_or_raises_malformed(body):
    try:
        events = parse_events(body=body)
    except MalformedWebhook:
        return
    assert isinstance(events, list)
    for event in events:
        assert isinstance(event, CustomerEvent)
        assert event.occurred_at.tzinfo is not None
        assert event.event_id and event.realm_id and event.customer_id
