"""Sales data never stops, slows or breaks the contacts' sync (ccsync/sync/optional.py),
against the sandbox over real HTTP: each failure of an optional step is made to happen by a
knob, and each test sees the run completed, every customer in the Constant Contact list,
the connection whole, and the problem told on the status and Settings pages with what to
do. Only a refused token breaks the connection.

The errors are those the providers document: Constant Contact's V3 spec
(/work/shared/specs/constantcontact-v3-openapi.json, https://developer.constantcontact.com/
api_reference/index.html) answers POST /contact_custom_fields with 400, 403 ("you lack the
necessary user privileges") and 409 ("conflicts with an existing resource"), GET
/contact_custom_fields and GET /contact_tags with 400 and 403, POST /contact_tags with 400,
403 and 409, POST /activities/contacts_taggings_add and contacts_json_import with 400 and
403 (409 is not documented there). QuickBooks answers a report it refuses with a
ValidationFault (400) and a failure of its own with a SystemFault (500)
(https://developer.intuit.com/app/developer/qbo/docs/develop/troubleshooting/error-codes).
"""

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from ccsync.sync import clients, lifecycle, optional, services, tagging
from ccsync.sync.models import ContactImport, CustomerRecord, Run, SalesDataState
from ccsync.sync.sales_state import Source
from integrations.limiter import get_limiter
from tenants import selectors as tenant_selectors
from tenants.clients import constantcontact_client
from tests.plugins.companies import person

EMAILS = ("ann@example.com", "bo@example.com", "cy@example.com")
TOTAL = "QuickBooks total sales"
TOTAL_ONLY = {"sales-enabled": "on", "sales-facts": ["total_sales"]}
TAG = {"sales-tag_enabled": "on", "sales-tag_name": "QBO"}
# The run's own calls without sales data: the unsubscribes, the import, its confirmation.
SYNC = 3
REPORTS = "QuickBooks Online did not give the sales reports"
ROLE = "needs the Account Owner or Account Manager role"
TAGGINGS = "POST /activities/contacts_taggings_add"


@pytest.fixture
def shop(install):
    """Ann (two sales), Bo (none), Cy (one): sales data on with the given choices."""

    def make(**choices):
        company = install(
            person("Ann Lee", EMAILS[0]), person("Bo Li", EMAILS[1]), person("Cy Dee", EMAILS[2]),
            **choices,
        )  # fmt: skip
        company.sell(company.customer_id("Ann Lee"), "100.00")
        company.sell(company.customer_id("Ann Lee"), "50.50", entity="SalesReceipt")
        company.sell(company.customer_id("Cy Dee"), "300.00")
        return company

    return make


def assert_contacts_synced(company, run: Run) -> None:
    """The core went on: the run completed, everyone is in the list, nothing is broken."""
    assert run.state == Run.State.COMPLETED, run.error
    contacts = company.contacts()
    assert all(contacts[email]["list_names"] == ["Customers"] for email in EMAILS)
    records = CustomerRecord.objects.filter(tenant=company.tenant)
    assert {r.outcome for r in records} == {CustomerRecord.Outcome.SYNCED}
    assert not tenant_selectors.constantcontact_connection(tenant=company.tenant).is_broken
    assert not tenant_selectors.quickbooks_connection(tenant=company.tenant).is_broken


def assert_told(company, *words: str) -> None:
    """The status and Settings pages both say it, with Help a click away."""
    client = company.journey.client
    for page in ("/status/", "/settings/"):
        html = client.get(page).content.decode()
        for said in words:
            assert said in html, (page, said)
        assert "/help/#sales-data-problems" in html, page


@pytest.mark.parametrize("fault", ["400", "500", "shape"])
def test_reports_refused_or_unreadable_leave_the_contacts_syncing(shop, knobs, fault):
    knobs(quickbooks_report_fault=fault)
    company = shop(**TOTAL_ONLY)
    run = company.run()
    assert_contacts_synced(company, run)
    assert company.custom_fields(EMAILS[0]) == {}
    assert_told(company, REPORTS, "Your contacts are still syncing")
    # The field's set-up (1 list + 1 made) and the sync: no call added to the contacts'.
    assert run.constantcontact_calls == 2 + SYNC


def test_figures_owed_are_read_again_after_a_wait_not_at_every_run(shop, knobs):
    knobs(quickbooks_report_fault="500")
    company = shop(**TOTAL_ONLY)
    company.run()
    state = SalesDataState.objects.get(tenant=company.tenant)
    assert state.reports_failures == 1 and state.reports_retry_at > timezone.now()
    ann = company.customer_id("Ann Lee")

    knobs(quickbooks_report_fault="")  # QuickBooks gives them again; their time has not come
    company.change(ann, FamilyName="Lee-Smith")
    company.webhook(("updated", ann))
    run = company.sync_changes()
    assert_contacts_synced(company, run)
    assert run.quickbooks_calls == 1  # the customer alone, no report
    assert company.custom_fields(EMAILS[0]) == {}

    # Their time came: the next run reads everyone's (the owed included), 5 reports.
    later = timezone.now() - timedelta(seconds=1)
    SalesDataState.objects.filter(tenant=company.tenant).update(reports_retry_at=later)
    company.change(ann, FamilyName="Lee")
    company.webhook(("updated", ann))
    run = company.sync_changes()
    assert_contacts_synced(company, run)
    assert company.custom_fields(EMAILS[0]) == {TOTAL: "150.50"}
    assert company.custom_fields(EMAILS[2]) == {TOTAL: "300.00"}
    state = SalesDataState.objects.get(tenant=company.tenant)
    assert (state.reports_failures, state.reports_retry_at, state.problems) == (0, None, {})


@pytest.mark.parametrize(
    ("operation", "status", "said"),
    [
        ("POST /contact_custom_fields", 400, "Constant Contact refused it"),
        ("POST /contact_custom_fields", 403, ROLE),
        ("POST /contact_custom_fields", 409, "a field there has its name"),
        ("GET /contact_custom_fields", 400, "(it answered 400)"),
        ("GET /contact_custom_fields", 403, ROLE),
    ],
)
def test_custom_fields_refused_leave_the_contacts_syncing(shop, knobs, operation, status, said):
    knobs(cc_refused_operations={operation: status})
    company = shop(**TOTAL_ONLY)
    run = company.run()
    assert_contacts_synced(company, run)
    assert company.custom_fields(EMAILS[0]) == {}
    assert_told(company, said, "Your contacts are still syncing")


@pytest.mark.parametrize(
    ("operation", "status", "said"),
    [
        ("POST /contact_tags", 400, "(it answered 400)"),
        ("POST /contact_tags", 403, ROLE),
        ("POST /contact_tags", 409, "(it answered 409)"),
        ("GET /contact_tags", 400, "(it answered 400)"),
        ("POST /activities/contacts_taggings_add", 400, "(it answered 400)"),
        ("POST /activities/contacts_taggings_add", 403, ROLE),
    ],
)
def test_the_tag_refused_leaves_the_contacts_syncing(shop, knobs, operation, status, said):
    knobs(cc_refused_operations={operation: status})
    company = shop(**TOTAL_ONLY, **TAG)
    run = company.run()
    assert_contacts_synced(company, run)
    assert company.custom_fields(EMAILS[0]) == {TOTAL: "150.50"}  # the figures still go
    assert company.tags(EMAILS[0]) == []
    assert_told(company, said, "turn the tag off in Settings")


def test_a_figure_refused_leaves_its_contact_synced_and_the_field_told(shop):
    company = shop()
    # A field for whole numbers people made themselves, used for total sales.
    constantcontact_client(tenant=company.tenant).create_custom_field(
        label=TOTAL, type="number", metadata={"integer": True, "allow_negative": True}
    )
    lifecycle.choose_sales_data(
        tenant=company.tenant, enabled=True, facts=["total_sales"], tag_enabled=False, tag_name=""
    )
    company.run()
    state = SalesDataState.objects.get(tenant=company.tenant)
    state.fields["total_sales"]["decimals"] = None  # as if people changed the field since
    state.save()
    ann = company.customer_id("Ann Lee")
    invoice = company.sell(ann, "0.25")  # 150.75: the whole-number field refuses it
    company.webhook(("created", invoice["Id"], "invoice"))
    run = company.sync_changes()
    assert_contacts_synced(company, run)
    record = CustomerRecord.objects.get(tenant=company.tenant, customer_id=ann)
    assert not any(key.startswith("cf:") for key in record.sent_row)  # never claimed held
    assert_told(company, f"Constant Contact refused the values of “{TOTAL}”")


def test_an_import_refused_for_its_figures_goes_again_without_them(shop, knobs):
    knobs(cc_import_refuses_custom_fields=True)
    company = shop(**TOTAL_ONLY)
    run = company.run()
    assert_contacts_synced(company, run)
    assert company.custom_fields(EMAILS[0]) == {}
    assert_told(company, f"Constant Contact refused the values of “{TOTAL}”")
    # The field's set-up, the import refused, then the sync.
    assert run.constantcontact_calls == 2 + 1 + SYNC


def test_a_token_refused_in_an_optional_step_still_breaks_the_connection(shop, knobs):
    knobs(cc_refused_operations={"POST /contact_custom_fields": 401})
    company = shop(**TOTAL_ONLY)
    run = company.run()
    assert run.state == Run.State.FAILED
    assert tenant_selectors.constantcontact_connection(tenant=company.tenant).is_broken


def _calls(company, step) -> int:
    before = get_limiter().constantcontact_used_today()
    step()
    return get_limiter().constantcontact_used_today() - before


def test_a_sample_that_cannot_be_read_leaves_the_contacts_synced_and_the_figures_unconfirmed(
    shop, knobs
):
    """The sample that shows Constant Contact took the figures (confirming.py) is optional:
    one Constant Contact refuses is told, not tried again in the pass, and the contacts are
    synced without the figures being recorded as held: they go again with the customer's
    next send, and the sample then read clears the problem."""
    company = shop(**TOTAL_ONLY)
    company.run()
    state = SalesDataState.objects.get(tenant=company.tenant)
    state.fields["total_sales"]["checked_at"] = (timezone.now() - timedelta(days=8)).isoformat()
    state.save()  # the column is due its weekly check
    ann = company.customer_id("Ann Lee")
    invoice = company.sell(ann, "0.25")
    company.webhook(("created", invoice["Id"], "invoice"))
    company.sync_changes(confirm=False)

    knobs(cc_refused_operations={"GET /contacts": 400})
    assert _calls(company, company.confirm) == 2  # GET /activities, the sample refused once
    record = CustomerRecord.objects.get(tenant=company.tenant, customer_id=ann)
    assert record.outcome == CustomerRecord.Outcome.SYNCED
    assert record.row[f"cf:{state.fields['total_sales']['name']}"] == "150.75"
    assert not any(key.startswith("cf:") for key in record.sent_row)  # not claimed held
    assert record.sent_hash != record.row_hash  # so it goes again with its next send
    assert_told(company, "did not let the app check the sales figures", "still syncing")

    knobs(cc_refused_operations={})
    company.change(ann, FamilyName="Lee-Smith")
    company.webhook(("updated", ann))
    company.sync_changes()
    record.refresh_from_db()
    assert record.outcome == CustomerRecord.Outcome.SYNCED and record.sent_hash == record.row_hash
    assert company.custom_fields(EMAILS[0]) == {TOTAL: "150.75"}
    state.refresh_from_db()
    assert (
        state.problems == {}
        and state.fields["total_sales"]["checked_at"]
        > (timezone.now() - timedelta(minutes=5)).isoformat()
    )


def test_an_import_refused_without_its_figures_too_is_not_blamed_on_them(shop, knobs):
    """A 400 the same contacts meet without their figures is theirs, not the figures': the
    fields stay set up, nobody is told of refused values, and the run meets the refusal as
    it would without sales data."""
    knobs(cc_refused_operations={"POST /activities/contacts_json_import": 400})
    company = shop(**TOTAL_ONLY)
    run = company.run()
    assert run.state == Run.State.FAILED
    state = SalesDataState.objects.get(tenant=company.tenant)
    assert "total_sales" in state.fields and state.problems == {}
    # The field's set-up, the unsubscribes, the import with its figures and without.
    assert run.constantcontact_calls == 2 + 1 + 2


def tagging_pass(company) -> list[str]:
    """One pass of the tag as a run makes it (kinds.py): the Constant Contact calls made."""
    calls: list[str] = []
    cc = constantcontact_client(tenant=company.tenant, before_request=calls.append)
    optional.attempt(
        tagging.TaggingPass(tenant=company.tenant, cc=cc, list_id=company.lists["Customers"]),
        tenant_id=company.tenant.pk,
        source=Source.TAGGING,
    )
    return calls


def waiting_for_the_tag(company) -> list[tuple[bool, int]]:
    records = CustomerRecord.objects.filter(tenant=company.tenant).order_by("email")
    return list(records.values_list("tagged", "tag_asks"))


@pytest.mark.parametrize(("status", "tries"), [(503, optional.TRIES), (403, 1)])
def test_a_tagging_that_keeps_failing_leaves_its_contacts_waiting_told(shop, knobs, status, tries):
    """A passing error is tried again at once, the tagging call alone (the list's page is
    read once a pass); the role's 403 is not. Either way no ask is counted: pass after pass
    the contacts wait, the problem told, and once Constant Contact takes the tagging they
    get the tag and the problem is gone."""
    knobs(cc_refused_operations={TAGGINGS: status})
    company = shop(**TOTAL_ONLY, **TAG)
    run = company.run()
    assert_contacts_synced(company, run)
    for _ in range(tagging.MAX_ASKS + 1):  # more passes than a contact's asks
        calls = tagging_pass(company)
        assert len(calls) == 1 + tries  # 1 page of the list's contacts; the tagging's tries
        assert waiting_for_the_tag(company) == [(False, 0)] * 3
        assert_told(company, "did not let the app tag contacts", "turn the tag off in Settings")

    knobs(cc_refused_operations={})
    assert len(tagging_pass(company)) == 1 + 1
    assert [company.tags(email) for email in EMAILS] == [["QBO"]] * 3
    assert waiting_for_the_tag(company) == [(False, 1)] * 3  # asked: the next read sees it
    assert SalesDataState.objects.get(tenant=company.tenant).problems == {}
    assert len(tagging_pass(company)) == 1
    assert waiting_for_the_tag(company) == [(True, 1)] * 3


def test_a_passing_error_on_the_tagging_costs_the_call_again_not_the_read(shop, knobs):
    knobs(cc_refused_operations={TAGGINGS: 503})
    company = shop(**TOTAL_ONLY, **TAG)
    company.run()
    cc = constantcontact_client(tenant=company.tenant)
    real = cc.add_taggings
    tries: list[int] = []

    def refused_once(**kwargs):
        tries.append(1)
        if len(tries) == 2:
            knobs(cc_refused_operations={})  # Constant Contact answers again
        return real(**kwargs)

    cc.add_taggings = refused_once  # type: ignore[method-assign]
    reads: list[dict] = []
    read = cc.iter_contacts
    cc.iter_contacts = lambda **kw: reads.append(kw) or read(**kw)  # type: ignore[method-assign]
    step = tagging.TaggingPass(tenant=company.tenant, cc=cc, list_id=company.lists["Customers"])
    assert optional.attempt(step, tenant_id=company.tenant.pk, source=Source.TAGGING) == 3
    assert (len(reads), len(tries)) == (1, 2)
    assert [company.tags(email) for email in EMAILS] == [["QBO"]] * 3
    assert SalesDataState.objects.get(tenant=company.tenant).problems == {}


@pytest.mark.parametrize(
    ("knob", "choices", "said"),
    [
        ({"cc_refused_operations": {"POST /contact_tags": 403}}, TOTAL_ONLY, ROLE),
        ({"cc_refused_operations": {TAGGINGS: 400}}, TOTAL_ONLY, "(it answered 400)"),
        ({"quickbooks_report_fault": "500"}, {}, REPORTS),
    ],
)
def test_a_problem_is_gone_once_the_person_turns_its_step_off(shop, knobs, knob, choices, said):
    """The advice followed (turn the tag, or sales data, off in Settings): the step never
    runs again to clear its problem, so the choice does."""
    knobs(**knob)
    company = shop(**TOTAL_ONLY, **TAG)
    company.run()
    assert_told(company, said)
    client = company.journey.client
    client.post("/settings/", {"list_id": company.lists["Customers"], **choices})
    for page in ("/status/", "/settings/"):
        assert said not in client.get(page).content.decode(), page
    assert SalesDataState.objects.get(tenant=company.tenant).problems == {}


def runs_calls(monkeypatch) -> Counter[str]:
    """The Constant Contact and QuickBooks calls of the runs from now on, by endpoint."""
    endpoints: Counter[str] = Counter()
    counting = clients._counting

    def by_endpoint(provider, acquire, calls):
        before_request = counting(provider, acquire, calls)

        def counted(endpoint: str) -> None:
            before_request(endpoint)
            endpoints[endpoint] += 1

        return counted

    monkeypatch.setattr(clients, "_counting", by_endpoint)
    return endpoints


def test_a_failed_tagging_waits_for_the_next_full_check_not_every_run_of_changes(
    shop, knobs, monkeypatch
):
    """A lasting refusal of the tagging (the role's 403) would cost the list's pages and a
    tagging call at every run of changes that confirms imports: the tagging waits for the
    next full check, as the problem says (Sync now)."""
    knobs(cc_refused_operations={TAGGINGS: 403})
    company = shop(**TOTAL_ONLY, **TAG)
    company.run()
    assert_told(company, "did not let the app tag contacts", "Sync now on the status page")
    ann, bo = company.customer_id("Ann Lee"), company.customer_id("Bo Li")
    company.change(ann, FamilyName="Lee-Smith")
    company.webhook(("updated", ann))
    company.sync_changes(confirm=False)
    hours_ago = timezone.now() - timedelta(hours=5)  # its confirmation is due with the next run
    ContactImport.objects.filter(tenant=company.tenant, state="sent").update(sent_at=hours_ago)
    company.change(bo, FamilyName="Li-Smith")
    company.webhook(("updated", bo))
    calls = runs_calls(monkeypatch)
    run = company.sync_changes(confirm=False)
    assert run.state == Run.State.COMPLETED, run.error
    assert calls["activities"] == 1  # the run confirmed Ann's import
    assert calls["contacts"] == calls["contacts_taggings_add"] == 0  # and tagged nobody
    assert ContactImport.objects.filter(tenant=company.tenant, state="confirmed").count() >= 2

    company.confirm()  # Bo's import too
    knobs(cc_refused_operations={})
    full_check = services.sync_now(tenant=company.tenant)
    assert company.run(full_check).state == Run.State.COMPLETED
    assert [company.tags(email) for email in EMAILS] == [["QBO"]] * 3
    assert SalesDataState.objects.get(tenant=company.tenant).problems == {}
