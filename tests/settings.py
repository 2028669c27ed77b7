"""Test settings: the app's settings, pointed at the real PostgreSQL and Redis of the machine."""

import os
from urllib.parse import urlsplit

from cryptography.fernet import Fernet

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ccsync")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")


def worker_redis_url(url: str, worker: str, dbs: str) -> str:
    """The Redis db of one xdist worker: gw0 keeps the url's, gw1, gw2... take the dbs of
    `dbs` (comma-separated) in turn."""
    number = int(worker.removeprefix("gw") or 0)
    if number == 0:
        return url
    others = dbs.split(",")
    if number > len(others):
        raise RuntimeError(f"xdist worker {worker}: the Redis dbs {dbs} are too few")
    return urlsplit(url)._replace(path=f"/{others[number - 1].strip()}").geturl()


# Each xdist worker its own Redis db and broker db (`make test` runs the tests on two), so
# that nothing one does to Redis (the limiter's counters, the day's pace, the metrics, a
# flush, the tasks queued, a stack's worker taking them) reaches another's test.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/14")
os.environ["REDIS_URL"] = worker_redis_url(
    os.environ["REDIS_URL"], _WORKER, os.environ.get("TEST_REDIS_WORKER_DBS", "12")
)
os.environ["CELERY_BROKER_URL"] = worker_redis_url(
    os.environ["CELERY_BROKER_URL"], _WORKER, os.environ.get("TEST_BROKER_WORKER_DBS", "11")
)
os.environ.setdefault("SECRET_KEY", "tests-only")
# The sandbox speaks plain http on loopback; oauthlib refuses that unless told.
os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")
os.environ.setdefault("TOKEN_ENCRYPTION_KEYS", Fernet.generate_key().decode())
os.environ.setdefault("INTUIT_CLIENT_ID", "sandbox-intuit-client")
os.environ.setdefault("INTUIT_CLIENT_SECRET", "sandbox-intuit-secret")
os.environ.setdefault("INTUIT_WEBHOOK_VERIFIER_TOKEN", "sandbox-webhook-verifier")
os.environ.setdefault("CONSTANTCONTACT_CLIENT_ID", "sandbox-cc-client")
os.environ.setdefault("CONSTANTCONTACT_CLIENT_SECRET", "sandbox-cc-secret")

from ccsync.settings import *  # noqa: E402,F403

ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
