"""Disconnect: tokens at once, customer data after the grace period unless the company
installs again; processed events and old runs pruned by beat."""

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from ccsync.datacare import retention, tasks
from ccsync.sync import lifecycle
from ccsync.sync.models import CustomerRecord, Run, TenantSync, UnsubscribedAddress, WebhookEvent
from ccsync.sync.selectors import HISTORY_LENGTH
from integrations.quickbooks.oauth import QuickBooksTokens
from tenants import services as tenant_services
from tenants.models import (
    ConstantContactConnection,
    ListSelection,
    Membership,
    QuickBooksConnection,
    Tenant,
)

CUSTOMER_DATA = (CustomerRecord, UnsubscribedAddress, WebhookEvent, TenantSync)
KEPT = (Membership, ListSelection, Run, QuickBooksConnection, ConstantContactConnection)


def counts(tenant: Tenant, models=CUSTOMER_DATA + KEPT) -> dict[str, int]:
    return {model.__name__: model.objects.filter(tenant=tenant).count() for model in models}


def disconnect(tenant: Tenant) -> None:
    lifecycle.disconnect(tenant=tenant, reason="Disconnected in QuickBooks.")
    tenant.refresh_from_db()


def reinstall(tenant: Tenant, owner) -> None:
    now = timezone.now()
    tokens = QuickBooksTokens(
        access_token="new-access",
        refresh_token="new-refresh",
        access_expires_at=now + timedelta(hours=1),
        refresh_expires_at=now + timedelta(days=100),
    )
    identity = tenant_services.IntuitIdentity(
        sub=owner.intuit_sub, email=owner.email, given_name="Pat", family_name="Owner"
    )
    company = tenant_services.ConfirmedCompany(realm_id=tenant.realm_id, name=tenant.company_name)
    lifecycle.install(company=company, tokens=tokens, identity=identity)
    tenant.refresh_from_db()


@pytest.fixture
def grace(settings) -> timedelta:
    settings.DATA_RETENTION_AFTER_DISCONNECT_DAYS = 30
    return timedelta(days=30)


def test_disconnect_forgets_and_revokes_tokens_at_once_but_keeps_customer_data(
    company, revoked, grace
):
    held = company()
    before = counts(held.tenant)
    disconnect(held.tenant)

    assert sorted(revoked) == sorted(held.tokens[i] for i in (0, 1, 4, 5))  # plaintext tokens
    for model in (QuickBooksConnection, ConstantContactConnection):
        connection = model.objects.get(tenant=held.tenant)
        assert connection.access_token_encrypted == connection.refresh_token_encrypted == ""
        assert connection.access_expires_at is None and connection.refresh_expires_at is None
    # The customer data waits for the grace period.
    assert counts(held.tenant) == before
    assert retention.purge_disconnected(now=timezone.now() + grace - timedelta(minutes=1)) == 0
    assert counts(held.tenant) == before


def test_customer_data_is_deleted_after_the_grace_period_and_nothing_else(company, revoked, grace):
    held, recent, connected = company(), company("Recent"), company("Connected")
    disconnect(held.tenant)
    later = timezone.now() + timedelta(days=10)
    Tenant.objects.filter(pk=recent.tenant.pk).update(
        state=Tenant.State.DISCONNECTED, disconnected_at=later
    )
    others = {t.pk: counts(t) for t in (recent.tenant, connected.tenant)}
    kept = counts(held.tenant, KEPT)

    assert retention.purge_disconnected(now=timezone.now() + grace + timedelta(minutes=1)) == 1

    assert counts(held.tenant, CUSTOMER_DATA) == dict.fromkeys(
        counts(held.tenant, CUSTOMER_DATA), 0
    )
    assert counts(held.tenant, KEPT) == kept  # the tenant's people, lists and runs stay
    assert Tenant.objects.get(pk=held.tenant.pk).state == Tenant.State.DISCONNECTED
    assert {t.pk: counts(t) for t in (recent.tenant, connected.tenant)} == others
    # Nothing left to purge: the next beat does nothing.
    assert retention.purge_due(now=timezone.now() + grace + timedelta(days=1)) == []


def test_installing_again_within_the_grace_period_cancels_the_deletion(company, revoked, grace):
    held = company()
    disconnect(held.tenant)
    before = counts(held.tenant, CUSTOMER_DATA)
    reinstall(held.tenant, held.owner)
    assert held.tenant.is_connected and held.tenant.disconnected_at is None

    assert retention.purge_disconnected(now=timezone.now() + 2 * grace) == 0
    assert counts(held.tenant, CUSTOMER_DATA) == before


def test_a_purge_that_lost_the_race_to_a_reinstall_deletes_nothing(company, revoked, grace):
    held = company()
    disconnect(held.tenant)
    due = retention.purge_due(now=timezone.now() + grace + timedelta(minutes=1))
    assert due == [held.tenant.pk]
    reinstall(held.tenant, held.owner)  # between the scan and the deletion
    before = counts(held.tenant, CUSTOMER_DATA)
    assert retention.purge_customer_data(tenant_id=due[0], now=timezone.now() + 2 * grace) == {}
    assert counts(held.tenant, CUSTOMER_DATA) == before


def test_disconnecting_again_does_not_extend_the_grace_period(company, revoked, grace):
    held = company()
    disconnect(held.tenant)
    first = held.tenant.disconnected_at
    disconnect(held.tenant)
    assert held.tenant.disconnected_at == first


def test_the_beat_task_purges_with_the_real_clock(company, revoked, settings):
    settings.DATA_RETENTION_AFTER_DISCONNECT_DAYS = 7
    held = company()
    disconnect(held.tenant)
    Tenant.objects.filter(pk=held.tenant.pk).update(
        disconnected_at=timezone.now() - timedelta(days=7, minutes=1)
    )
    tasks.purge_disconnected()
    assert not CustomerRecord.objects.filter(tenant=held.tenant).exists()


def test_processed_webhook_events_are_pruned_after_the_retention_never_waiting_ones(
    company, settings
):
    settings.WEBHOOK_EVENT_RETENTION_DAYS = 30
    held = company()
    now = timezone.now()
    old, recent = now - timedelta(days=31), now - timedelta(days=29)
    WebhookEvent.objects.filter(tenant=held.tenant).delete()
    for event_id, received, processed in [
        ("old-processed", old, old),
        ("recent-processed", recent, recent),
        ("old-waiting", old, None),
    ]:
        WebhookEvent.objects.create(
            tenant=held.tenant,
            event_id=event_id,
            realm_id=held.realm_id,
            customer_id="1",
            operation="update",
            occurred_at=received,
            received_at=received,
            processed_at=processed,
        )
    assert retention.prune_webhook_events(now=now) == 1
    assert set(WebhookEvent.objects.values_list("event_id", flat=True)) == {
        "recent-processed",
        "old-waiting",
    }


def _run(tenant: Tenant, days_ago: float, kind=Run.Kind.FULL_CHECK, state=Run.State.COMPLETED):
    return Run.objects.create(
        tenant=tenant,
        kind=kind,
        state=state,
        created_at=timezone.now() - timedelta(days=days_ago),
    ).pk


def test_old_runs_are_pruned_but_each_tenant_keeps_its_latest_and_its_first_sync(company, settings):
    settings.RUN_HISTORY_RETENTION_DAYS = 90
    busy, quiet = company(), company("Quiet")
    Run.objects.all().delete()
    first = _run(busy.tenant, 300, kind=Run.Kind.FIRST)
    failed_first = _run(busy.tenant, 290, kind=Run.Kind.FIRST, state=Run.State.FAILED)
    old = [_run(busy.tenant, 200 - i) for i in range(12)]  # oldest first
    stuck_open = _run(busy.tenant, 150, kind=Run.Kind.CHANGES, state=Run.State.QUEUED)
    recent = [_run(busy.tenant, 1), _run(busy.tenant, 2)]
    quiet_runs = [_run(quiet.tenant, 400, kind=Run.Kind.FIRST), _run(quiet.tenant, 399)]

    # Latest HISTORY_LENGTH: the 2 recent, the open one, and the newest old ones.
    newest_old = old[-(HISTORY_LENGTH - 3) :]
    expected_deleted = len(old) - len(newest_old) + 1  # and the failed first sync
    assert retention.prune_runs() == expected_deleted
    assert set(Run.objects.filter(tenant=busy.tenant).values_list("pk", flat=True)) == {
        first,
        stuck_open,
        *recent,
        *newest_old,
    }
    assert failed_first not in Run.objects.values_list("pk", flat=True)
    assert set(Run.objects.filter(tenant=quiet.tenant).values_list("pk", flat=True)) == set(
        quiet_runs
    )
    assert retention.prune_runs() == 0


def test_the_prune_task_prunes_events_and_runs(company, settings):
    settings.WEBHOOK_EVENT_RETENTION_DAYS = 0
    settings.RUN_HISTORY_RETENTION_DAYS = 0
    held = company()
    Run.objects.update(created_at=timezone.now() - timedelta(days=5))  # the first sync
    for _ in range(HISTORY_LENGTH + 2):
        _run(held.tenant, 1)
    tasks.prune_history()
    assert not WebhookEvent.objects.filter(processed_at__isnull=False).exists()
    assert WebhookEvent.objects.filter(processed_at__isnull=True).count() == 1
    assert Run.objects.filter(tenant=held.tenant).count() == HISTORY_LENGTH + 1  # + first sync


def test_beat_schedules_the_data_care_tasks():
    from ccsync.celery import app

    schedule = {
        entry["task"]: entry["schedule"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()
    }
    for name in ("datacare.purge_disconnected", "datacare.prune_history"):
        assert name in app.tasks
        assert 0 < schedule[name] <= 24 * 3600
    assert django_settings.DATA_RETENTION_AFTER_DISCONNECT_DAYS == 30
