"""Settings of the sandbox: the offline twin of Intuit and Constant Contact.

A separate Django site with its own database and port. It is a development and test tool:
nothing in the app's production configuration points at it.
"""

from pathlib import Path

import environ

from ccsync.database import database_from_env

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
VAR_DIR = Path(env.str("CCSYNC_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("SANDBOX_DEBUG", default=True)
SECRET_KEY = env.str("SANDBOX_SECRET_KEY", default="sandbox-only-not-a-secret")
ALLOWED_HOSTS = ["*"]
# Where people and the app reach the sandbox; issuer and page links are built from it.
SANDBOX_PUBLIC_URL = env.str("SANDBOX_PUBLIC_URL", default="http://127.0.0.1:8001").rstrip("/")

# The app the sandbox's Intuit and Constant Contact know about (the demo's defaults).
SANDBOX_APP_BASE_URL = env.str("SANDBOX_APP_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
SANDBOX_INTUIT_CLIENT_ID = env.str("SANDBOX_INTUIT_CLIENT_ID", default="sandbox-intuit-client")
SANDBOX_INTUIT_CLIENT_SECRET = env.str(
    "SANDBOX_INTUIT_CLIENT_SECRET", default="sandbox-intuit-secret"
)
SANDBOX_WEBHOOK_VERIFIER_TOKEN = env.str(
    "SANDBOX_WEBHOOK_VERIFIER_TOKEN", default="sandbox-webhook-verifier"
)
SANDBOX_CC_CLIENT_ID = env.str("SANDBOX_CC_CLIENT_ID", default="sandbox-cc-client")
SANDBOX_CC_CLIENT_SECRET = env.str("SANDBOX_CC_CLIENT_SECRET", default="sandbox-cc-secret")
# Background work (webhook delivery, import processing) runs in the serving process.
SANDBOX_BACKGROUND = env.bool("SANDBOX_BACKGROUND", default=True)

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "sandbox.control",
    "sandbox.intuit",
    "sandbox.quickbooks",
    "sandbox.constantcontact",
]

MIDDLEWARE = [
    "sandbox.control.middleware.knob_values",
    "sandbox.control.middleware.faults",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "sandbox.urls"
WSGI_APPLICATION = "sandbox.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "sandbox" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": database_from_env(
        env=env, variable="SANDBOX_DATABASE_URL", sqlite_path=VAR_DIR / "sandbox.sqlite3"
    ),
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The app and the sandbox both run on 127.0.0.1: keep their cookies apart.
SESSION_COOKIE_NAME = "sandbox_sessionid"
CSRF_COOKIE_NAME = "sandbox_csrftoken"
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
MESSAGE_STORAGE = "django.contrib.messages.storage.cookie.CookieStorage"

USE_TZ = True
TIME_ZONE = "UTC"
STATIC_URL = "sandbox-static/"
DATA_UPLOAD_MAX_MEMORY_SIZE = 8 * 1024 * 1024  # bulk imports may carry up to 4 MB

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("SANDBOX_LOG_LEVEL", default="WARNING")},
}
