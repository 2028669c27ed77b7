"""Settings for the ccsync web app and its Celery workers.

Everything comes from the environment (django-environ). With nothing set, the app runs on
embedded defaults (SQLite, a filesystem broker) so a fresh machine needs no services;
every outside endpoint defaults to the real provider and is pointed elsewhere (the
sandbox, any other fake) by setting its variable.
"""

from pathlib import Path
from typing import Any

import environ
from kombu import Exchange, Queue

from ccsync.base import jobs
from ccsync.database import database_from_env

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("CCSYNC_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="insecure-dev-only-key" if DEBUG else "")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "tenants",
    "ccsync.sync",
    "ccsync.ops",
    "ccsync.datacare",
    "ccsync.web",
]

AUTH_USER_MODEL = "tenants.User"

MIDDLEWARE = [
    # First, so that everything logged for a request (its 500 too) can carry its tenant.
    "ccsync.base.logs.RequestContextMiddleware",
    # /healthz, /readyz, /metrics: answered before the Host header check and https redirect.
    "ccsync.web.probes.ProbeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "ccsync.web.middleware.SecurityHeadersMiddleware",
]

ROOT_URLCONF = "ccsync.web.urls"
WSGI_APPLICATION = "ccsync.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": database_from_env(
        env=env, variable="DATABASE_URL", sqlite_path=VAR_DIR / "ccsync.sqlite3"
    ),
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS: list[dict] = []  # people sign in with Intuit, never a password

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns on every start when it is missing
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG

# People sign in through Intuit: pages that need a session send them to Launch.
LOGIN_URL = "launch"

# Lax (not Strict): the OAuth callbacks are top-level GETs from Intuit and Constant Contact
# and must carry the session that holds their state and PKCE verifier.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=12 * 3600)
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Production serves HTTPS only (Intuit requires it). Behind a TLS-terminating proxy or a
# PaaS router, set SECURE_PROXY_SSL_HEADER_ENABLED=true so Django trusts the proxy's
# X-Forwarded-Proto: only when that proxy always sets or strips the header itself,
# otherwise a client could claim HTTPS. SECURE_SSL_REDIRECT is for deployments where no
# proxy redirects http to https already.
HTTPS = env.bool("HTTPS", default=not DEBUG)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
if env.bool("SECURE_PROXY_SSL_HEADER_ENABLED", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# A Content-Security-Policy and Cache-Control: no-store are added to every page by
# ccsync.web.middleware.SecurityHeadersMiddleware.

# --- Intuit (OpenID Connect + QuickBooks Online Accounting API) ---
# 'sandbox', 'production' or the URL of a discovery document (intuit-oauth accepts all three).
INTUIT_ENVIRONMENT = env.str("INTUIT_ENVIRONMENT", default="production")
INTUIT_CLIENT_ID = env.str("INTUIT_CLIENT_ID", default="")
INTUIT_CLIENT_SECRET = env.str("INTUIT_CLIENT_SECRET", default="")
INTUIT_REDIRECT_URI = env.str(
    "INTUIT_REDIRECT_URI", default=f"{PUBLIC_BASE_URL}/auth/intuit/callback/"
)
QUICKBOOKS_API_BASE = env.str(
    "QUICKBOOKS_API_BASE", default="https://quickbooks.api.intuit.com"
).rstrip("/")
# QuickBooks Online's own pages, where a customer's page is /app/customerdetail?nameId=<Id>:
# the status page links each customer there (app.sandbox.qbo.intuit.com for Intuit's sandbox
# companies; the offline sandbox in the demo).
QUICKBOOKS_APP_BASE = env.str("QUICKBOOKS_APP_BASE", default="https://app.qbo.intuit.com").rstrip(
    "/"
)
QUICKBOOKS_MINOR_VERSION = env.int("QUICKBOOKS_MINOR_VERSION", default=75)
INTUIT_WEBHOOK_VERIFIER_TOKEN = env.str("INTUIT_WEBHOOK_VERIFIER_TOKEN", default="")
# Where QuickBooks' My Apps "Disconnect" leaves the user after our page's Next button.
CONSTANTCONTACT_ACCOUNT_URL = env.str(
    "CONSTANTCONTACT_ACCOUNT_URL", default="https://app.constantcontact.com/pages/myaccount/"
)

# --- Constant Contact (OAuth2 with PKCE + V3 API) ---
CONSTANTCONTACT_CLIENT_ID = env.str("CONSTANTCONTACT_CLIENT_ID", default="")
CONSTANTCONTACT_CLIENT_SECRET = env.str("CONSTANTCONTACT_CLIENT_SECRET", default="")
CONSTANTCONTACT_AUTHORIZE_URL = env.str(
    "CONSTANTCONTACT_AUTHORIZE_URL",
    default="https://authz.constantcontact.com/oauth2/default/v1/authorize",
)
CONSTANTCONTACT_TOKEN_URL = env.str(
    "CONSTANTCONTACT_TOKEN_URL",
    default="https://authz.constantcontact.com/oauth2/default/v1/token",
)
CONSTANTCONTACT_REVOKE_URL = env.str(
    "CONSTANTCONTACT_REVOKE_URL",
    default="https://authz.constantcontact.com/oauth2/default/v1/revoke",
)
CONSTANTCONTACT_API_BASE = env.str(
    "CONSTANTCONTACT_API_BASE", default="https://api.cc.email/v3"
).rstrip("/")
CONSTANTCONTACT_REDIRECT_URI = env.str(
    "CONSTANTCONTACT_REDIRECT_URI", default=f"{PUBLIC_BASE_URL}/auth/constantcontact/callback/"
)

# Provider HTTP calls: (connect, read) seconds.
PROVIDER_TIMEOUT = (
    env.float("PROVIDER_CONNECT_TIMEOUT", default=5.0),
    env.float("PROVIDER_READ_TIMEOUT", default=30.0),
)

# Fernet keys, newest first; older ones still decrypt until `rotate_token_keys` has run.
TOKEN_ENCRYPTION_KEYS = env.list("TOKEN_ENCRYPTION_KEYS", default=[])

# --- Email: a company's people are told when a connection breaks ---
# EMAIL_URL as django-environ reads it (smtp+tls://user:password@host:587, ...); with DEBUG
# the messages are files under var/mail.
vars().update(
    env.email_url(
        "EMAIL_URL", default=f"filemail:///{VAR_DIR / 'mail'}" if DEBUG else "smtp://localhost:25"
    )
)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="ccsync <no-reply@localhost>")
# Where the Help page tells people to write (QuickBooks' My Apps "Support" opens Help).
SUPPORT_EMAIL = env.str("SUPPORT_EMAIL", default="")

# --- Celery and the shared rate limiters ---
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    _broker_dir.mkdir(exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "control_folder": str(_broker_dir / "control"),  # its default is the current folder
        "store_processed": False,
    }
    CELERY_WORKER_ENABLE_REMOTE_CONTROL = False  # the filesystem transport has no fanout
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Queues by kind of work (ccsync/base/jobs.py, docs/operating.md): a worker started without
# -Q consumes all of them; each can get workers of its own on any host.
CELERY_TASK_QUEUES = [Queue(name, Exchange(name), routing_key=name) for name in jobs.ALL]
CELERY_TASK_DEFAULT_QUEUE = jobs.MAINTENANCE
CELERY_TASK_ROUTES = jobs.ROUTES
# Workers log through LOGGING below (JSON, scrubbed), not Celery's own handler.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Redis for the shared rate limiters, the pacer and the metrics.
REDIS_URL = env.str("REDIS_URL", default="")
# Without Redis the limiter and the pacer keep their counts in these files, shared by every
# process of the machine (the demo's web process and worker).
LIMITER_FILE = VAR_DIR / "limiter.json"
PACER_FILE = VAR_DIR / "pacer.json"
PACER_REDIS_KEY = "ccsync:pace"
LIMITER_REDIS_PREFIX = "ccsync:limits"

# --- The sync engine ---
# Constant Contact: 4 requests/s and 10,000/day for the whole app (one API key); the app
# takes SYNC_CC_DAILY_SHARE of the day, leaving room for anything else using the key.
SYNC_CC_PER_SECOND = env.int("SYNC_CC_PER_SECOND", default=4)
SYNC_CC_DAILY_SHARE = env.int("SYNC_CC_DAILY_SHARE", default=9_500)
# Of the share, what the pacer keeps for first syncs and full checks (released evenly
# through the day), and how many calls it lets runs of changes spend at once
# (ccsync/sync/pacing.py).
SYNC_CC_RESERVE = env.int("SYNC_CC_RESERVE", default=500)
SYNC_PACE_BURST = env.float("SYNC_PACE_BURST", default=40.0)
# Unsubscribes are read again before a run of changes when older than this (before every
# run while the day's share has slack), and imports wait this long for their confirmation:
# the first value while calls are plenty, the second under full pressure
# (ccsync/sync/pacing.py).
SYNC_UNSUBSCRIBES_FRESH_SECONDS = env.list(
    "SYNC_UNSUBSCRIBES_FRESH_SECONDS", cast=float, default=[4 * 3600.0, 24 * 3600.0]
)
SYNC_CONFIRM_AFTER_SECONDS = env.list(
    "SYNC_CONFIRM_AFTER_SECONDS", cast=float, default=[4 * 3600.0, 12 * 3600.0]
)
# How often waiting companies whose turn has come are started (beat).
SYNC_DISPATCH_SECONDS = env.float("SYNC_DISPATCH_SECONDS", default=2.0)
# QuickBooks: per company (realm).
SYNC_QB_PER_SECOND = env.int("SYNC_QB_PER_SECOND", default=10)
SYNC_QB_PER_MINUTE = env.int("SYNC_QB_PER_MINUTE", default=500)
# Fairness: a tenant's recent Constant Contact use halves every this many seconds.
SYNC_FAIRNESS_HALF_LIFE = env.float("SYNC_FAIRNESS_HALF_LIFE", default=10.0)
SYNC_CUSTOMER_CAP = env.int("SYNC_CUSTOMER_CAP", default=10_000)
SYNC_PAGE_SIZE = env.int("SYNC_PAGE_SIZE", default=1_000)  # QuickBooks' maximum
# Rows per contacts_json_import: fewer rows show contacts sooner, more cost fewer calls.
SYNC_IMPORT_CHUNK_ROWS = env.int("SYNC_IMPORT_CHUNK_ROWS", default=2_500)
SYNC_IMPORT_MAX_BYTES = env.int("SYNC_IMPORT_MAX_BYTES", default=3_900_000)
# A tenant's webhook events are gathered this long (its change window) into one run of changes.
SYNC_COALESCE_SECONDS = env.float("SYNC_COALESCE_SECONDS", default=2.0)
# Intuit sets no limit to a delivery; 2 MB is the size it says servers commonly accept.
SYNC_WEBHOOK_MAX_BYTES = env.int("SYNC_WEBHOOK_MAX_BYTES", default=2 * 1024 * 1024)
# A run whose worker has not checked in for this long is taken over.
SYNC_STALE_RUN_SECONDS = env.int("SYNC_STALE_RUN_SECONDS", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=1_800)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=1_740)
CELERY_BEAT_SCHEDULE = {
    "sync-catch-up": {"task": "sync.catch_up_all", "schedule": 15 * 60.0},
    "sync-dispatch": {"task": "sync.dispatch", "schedule": SYNC_DISPATCH_SECONDS},
    "sync-confirm-overdue": {"task": "sync.confirm_overdue", "schedule": 10 * 60.0},
    "tenants-tokens": {"task": "tenants.refresh_tokens_all", "schedule": 10 * 60.0},
    "sync-recover": {"task": "sync.recover_runs", "schedule": 60.0},
    "datacare-purge-disconnected": {"task": "datacare.purge_disconnected", "schedule": 3600.0},
    "datacare-prune-history": {"task": "datacare.prune_history", "schedule": 3600.0},
}

# --- Data care (docs/datacare.md) ---
# A disconnected tenant's customer data (per-customer records, cached unsubscribed addresses,
# webhook events) is deleted this many days after the disconnect; reinstalling before cancels.
DATA_RETENTION_AFTER_DISCONNECT_DAYS = env.int("DATA_RETENTION_AFTER_DISCONNECT_DAYS", default=30)
# Processed webhook events and finished runs older than this are pruned (a tenant's latest
# runs stay for its status page).
WEBHOOK_EVENT_RETENTION_DAYS = env.int("WEBHOOK_EVENT_RETENTION_DAYS", default=30)
RUN_HISTORY_RETENTION_DAYS = env.int("RUN_HISTORY_RETENTION_DAYS", default=90)

# --- Operations (docs/operating.md) ---
# /metrics answers a request with `Authorization: Bearer <METRICS_TOKEN>` or from an address
# in METRICS_ALLOWED_NETWORKS (CIDRs, matched against REMOTE_ADDR); neither set: 404.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_NETWORKS = env.list("METRICS_ALLOWED_NETWORKS", default=[])
# Every worker stamps a heartbeat this often; /readyz wants one younger than the max age.
WORKER_HEARTBEAT_SECONDS = env.float("WORKER_HEARTBEAT_SECONDS", default=15.0)
WORKER_HEARTBEAT_MAX_AGE = env.float("WORKER_HEARTBEAT_MAX_AGE", default=60.0)

# One JSON object per line in production, readable lines with DEBUG; both carry the tenant
# and run of a sync and go through the scrubber (ccsync/base/logs.py).
LOG_FORMAT = env.str("LOG_FORMAT", default="plain" if DEBUG else "json")
# Tasks beat sends every few seconds: Celery's lines about them are DEBUG, not INFO
# (ccsync.base.logs.RoutineTaskFilter), so that a quiet log shows what happens.
LOG_ROUTINE_TASKS = ["sync.dispatch"]
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "routine": {"()": "ccsync.base.logs.RoutineTaskFilter", "tasks": LOG_ROUTINE_TASKS},
        "context": {"()": "ccsync.base.logs.ContextFilter"},
        "scrub": {"()": "ccsync.base.logs.ScrubFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s%(context)s %(message)s"},
        "json": {"()": "ccsync.base.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            # routine first: it reads the record's arguments, which scrub folds away.
            "filters": ["routine", "context", "scrub"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # At DEBUG these log token values and URLs that can hold email addresses (the scrubber
    # would catch them; this keeps them from being written at all).
    "loggers": {name: {"level": "INFO"} for name in ("requests_oauthlib", "oauthlib", "urllib3")},
}
