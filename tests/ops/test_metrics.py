"""Metrics after real syncs against the sandbox: what /metrics says matches what happened."""

import pytest
import redis
from django.conf import settings
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from ccsync.base import jobs
from ccsync.sync import change_window, pacing, runs, selectors, tasks
from ccsync.sync.models import Run
from integrations import http
from integrations.constantcontact import errors as cc_errors
from tenants import clients as tenant_clients
from tests.plugins.companies import person

Samples = dict[tuple[str, frozenset], float]


def scrape(token: str) -> Samples:
    answer = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert answer.status_code == 200
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(answer.content.decode())
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def grew(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def test_metrics_after_a_first_sync_and_a_change(
    install, metrics_token, django_capture_on_commit_callbacks
):
    company = install(
        person("Ann Lee", "ann@example.com"),
        person("Bo Li", "bo@example.com"),
        person("No Email"),
        person("Inactive Ivy", "ivy@example.com", Active=False),
    )
    before = scrape(metrics_token)
    assert value(before, "ccsync_runs_open", kind="first", state="queued") >= 1

    # Skip decisions are counted when they commit (the test's transaction never does).
    with django_capture_on_commit_callbacks(execute=True):
        run = company.run()
    assert run.state == Run.State.COMPLETED, run.error
    after = scrape(metrics_token)
    assert grew(before, after, "ccsync_runs_total", kind="first", outcome="completed") == 1
    assert grew(before, after, "ccsync_contacts_synced_total", kind="first") == 2
    assert grew(before, after, "ccsync_customers_skipped_total", reason="no_email") == 1
    assert grew(before, after, "ccsync_customers_skipped_total", reason="inactive") == 1
    assert grew(before, after, "ccsync_customers_skipped_total", reason="over_cap") == 0
    # Every call the run made was counted, by provider, endpoint and status.
    qb_calls = sum(
        v - before.get(k, 0.0)
        for k, v in after.items()
        if k[0] == "ccsync_provider_requests_total" and ("provider", "quickbooks") in k[1]
    )
    cc_calls = sum(
        v - before.get(k, 0.0)
        for k, v in after.items()
        if k[0] == "ccsync_provider_requests_total" and ("provider", "constantcontact") in k[1]
    )
    assert (qb_calls, cc_calls) == (run.quickbooks_calls, run.constantcontact_calls)
    imports = grew(
        before,
        after,
        "ccsync_provider_requests_total",
        provider="constantcontact",
        endpoint="contacts_json_import",
        status="201",
    ) + grew(
        before,
        after,
        "ccsync_provider_requests_total",
        provider="constantcontact",
        endpoint="contacts_json_import",
        status="202",
    )
    assert imports == 1
    used = value(after, "ccsync_constantcontact_daily_requests_used")
    assert used - value(before, "ccsync_constantcontact_daily_requests_used") == cc_calls
    assert value(after, "ccsync_constantcontact_daily_requests_limit") == (
        settings.SYNC_CC_DAILY_SHARE
    )
    assert value(after, "ccsync_runs_open", kind="first", state="queued") == 0

    ann = company.customer_id("Ann Lee")
    company.change(ann, FamilyName="Lee-Smith")
    assert company.webhook(("updated", ann)) == 200
    waiting = scrape(metrics_token)
    assert value(waiting, "ccsync_webhook_events_pending") >= 1
    assert value(waiting, "ccsync_webhook_oldest_pending_seconds") > 0

    with django_capture_on_commit_callbacks(execute=True):
        change = company.sync_changes()  # and its import confirmed
    assert change.state == Run.State.COMPLETED, change.error
    done = scrape(metrics_token)
    assert grew(waiting, done, "ccsync_runs_total", kind="changes", outcome="completed") == 1
    assert grew(waiting, done, "ccsync_contacts_synced_total", kind="changes") == 1
    assert grew(waiting, done, "ccsync_webhook_lag_seconds_count") == 1
    assert grew(waiting, done, "ccsync_webhook_lag_seconds_bucket", le="+Inf") == 1
    assert grew(waiting, done, "ccsync_webhook_lag_seconds_sum") > 0
    assert value(done, "ccsync_webhook_events_pending") == 0
    assert value(done, "ccsync_tenants", state="connected") >= 1


def test_429s_are_counted(install, sandbox, metrics_token, monkeypatch):
    monkeypatch.setattr(http, "THROTTLE_BACKOFF", (0.0, 0.0, 0.0))
    company = install(person("Ann Lee", "ann@example.com"))
    before = scrape(metrics_token)
    client = tenant_clients.constantcontact_client(tenant=company.tenant)
    with sandbox.knobs(constantcontact_throttle_rate=1.0), pytest.raises(cc_errors.Throttled):
        client.account_summary()
    after = scrape(metrics_token)
    labels = {"provider": "constantcontact", "endpoint": "account_summary"}
    # The first answer and every patient try again.
    tries = 1 + len(http.THROTTLE_BACKOFF)
    assert grew(before, after, "ccsync_provider_throttled_total", **labels) == tries
    assert grew(before, after, "ccsync_provider_requests_total", status="429", **labels) == tries


def test_tasks_go_to_their_queues_and_queue_depth_is_measured(
    install, metrics_token, django_capture_on_commit_callbacks
):
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.delete(*jobs.ALL)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            company = install(person("Ann Lee", "ann@example.com"))  # enqueues its first sync
        first = selectors.open_run(tenant=company.tenant)
        Run.objects.filter(pk=first.pk).update(state=Run.State.CANCELLED)
        with django_capture_on_commit_callbacks(execute=True):
            runs.create_run(tenant=company.tenant, kind=Run.Kind.CHANGES)
            change_window.schedule_changes(tenant_id=company.tenant.pk)
        tasks.recover_runs.delay()
        samples = scrape(metrics_token)
        for queue in jobs.ALL:
            assert value(samples, "ccsync_queue_length", queue=queue) == 1, queue
    finally:
        broker.delete(*jobs.ALL)


def test_the_day_of_constant_contact_calls_in_metrics_and_the_admin(
    metrics_token, admin_client, settings
):
    """The operator sees today's spend, where it is heading, the window companies' changes
    wait and who waits: past a bucket of one run, a second company waits its turn."""
    settings.SYNC_PACE_BURST = 2.0  # one run at the expected 1.3 calls
    pacer = pacing.get_pacer()
    assert pacer.offer("1") and not pacer.offer("2")
    samples = scrape(metrics_token)
    assert value(samples, "ccsync_companies_waiting") == 1
    assert value(samples, "ccsync_change_window_seconds") > settings.SYNC_COALESCE_SECONDS
    assert value(samples, "ccsync_oldest_wait_seconds") >= 0
    # A first day, a company waiting: no read paid by the slack, the 4 to 24 hours rule.
    assert 4 * 3600 <= value(samples, "ccsync_unsubscribes_freshness_seconds") <= 24 * 3600
    assert value(samples, "ccsync_constantcontact_projected_at_midnight") >= 0
    assert value(samples, "ccsync_constantcontact_daily_requests_limit") == 9_500

    page = admin_client.get("/admin/sync/run/").content.decode()
    assert "Constant Contact today" in page
    assert '<th scope="row">Companies waiting their turn</th><td>1</td>' in page
