import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from integrations.quickbooks.webhooks import (
    ChangeEvent,
    Dropped,
    MalformedWebhook,
    parse_delivery,
    verify_signature,
)


def parse_events(*, body: bytes) -> list[ChangeEvent]:
    return parse_delivery(body=body).events


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


def test_legacy_merge_sales_transactions_and_other_entities():
    events = parse_events(
        body=legacy(
            entity(name="Invoice", id="99"),
            entity(name="Payment", id="5", operation="Create"),
            entity(name="Vendor", id="4"),
            entity(id="8", operation="Merge", deletedId="3"),
        )
    )

    assert [
        (e.entity, e.customer_id, e.transaction_id, e.operation, e.deleted_id) for e in events
    ] == [
        ("Invoice", "", "99", "update", None),
        ("Payment", "", "5", "create", None),
        ("Customer", "8", "", "merge", "3"),
    ]


def test_a_transaction_and_a_customer_of_the_same_id_are_distinct_events():
    customer = parse_events(body=legacy(entity(id="7")))[0]
    invoice = parse_events(body=legacy(entity(name="Invoice", id="7")))[0]
    assert customer.event_id != invoice.event_id
    assert (invoice.entity, invoice.transaction_id, invoice.customer_id) == ("Invoice", "7", "")


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
            cloud("voided", "salesreceipt"),
            cloud("updated", "vendor"),
            cloud("emailed"),
        ]
    ).encode()

    events = parse_events(body=body)

    assert events[0] == ChangeEvent(
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
        ("9130350", "create", None),
        ("9130350", "void", None),
        ("9130350", "emailed", None),
    ]
    assert [(e.entity, e.transaction_id) for e in events[5:7]] == [
        ("Invoice", "42"),
        ("SalesReceipt", "42"),
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
        b"[" * 100_000 + b"]" * 100_000,
        b'"a string"',
        b"42",
    ],
)
def test_malformed_bodies(body):
    with pytest.raises(MalformedWebhook):
        parse_delivery(body=body)


@pytest.mark.parametrize(
    ("body", "cause"),
    [
        (b'{"eventNotifications": [1]}', "notification is not an object"),
        (b'{"eventNotifications": [{"realmId": "1"}]}', "dataChangeEvent is not an object"),
        (
            b'{"eventNotifications": [{"realmId": 1, "dataChangeEvent": {"entities": []}}]}',
            "realmId is missing or not a string",
        ),
        (
            b'{"eventNotifications": [{"realmId": "1", "dataChangeEvent": {"entities": [null]}}]}',
            "entity is not an object",
        ),
        (legacy(entity(id=None)), "id is missing or not a string"),
        (legacy(entity(id="abc")), "id is not a QuickBooks id"),
        (
            legacy(entity(lastUpdated="yesterday")),
            "time is not an ISO 8601 time or epoch milliseconds",
        ),
        (legacy(entity(lastUpdated=10**30)), "time is out of range"),
        (legacy(entity(operation=5)), "operation is missing or not a string"),
        (legacy(entity(operation="Up date")), "operation is not a word"),
        (legacy(entity(name="Widget")), "not an event of a customer or a sales transaction"),
        (b"[1]", "event is not an object"),
        (b"[[]]", "event is not an object"),
        (
            json.dumps([cloud(intuitentityid=None)]).encode(),
            "intuitentityid is missing or not a string",
        ),
        (
            json.dumps([cloud(intuitentityid="C-42")]).encode(),
            "intuitentityid is not a QuickBooks id",
        ),
        (json.dumps([cloud(intuitentityid="4\x002")]).encode(), "intuitentityid holds a NUL byte"),
        (json.dumps([cloud(id="evt\ud800")]).encode(), "id holds a lone surrogate"),
        (
            json.dumps([cloud(intuitaccountid="")]).encode(),
            "intuitaccountid is missing or not a string",
        ),
        (
            json.dumps([cloud(time="soon")]).encode(),
            "time is not an ISO 8601 time or epoch milliseconds",
        ),
        (json.dumps([cloud(type=None)]).encode(), "type is missing or not a string"),
        (
            json.dumps([cloud(type="qbo.customer")]).encode(),
            "not an event of a customer or a sales transaction",
        ),
        (json.dumps([cloud(id=3)]).encode(), "id is missing or not a string"),
        (json.dumps([cloud(data=[])]).encode(), "data is not an object"),
        (
            json.dumps([cloud("merged", data={"deletedid": 41})]).encode(),
            "deletedid is missing or not a string",
        ),
    ],
)
def test_an_unusable_event_is_dropped_with_its_cause(body, cause):
    """The event is dropped, the delivery is not refused: the events beside it are kept."""
    delivery = parse_delivery(body=body)
    assert delivery.events == []
    assert [dropped.cause for dropped in delivery.dropped] == [cause]


def test_a_bad_event_leaves_the_others_of_its_delivery():
    body = json.dumps(
        [cloud(intuitentityid="abc"), cloud(id="good"), cloud("created", "vendor")]
    ).encode()
    delivery = parse_delivery(body=body)
    assert [event.event_id for event in delivery.events] == ["good"]
    assert delivery.dropped == [
        Dropped(realm_id="9130350", cause="intuitentityid is not a QuickBooks id"),
        Dropped(realm_id="9130350", cause="not an event of a customer or a sales transaction"),
    ]
    legacy_body = legacy(entity(id="x"), entity(id="8"), realm="not-a-realm")
    assert parse_delivery(body=legacy_body).dropped[0].realm_id == ""  # never logged as is


OUT_OF_RANGE = [
    pytest.param("0001-01-01T00:00:00Z", id="year 1"),
    pytest.param("0001-01-01T00:00:00+05:00", id="an offset that crosses year 0"),
    pytest.param("0001-01-01T03:00:00-01:00", id="year 1 by a negative offset"),
    pytest.param("9999-12-31T23:59:59Z", id="year 9999"),
    pytest.param("9999-12-31T23:00:00-05:00", id="an offset that crosses year 9999"),
    pytest.param("1969-12-31T23:59:59Z", id="before 1970"),
    pytest.param("2999-01-01T00:00:00Z", id="centuries ahead"),
    pytest.param(253402300799999, id="epoch milliseconds of year 9999"),
    pytest.param("253402300800000", id="epoch milliseconds past year 9999"),
    pytest.param(10**30, id="epoch milliseconds out of any range"),
]


@pytest.mark.parametrize("time", OUT_OF_RANGE)
def test_a_time_out_of_range_drops_its_event_and_keeps_the_others(time):
    """Issue 20.5: a validly signed event whose time no page could show (or that would make
    the last change seen centuries ahead) is dropped at intake like any unusable event."""
    body = json.dumps([cloud(time=time), cloud(id="good")]).encode()
    delivery = parse_delivery(body=body)
    assert [event.event_id for event in delivery.events] == ["good"]
    assert delivery.dropped == [Dropped(realm_id="9130350", cause="time is out of range")]
    legacy_delivery = parse_delivery(body=legacy(entity(lastUpdated=time), entity(id="8")))
    assert [event.customer_id for event in legacy_delivery.events] == ["8"]
    assert [dropped.cause for dropped in legacy_delivery.dropped] == ["time is out of range"]


def test_times_a_moment_ahead_are_kept_in_utc():
    """Clocks differ: a time minutes ahead of ours is kept, as UTC."""
    ahead = datetime.now(UTC) + timedelta(minutes=5)
    moment = ahead.astimezone(timezone(timedelta(hours=-7))).isoformat()
    (event,) = parse_events(body=json.dumps([cloud(time=moment)]).encode())
    assert event.occurred_at == ahead and event.occurred_at.tzinfo == UTC


@pytest.mark.parametrize(
    "last_updated",
    [
        "2015-10-05T14:42:19-0700",  # Intuit's legacy sample
        "2015-10-05T14:42:19-07:00",
        "2015-10-05T21:42:19Z",
        "2015-10-05T21:42:19.000Z",  # the 2025 legacy sample's shape
        "2015-10-05T21:42:19.000000000Z",  # nanoseconds, as CloudEvents' sample
        "2015-10-05T21:42:19",  # no offset: UTC
        "2015-10-06T03:12:19+05:30",
        1444081339000,  # epoch milliseconds
        "1444081339000",
    ],
)
def test_every_documented_time_shape(last_updated):
    (event,) = parse_events(body=legacy(entity(lastUpdated=last_updated)))
    assert event.occurred_at == datetime(2015, 10, 5, 21, 42, 19, tzinfo=UTC)
    (cloud_event,) = parse_events(body=json.dumps([cloud(time=last_updated)]).encode())
    assert cloud_event.occurred_at == event.occurred_at


def test_void_and_hundred_event_deliveries():
    body = json.dumps(
        [cloud("voided", id="v")] + [cloud(id=f"e{n}", intuitentityid=str(n)) for n in range(99)]
    ).encode()
    events = parse_events(body=body)
    assert len(events) == 100 and events[0].operation == "void"
    legacy_void = parse_events(body=legacy(entity(operation="Void")))
    assert legacy_void[0].operation == "void"


# --- fuzzing: parse_delivery returns events or raises MalformedWebhook, nothing else ---

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
def test_parse_delivery_only_returns_events_or_raises_malformed(body):
    try:
        delivery = parse_delivery(body=body)
    except MalformedWebhook:
        return
    assert all(isinstance(dropped, Dropped) for dropped in delivery.dropped)
    for event in delivery.events:
        assert isinstance(event, ChangeEvent)
        assert event.occurred_at.tzinfo is not None
        assert event.event_id and event.realm_id.isdigit() and event.customer_id.isdigit()
        assert "\x00" not in event.event_id + event.operation
        event.event_id.encode()  # no lone surrogate
