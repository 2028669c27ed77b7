"""Sales data for segmenting, against the sandbox over real HTTP: the figures ride in the
contact imports as cf: columns, the custom fields are made once per account, the tag is
given by contacts_taggings_add, and every existing rule holds."""

from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from ccsync.sync import (
    catch_up,
    confirming,
    dispatch,
    lifecycle,
    sales_selectors,
    selectors,
    services,
    tagging,
)
from ccsync.sync.models import ContactImport, CustomerRecord, Run, SalesDataState, WebhookEvent
from integrations.limiter import get_limiter
from tenants.clients import constantcontact_client
from tenants.models import SalesData
from tenants.sales_facts import FACTS
from tests.plugins.companies import person

ALL_FACTS = [fact.key for fact in FACTS]
SALES_ON = {"sales-enabled": "on", "sales-facts": ALL_FACTS}
TOTAL = "QuickBooks total sales"
BALANCE = "QuickBooks open balance"
INVOICES = "QuickBooks invoices"
LAST = "QuickBooks last purchase"
CUSTOMER_ID = "QuickBooks customer id"


def cc_client(company):
    return constantcontact_client(tenant=company.tenant)


def total_sales_only(company):
    """Settings' sales data turned on with one fact, total sales."""
    return lifecycle.choose_sales_data(
        tenant=company.tenant, enabled=True, facts=["total_sales"], tag_enabled=False, tag_name=""
    )


def their_whole_number_field(company):
    """A "QuickBooks total sales" field people made themselves, for whole numbers."""
    cc_client(company).create_custom_field(
        label=TOTAL, type="number", metadata={"integer": True, "allow_negative": True}
    )


def days_ago(n: int) -> str:
    return (timezone.localdate() - timedelta(days=n)).isoformat()


@pytest.fixture
def shop(install):
    """Ann (an invoice and a sales receipt), Bo (no sales), Cy (a job with an invoice)."""

    def make(unsubscribed=(), **choices):
        company = install(
            person("Ann Lee", "ann@example.com"),
            person("Bo Li", "bo@example.com"),
            person("Cy Dee", "cy@example.com"),
            unsubscribed=unsubscribed,
            **choices,
        )
        ann, cy = company.customer_id("Ann Lee"), company.customer_id("Cy Dee")
        company.sell(ann, "100.00", day=days_ago(400))
        company.receipt = company.sell(ann, "50.50", entity="SalesReceipt", day=days_ago(10))
        [job] = company.add(
            {"DisplayName": "Cy Dee:Kitchen", "Job": True, "ParentRef": {"value": cy}}
        )
        company.sell(job["Id"], "300.00", day=days_ago(3))
        return company

    return make


def test_the_first_sync_sends_the_figures_in_the_same_imports(shop):
    company = shop(**SALES_ON)
    run = company.run()
    assert run.state == Run.State.COMPLETED, run.error
    assert run.synced == 3

    ann = company.custom_fields("ann@example.com")
    assert ann[TOTAL] == "150.50" and ann[INVOICES] == "1"
    assert ann["QuickBooks sales last 12 months"] == "50.50"
    assert ann["QuickBooks first purchase"] == days_ago(400) and ann[LAST] == days_ago(10)
    assert ann[CUSTOMER_ID] == company.customer_id("Ann Lee")
    bo = company.custom_fields("bo@example.com")
    assert bo[TOTAL] == "0.00" and LAST not in bo  # no purchase: no date, never an empty one
    cy = company.custom_fields("cy@example.com")
    assert cy[TOTAL] == "300.00" and cy[BALANCE] == "300.00"  # the job's, rolled up

    fields = company.fields_and_tags()["custom_fields"]
    assert sorted(f["label"] for f in fields) == sorted(fact.label for fact in FACTS)
    # Calls: the set-up (1 list of fields + 9 created) once; the sync itself as without
    # sales data (unsubscribes, 1 import, 1 confirmation); the sample that shows Constant
    # Contact took the new columns' figures, 1. QuickBooks: 5 reports + types.
    assert run.constantcontact_calls == 10 + 3 + 1
    assert company.tenant.sales_state.figures_read_at is not None


def test_a_first_sync_of_several_imports_reads_one_sample(shop, settings, monkeypatch):
    """A first sync of several imports (one row each here, as a large company's 4 MB
    chunks) has them confirmed together: one sample of the list's contacts shows Constant
    Contact took the new columns, whichever import's contacts it happens to list (nothing
    says in which order Constant Contact lists them; the sandbox lists the oldest first,
    the confirmation settles the newest import first), not a sample for each import."""
    settings.SYNC_IMPORT_CHUNK_ROWS = 1
    monkeypatch.setattr(confirming, "SAMPLE_SIZE", 1)  # as 50 of 2,500 contacts
    company = shop(**SALES_ON)
    run = company.run()
    assert run.state == Run.State.COMPLETED, run.error
    assert run.synced == 3
    assert ContactImport.objects.filter(tenant=company.tenant).count() == 3
    # The set-up 10; unsubscribes, 3 imports, 1 confirmation; 1 sample.
    assert run.constantcontact_calls == 10 + 5 + 1
    fields = SalesDataState.objects.get(tenant=company.tenant).fields
    assert fields["total_sales"].get("checked_at") and fields["invoices"].get("checked_at")


def test_without_the_option_nothing_changes(shop):
    company = shop()
    run = company.run()
    assert run.constantcontact_calls == 3
    assert company.custom_fields("ann@example.com") == {}
    assert company.fields_and_tags()["custom_fields"] == []
    assert not SalesData.objects.filter(tenant=company.tenant, enabled=True).exists()


def test_an_invoice_and_its_payment_update_the_figures_for_one_import_each(shop):
    company = shop(**SALES_ON)
    company.run()
    bo = company.customer_id("Bo Li")

    invoice = company.sell(bo, "80.00")
    assert company.webhook(("created", invoice["Id"], "invoice")) == 200
    run = company.sync_changes()
    assert run.state == Run.State.COMPLETED, run.error
    assert run.constantcontact_calls == 1  # the import: the figures cost no call of their own
    figures = company.custom_fields("bo@example.com")
    assert (figures[TOTAL], figures[BALANCE], figures[INVOICES]) == ("80.00", "80.00", "1")

    payment = company.transaction(invoice["Id"], "pay")["Payment"]
    company.webhook(("created", payment["Id"], "payment"))
    run = company.sync_changes()
    assert run.constantcontact_calls == 1
    assert company.custom_fields("bo@example.com")[BALANCE] == "0.00"
    # Ann's figures did not change: not sent again.
    assert CustomerRecord.objects.get(tenant=company.tenant, display_name="Ann Lee").outcome == (
        CustomerRecord.Outcome.SYNCED
    )


def test_a_deleted_transaction_rereads_everyone_and_sends_only_who_changed(shop):
    company = shop(**SALES_ON)
    company.run()
    receipt = company.receipt
    company.transaction(receipt["Id"], "delete")
    company.webhook(("deleted", receipt["Id"], "salesreceipt"))
    run = company.sync_changes()
    assert run.state == Run.State.COMPLETED, run.error
    assert run.synced == 1 and run.constantcontact_calls == 1
    assert company.custom_fields("ann@example.com")[TOTAL] == "100.00"


def test_a_receipt_for_no_customer_rereads_no_one(shop):
    """CustomerRef is optional on a SalesReceipt and a RefundReceipt (Intuit's entity
    references): such a sale is nobody's figures, never taken for a deleted transaction
    (which would read everyone's again)."""
    company = shop(**SALES_ON)
    company.run()
    answer = requests.post(
        f"{company.sandbox.url}/_sandbox/quickbooks/{company.realm_id}/sales",
        json={"entity": "RefundReceipt", "amount": "9.00"},
        timeout=30,
    )
    refund = answer.json()["RefundReceipt"]
    assert company.webhook(("created", refund["Id"], "refundreceipt")) == 200
    run = company.sync_changes()
    assert run.state == Run.State.COMPLETED, run.error
    assert run.quickbooks_calls == 1  # whose it is (nobody's): no report read
    assert (run.synced, run.constantcontact_calls) == (0, 0)


def test_reports_that_cannot_be_read_leave_the_figures_and_the_contacts_sync(shop, knobs):
    company = shop(**SALES_ON)
    # Every transaction list cut short, even a day's: QuickBooks' reports cannot be read.
    knobs(quickbooks_report_max_cells=1)
    run = company.run()
    assert run.state == Run.State.COMPLETED, run.error
    assert run.synced == 3
    assert TOTAL not in company.custom_fields("ann@example.com")
    state = SalesDataState.objects.get(tenant=company.tenant)
    assert state.problems["reports"].startswith("QuickBooks Online did not give the sales reports")
    assert state.figures_read_at is None
    assert selectors.open_run(tenant=company.tenant) is None  # no full check at once

    knobs(quickbooks_report_max_cells=400_000)
    # Owed figures are asked again once their wait is over (test_sales_problems.py).
    SalesDataState.objects.filter(pk=state.pk).update(reports_retry_at=timezone.now())
    ann = company.customer_id("Ann Lee")
    company.change(ann, FamilyName="Lee-Smith")
    company.webhook(("updated", ann))
    run = company.sync_changes()
    assert run.state == Run.State.COMPLETED, run.error
    assert company.custom_fields("ann@example.com")[TOTAL] == "150.50"
    assert SalesDataState.objects.get(tenant=company.tenant).problems == {}


def test_turned_on_later_every_synced_contact_gets_the_figures_by_a_full_check(
    shop, django_capture_on_commit_callbacks
):
    company = shop()
    company.run()
    with django_capture_on_commit_callbacks(execute=True):
        total_sales_only(company)
    run = company.run()
    assert run.kind == Run.Kind.FULL_CHECK and run.state == Run.State.COMPLETED, run.error
    assert run.synced == 3
    assert company.custom_fields("ann@example.com") == {TOTAL: "150.50"}
    # 1 list of fields + 1 created; then the sync's unsubscribes, 1 import, 1 confirmation;
    # the new column's sample.
    assert run.constantcontact_calls == 2 + 3 + 1


def test_turned_off_nothing_is_sent_and_constant_contact_keeps_the_values(shop):
    company = shop(**SALES_ON)
    company.run()
    lifecycle.choose_sales_data(
        tenant=company.tenant, enabled=False, facts=ALL_FACTS, tag_enabled=False, tag_name=""
    )
    records = CustomerRecord.objects.filter(tenant=company.tenant, in_list=True)
    assert all(not any(k.startswith("cf:") for k in r.row) for r in records)
    assert all(r.sent_hash == r.row_hash for r in records)  # nothing to send for it
    company.sell(company.customer_id("Ann Lee"), "5.00")
    company.webhook(("created", "999", "invoice"))
    assert not WebhookEvent.objects.filter(tenant=company.tenant, entity="Invoice").exists()
    assert company.custom_fields("ann@example.com")[TOTAL] == "150.50"


def test_a_figure_the_field_cannot_hold_is_noted_and_not_sent(shop):
    company = shop(**SALES_ON)
    company.run()
    bo = company.customer_id("Bo Li")
    credit = company.sell(bo, "40.00", entity="CreditMemo")
    record = CustomerRecord.objects.get(tenant=company.tenant, customer_id=bo)
    state = company.tenant.sales_state
    state.fields["open_balance"]["negative"] = False  # as a field people made might be
    state.save()
    company.webhook(("created", credit["Id"], "creditmemo"))
    company.sync_changes()
    record.refresh_from_db()
    assert record.sales["open_balance"] == "-40.00"
    assert "Open balance -40.00 (it takes no negative numbers)" in record.sales_note
    assert company.custom_fields("bo@example.com")[BALANCE] == "0.00"  # left as it was
    assert company.custom_fields("bo@example.com")[TOTAL] == "-40.00"


def test_the_tag_is_given_to_every_synced_contact_and_confirmed_by_a_read(shop):
    company = shop(**SALES_ON, **TAG)
    run = company.run()
    assert run.state == Run.State.COMPLETED, run.error
    assert company.tags("ann@example.com") == ["QBO"]
    assert company.tags("bo@example.com") == ["QBO"]
    waiting = CustomerRecord.objects.filter(tenant=company.tenant, tagged=False, in_list=True)
    assert waiting.count() == 3  # asked, not yet seen done
    tagging.tag_synced(
        tenant=company.tenant, cc=cc_client(company), list_id=company.lists["Customers"]
    )
    assert not waiting.exists()


TAG = {"sales-tag_enabled": "on", "sales-tag_name": "QBO"}


def test_a_list_holding_only_our_contacts_is_tagged_whole_in_three_calls(shop, monkeypatch):
    monkeypatch.setattr(tagging, "WHOLE_LIST_FROM", 1)  # the first sync of a big company
    company = shop(**SALES_ON, **TAG)
    run = company.run()
    assert run.state == Run.State.COMPLETED, run.error
    assert [company.tags(e) for e in ("ann@example.com", "cy@example.com")] == [["QBO"]] * 2
    # Set-up 10 + tag list and create 2; the sync 3 and the new columns' sample 1; the
    # list's count and its tagging 2.
    assert run.constantcontact_calls == 12 + 3 + 1 + 2
    waiting = CustomerRecord.objects.filter(tenant=company.tenant, tagged=False, in_list=True)
    assert waiting.count() == 3
    tagging.tag_synced(
        tenant=company.tenant, cc=cc_client(company), list_id=company.lists["Customers"]
    )
    assert not waiting.exists()  # the activity completed: 1 call to hear it


def test_a_list_holding_someone_else_is_tagged_contact_by_contact(
    shop, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(tagging, "WHOLE_LIST_FROM", 1)
    company = shop(**SALES_ON)
    company.run()
    # Someone else's contact in the list (a sign-up form, an import of their own).
    cc_client(company).import_contacts(
        rows=[{"email": "zed@example.com"}], list_ids=[company.lists["Customers"]]
    )
    assert company.contacts()["zed@example.com"]["list_names"] == ["Customers"]
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.choose_sales_data(
            tenant=company.tenant,
            enabled=True,
            facts=ALL_FACTS,
            tag_enabled=True,
            tag_name="QBO",
        )
    company.run()
    assert company.tags("ann@example.com") == ["QBO"]
    assert company.tags("zed@example.com") == []  # not ours: never tagged


def test_unsubscribed_contacts_never_get_figures(shop):
    company = shop(**SALES_ON, unsubscribed=("bo@example.com",))
    run = company.run()
    assert run.synced == 2
    assert company.custom_fields("bo@example.com") == {}


def test_turned_on_while_a_run_is_past_reading_figures_a_full_check_follows(shop):
    company = shop()
    first = company.run()
    assert first.kind == Run.Kind.FIRST
    ann = company.customer_id("Ann Lee")
    company.change(ann, FamilyName="Lee-Smith")
    company.webhook(("updated", ann))
    changes = dispatch.start_changes(tenant_id=company.tenant.pk)
    assert changes is not None
    # Turned on with the change run already open: Sync now finds it and starts nothing.
    total_sales_only(company)
    company.run(changes)
    follow_up = selectors.open_run(tenant=company.tenant)
    assert follow_up is not None and follow_up.kind == Run.Kind.FULL_CHECK
    company.run(follow_up)
    assert company.custom_fields("ann@example.com") == {TOTAL: "150.50"}
    assert selectors.open_run(tenant=company.tenant) is None  # and no more after it


def test_an_email_change_by_put_carries_the_figures_and_keeps_other_custom_fields(shop):
    company = shop(**SALES_ON)
    company.run()
    ann = company.customer_id("Ann Lee")
    company.change(ann, PrimaryEmailAddr={"Address": "ann.lee@example.com"})
    invoice = company.sell(ann, "9.50")
    company.webhook(("updated", ann), ("created", invoice["Id"], "invoice"))
    run = company.sync_changes()
    assert run.state == Run.State.COMPLETED, run.error
    assert run.constantcontact_calls == 2  # GET + PUT: the same contact, a new address
    figures = company.custom_fields("ann.lee@example.com")
    assert figures[TOTAL] == "160.00" and figures[INVOICES] == "2"


def test_the_pages_show_the_section_the_line_and_each_customers_figures(shop):
    company = shop(**SALES_ON)
    company.run()
    client = company.journey.client
    settings_page = client.get("/settings/").content.decode()
    assert "Also send sales data for segmenting" in settings_page
    assert 'name="sales-enabled"' in settings_page and "checked" in settings_page
    status = client.get("/status/").content.decode()
    assert "Sales data: last read from QuickBooks Online" in status
    assert "3 contacts carry it" in status
    found = client.get("/sync/sales/", {"q": "Ann"}).content.decode()
    assert "Ann Lee" in found and "Bo Li" not in found
    assert 'data-fact="total_sales">150.50</td>' in found
    detail = client.get(f"/sync/sales/{company.customer_id('Ann Lee')}/").content.decode()
    assert '<td data-label="Figure">QuickBooks total sales</td>' in detail
    assert "<strong>150.50</strong>" in detail


def test_settings_refuse_a_tag_without_a_name_and_change_nothing(shop):
    company = shop()
    company.run()
    answer = company.journey.client.post(
        "/settings/",
        {
            "list_id": company.lists["Customers"],
            "sales-enabled": "on",
            "sales-facts": ["total_sales"],
            "sales-tag_enabled": "on",
            "sales-tag_name": "",
        },
    )
    assert answer.status_code == 400
    assert "Name the tag" in answer.content.decode()
    assert not SalesData.objects.filter(tenant=company.tenant, enabled=True).exists()


def test_settings_act_on_the_signed_in_company_only(shop):
    mine, theirs = shop(), shop()
    mine.run()
    answer = mine.journey.client.post(
        "/settings/",
        {"list_id": mine.lists["Customers"], "tenant_id": theirs.tenant.pk, **SALES_ON},
    )
    assert answer.status_code == 302
    assert SalesData.objects.get(tenant=mine.tenant).enabled
    assert not SalesData.objects.get(tenant=theirs.tenant).enabled


def test_an_invoice_whose_webhook_never_came_is_caught_by_the_daily_cdc(shop):
    company = shop(**SALES_ON)
    company.run()
    heard = company.sell(company.customer_id("Ann Lee"), "1.00")
    company.webhook(("created", heard["Id"], "invoice"))
    company.sync_changes()
    missed = company.sell(company.customer_id("Bo Li"), "70.00")
    catch_up.catch_up(tenant_id=company.tenant.pk)
    stored = set(
        WebhookEvent.objects.filter(tenant=company.tenant, processed_at=None).values_list(
            "entity", "transaction_id"
        )
    )
    # The invoice no webhook told of; not Ann's, heard already. (CDC's window, with its
    # overlap, also names the sales made just before the first sync: their figures are
    # read again and, unchanged, not sent.)
    assert ("Invoice", missed["Id"]) in stored and ("Invoice", heard["Id"]) not in stored
    run = company.sync_changes()
    assert run.state == Run.State.COMPLETED, run.error
    assert (run.synced, run.constantcontact_calls) == (1, 1)
    assert company.custom_fields("bo@example.com")[TOTAL] == "70.00"


def test_a_field_people_made_for_whole_numbers_gets_what_it_can_hold(shop, install):
    company = shop()
    their_whole_number_field(company)
    total_sales_only(company)
    run = company.run()
    assert run.state == Run.State.COMPLETED, run.error
    assert company.custom_fields("bo@example.com") == {TOTAL: "0"}
    assert company.custom_fields("ann@example.com") == {}  # 150.50 would be wrong
    ann = CustomerRecord.objects.get(tenant=company.tenant, display_name="Ann Lee")
    assert "150.50 (it takes whole numbers only)" in ann.sales_note
    assert len(company.fields_and_tags()["custom_fields"]) == 1  # theirs, not another


def test_a_figure_constant_contact_refuses_is_never_recorded_as_held(shop):
    company = shop()
    their_whole_number_field(company)
    total_sales_only(company)
    company.run()
    state = company.tenant.sales_state
    state.fields["total_sales"]["decimals"] = None  # as if the field changed since
    state.save()
    ann = company.customer_id("Ann Lee")
    invoice = company.sell(ann, "0.25")
    company.webhook(("created", invoice["Id"], "invoice"))
    run = company.sync_changes()
    record = CustomerRecord.objects.get(tenant=company.tenant, customer_id=ann)
    # Constant Contact's error names no address: the contacts are read back, and Ann's
    # figure is not there: she is synced without it, never recorded as holding it.
    assert record.outcome == CustomerRecord.Outcome.SYNCED, record.outcome
    assert not any(key.startswith("cf:") for key in record.sent_row)
    assert run.failed == 0 and company.custom_fields("ann@example.com") == {}


def test_a_job_with_an_address_of_its_own_carries_its_own_figures(install):
    company = install(person("Di Poe", "di@example.com"), **SALES_ON)
    di = company.customer_id("Di Poe")
    [job] = company.add(
        {
            "DisplayName": "Di Poe:Garden",
            "Job": True,
            "ParentRef": {"value": di},
            "PrimaryEmailAddr": {"Address": "garden@example.com"},
        }
    )
    company.sell(di, "10.00")
    company.sell(job["Id"], "5.00")
    run = company.run()
    assert run.state == Run.State.COMPLETED, run.error
    assert company.custom_fields("di@example.com")[TOTAL] == "15.00"
    assert company.custom_fields("garden@example.com")[TOTAL] == "5.00"


def test_saving_settings_says_what_changed(shop):
    company = shop()
    company.run()
    client = company.journey.client
    same_list = {"list_id": company.lists["Customers"]}
    answer = client.post("/settings/", {**same_list, **SALES_ON}, follow=True)
    said = answer.content.decode()
    assert "Every synced contact gets the sales data you chose, starting now." in said
    assert "New contacts now go to the list" not in said
    answer = client.post("/settings/", same_list, follow=True)
    assert "Sales data is no longer sent. Your contacts keep the values they have." in (
        answer.content.decode()
    )
    answer = client.post("/settings/", same_list, follow=True)
    assert "Your settings are saved; nothing changed." in answer.content.decode()


def test_a_field_deleted_in_constant_contact_is_set_up_again_by_the_next_full_check(shop, settings):
    company = shop(**SALES_ON)
    company.run()
    [field] = [f for f in company.fields_and_tags()["custom_fields"] if f["label"] == TOTAL]
    token = company.tenant.constantcontact_connection.access_token
    # People deleting it: a call in its turn in the app's limiter, as the run's were.
    get_limiter().acquire_constantcontact(tenant=str(company.tenant.pk))
    requests.delete(
        f"{settings.CONSTANTCONTACT_API_BASE}/contact_custom_fields/{field['custom_field_id']}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    ).raise_for_status()
    bo = company.customer_id("Bo Li")
    invoice = company.sell(bo, "20.00")
    company.webhook(("created", invoice["Id"], "invoice"))
    company.sync_changes()
    record = CustomerRecord.objects.get(tenant=company.tenant, customer_id=bo)
    assert record.outcome == CustomerRecord.Outcome.SYNCED  # without the refused figure
    state = SalesDataState.objects.get(tenant=company.tenant)
    assert "total_sales" not in state.fields and TOTAL in state.problem
    assert state.problem in company.journey.client.get("/settings/").content.decode()
    assert f"cf:{TOTAL.replace(' ', '_')}" not in record.row

    full_check = services.sync_now(tenant=company.tenant)  # Sync now, as the problem says
    assert full_check is not None
    company.run(full_check)
    assert company.custom_fields("bo@example.com")[TOTAL] == "20.00"
    assert company.custom_fields("bo@example.com")[INVOICES] == "1"
    assert SalesDataState.objects.get(tenant=company.tenant).problem == ""


def test_a_contact_that_never_shows_the_tag_is_asked_for_twice_then_left(shop):
    company = shop(**SALES_ON, **TAG)
    company.run()
    list_id = company.lists["Customers"]
    cc = cc_client(company)
    tagging.tag_synced(tenant=company.tenant, cc=cc, list_id=list_id)  # the others: done
    ghost = CustomerRecord.objects.get(tenant=company.tenant, display_name="Bo Li")
    # As if Constant Contact had lost the contact: no read ever finds it.
    CustomerRecord.objects.filter(pk=ghost.pk).update(
        email="ghost@example.com", tagged=False, tag_asks=0
    )
    reads = []
    real = cc.iter_contacts
    cc.iter_contacts = lambda **kw: reads.append(kw) or real(**kw)  # type: ignore[method-assign]
    for _ in range(4):
        tagging.tag_synced(tenant=company.tenant, cc=cc, list_id=list_id)
    ghost.refresh_from_db()
    assert (ghost.tagged, ghost.tag_asks, len(reads)) == (False, tagging.MAX_ASKS, 2)


def test_the_fields_are_set_up_once_per_account(shop):
    company = shop(**SALES_ON)
    company.run()
    full_check = services.sync_now(tenant=company.tenant)
    assert full_check is not None
    run = company.run(full_check)
    assert run.state == Run.State.COMPLETED, run.error
    # The unsubscribes read alone: no field listed or made again, no figure changed.
    assert run.constantcontact_calls == 1
    assert len(company.fields_and_tags()["custom_fields"]) == len(FACTS)


def test_with_sales_data_one_contact_per_address_and_the_list_change_rule_hold(install):
    company = install(
        person("Eve Old", "shared@example.com"),
        person("Eve New", "shared@example.com"),
        **SALES_ON,
    )
    old, new = company.customer_id("Eve Old"), company.customer_id("Eve New")
    company.sell(old, "10.00")
    company.sell(new, "99.00")
    company.run()
    assert len(company.contacts()) == 1
    # The older customer wins the address: its figures, not the other's.
    assert company.custom_fields("shared@example.com")[CUSTOMER_ID] == old
    assert company.custom_fields("shared@example.com")[TOTAL] == "10.00"

    answer = company.journey.client.post(
        "/settings/", {"list_id": company.lists["Donors"], **SALES_ON}
    )
    assert answer.status_code == 302
    invoice = company.sell(old, "5.00")
    company.webhook(("created", invoice["Id"], "invoice"))
    company.sync_changes()
    contact = company.contacts()["shared@example.com"]
    assert contact["list_names"] == ["Customers", "Donors"]  # added, never removed
    assert company.custom_fields("shared@example.com")[TOTAL] == "15.00"


@pytest.mark.parametrize("reading", ["kept", "dropped", "refused"])
def test_the_fields_are_made_whatever_punctuation_would_do_to_a_name(shop, knobs, reading):
    """What punctuation in a label does to a field's `name` is undocumented (the spec: the
    name is "constructed from the label by replacing blanks with underscores"): the labels
    have none, and the cf: columns use the name Constant Contact answered, so every reading
    of the sandbox's knob makes the same fields at the same cost (1 list + 9 created)."""
    knobs(cc_custom_field_punctuation=reading)
    company = shop(**SALES_ON)
    run = company.run()
    assert run.state == Run.State.COMPLETED, run.error
    assert run.constantcontact_calls == 10 + 3 + 1  # the set-up, the sync, the sample
    assert company.custom_fields("ann@example.com")[TOTAL] == "150.50"
    fields = company.fields_and_tags()["custom_fields"]
    assert {f["name"] for f in fields} == {f.label.replace(" ", "_") for f in FACTS}
    assert company.tenant.sales_state.problem == ""


def test_a_field_people_made_with_punctuation_in_its_label_is_used(shop):
    """A label that differs from ours only in case and punctuation is the same field (the
    app's earlier labels were "QuickBooks: total sales"): used, not made again."""
    company = shop()
    theirs = cc_client(company).create_custom_field(
        label="QuickBooks: Total Sales", type="number", metadata={"decimal_places": 2}
    )
    total_sales_only(company)
    run = company.run()
    assert run.constantcontact_calls == 1 + 3 + 1  # the fields listed, none made; the sample
    assert company.tenant.sales_state.fields["total_sales"]["name"] == theirs["name"]
    assert company.custom_fields("ann@example.com") == {"QuickBooks: Total Sales": "150.50"}


def test_a_user_whose_role_may_not_make_fields_or_tags_is_told_and_the_contacts_go_on(shop, knobs):
    """A 403 to POST /contact_custom_fields ("you lack the necessary user privileges", the
    spec) or to the tags (the tags overview: Account Owner or Manager role) is the role's:
    the connection is not broken, the contacts are synced without figures or tag, and
    Settings says why."""
    knobs(cc_forbidden_operations=["POST /contact_custom_fields", "GET /contact_tags"])
    company = shop(**SALES_ON, **TAG)
    run = company.run()
    assert run.state == Run.State.COMPLETED, run.error
    assert run.synced == 3 and company.custom_fields("ann@example.com") == {}
    problem = " ".join(sales_selectors.sales_problems(tenant=company.tenant))
    assert "role may not add custom fields" in problem
    assert "did not let the app make the tag, so contacts are not tagged: the user who" in problem
    assert not company.tenant.constantcontact_connection.is_broken
    # 1 list of fields + the first refused (no other tried) + 1 refused read of the tags;
    # the sync's 3
    assert run.constantcontact_calls == 1 + 1 + 1 + 3


def test_an_account_holding_100_fields_costs_no_creation(shop):
    """ "A user can configure up to 100 custom_fields in their account" (the spec): with 100
    there, no field is tried; Settings says so."""
    company = shop()
    cc = cc_client(company)
    for number in range(100):
        cc.create_custom_field(label=f"Theirs {number}", type="string")
    total_sales_only(company)
    run = company.run()
    assert run.state == Run.State.COMPLETED, run.error
    assert run.constantcontact_calls == 1 + 3  # the fields listed (one page of 100), the sync
    assert company.tenant.sales_state.problem == (
        "Your Constant Contact account holds its 100 custom fields, so these are not sent: "
        "total sales, all time."
    )


def test_dates_read_back_in_another_format_are_the_same_dates(shop, knobs):
    """A date field (version 2) may display as MM/DD/YYYY (metadata.display_format); the
    read-back after an import with an error compares dates, not their writing: the
    customers whose dates Constant Contact holds are synced, not failed."""
    knobs(
        cc_custom_field_date_format="MM/DD/YYYY",
        cc_import_refused_domains=["refused.example"],
    )
    company = shop(**SALES_ON)
    company.add(person("Ray Fused", "ray@refused.example"))
    run = company.run()
    assert run.state == Run.State.COMPLETED, run.error
    assert (run.synced, run.failed) == (3, 1)
    assert company.tenant.sales_state.problem == ""


def _confirm_calls(company) -> int:
    """The Constant Contact calls of beat's confirmation of the waiting imports."""
    before = get_limiter().constantcontact_used_today()
    company.confirm()
    return get_limiter().constantcontact_used_today() - before


def test_a_figure_refused_without_an_error_is_found_by_a_sample_on_a_slow_schedule(shop, knobs):
    """Nothing promises that a value Constant Contact refuses shows in `activity_errors`
    (the sandbox's knob `cc_import_custom_field_errors` "silent"): an import that carries
    a column not checked for a week is sampled (1 GET of the list's contacts it updated,
    with their custom fields); a figure missing there has the import's contacts read back,
    and the customer is never recorded as synced."""
    knobs(cc_import_custom_field_errors="silent")
    company = shop()
    their_whole_number_field(company)
    total_sales_only(company)
    company.run()  # the new column sampled once: Constant Contact holds Bo's "0"
    bo, ann = company.customer_id("Bo Li"), company.customer_id("Ann Lee")
    invoice = company.sell(bo, "20.00")
    company.webhook(("created", invoice["Id"], "invoice"))
    company.sync_changes(confirm=False)
    assert _confirm_calls(company) == 1  # GET /activities: the column was checked this week

    state = SalesDataState.objects.get(tenant=company.tenant)
    state.fields["total_sales"]["decimals"] = None  # as if the field changed since
    week_ago = timezone.now() - timedelta(days=8)
    state.fields["total_sales"]["checked_at"] = week_ago.isoformat()
    state.save()
    invoice = company.sell(ann, "0.25")
    company.webhook(("created", invoice["Id"], "invoice"))
    company.sync_changes(confirm=False)
    # GET /activities, the sample (Ann's 150.75 is not there), the read-back of the import
    assert _confirm_calls(company) == 3
    record = CustomerRecord.objects.get(tenant=company.tenant, customer_id=ann)
    assert record.outcome == CustomerRecord.Outcome.SYNCED  # never as holding the figure
    assert not any(key.startswith("cf:") for key in record.sent_row)
    assert TOTAL in SalesDataState.objects.get(tenant=company.tenant).problem
