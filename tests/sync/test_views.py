"""The status panel, its JSON, its buttons and the CSV of customers not in the list, against
the in-process fakes of the providers (tests/plugins/fakes.py): numbers that never go
backwards, recent syncs that say what they sent."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from ccsync.sync.models import Run, TenantSync
from tests.plugins.companies import person


@pytest.fixture
def company(fakes):
    company = fakes.install(
        person("Ann Lee", "ann@example.com"),
        person("No Email"),
        person("=Formula Fred", "not-an-email"),
        person("Several", "x, s@example.com"),
    )
    company.run()
    return company


def test_status_page_shows_the_panel(company):
    page = company.client.get("/status/").content.decode()
    assert 'id="sync-panel"' in page
    assert "No email address" in page and "No valid email address" in page
    assert "First sync: Completed" in page
    assert "Download as CSV" in page
    assert "/static/web/panel.js" in page


def test_status_json(company):
    status = company.client.get("/sync/status.json").json()
    assert status["counts"]["in_list"] == 2 and status["counts"]["not_in_list"] == 2
    assert status["run"]["state"] == "completed" and status["run"]["percent"] == 100
    assert [r["reason"] for r in status["reasons"]] == ["no_email", "invalid_email"]
    assert [n["reason"] for n in status["notes"]] == ["several"]
    assert status["history"][0]["kind"] == "first"


def test_the_panel_and_its_json_say_times_and_counts_in_the_same_words(company):
    """The live updates (panel.js) put the JSON's words where the page put its own: the one
    time format with its zone, how long ago in words, counts that read naturally; words
    that cost Constant Contact no call."""
    calls = company.constantcontact_api_calls()
    client = company.client
    times = client.get("/sync/status.json").json()["times"]
    assert times["last_change"] == "No change since the first sync"
    TenantSync.objects.update_or_create(
        tenant=company.tenant,
        defaults={"last_change_at": timezone.now() - timedelta(minutes=3, seconds=1)},
    )
    status = client.get("/sync/status.json").json()
    words = status["times"]["last_change"]
    assert re.fullmatch(r"3 minutes ago \(\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2} UTC\)", words)
    page = client.get("/status/").content.decode()
    assert f'<dd data-field="last-change">{words}</dd>' in page
    assert status["run"]["progress_label"] == "4 of 4 customers"
    assert status["run"]["progress_label"] in page
    started = re.search(r'<td data-label="Started">([^<]*)</td>', page)
    assert started and re.fullmatch(r"\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2} UTC", started[1])
    assert company.constantcontact_api_calls() == calls


def test_csv_lists_every_customer_not_in_the_list_and_why(company):
    answer = company.client.get("/sync/customers.csv")
    assert answer["Content-Type"] == "text/csv"
    rows = list(csv.reader(io.StringIO(b"".join(answer.streaming_content).decode())))
    assert rows[0][:2] == ["QuickBooks customer id", "Name"]
    by_name = {row[1]: row for row in rows[1:]}
    # Several is in the list by one of its addresses (the other is not): its row says so.
    assert set(by_name) == {"No Email", "'=Formula Fred", "Several"}  # no formula injection
    assert by_name["No Email"][3:5] == ["Not synced", "No email address"]
    assert by_name["No Email"][6].startswith("Add an email address")
    assert by_name["Several"][3] == "Synced"
    assert by_name["'=Formula Fred"][2] == "not-an-email"  # as QuickBooks holds it


def test_a_customer_with_several_addresses_is_told_so(fakes):
    """Which address was used and which were left out, in the table, the CSV and the
    search; an invalid address as QuickBooks holds it, for the user to fix it there."""
    company = fakes.install(
        person("Ann Lee", "ann@example.com"),
        person("Ann Again", "nope, ann@example.com"),  # the first valid one is Ann's
        person("Bad Several", "nope; also-bad"),
        person("Cy Two", "Cy@Example.com; cy.home@example.org"),
        person("Di Broken", "di@@example"),
    )
    run = company.run()
    assert run.constantcontact_calls == 3  # unsubscribes, the import, its confirmation
    answer = company.client.get("/sync/customers.csv")
    rows = list(csv.reader(io.StringIO(b"".join(answer.streaming_content).decode())))
    by_name = {row[1]: row[2:6] for row in rows[1:]}
    assert by_name["Ann Again"] == [
        "ann@example.com",
        "Not synced",
        "Same email as another customer",
        f"synced as customer {company.customer_id('Ann Lee')}; "
        "used ann@example.com, the first valid of several addresses; left out: nope",
    ]
    assert by_name["Bad Several"] == [
        "nope; also-bad",
        "Not synced",
        "No valid email address",
        "none of several addresses is valid",
    ]
    assert by_name["Cy Two"] == [
        "cy@example.com",
        "Synced",
        "In the list with the first valid of several addresses",
        "used cy@example.com, the first valid of several addresses; left out: cy.home@example.org",
    ]
    assert by_name["Di Broken"][:3] == ["di@@example", "Not synced", "No valid email address"]
    assert "Ann Lee" not in by_name

    status = company.client.get("/status/").content.decode()
    assert "In the list with the first valid of several addresses: 1." in status
    assert "di@@example" in status
    notes = company.client.get("/sync/customers/notes/").content.decode()
    assert "left out: cy.home@example.org" in notes
    # A left-out address finds its customer.
    found = company.client.get("/sync/customers/notes/", {"q": "cy.home@"}).content.decode()
    assert "Cy Two" in found and "left out: cy.home@example.org" in found
    assert "1 customer." in found


def test_customers_page_searches(company):
    page = company.client.get("/sync/customers/", {"q": "formula"}).content.decode()
    assert "Formula Fred" in page and "No Email" not in page
    assert "1 customer." in page


def test_buttons_need_csrf_and_act(company):
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = company.client.cookies
    assert strict.post("/sync/pause/").status_code == 403
    client = company.client
    assert client.get("/sync/pause/").status_code == 405  # no state change on GET
    assert client.post("/sync/pause/").status_code == 302
    company.tenant.refresh_from_db()
    assert company.tenant.paused
    assert client.get("/sync/status.json").json()["paused"] is True
    client.post("/sync/resume/")
    client.post("/sync/now/")
    run = Run.objects.filter(tenant=company.tenant).first()
    assert run.kind == Run.Kind.FULL_CHECK and run.state == Run.State.QUEUED


def test_pages_need_a_signed_in_member(company):
    stranger = Client()
    assert stranger.get("/sync/status.json").status_code == 302
    assert stranger.get("/sync/customers.csv").status_code == 302
    assert stranger.post("/sync/pause/").status_code == 302
    company.tenant.refresh_from_db()
    assert not company.tenant.paused


def test_the_panel_waits_before_the_first_sync_has_read_anything(fakes):
    company = fakes.install(person("Ann Lee", "ann@example.com"))
    page = company.client.get("/status/").content.decode()
    assert "Waiting to read your customers from QuickBooks Online" in page
    assert "0 of 0" not in page and "Every customer checked so far" not in page
    assert "No customer has been checked yet" in page
    assert ">None yet<" in page  # no change seen: nothing has been read at all
    run = company.client.get("/sync/status.json").json()["run"]
    assert run["waiting"] and run["progress_label"].startswith("Waiting")

    company.run()
    page = company.client.get("/status/").content.decode()
    assert "1 of 1 customer<" in page and "Waiting to read" not in page  # one, not "customers"
    assert "Every customer checked so far is in the list." in page
    assert "None yet" not in page and ">No change since the first sync<" in page


def test_the_panel_says_what_awaits_confirmation_and_how_fresh_unsubscribes_are(fakes):
    company = fakes.install(person("Ann Lee", "ann@example.com"))
    company.run()
    company.add(person("Bo Li", "bo@example.com"))
    company.webhook(("created", company.customer_id("Bo Li")))
    company.sync_changes(confirm=False)  # sent; Constant Contact asked later, with others
    page = company.client.get("/status/").content.decode()
    assert (
        '<dt>Sent, waiting for Constant Contact to confirm</dt><dd data-count="sent">1</dd>' in page
    )
    # A first day: no day before to measure the slack against, so every 4 hours.
    assert "Unsubscribes in Constant Contact are checked at most every 4 hours now" in page
    assert company.client.get("/sync/status.json").json()["counts"]["sent"] == 1
    company.confirm()
    counts = company.client.get("/sync/status.json").json()["counts"]
    assert counts["sent"] == 0 and counts["in_list"] == 2


def test_editing_a_synced_customer_never_takes_it_out_of_the_list(company):
    """The update waits hours for Constant Contact's confirmation; the customer's contact
    is in the list all along, so the number stays (the issue's 231 that became 230)."""
    client = company.client
    before = client.get("/sync/status.json").json()["counts"]
    ann = company.customer_id("Ann Lee")
    company.change(ann, FamilyName="Lee-Smith")
    company.webhook(("updated", ann))
    run = company.sync_changes(confirm=False)
    assert run.constantcontact_calls == 1  # the import: the pages add no call
    during = client.get("/sync/status.json").json()
    assert during["counts"]["in_list"] == before["in_list"] == 2
    assert during["counts"]["sent"] == 0 and during["counts"]["updating"] == 1
    # Recent syncs: the run sent one contact, still waiting for its confirmation.
    assert during["history"][0]["sent"] == 1 and during["history"][0]["unconfirmed"] == 1
    page = client.get("/status/").content.decode()
    assert 'data-count="updating">1</span> with an update on its way' in page
    assert "(1 waiting for Constant Contact to confirm)" in page
    company.confirm()
    after = client.get("/sync/status.json").json()
    assert after["counts"]["in_list"] == 2 and after["counts"]["updating"] == 0
    assert after["history"][0]["sent"] == 1 and after["history"][0]["unconfirmed"] == 0


def test_each_customer_not_in_the_list_links_to_its_page_in_quickbooks(company, settings):
    page = company.client.get("/sync/customers/").content.decode()
    nobody = company.customer_id("No Email")
    assert f'href="{settings.QUICKBOOKS_APP_BASE}/app/customerdetail?nameId={nobody}"' in page
    assert 'href="/help/#no-email"' in page
