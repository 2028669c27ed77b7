"""The operators' admin: runs, events and customers' outcomes; resync and retry actions."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from ccsync.sync.models import CustomerRecord, Run, TenantSync, WebhookEvent
from tenants.models import Tenant, User


@pytest.fixture
def operator(db) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("admin-operator", password="pass"))
    return client


def sent(enqueued) -> list[tuple[str, int]]:
    """The Celery messages the app sent, as (task, id)."""
    short = {"sync.run": "run", "sync.changes": "changes"}
    return [(short[job.task], job.args[0]) for job in enqueued]


def act(client: Client, path: str, action: str, pks, captured) -> list[str]:
    with captured(execute=True):
        answer = client.post(
            path, {"action": action, "_selected_action": [str(pk) for pk in pks]}, follow=True
        )
    assert answer.status_code == 200
    return [str(message) for message in answer.context["messages"]]


def fail(tenant: Tenant, *customer_ids: str) -> None:
    CustomerRecord.objects.filter(tenant=tenant, customer_id__in=customer_ids).update(
        outcome=CustomerRecord.Outcome.FAILED, in_list=False, detail="Line 1: refused"
    )


def test_resync_starts_a_full_check_once_the_first_sync_is_done(
    operator, company, enqueued, django_capture_on_commit_callbacks
):
    synced, new, paused = company(), company("New"), company("Paused")
    Run.objects.filter(tenant=new.tenant).delete()
    Tenant.objects.filter(pk=paused.tenant.pk).update(paused=True)
    messages = act(
        operator,
        "/admin/tenants/tenant/",
        "resync",
        [synced.tenant.pk, new.tenant.pk, paused.tenant.pk],
        django_capture_on_commit_callbacks,
    )
    assert "2 companies syncing." in messages
    assert "1 not synced: paused or disconnected." in messages
    full_check = Run.objects.get(tenant=synced.tenant, state=Run.State.QUEUED)
    first = Run.objects.get(tenant=new.tenant, state=Run.State.QUEUED)
    assert (full_check.kind, first.kind) == (Run.Kind.FULL_CHECK, Run.Kind.FIRST)
    assert sorted(sent(enqueued)) == sorted([("run", full_check.pk), ("run", first.pk)])
    assert not Run.objects.filter(tenant=paused.tenant, state=Run.State.QUEUED).exists()


def test_retry_failed_customers_of_a_tenant_schedules_a_changes_run(
    operator, company, enqueued, django_capture_on_commit_callbacks
):
    held, other = company(customers=4), company("Other")
    fail(held.tenant, "1", "3")
    fail(other.tenant, "2")
    WebhookEvent.objects.all().delete()

    messages = act(
        operator,
        "/admin/tenants/tenant/",
        "retry_failed",
        [held.tenant.pk],
        django_capture_on_commit_callbacks,
    )
    assert "2 of 2 failed customers queued to be sent again." in messages
    events = WebhookEvent.objects.filter(tenant=held.tenant, processed_at__isnull=True)
    assert sorted(events.values_list("customer_id", flat=True)) == ["1", "3"]
    outcomes = dict(
        CustomerRecord.objects.filter(tenant=held.tenant).values_list("customer_id", "outcome")
    )
    assert outcomes == {"1": "pending", "2": "synced", "3": "pending", "4": "synced"}
    assert TenantSync.objects.get(tenant=held.tenant).changes_scheduled
    assert sent(enqueued) == [("changes", held.tenant.pk)]
    # The other company's failure is left alone.
    assert CustomerRecord.objects.get(tenant=other.tenant, customer_id="2").outcome == "failed"
    assert not WebhookEvent.objects.filter(tenant=other.tenant).exists()


def test_retry_from_the_customers_list_takes_only_the_selected_failed_ones(
    operator, company, enqueued, django_capture_on_commit_callbacks
):
    held, gone = company(customers=3), company("Gone")
    fail(held.tenant, "1", "2")
    fail(gone.tenant, "1")
    Tenant.objects.filter(pk=gone.tenant.pk).update(state=Tenant.State.DISCONNECTED)
    WebhookEvent.objects.all().delete()
    chosen = CustomerRecord.objects.filter(
        tenant__in=[held.tenant, gone.tenant], customer_id__in=["1", "3"]
    ).values_list("pk", flat=True)

    messages = act(
        operator,
        "/admin/sync/customerrecord/",
        "retry_failed",
        chosen,
        django_capture_on_commit_callbacks,
    )
    assert (
        "1 of 2 failed customers queued to be sent again. "
        "The others belong to disconnected companies." in messages
    )
    assert list(WebhookEvent.objects.values_list("customer_id", flat=True)) == ["1"]
    assert CustomerRecord.objects.get(tenant=held.tenant, customer_id="2").outcome == "failed"
    assert CustomerRecord.objects.get(tenant=gone.tenant, customer_id="1").outcome == "failed"
    assert sent(enqueued) == [("changes", held.tenant.pk)]


def test_actions_need_the_right_to_change_tenants(
    company, db, enqueued, django_capture_on_commit_callbacks
):
    held = company()
    fail(held.tenant, "1")
    WebhookEvent.objects.all().delete()
    failed = CustomerRecord.objects.get(tenant=held.tenant, customer_id="1")
    viewer = User.objects.create_user("viewer", password="pass", is_staff=True)
    viewer.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_tenant", "view_customerrecord"])
    )
    client = Client()
    client.force_login(viewer)
    for path in ("/admin/tenants/tenant/", "/admin/sync/customerrecord/"):
        page = client.get(path).content.decode()
        assert "retry_failed" not in page and "resync" not in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/admin/sync/customerrecord/",
            {"action": "retry_failed", "_selected_action": [str(failed.pk)]},
        )
    # Nothing queued to be sent again: the customer stays failed, no change recorded.
    failed.refresh_from_db()
    assert failed.outcome == CustomerRecord.Outcome.FAILED
    assert not WebhookEvent.objects.filter(tenant=held.tenant).exists()
    assert enqueued == []


def test_runs_events_and_outcomes_are_visible_without_personal_data_in_lists(operator, company):
    held = company()
    fail(held.tenant, "2")
    record = CustomerRecord.objects.get(tenant=held.tenant, customer_id="2")

    tenants = operator.get("/admin/tenants/tenant/").content.decode()
    assert 'value="resync"' in tenants and 'value="retry_failed"' in tenants
    tenant_page = operator.get(f"/admin/tenants/tenant/{held.tenant.pk}/change/").content.decode()
    for name in ("run", "customerrecord", "webhookevent"):
        assert f'href="/admin/sync/{name}/?tenant__id__exact={held.tenant.pk}"' in tenant_page

    runs = operator.get("/admin/sync/run/", {"tenant__id__exact": held.tenant.pk})
    assert runs.status_code == 200 and "First sync" in runs.content.decode()
    failed = operator.get(
        "/admin/sync/customerrecord/", {"tenant__id__exact": held.tenant.pk, "outcome": "failed"}
    ).content.decode()
    assert f"/admin/sync/customerrecord/{record.pk}/change/" in failed
    assert not any(email in failed for email in held.emails)
    detail = operator.get(f"/admin/sync/customerrecord/{record.pk}/change/").content.decode()
    assert record.email in detail and "Line 1: refused" in detail
    waiting = operator.get(
        "/admin/sync/webhookevent/", {"processed_at__isempty": "1"}
    ).content.decode()
    events = WebhookEvent.objects.filter(tenant=held.tenant)
    assert events.get(processed_at__isnull=True).event_id in waiting
    assert events.get(processed_at__isnull=False).event_id not in waiting
