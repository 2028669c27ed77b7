"""Production settings: the app refuses to start when a secret or key is missing or the
sandbox is enabled; through manage.py, gunicorn, a Celery worker and beat alike."""

import subprocess
import sys
import time

import pytest
import requests
from cryptography.fernet import Fernet

from ccsync.ops.checks import production_settings
from support.sandbox_server import free_port
from tests.ops.conftest import ROOT, production_env, run

SANDBOX = "http://127.0.0.1:8001"


@pytest.fixture
def production(settings):
    """Settings of a correct production deployment (DEBUG off, real endpoints)."""
    settings.DEBUG = False
    settings.SECRET_KEY = "a-long-random-production-secret"
    settings.ALLOWED_HOSTS = ["ccsync.example.com"]
    settings.TOKEN_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    settings.INTUIT_ENVIRONMENT = "production"
    settings.PUBLIC_BASE_URL = "https://ccsync.example.com"
    settings.INTUIT_REDIRECT_URI = "https://ccsync.example.com/auth/intuit/callback/"
    settings.CONSTANTCONTACT_REDIRECT_URI = (
        "https://ccsync.example.com/auth/constantcontact/callback/"
    )
    settings.QUICKBOOKS_API_BASE = "https://quickbooks.api.intuit.com"
    settings.QUICKBOOKS_APP_BASE = "https://app.qbo.intuit.com"
    settings.SUPPORT_EMAIL = "help@ccsync.example.com"
    settings.CONSTANTCONTACT_AUTHORIZE_URL = "https://authz.constantcontact.com/oauth2/authorize"
    settings.CONSTANTCONTACT_TOKEN_URL = "https://authz.constantcontact.com/oauth2/token"
    settings.CONSTANTCONTACT_REVOKE_URL = "https://authz.constantcontact.com/oauth2/revoke"
    settings.CONSTANTCONTACT_API_BASE = "https://api.cc.email/v3"
    for name in ("INTUIT_CLIENT_ID", "INTUIT_CLIENT_SECRET", "INTUIT_WEBHOOK_VERIFIER_TOKEN"):
        setattr(settings, name, f"real-{name.lower()}")
    settings.CONSTANTCONTACT_CLIENT_ID = "real-cc-client"
    settings.CONSTANTCONTACT_CLIENT_SECRET = "real-cc-secret"
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    return settings


def errors(settings) -> set[str]:
    return {m.id for m in production_settings() if m.is_serious()}


def test_a_correct_production_configuration_passes(production):
    assert production_settings() == []


def test_intuits_own_developer_sandbox_and_an_https_discovery_url_are_allowed(production):
    production.INTUIT_ENVIRONMENT = "sandbox"
    assert production_settings() == []
    production.INTUIT_ENVIRONMENT = "https://id.example.com/.well-known/openid_configuration"
    assert production_settings() == []


@pytest.mark.parametrize(
    ("name", "value", "error"),
    [
        ("SECRET_KEY", "", "ops.E001"),
        ("SECRET_KEY", "insecure-dev-only-key", "ops.E001"),
        ("TOKEN_ENCRYPTION_KEYS", [], "ops.E002"),
        ("TOKEN_ENCRYPTION_KEYS", ["not-a-fernet-key"], "ops.E003"),
        ("TOKEN_ENCRYPTION_KEYS", ["ZGVtby1vbmx5LWtleS1kby1ub3QtdXNlLWluLXByb2Q="], "ops.E003"),
        ("INTUIT_CLIENT_ID", "", "ops.E004"),
        ("INTUIT_CLIENT_SECRET", "", "ops.E004"),
        ("INTUIT_WEBHOOK_VERIFIER_TOKEN", "", "ops.E004"),
        ("CONSTANTCONTACT_CLIENT_ID", "", "ops.E004"),
        ("CONSTANTCONTACT_CLIENT_SECRET", "", "ops.E004"),
        # The offline sandbox: its app keys, its plain-http endpoints.
        ("INTUIT_CLIENT_ID", "sandbox-intuit-client", "ops.E005"),
        ("CONSTANTCONTACT_CLIENT_SECRET", "sandbox-cc-secret", "ops.E005"),
        (
            "INTUIT_ENVIRONMENT",
            f"{SANDBOX}/intuit/.well-known/openid_configuration",
            "ops.E005",
        ),
        ("INTUIT_ENVIRONMENT", "staging", "ops.E005"),
        ("QUICKBOOKS_API_BASE", f"{SANDBOX}/quickbooks", "ops.E005"),
        ("QUICKBOOKS_APP_BASE", SANDBOX, "ops.E005"),
        ("CONSTANTCONTACT_AUTHORIZE_URL", f"{SANDBOX}/cc/oauth2/default/v1/authorize", "ops.E005"),
        ("CONSTANTCONTACT_TOKEN_URL", f"{SANDBOX}/cc/oauth2/default/v1/token", "ops.E005"),
        ("CONSTANTCONTACT_REVOKE_URL", f"{SANDBOX}/cc/oauth2/default/v1/revoke", "ops.E005"),
        ("CONSTANTCONTACT_API_BASE", f"{SANDBOX}/cc/v3", "ops.E005"),
        ("PUBLIC_BASE_URL", "http://ccsync.example.com", "ops.E007"),
        ("INTUIT_REDIRECT_URI", "http://ccsync.example.com/auth/intuit/callback/", "ops.E007"),
        ("ALLOWED_HOSTS", [], "ops.E006"),
        ("SESSION_COOKIE_SECURE", False, "ops.E008"),
    ],
)
def test_production_refuses(production, name, value, error):
    setattr(production, name, value)
    assert errors(production) == {error}


def test_production_warns_when_help_gives_no_support_address(production):
    production.SUPPORT_EMAIL = ""
    assert [m.id for m in production_settings()] == ["ops.W009"]
    assert errors(production) == set()


def test_with_debug_on_missing_keys_are_warnings_and_http_is_allowed(production):
    production.DEBUG = True
    production.TOKEN_ENCRYPTION_KEYS = []
    production.INTUIT_CLIENT_ID = "sandbox-intuit-client"
    production.CONSTANTCONTACT_CLIENT_SECRET = ""
    production.QUICKBOOKS_API_BASE = f"{SANDBOX}/quickbooks"
    production.PUBLIC_BASE_URL = "http://127.0.0.1:8000"
    messages = production_settings()
    assert {m.id for m in messages} == {"ops.W002", "ops.W004"}
    assert not any(m.is_serious() for m in messages)


def test_with_debug_on_an_invalid_key_is_still_an_error(production):
    production.DEBUG = True
    production.TOKEN_ENCRYPTION_KEYS = ["nope"]
    assert errors(production) == {"ops.E003"}


# --- the processes themselves ---------------------------------------------------------------

BROKEN = {"TOKEN_ENCRYPTION_KEYS": "", "QUICKBOOKS_API_BASE": f"{SANDBOX}/quickbooks"}


def _assert_refused(done: subprocess.CompletedProcess) -> None:
    assert done.returncode != 0, done.stdout + done.stderr
    assert "ops.E002" in done.stderr and "ops.E005" in done.stderr, done.stderr


def test_manage_py_refuses():
    _assert_refused(run("manage.py", "check", env=production_env(**BROKEN)))


@pytest.mark.parametrize("program", ["worker", "beat"])
def test_celery_refuses(program, tmp_path):
    args = ["-m", "celery", "-A", "ccsync", program, "-l", "warning"]
    if program == "beat":
        args += ["-s", str(tmp_path / "schedule")]
    _assert_refused(run(*args, env=production_env(**BROKEN)))


def test_gunicorn_refuses():
    args = ["-m", "gunicorn", "ccsync.wsgi", "-c", "python:ccsync.gunicorn_conf"]
    _assert_refused(run(*args, "-b", f"127.0.0.1:{free_port()}", env=production_env(**BROKEN)))


def test_gunicorn_starts_in_production_and_answers_probes_by_address():
    """With a correct configuration gunicorn serves; a health probe by IP address gets an
    answer while any page for a host not in ALLOWED_HOSTS is refused."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "ccsync.wsgi", "-c", "python:ccsync.gunicorn_conf"]
        + ["-b", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=production_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                health = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except requests.ConnectionError:
                assert process.poll() is None, process.stderr.read()
                assert time.monotonic() < deadline, "gunicorn did not answer"
                time.sleep(0.2)
        assert (health.status_code, health.text) == (200, "ok\n")
        assert requests.get(f"http://127.0.0.1:{port}/", timeout=5).status_code == 400
    finally:
        process.terminate()
        process.wait(timeout=15)
