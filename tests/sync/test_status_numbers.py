"""The status page's numbers, its not-in-the-list listing, the notes on customers in the list
and the sales page's rows, read from customer records made in the database (no sandbox): each
customer counts in exactly one place, an update on its way never takes a customer out of the
list, the listing shows what its number counts, fixable reasons first, each with what to do."""

from itertools import count
from types import SimpleNamespace

import pytest
from django.test import Client
from django.utils import timezone
from django.utils.html import escape

from ccsync.sync import pacing, reasons, sales_selectors, selectors
from ccsync.sync.models import CustomerRecord, SalesDataState
from ccsync.sync.rules import SkipReason
from tenants.models import SalesData, Tenant, User

Outcome = CustomerRecord.Outcome
_ids = count(1)


@pytest.fixture
def tenant(db):
    return Tenant.objects.create(realm_id="9130350010", company_name="Numbers Co")


@pytest.fixture
def client(tenant):
    user = User.objects.create(username="pat-numbers", intuit_sub="sub-numbers")
    user.membership_set.create(tenant=tenant)
    signed_in = Client()
    signed_in.force_login(user)
    return signed_in


def record(tenant: Tenant, name: str, **fields) -> CustomerRecord:
    number = next(_ids)
    values = {
        "customer_id": str(number),
        "display_name": name,
        "email": f"{name.lower().replace(' ', '.')}@example.com",
        "created_in_quickbooks": timezone.now(),
        **fields,
    }
    return CustomerRecord.objects.create(tenant=tenant, **values)


@pytest.fixture
def company(tenant):
    """One customer in every standing the pages tell apart."""
    made = {
        "synced": record(tenant, "Sam Synced", outcome=Outcome.SYNCED, in_list=True),
        "updating": record(tenant, "Una Updating", outcome=Outcome.SENT, in_list=True),
        "editing": record(tenant, "Ed Editing", outcome=Outcome.PENDING, in_list=True),
        "update_refused": record(
            tenant, "Ray Refused", outcome=Outcome.FAILED, in_list=True, detail="Bad phone"
        ),
        "several": record(
            tenant,
            "Sev Eral",
            outcome=Outcome.SYNCED,
            in_list=True,
            email="sev@example.com",
            email_in_quickbooks="sev@example.com, eral@example.com",
            email_from_several=True,
        ),
        "pending": record(tenant, "Pat Pending", outcome=Outcome.PENDING),
        "sent": record(tenant, "Sue Sent", outcome=Outcome.SENT),
        "new": record(tenant, "Ned New"),
        "refused": record(tenant, "Rex Refused", outcome=Outcome.FAILED, detail="Bad address"),
        "unsubscribed_after": record(
            tenant,
            "Una Gone",
            outcome=Outcome.SKIPPED,
            reason=SkipReason.UNSUBSCRIBED,
            in_list=True,
        ),
        "over_cap": record(
            tenant, "Olga Over", outcome=Outcome.SKIPPED, reason=SkipReason.OVER_CAP
        ),
        "no_email": record(
            tenant, "Zed Nomail", email="", outcome=Outcome.SKIPPED, reason=SkipReason.NO_EMAIL
        ),
        "inactive": record(
            tenant, "Ivy Inactive", outcome=Outcome.SKIPPED, reason=SkipReason.INACTIVE
        ),
        # Deleted in QuickBooks: counted only while its contact is in the list.
        "deleted_synced": record(
            tenant, "Del Synced", outcome=Outcome.SYNCED, in_list=True, deleted=True
        ),
        "deleted_skipped": record(
            tenant,
            "Del Skipped",
            outcome=Outcome.SKIPPED,
            reason=SkipReason.INACTIVE,
            deleted=True,
        ),
    }
    return made


def test_each_customer_counts_once_and_updates_stay_in_the_list(tenant, company):
    counts = selectors.outcome_counts(tenant=tenant)
    assert counts["in_list"] == 6  # synced, updating, editing, update refused, several, deleted
    assert counts["updating"] == 2
    assert counts["not_in_list"] == 5 and counts["skipped"] == 4 and counts["refused"] == 1
    assert counts["pending"] == 1 and counts["sent"] == 1 and counts["new"] == 1
    assert counts["with_note"] == 2  # several addresses, last update refused
    shown = len(company) - 1  # the deleted customer that never was in the list
    assert counts["total"] == shown
    parts = ("in_list", "not_in_list", "pending", "sent", "new")
    assert sum(counts[part] for part in parts) == counts["total"]


def test_the_listing_shows_what_its_number_counts_what_can_be_fixed_first(tenant, company):
    listed = list(selectors.customers_not_in_list(tenant=tenant))
    assert len(listed) == selectors.outcome_counts(tenant=tenant)["not_in_list"]
    assert [r.display_name for r in listed] == [
        "Zed Nomail",  # no email address
        "Ivy Inactive",  # inactive
        "Rex Refused",  # refused by Constant Contact
        "Una Gone",  # unsubscribed: only they can opt back in
        "Olga Over",  # over the cap
    ]
    reasons_shown = selectors.reason_counts(tenant=tenant)
    assert [r["reason"] for r in reasons_shown] == [
        "no_email",
        "inactive",
        "refused",
        "unsubscribed",
        "over_cap",
    ]
    assert sum(r["count"] for r in reasons_shown) == len(listed)
    noted = {r.display_name for r in selectors.customers_with_notes(tenant=tenant)}
    assert noted == {"Sev Eral", "Ray Refused"}


def test_every_reason_says_what_to_do_with_help_and_a_link_to_quickbooks(tenant, company, settings):
    settings.QUICKBOOKS_APP_BASE = "https://app.sandbox.qbo.intuit.com"
    for guide in (*reasons.NOT_IN_LIST, *reasons.IN_LIST_NOTES):
        assert guide.what_to_do and guide.anchor
    rows = {row["name"]: row for row in map(selectors.customer_row, CustomerRecord.objects.all())}
    no_email = rows["Zed Nomail"]
    assert no_email["reason"] == "No email address"
    assert no_email["what_to_do"].startswith("Add an email address")
    assert no_email["help_url"] == "/help/#no-email"
    assert no_email["quickbooks_url"] == (
        "https://app.sandbox.qbo.intuit.com/app/customerdetail?nameId="
        f"{company['no_email'].customer_id}"
    )
    assert "only they can opt back in" in rows["Una Gone"]["what_to_do"]
    assert rows["Ivy Inactive"]["what_to_do"].startswith("Make the customer active")
    assert rows["Rex Refused"]["outcome"] == "Refused by Constant Contact"
    assert rows["Rex Refused"]["detail"] == "Bad address"
    assert rows["Ray Refused"]["outcome"] == "Synced; its last update was refused"
    assert rows["Una Updating"]["outcome"] == "Synced; an update is on its way"
    assert rows["Sue Sent"]["outcome"] == "Sent, waiting for Constant Contact to confirm"
    assert rows["Sev Eral"]["help_url"] == "/help/#several-addresses"


def test_the_pages_show_the_same_numbers(client, company):
    status = client.get("/status/").content.decode()
    assert '<span data-count="in_list">6</span>' in status
    assert "(of which <span" in status and 'data-count="updating">2</span>' in status
    assert '<span data-count="not_in_list">5</span>' in status
    assert 'data-count="sent">1</dd>' in status
    assert "Not in the list, and why: 5" in status
    assert "In the list, with a note: 2" in status
    assert 'href="/help/#no-email"' in status and "More in Help" in status
    listing = client.get("/sync/customers/").content.decode()
    assert "<h1>Not in your Constant Contact list: 5</h1>" in listing
    assert "5 customers." in listing
    assert "Sev Eral" not in listing and "Sam Synced" not in listing
    assert "Open in QuickBooks Online" in listing
    notes = client.get("/sync/customers/notes/").content.decode()
    assert "In your Constant Contact list, with a note: 2" in notes
    assert "Sev Eral" in notes and "left out: eral@example.com" in notes
    assert client.get("/sync/status.json").json()["counts"]["not_in_list"] == 5


@pytest.mark.parametrize(
    ("seconds", "said"),
    [
        (
            0.0,
            "Unsubscribes in Constant Contact are checked before every change is sent: a "
            "contact who unsubscribes there is never sent again.",
        ),
        (4 * 3600 + 20, "Unsubscribes in Constant Contact are checked at most every 4 hours now"),
        (14 * 3600, "Unsubscribes in Constant Contact are checked at most every 14 hours now"),
        (24 * 3600, "Unsubscribes in Constant Contact are checked at most once a day now"),
    ],
)
def test_the_page_says_how_fresh_unsubscribes_are_now(client, company, monkeypatch, seconds, said):
    """Issue 20.4: the freshness that applies now, the pacer's (tests/sync/test_pacing.py
    decides when), in the status page's words."""
    day = SimpleNamespace(unsubscribes_fresh=seconds)
    monkeypatch.setattr(pacing, "get_pacer", lambda: SimpleNamespace(snapshot=lambda: day))
    page = client.get("/status/").content.decode()
    assert escape(said) in page
    assert ("may still get a change's details" in selectors.freshness()) == (seconds > 0)


def test_the_csv_keeps_every_row_with_its_outcome(client, company):
    answer = client.get("/sync/customers.csv")
    lines = b"".join(answer.streaming_content).decode().splitlines()
    assert lines[0] == "QuickBooks customer id,Name,Email,Outcome,Why,Detail,What to do"
    names = [line.split(",")[1] for line in lines[1:]]
    assert names[:5] == ["Zed Nomail", "Ivy Inactive", "Rex Refused", "Una Gone", "Olga Over"]
    assert sorted(names[5:]) == ["Ray Refused", "Sev Eral"]
    several = next(line for line in lines if ",Sev Eral," in line)
    assert ",Synced,In the list with the first valid of several addresses," in several


def test_paging_says_page_n_of_m(client, tenant):
    for number in range(55):
        record(tenant, f"Nomail {number:02d}", email="", outcome=Outcome.SKIPPED, reason="no_email")
    page = client.get("/sync/customers/").content.decode()
    assert "Page 1 of 2" in page and "Next" in page
    assert "Page 2 of 2" in client.get("/sync/customers/", {"page": 2}).content.decode()


# --- the sales page --------------------------------------------------------------------------

TOTAL = "cf:QuickBooks total sales"


@pytest.fixture
def sales_on(tenant):
    SalesData.objects.create(tenant=tenant, enabled=True, facts=["total_sales", "customer_id"])
    SalesDataState.objects.create(
        tenant=tenant,
        fields={
            "total_sales": {"id": "f1", "name": "QuickBooks total sales", "type": "number"},
            "customer_id": {"id": "f2", "name": "QuickBooks customer id", "type": "string"},
        },
    )
    return sales_selectors.sales_setup(tenant=tenant)


def with_total(tenant: Tenant, name: str, *, held: str, now: str, **fields) -> CustomerRecord:
    """A customer whose total sales Constant Contact confirmed as `held` ("" for none) and
    that QuickBooks says is `now` (the hashes stand in for the rows')."""
    return record(
        tenant,
        name,
        row={TOTAL: now},
        sent_row={TOTAL: held} if held else {},
        row_hash=now,
        sent_hash=held,
        **fields,
    )


def invoiced(tenant: Tenant) -> CustomerRecord:
    """In the list with 150.50; an invoice since: 230.50 sent, waiting for Constant
    Contact to confirm it."""
    return with_total(
        tenant,
        "Bo Invoiced",
        held="150.50",
        now="230.50",
        outcome=Outcome.SENT,
        in_list=True,
        queued_hash="230.50",
    )


def figures(row) -> dict[str, tuple[str, str]]:
    return {f["key"]: (f["held"], f["coming"]) for f in row["figures"]}


def test_figures_held_and_on_their_way(tenant, sales_on):
    confirmed = with_total(
        tenant, "Ann Confirmed", held="230.50", now="230.50", outcome=Outcome.SYNCED, in_list=True
    )
    row = sales_selectors.figures_row(confirmed, setup=sales_on)
    assert figures(row)["total_sales"] == ("230.50", "")
    assert not row["coming"]

    # An invoice: sent, waiting for Constant Contact to confirm it.
    row = sales_selectors.figures_row(invoiced(tenant), setup=sales_on)
    assert figures(row)["total_sales"] == ("150.50", "230.50")
    assert row["coming_label"] == "sent, waiting for Constant Contact to confirm"
    assert row["outcome"] == "Synced; an update is on its way"


@pytest.mark.parametrize("reason", [SkipReason.INACTIVE, SkipReason.NO_EMAIL, SkipReason.OVER_CAP])
def test_a_customer_never_sent_has_nothing_on_its_way(tenant, sales_on, reason):
    never = with_total(
        tenant, "Never Sent", held="", now="99.00", outcome=Outcome.SKIPPED, reason=reason
    )
    row = sales_selectors.figures_row(never, setup=sales_on)
    assert figures(row)["total_sales"] == ("", "")
    assert not row["coming"]
    assert row["outcome"] == "Not synced" and row["reason"] == reason.label


def test_the_sales_page_is_one_compact_row_a_customer_the_detail_on_demand(
    client, tenant, sales_on
):
    bo = invoiced(tenant)
    page = client.get("/sync/sales/").content.decode()
    assert '<abbr title="QuickBooks total sales">Total sales</abbr>' in page
    assert '<abbr title="QuickBooks customer id">' not in page  # the row's own id
    assert '150.50 <span class="coming">→ 230.50</span>' in page
    assert "before tax, with credit memos and refunds" in page and "home currency" in page
    detail_url = f"/sync/sales/{bo.customer_id}/"
    assert f'href="{detail_url}"' in page
    detail = client.get(detail_url).content.decode()
    assert "QuickBooks total sales" in detail and "<strong>150.50</strong>" in detail
    assert '230.50 <span class="note">(sent, waiting for Constant Contact to confirm)' in detail
    assert "QuickBooks customer id" in detail
    assert client.get("/sync/sales/999999/").status_code == 404


def test_help_answers_every_reason_and_needs_no_sign_in(db, settings):
    settings.SUPPORT_EMAIL = "help@ccsync.example.com"
    page = Client().get("/help/").content.decode()
    for guide in (*reasons.NOT_IN_LIST, *reasons.IN_LIST_NOTES):
        assert f'id="{guide.anchor}"' in page and escape(guide.what_to_do) in page
    for anchor in ("numbers", "cap", "change-list", "sales-data", "disconnect", "contact"):
        assert f'id="{anchor}"' in page
    assert "mailto:help@ccsync.example.com" in page
    assert "before\n  tax, with credit memos and refunds subtracted" in page
