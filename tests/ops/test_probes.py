"""/healthz, /readyz (database, broker, Redis, a fresh heartbeat on every queue), /metrics'
protection, and the worker heartbeat stamped by a real Celery worker."""

import io
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from ccsync.base import jobs
from ccsync.celery import app
from ccsync.ops import heartbeat
from ccsync.ops.models import WorkerHeartbeat


@pytest.fixture
def client() -> Client:
    return Client(HTTP_HOST="10.0.0.7:8000")  # how probes arrive: by address


@pytest.fixture(autouse=True)
def _only_our_hosts(settings):
    settings.ALLOWED_HOSTS = ["ccsync.example.com"]


def test_healthz_answers_without_the_database_or_an_allowed_host(client):
    # No django_db mark: any database query would fail this test.
    answer = client.get("/healthz")
    assert (answer.status_code, answer.content) == (200, b"ok\n")
    assert "no-store" in answer["Cache-Control"]
    assert client.get("/").status_code == 400  # pages still check the Host header
    assert client.post("/healthz").status_code == 405


@pytest.mark.django_db
def test_readyz_wants_a_fresh_worker_on_every_queue(client, settings):
    answer = client.get("/readyz")
    assert answer.status_code == 503
    body = answer.json()
    assert body["checks"]["database"] == body["checks"]["broker"] == body["checks"]["redis"] == "ok"
    assert body["checks"]["workers"] == dict.fromkeys(jobs.ALL, 0)

    heartbeat.stamp(hostname="fast@a", queues=[jobs.WEBHOOKS, jobs.CHANGES])
    assert client.get("/readyz").status_code == 503  # first_sync and maintenance: nobody
    heartbeat.stamp(hostname="slow@b", queues=[jobs.FIRST_SYNC, jobs.MAINTENANCE])
    answer = client.get("/readyz")
    assert answer.status_code == 200, answer.json()
    assert answer.json()["checks"]["workers"] == dict.fromkeys(jobs.ALL, 1)

    stale = timezone.now() - timedelta(seconds=settings.WORKER_HEARTBEAT_MAX_AGE + 1)
    WorkerHeartbeat.objects.filter(hostname="slow@b").update(seen_at=stale)
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["checks"]["workers"][jobs.FIRST_SYNC] == 0


@pytest.mark.django_db
def test_readyz_fails_when_the_broker_or_redis_is_down(client, settings, monkeypatch):
    for queue in jobs.ALL:
        heartbeat.stamp(hostname=f"{queue}@a", queues=[queue])
    assert client.get("/readyz").status_code == 200
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:1/0")  # Celery reads it first
    answer = client.get("/readyz")
    assert answer.status_code == 503 and answer.json()["checks"]["broker"] == "failed"
    monkeypatch.undo()
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    answer = client.get("/readyz")
    assert answer.status_code == 503 and answer.json()["checks"]["redis"] == "failed"


@pytest.mark.django_db(transaction=True)
def test_a_running_worker_stamps_its_heartbeat_and_forgets_it_on_shutdown(client, settings):
    settings.WORKER_HEARTBEAT_SECONDS = 0.2
    settings.DEBUG = True  # the test settings use the sandbox's keys: the checks would refuse
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10) as worker:
        beat = WorkerHeartbeat.objects.get(hostname=worker.hostname)
        assert sorted(beat.queues) == sorted(jobs.ALL)  # no -Q: every queue
        first_seen = beat.seen_at
        deadline = timezone.now() + timedelta(seconds=10)
        while WorkerHeartbeat.objects.get(hostname=worker.hostname).seen_at == first_seen:
            assert timezone.now() < deadline, "the heartbeat was not renewed"
        assert client.get("/readyz").status_code == 200
    assert not WorkerHeartbeat.objects.filter(hostname=worker.hostname).exists()


# --- /metrics is not public ---------------------------------------------------------------


@pytest.mark.django_db
def test_metrics_are_off_unless_a_token_or_networks_are_set(client):
    assert client.get("/metrics").status_code == 404


@pytest.mark.django_db
def test_metrics_want_the_bearer_token(client, metrics_token):
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    answer = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {metrics_token}")
    assert answer.status_code == 200
    assert b"# TYPE ccsync_runs_open gauge" in answer.content


@pytest.mark.django_db
def test_metrics_from_an_allowed_network(settings):
    settings.METRICS_ALLOWED_NETWORKS = ["10.1.0.0/16"]
    inside = Client(HTTP_HOST="10.0.0.7:8000", REMOTE_ADDR="10.1.2.3")
    outside = Client(HTTP_HOST="10.0.0.7:8000", REMOTE_ADDR="10.2.0.1")
    assert inside.get("/metrics").status_code == 200
    assert outside.get("/metrics").status_code == 403


@pytest.mark.django_db
def test_worker_alive_is_the_containers_health_check(settings):
    heartbeat.stamp(hostname="celery@abc123", queues=[jobs.MAINTENANCE])
    call_command("worker_alive", "celery@abc123", stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command("worker_alive", "celery@other")
    stale = timezone.now() - timedelta(seconds=settings.WORKER_HEARTBEAT_MAX_AGE + 1)
    WorkerHeartbeat.objects.update(seen_at=stale)
    with pytest.raises(CommandError):
        call_command("worker_alive", "celery@abc123")
