"""Test settings: the app's settings, pointed at the real PostgreSQL and Redis of the machine."""

import os

from cryptography.fernet import Fernet

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ccsync")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/14")
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
# xdist's workers share the tests' Redis db, each with a sandbox of its own: each its own
# day's pace and its own limiter (a test counts the calls it made, not its neighbour's).
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
PACER_REDIS_KEY = f"ccsync:pace:{_WORKER}"
LIMITER_REDIS_PREFIX = f"ccsync:limits:{_WORKER}"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
