"""/healthz, /readyz and /metrics: answered by a middleware placed first.

Load balancers, container health checks and Prometheus reach a process by its address, not
by the app's host name: these paths answer before Django validates the Host header
(ALLOWED_HOSTS) and before the https redirect, and touch no session or cookie.
"""

import hmac
import ipaddress
import logging
from collections.abc import Callable

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import add_never_cache_headers

from ccsync.base import counters
from ccsync.ops import metrics
from ccsync.ops.heartbeat import live_workers

logger = logging.getLogger(__name__)

OK = "ok"
FAILED = "failed"


def healthz(request: HttpRequest) -> HttpResponse:
    """The process is alive and serving (nothing else is asked: no database)."""
    return HttpResponse("ok\n", content_type="text/plain")


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return OK
    except DatabaseError:
        return FAILED


def _broker() -> str:
    from ccsync.celery import app

    try:
        with app.connection_for_write() as broker:
            broker.ensure_connection(max_retries=0, timeout=2)
        return OK
    except Exception:  # kombu raises the transport's own errors, whatever they are
        return FAILED


def _redis() -> str:
    if not settings.REDIS_URL:
        return OK  # the in-process limiter
    import redis

    try:
        counters.redis_client(settings.REDIS_URL).ping()
        return OK
    except redis.RedisError:
        return FAILED


def readyz(request: HttpRequest) -> JsonResponse:
    """Ready to take work: the database, the broker and the limiter's Redis answer, and
    every queue has a worker whose heartbeat is fresh. 503 otherwise."""
    checks: dict[str, object] = {"database": _database(), "broker": _broker(), "redis": _redis()}
    workers = live_workers() if checks["database"] == OK else {}
    checks["workers"] = workers
    ready = all(checks[name] == OK for name in ("database", "broker", "redis")) and all(
        workers.get(queue.name) for queue in settings.CELERY_TASK_QUEUES
    )
    if not ready:
        logger.warning("not ready: %s", checks)
    return JsonResponse({"ready": ready, "checks": checks}, status=200 if ready else 503)


def _metrics_allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    given = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return True
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(net) for net in settings.METRICS_ALLOWED_NETWORKS)


def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus' text format; only with the METRICS_TOKEN bearer token or from a network of
    METRICS_ALLOWED_NETWORKS. Neither set: metrics are off (404)."""
    if not settings.METRICS_TOKEN and not settings.METRICS_ALLOWED_NETWORKS:
        return HttpResponse(status=404)
    if not _metrics_allowed(request):
        return HttpResponse(status=403)
    return HttpResponse(metrics.render(), content_type="text/plain; version=0.0.4; charset=utf-8")


PROBES: dict[str, Callable[[HttpRequest], HttpResponse]] = {
    "/healthz": healthz,
    "/readyz": readyz,
    "/metrics": metrics_view,
}


class ProbeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = PROBES.get(request.path_info.rstrip("/"))
        if probe is None:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            return HttpResponse(status=405, headers={"Allow": "GET, HEAD"})
        response = probe(request)
        add_never_cache_headers(response)
        return response
