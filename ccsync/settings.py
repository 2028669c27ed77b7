"""Settings for the ccsync web app and its Celery workers.

Everything comes from the environment (django-environ). With nothing set, the app runs on
embedded defaults (SQLite, a filesystem broker) so a fresh machine needs no services;
every outside endpoint defaults to the real provider and is pointed elsewhere (the
sandbox, any other fake) by setting its variable.
"""

from pathlib import Path

import environ

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
]

AUTH_USER_MODEL = "tenants.User"

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "ccsync.urls"
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
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'ccsync.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The demo's web, worker and beat share one SQLite file: wait for locks, don't fail.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS: list[dict] = []  # people sign in with Intuit, never a password

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

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

# --- Celery and the shared rate limiters ---
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    _broker_dir.mkdir(exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "store_processed": False,
    }
    CELERY_WORKER_ENABLE_REMOTE_CONTROL = False  # the filesystem transport has no fanout
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Redis for the shared rate limiters; empty means an in-process limiter (demo, one worker).
REDIS_URL = env.str("REDIS_URL", default="")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
