"""Settings checks: the app refuses to start when it would be unsafe or could not work.

Registered as Django system checks, so every manage.py command that checks (migrate,
runserver, check) runs them, and run explicitly when gunicorn's master starts
(ccsync/gunicorn_conf.py) and when a Celery worker or beat starts (ccsync/ops/celery.py).
An Error stops the process; a Warning is printed.

Production is DEBUG off. There, beyond the secrets and keys, every provider endpoint must
be the real one or at least https: the offline sandbox (and any other fake) only speaks
plain http, so "the sandbox is enabled" means "a provider URL is not https". The rule:
- INTUIT_ENVIRONMENT is `production`, `sandbox` (Intuit's own developer sandbox, real
  Intuit servers) or an https URL of a discovery document;
- QUICKBOOKS_API_BASE, QUICKBOOKS_APP_BASE (the customer pages linked) and the Constant
  Contact authorize, token, revoke and API URLs are https;
- PUBLIC_BASE_URL and both OAuth redirect URIs are https (Intuit requires it);
- none of the sandbox's published app keys or the demo's encryption key is used.
With DEBUG on (the demo, development) missing keys are Warnings and http is allowed.
"""

import sys
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register, run_checks
from django.core.exceptions import ImproperlyConfigured

INSECURE_SECRET_KEYS = {"insecure-dev-only-key"}
# Published in demo.env: anyone could decrypt tokens stored under it.
DEMO_ENCRYPTION_KEYS = {"ZGVtby1vbmx5LWtleS1kby1ub3QtdXNlLWluLXByb2Q="}
PROVIDER_KEYS = (
    "INTUIT_CLIENT_ID",
    "INTUIT_CLIENT_SECRET",
    "INTUIT_WEBHOOK_VERIFIER_TOKEN",
    "CONSTANTCONTACT_CLIENT_ID",
    "CONSTANTCONTACT_CLIENT_SECRET",
)
# The app keys the offline sandbox registers by default (demo.env, tests).
SANDBOX_KEYS = {
    "sandbox-intuit-client",
    "sandbox-intuit-secret",
    "sandbox-webhook-verifier",
    "sandbox-cc-client",
    "sandbox-cc-secret",
}
PROVIDER_URLS = (
    "QUICKBOOKS_API_BASE",
    "QUICKBOOKS_APP_BASE",
    "CONSTANTCONTACT_AUTHORIZE_URL",
    "CONSTANTCONTACT_TOKEN_URL",
    "CONSTANTCONTACT_REVOKE_URL",
    "CONSTANTCONTACT_API_BASE",
)
APP_URLS = ("PUBLIC_BASE_URL", "INTUIT_REDIRECT_URI", "CONSTANTCONTACT_REDIRECT_URI")
INTUIT_NAMED_ENVIRONMENTS = {"production", "sandbox"}


def is_https(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "https" and bool(parts.hostname)


def invalid_fernet_keys(keys: Sequence[Any]) -> list[int]:
    """Positions (from 1) of the keys that are not Fernet keys."""
    bad = []
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key.encode() if isinstance(key, str) else key)
        except (ValueError, TypeError):
            bad.append(position)
    return bad


def _secret_problems(production: bool) -> Iterable[CheckMessage]:
    def missing(message: str, number: str, hint: str | None = None) -> CheckMessage:
        if production:
            return Error(message, hint=hint, id=f"ops.E{number}")
        return Warning(message, hint=hint, id=f"ops.W{number}")

    try:
        secret = settings.SECRET_KEY
    except ImproperlyConfigured:  # Django refuses to read an empty one
        secret = ""
    if not secret:
        yield Error("SECRET_KEY is not set.", hint="Set SECRET_KEY.", id="ops.E001")
    elif production and secret in INSECURE_SECRET_KEYS:
        yield Error("SECRET_KEY is the development key.", hint="Set SECRET_KEY.", id="ops.E001")

    keys = list(settings.TOKEN_ENCRYPTION_KEYS)
    if not keys:
        yield missing(
            "TOKEN_ENCRYPTION_KEYS is not set: tokens cannot be stored.",
            "002",
            hint="Set at least one Fernet key (see README, 'Using real keys').",
        )
    if bad := invalid_fernet_keys(keys):
        yield Error(
            f"TOKEN_ENCRYPTION_KEYS: key {', '.join(map(str, bad))} is not a Fernet key.",
            hint="A Fernet key is 32 url-safe base64-encoded bytes.",
            id="ops.E003",
        )
    if production and DEMO_ENCRYPTION_KEYS.intersection(keys):
        yield Error(
            "TOKEN_ENCRYPTION_KEYS holds the demo's published key.",
            hint="Generate a key of your own.",
            id="ops.E003",
        )

    for name in PROVIDER_KEYS:
        value = getattr(settings, name)
        if not value:
            yield missing(f"{name} is not set.", "004")
        elif production and value in SANDBOX_KEYS:
            yield Error(
                f"{name} is the offline sandbox's key: the sandbox is enabled.",
                hint="Use the keys of your Intuit and Constant Contact apps.",
                id="ops.E005",
            )


def _endpoint_problems() -> Iterable[CheckMessage]:
    environment = settings.INTUIT_ENVIRONMENT
    if environment not in INTUIT_NAMED_ENVIRONMENTS and not is_https(environment):
        yield Error(
            "INTUIT_ENVIRONMENT is neither 'production', 'sandbox' nor an https URL: "
            "the offline sandbox (or another fake) is enabled.",
            id="ops.E005",
        )
    for name in PROVIDER_URLS:
        if not is_https(getattr(settings, name)):
            yield Error(
                f"{name} is not an https URL: the offline sandbox (or another fake) is enabled.",
                id="ops.E005",
            )
    for name in APP_URLS:
        if not is_https(getattr(settings, name)):
            yield Error(
                f"{name} is not an https URL: Intuit and browsers need the app on https.",
                hint="Set PUBLIC_BASE_URL to the app's https address.",
                id="ops.E007",
            )
    if not settings.SUPPORT_EMAIL:
        yield Warning(
            "SUPPORT_EMAIL is not set: the Help page gives people no address to write to.",
            hint="Set SUPPORT_EMAIL to the address that answers the app's users.",
            id="ops.W009",
        )
    if not settings.ALLOWED_HOSTS:
        yield Error("ALLOWED_HOSTS is empty.", hint="Set ALLOWED_HOSTS.", id="ops.E006")
    if not settings.SESSION_COOKIE_SECURE or not settings.CSRF_COOKIE_SECURE:
        yield Error(
            "Cookies are not marked Secure (HTTPS=false).",
            hint="Serve over https and leave HTTPS unset.",
            id="ops.E008",
        )


@register()
def production_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    production = not settings.DEBUG
    problems = list(_secret_problems(production))
    if production:
        problems += _endpoint_problems()
    return problems


def refuse_to_start() -> None:
    """Run every system check (as manage.py does); exit the process if one is an Error.

    For the processes manage.py does not start: gunicorn's master and Celery."""
    messages = [message for message in run_checks() if not message.is_silenced()]
    for message in messages:
        print(message, file=sys.stderr)
    if any(message.is_serious() for message in messages):
        print("ccsync refuses to start: fix the errors above.", file=sys.stderr)
        raise SystemExit(1)
