from datetime import UTC, datetime, timedelta

import pytest

from ccsync.sync.rules import (
    Candidate,
    EmailChoice,
    SkipReason,
    Verdict,
    choose_email,
    created_at,
    customer_email,
    decide,
    is_active,
    is_top_level,
    is_valid_email,
)

T0 = datetime(2020, 1, 1, tzinfo=UTC)


def candidate(
    customer_id: str,
    email: str | None = None,
    *,
    active: bool = True,
    top_level: bool = True,
    age_days: int = 0,
    in_list: bool = False,
) -> Candidate:
    choice = choose_email(email if email is not None else f"c{customer_id}@example.com")
    return Candidate(
        customer_id=customer_id,
        email=choice,
        active=active,
        top_level=top_level,
        created=T0 + timedelta(days=age_days),
        in_list=in_list,
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ann@example.com", EmailChoice("ann@example.com")),
        ("  Ann@Example.COM ", EmailChoice("ann@example.com")),
        ("a@example.com, b@example.com", EmailChoice("a@example.com", from_several=True)),
        ("a@example.com;b@example.com", EmailChoice("a@example.com", from_several=True)),
        ("not-an-email, b@example.com", EmailChoice("b@example.com", from_several=True)),
        ("x@, ;y@example.org", EmailChoice("y@example.org", from_several=True)),
        ("a@example.com b@example.com", EmailChoice("a@example.com", from_several=True)),
        (None, EmailChoice(None, reason=SkipReason.NO_EMAIL)),
        ("", EmailChoice(None, reason=SkipReason.NO_EMAIL)),
        (" , ; ", EmailChoice(None, reason=SkipReason.NO_EMAIL)),
        ("nobody", EmailChoice(None, reason=SkipReason.INVALID_EMAIL)),
        ("a@b, c@d", EmailChoice(None, from_several=True, reason=SkipReason.INVALID_EMAIL)),
    ],
)
def test_choose_email_takes_the_first_valid_address(raw, expected):
    assert choose_email(raw) == expected


@pytest.mark.parametrize(
    "address",
    ["a@example.com", "first.last+tag@sub.example.co.uk", "o'neil@example.ie", "x_y@ex-ample.io"],
)
def test_valid_emails(address):
    assert is_valid_email(address)


@pytest.mark.parametrize(
    "address",
    [
        "plain",
        "@example.com",
        "a@",
        "a@example",
        "a..b@example.com",
        ".a@example.com",
        "a@-example.com",
        "a@example.c",
        "a b@example.com",
        "a@exam_ple.com",
        "x" * 69 + "@example.com",  # 81 characters: over a contact's 80
    ],
)
def test_invalid_emails(address):
    assert not is_valid_email(address)


def test_up_to_80_characters_is_valid():
    """The spec: a contact's email_address.address takes 80 characters (an import's 50:
    those of 51 to 80 go by POST or PUT /contacts)."""
    assert is_valid_email("x" * 38 + "@example.com")
    assert is_valid_email("x" * 68 + "@example.com")


def test_customer_fields():
    customer = {
        "Id": "7",
        "PrimaryEmailAddr": {"Address": "a@example.com"},
        "MetaData": {"CreateTime": "2014-09-11T16:48:43-07:00"},
        "Active": True,
    }
    assert customer_email(customer).address == "a@example.com"
    assert customer_email({"Id": "8"}).reason is SkipReason.NO_EMAIL
    assert created_at(customer) == datetime(2014, 9, 11, 23, 48, 43, tzinfo=UTC)
    assert created_at({}) > created_at(customer)  # unknown creation times sort last
    assert created_at({"MetaData": {"CreateTime": "garbage"}}) == created_at({})
    # A creation time out of the range kept (it could not be read back once stored): unknown.
    for out_of_range in ("0001-01-01T00:00:00+05:00", "9999-12-31T23:00:00-05:00"):
        assert created_at({"MetaData": {"CreateTime": out_of_range}}) == created_at({})
    assert is_active(customer)
    assert not is_active({**customer, "Active": False})
    assert not is_active({"status": "Deleted", "Id": "7"})
    assert is_top_level(customer)
    assert not is_top_level({**customer, "Job": True})
    assert not is_top_level({**customer, "ParentRef": {"value": "3"}})


def test_eligible_customers_are_sent():
    decisions = decide([candidate("1"), candidate("2")], unsubscribed=set(), places_taken=0)
    assert {d.verdict for d in decisions.values()} == {Verdict.SEND}


@pytest.mark.parametrize(
    ("who", "reason"),
    [
        (candidate("1", ""), SkipReason.NO_EMAIL),
        (candidate("1", "nope"), SkipReason.INVALID_EMAIL),
        (candidate("1", active=False), SkipReason.INACTIVE),
        (candidate("1", "gone@example.com"), SkipReason.UNSUBSCRIBED),
    ],
)
def test_skips_with_reason(who, reason):
    decisions = decide([who], unsubscribed={"gone@example.com"}, places_taken=0)
    assert decisions["1"].verdict is Verdict.SKIP
    assert decisions["1"].reason is reason


def test_synced_customers_that_lose_their_email_or_activity_are_kept_as_they_are():
    kept = [
        candidate("1", active=False, in_list=True),
        candidate("2", "", in_list=True),
        candidate("3", "bad", in_list=True),
    ]
    decisions = decide(kept, unsubscribed=set(), places_taken=3)
    assert all(d.verdict is Verdict.KEEP for d in decisions.values())


def test_unsubscribed_wins_even_over_a_synced_customer():
    synced = candidate("1", "gone@example.com", in_list=True)
    decisions = decide([synced], unsubscribed={"gone@example.com"}, places_taken=1)
    assert decisions["1"] == decisions["1"].__class__(Verdict.SKIP, SkipReason.UNSUBSCRIBED)


def test_cap_takes_the_oldest_first_then_the_lowest_numeric_id():
    customers = [
        candidate("10", age_days=1),
        candidate("9", age_days=1),
        candidate("100", age_days=0),
        candidate("2", age_days=5),
    ]
    decisions = decide(customers, unsubscribed=set(), places_taken=0, cap=2)
    sent = {cid for cid, d in decisions.items() if d.verdict is Verdict.SEND}
    assert sent == {"100", "9"}  # "9" before "10": numeric, not text, order
    assert decisions["10"].reason is SkipReason.OVER_CAP
    assert decisions["2"].reason is SkipReason.OVER_CAP


def test_cap_counts_places_already_taken_and_keeps_them():
    customers = [candidate("1", age_days=9, in_list=True), candidate("2"), candidate("3")]
    decisions = decide(customers, unsubscribed=set(), places_taken=2, cap=3)
    assert decisions["1"].verdict is Verdict.SEND  # the younger synced one keeps its place
    assert decisions["2"].verdict is Verdict.SEND
    assert decisions["3"].reason is SkipReason.OVER_CAP


def test_skipped_customers_do_not_use_the_cap():
    customers = [candidate("1", ""), candidate("2", active=False), candidate("3")]
    decisions = decide(customers, unsubscribed=set(), places_taken=0, cap=1)
    assert decisions["3"].verdict is Verdict.SEND


def test_same_email_top_level_customer_wins_over_older_sub_customer():
    parent = candidate("5", "f@example.com", age_days=3)
    child = candidate("2", "f@example.com", top_level=False, age_days=0)
    decisions = decide([child, parent], unsubscribed=set(), places_taken=0)
    assert decisions["5"].verdict is Verdict.SEND
    assert decisions["2"].reason is SkipReason.DUPLICATE_EMAIL
    assert decisions["2"].detail == "synced as customer 5"


def test_same_email_the_oldest_wins_among_equals_and_case_does_not_matter():
    older = candidate("8", "Same@Example.com", age_days=0)
    younger = candidate("3", "same@example.com", age_days=1)
    decisions = decide([younger, older], unsubscribed=set(), places_taken=0)
    assert decisions["8"].verdict is Verdict.SEND
    assert decisions["3"].reason is SkipReason.DUPLICATE_EMAIL


def test_a_new_winner_for_a_synced_email_takes_no_new_place():
    child = candidate("2", "f@example.com", top_level=False, in_list=True)
    parent = candidate("5", "f@example.com", age_days=3)
    decisions = decide([child, parent], unsubscribed=set(), places_taken=1, cap=1)
    assert decisions["5"].verdict is Verdict.SEND
    assert decisions["2"].reason is SkipReason.DUPLICATE_EMAIL


def test_duplicates_of_a_skipped_email_follow_its_reason():
    a = candidate("1", "gone@example.com")
    b = candidate("2", "gone@example.com")
    decisions = decide([a, b], unsubscribed={"gone@example.com"}, places_taken=0)
    assert {d.reason for d in decisions.values()} == {SkipReason.UNSUBSCRIBED}


def test_every_candidate_gets_a_decision_and_labels_exist():
    customers = [candidate(str(i), age_days=i % 3) for i in range(50)]
    decisions = decide(customers, unsubscribed=set(), places_taken=0, cap=20)
    assert set(decisions) == {c.customer_id for c in customers}
    assert sum(d.verdict is Verdict.SEND for d in decisions.values()) == 20
    assert all(reason.label for reason in SkipReason)
