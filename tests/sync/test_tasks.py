"""Celery tasks (run eagerly in process) and beat jobs against the sandbox."""

from datetime import timedelta

import pytest
from django.utils import timezone

from ccsync.sync import runs, selectors, services, tasks, worker
from ccsync.sync.models import Run, TenantSync, WebhookEvent
from tenants import tasks as tenant_tasks
from tenants.models import ConstantContactConnection, QuickBooksConnection, Tenant
from tests.plugins.companies import person


def test_run_task_syncs_and_is_idempotent(install):
    company = install(person("Ann Lee", "ann@example.com"))
    run = selectors.open_run(tenant=company.tenant)
    tasks.run_sync.apply(args=[run.pk])
    tasks.run_sync.apply(args=[run.pk])  # delivered twice: the second finds nothing to do
    run.refresh_from_db()
    assert run.state == Run.State.COMPLETED and run.synced == 1
    assert list(company.contacts()) == ["ann@example.com"]


def test_passing_errors_are_retried_then_the_run_fails(install, knobs, monkeypatch):
    company = install(person("Ann Lee", "ann@example.com"))
    monkeypatch.setattr(worker, "backoff", lambda error, retries: 0)
    knobs(quickbooks_error_rate=1.0)
    run = selectors.open_run(tenant=company.tenant)
    tasks.run_sync.apply(args=[run.pk])
    run.refresh_from_db()
    assert run.state == Run.State.FAILED
    assert "QuickBooks" in run.error
    assert run.quickbooks_calls == worker.MAX_RETRIES + 1


def test_the_catch_up_catches_a_missed_webhook(install):
    company = install(person("Ann Lee", "ann@example.com"))
    company.run()
    assert TenantSync.objects.get(tenant=company.tenant).caught_up_at is not None
    company.change(company.customer_id("Ann Lee"), FamilyName="Missed")  # no webhook reaches us
    tasks.catch_up_tenant.apply(args=[company.tenant.pk])
    assert WebhookEvent.objects.filter(tenant=company.tenant, processed_at=None).count() == 1
    company.sync_changes()
    assert company.contacts()["ann@example.com"]["last_name"] == "Missed"
    tasks.catch_up_tenant.apply(args=[company.tenant.pk])  # nothing new: nothing queued
    assert not WebhookEvent.objects.filter(tenant=company.tenant, processed_at=None).exists()


def test_a_catch_up_past_thirty_days_is_a_full_check(install):
    company = install(person("Ann Lee", "ann@example.com"))
    company.run()
    TenantSync.objects.filter(tenant=company.tenant).update(
        caught_up_at=timezone.now() - timedelta(days=31)
    )
    tasks.catch_up_tenant.apply(args=[company.tenant.pk])
    assert selectors.open_run(tenant=company.tenant).kind == Run.Kind.FULL_CHECK


def test_recover_requeues_runs_whose_worker_died(
    install, settings, django_capture_on_commit_callbacks
):
    company = install(person("Ann Lee", "ann@example.com"))
    run = selectors.open_run(tenant=company.tenant)
    assert runs.claim(run_id=run.pk, worker="dead")
    Run.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    with django_capture_on_commit_callbacks() as enqueued:
        tasks.recover_runs.apply()
    run.refresh_from_db()
    assert run.state == Run.State.QUEUED and run.claimed_by == ""
    assert len(enqueued) == 1

    # Queued again just now: the next recovery leaves it to its message, it sends no other.
    with django_capture_on_commit_callbacks() as enqueued:
        tasks.recover_runs.apply()
    assert enqueued == []
    # A queued run whose message was lost is sent again once it has waited too long.
    Run.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    with django_capture_on_commit_callbacks() as enqueued:
        tasks.recover_runs.apply()
    assert len(enqueued) == 1


def test_tokens_are_refreshed_before_they_expire(install):
    company = install(person("Ann Lee", "ann@example.com"))
    soon = timezone.now() + timedelta(minutes=5)
    for model in (QuickBooksConnection, ConstantContactConnection):
        model.objects.filter(tenant=company.tenant).update(access_expires_at=soon)
    before = {
        model: model.objects.get(tenant=company.tenant).access_token
        for model in (QuickBooksConnection, ConstantContactConnection)
    }
    tenant_tasks.refresh_tokens_all.apply()
    for model, token in before.items():
        connection = model.objects.get(tenant=company.tenant)
        assert connection.access_token != token
        assert connection.access_expires_at > soon
    assert company.run().state == Run.State.COMPLETED  # and the new tokens work


@pytest.mark.parametrize("left", ["paused", "disconnected"])
def test_beat_jobs_leave_paused_and_disconnected_companies_alone(install, left):
    company = install(person("Ann Lee", "ann@example.com"))
    company.run()
    company.change(company.customer_id("Ann Lee"), FamilyName="Missed")
    if left == "paused":
        services.pause(tenant=company.tenant)
    else:
        Tenant.objects.filter(pk=company.tenant.pk).update(state=Tenant.State.DISCONNECTED)
    state = TenantSync.objects.get(tenant=company.tenant)
    TenantSync.objects.filter(pk=state.pk).update(
        caught_up_at=timezone.now() - timedelta(days=31)  # would be a full check
    )
    runs = Run.objects.filter(tenant=company.tenant).count()

    tasks.catch_up_all.apply()
    tasks.catch_up_tenant.apply(args=[company.tenant.pk])
    tasks.confirm_overdue.apply()
    tasks.confirm_imports.apply(args=[company.tenant.pk])
    tasks.sync_changes.apply(args=[company.tenant.pk])

    assert Run.objects.filter(tenant=company.tenant).count() == runs
    assert not WebhookEvent.objects.filter(tenant=company.tenant).exists()
    after = TenantSync.objects.get(pk=state.pk)
    assert after.unsubscribes_read_at == state.unsubscribes_read_at
    assert company.contacts()["ann@example.com"]["last_name"] != "Missed"
