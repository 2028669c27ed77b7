"""`manage.py preflight` against the sandbox: a deployment ready for go-live, and each
failure the checklist must name (ccsync/ops/preflight.py)."""

import io

import pytest
from django.core.management import CommandError, call_command

from ccsync.ops import preflight

PUBLIC = "https://ccsync.example.com"


@pytest.fixture
def deployment(sandbox_settings):
    """The sandbox as Intuit and Constant Contact, the app at an https address."""
    settings = sandbox_settings
    settings.PUBLIC_BASE_URL = PUBLIC
    settings.INTUIT_REDIRECT_URI = f"{PUBLIC}/auth/intuit/callback/"
    settings.CONSTANTCONTACT_REDIRECT_URI = f"{PUBLIC}/auth/constantcontact/callback/"
    return settings


def preflight_lines(*, fails: bool) -> list[str]:
    out = io.StringIO()
    if fails:
        with pytest.raises(CommandError) as raised:
            call_command("preflight", stdout=out)
        assert raised.value.returncode == 1
    else:
        call_command("preflight", stdout=out)
    return out.getvalue().splitlines()


def line(lines: list[str], name: str) -> str:
    (found,) = [text for text in lines if text[8:].startswith(f"{name}: ")]
    return found


def test_a_deployment_ready_for_go_live(deployment, sandbox):
    lines = preflight_lines(fails=False)

    assert lines[-1] == "All 14 checks passed."
    assert all(text.startswith("ok      ") for text in lines[:-1]), "\n".join(lines)
    assert line(lines, "Intuit discovery document") == (
        f"ok      Intuit discovery document: {sandbox.discovery_url}"
    )
    assert line(lines, "Intuit JWKS").endswith("/intuit/op/v1/jwks (1 key)")
    assert [line(lines, label)[8:] for label, _ in preflight.INTUIT_APP_PAGES] == [
        f"Launch URL: {PUBLIC}/launch/",
        f"Connect URL (Get App Now): {PUBLIC}/connect/",
        f"Disconnect URL: {PUBLIC}/disconnect/",
        f"Reconnect URL: {PUBLIC}/reconnect/",
        f"Webhook endpoint: {PUBLIC}/webhooks/quickbooks/",
    ]
    assert line(lines, "Intuit redirect URI").endswith(f"{PUBLIC}/auth/intuit/callback/")
    assert line(lines, "Intuit client credentials") == (
        "ok      Intuit client credentials: accepted (a code never issued was refused as "
        "invalid_grant)"
    )
    assert line(lines, "Constant Contact client credentials").startswith("ok      ")


@pytest.mark.parametrize(
    ("setting", "check", "keys"),
    [
        ("INTUIT_CLIENT_SECRET", "Intuit client credentials", "INTUIT_CLIENT_ID"),
        (
            "CONSTANTCONTACT_CLIENT_SECRET",
            "Constant Contact client credentials",
            "CONSTANTCONTACT_CLIENT_ID",
        ),
    ],
)
def test_a_wrong_client_secret_is_refused_as_invalid_client(deployment, setting, check, keys):
    setattr(deployment, setting, "not-the-secret")

    lines = preflight_lines(fails=True)

    assert line(lines, check).startswith(
        f"FAILED  {check}: refused as invalid_client: set {keys} and {setting}"
    )
    assert sum(text.startswith("FAILED") for text in lines) == 1


def test_an_http_public_base_url_fails_every_url_intuit_registers(deployment):
    base = "http://ccsync.example.com"
    deployment.PUBLIC_BASE_URL = base
    deployment.INTUIT_REDIRECT_URI = f"{base}/auth/intuit/callback/"
    deployment.CONSTANTCONTACT_REDIRECT_URI = f"{base}/auth/constantcontact/callback/"

    lines = preflight_lines(fails=True)

    assert line(lines, "PUBLIC_BASE_URL") == (
        f"FAILED  PUBLIC_BASE_URL: {base} is not HTTPS, which Intuit and Constant Contact "
        "require: set it to the https:// address people reach the app at"
    )
    for label in ("Launch URL", "Webhook endpoint", "Intuit redirect URI"):
        assert line(lines, label).startswith(f"FAILED  {label}: {base}/")
    assert line(lines, "Intuit client credentials").startswith("ok")


def test_a_redirect_uri_that_is_not_this_deployments_callback(deployment):
    deployment.INTUIT_REDIRECT_URI = "https://elsewhere.example.com/auth/intuit/callback/"

    lines = preflight_lines(fails=True)

    assert line(lines, "Intuit redirect URI") == (
        "FAILED  Intuit redirect URI: INTUIT_REDIRECT_URI is https://elsewhere.example.com/"
        f"auth/intuit/callback/, but this deployment's callback is {PUBLIC}/auth/intuit/"
        f"callback/: leave INTUIT_REDIRECT_URI unset or set it to {PUBLIC}/auth/intuit/"
        "callback/"
    )


def test_a_missing_verifier_token(deployment):
    deployment.INTUIT_WEBHOOK_VERIFIER_TOKEN = ""

    lines = preflight_lines(fails=True)

    assert line(lines, "INTUIT_WEBHOOK_VERIFIER_TOKEN").startswith(
        "FAILED  INTUIT_WEBHOOK_VERIFIER_TOKEN: not set"
    )


@pytest.mark.parametrize(
    ("keys", "found"),
    [([], "not set"), (["not-a-key"], "key(s) [1] are not Fernet keys")],
)
def test_missing_or_bad_encryption_keys(deployment, keys, found):
    deployment.TOKEN_ENCRYPTION_KEYS = keys

    lines = preflight_lines(fails=True)

    found_line = line(lines, "TOKEN_ENCRYPTION_KEYS")
    assert found_line.startswith(f"FAILED  TOKEN_ENCRYPTION_KEYS: {found}")


def test_discovery_document_unreachable(deployment, sandbox, knobs):
    knobs(intuit_endpoints_down=["discovery"])

    lines = preflight_lines(fails=True)

    assert line(lines, "Intuit discovery document").startswith(
        f"FAILED  Intuit discovery document: {sandbox.discovery_url}: Intuit discovery "
        "document answered 503: set INTUIT_ENVIRONMENT"
    )
    assert line(lines, "Intuit JWKS") == (
        "FAILED  Intuit JWKS: not checked without the discovery document"
    )


def test_discovery_document_nowhere(deployment):
    deployment.INTUIT_ENVIRONMENT = "http://127.0.0.1:9/.well-known/openid_configuration"

    lines = preflight_lines(fails=True)

    assert line(lines, "Intuit discovery document").startswith(
        "FAILED  Intuit discovery document: http://127.0.0.1:9/.well-known/openid_configuration"
        ": Intuit discovery document: ConnectionError"
    )


def test_jwks_unreachable(deployment, knobs):
    knobs(intuit_endpoints_down=["jwks"])

    lines = preflight_lines(fails=True)

    assert line(lines, "Intuit discovery document").startswith("ok")
    assert "Intuit JWKS answered 503: let this host reach it" in line(lines, "Intuit JWKS")


def test_a_page_intuit_needs_that_the_deployment_lacks(deployment, monkeypatch):
    """Reported missing, and the rest of the checklist still runs."""
    pages = (*preflight.INTUIT_APP_PAGES, ("Privacy policy", "no_such_page"))
    monkeypatch.setattr(preflight, "INTUIT_APP_PAGES", pages)

    lines = preflight_lines(fails=True)

    assert line(lines, "Privacy policy") == (
        'FAILED  Privacy policy: this deployment has no page named "no_such_page"'
    )
    assert line(lines, "TOKEN_ENCRYPTION_KEYS").startswith("ok")
