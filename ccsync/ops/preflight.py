"""The go-live preflight (`manage.py preflight`, docs/operating.md): the deployment checked
against the real providers before any company installs the app.

Intuit's discovery document and JWKS answer; every URL the Intuit app registers (and the
Constant Contact redirect URI) is this deployment's, under PUBLIC_BASE_URL, over HTTPS;
both providers accept the app's client credentials, asked by exchanging an authorization
code they never issued, which a token endpoint refuses as invalid_grant once it has
accepted the client and as invalid_client when it has not (RFC 6749 5.2); the webhook
verifier token and the token encryption keys are set. Each check is one line, found or
failed with what to do; every network call has the provider timeout.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import NoReverseMatch, get_resolver, reverse

from ccsync.ops.checks import DEMO_ENCRYPTION_KEYS, invalid_fernet_keys, is_https
from integrations.constantcontact import oauth as constantcontact_oauth
from integrations.http import ProviderError
from integrations.quickbooks import oauth as quickbooks_oauth

# The app's pages registered in the Intuit app's settings: (what Intuit calls it, URL name).
INTUIT_APP_PAGES = (
    ("Launch URL", "launch"),
    ("Connect URL (Get App Now)", "connect"),
    ("Disconnect URL", "disconnect"),
    ("Reconnect URL", "reconnect"),
    ("Webhook endpoint", "quickbooks_webhook"),
)
# The OAuth redirect URIs: (label, URL name, the setting the app sends as redirect_uri).
REDIRECT_URIS = (
    ("Intuit redirect URI", "intuit_callback", "INTUIT_REDIRECT_URI"),
    ("Constant Contact redirect URI", "constantcontact_callback", "CONSTANTCONTACT_REDIRECT_URI"),
)
# What the app reads from the discovery document.
DISCOVERED = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
ACCEPTED = "invalid_grant"  # a made-up code refused, the client accepted
REFUSED = "invalid_client"
HTTPS_NEEDED = "is not HTTPS, which Intuit and Constant Contact require"


@dataclass(frozen=True)
class Check:
    """One line of the checklist: what was found (`ok`), or what failed and what to do."""

    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'ok' if self.ok else 'FAILED':<8}{self.name}: {self.detail}"


def run() -> Iterator[Check]:
    """Every check, in the checklist's order, each as soon as it is known."""
    yield from _intuit_endpoints()
    yield from _app_urls()
    yield _credentials(
        "Intuit client credentials",
        quickbooks_oauth.client_credentials_refusal,
        keys="INTUIT_CLIENT_ID and INTUIT_CLIENT_SECRET to the Intuit app's keys "
        "(Keys & credentials, of the environment INTUIT_ENVIRONMENT names)",
    )
    yield _credentials(
        "Constant Contact client credentials",
        constantcontact_oauth.client_credentials_refusal,
        keys="CONSTANTCONTACT_CLIENT_ID and CONSTANTCONTACT_CLIENT_SECRET to the "
        "application's API key and client secret",
    )
    yield _verifier_token()
    yield _encryption_keys()


def _intuit_endpoints() -> Iterator[Check]:
    url = quickbooks_oauth.discovery_url()
    try:
        document = quickbooks_oauth.fetch_json(url=url, what="discovery document")
    except ProviderError as error:
        cause = str(error)
    else:
        missing = [key for key in DISCOVERED if not isinstance(document.get(key), str)]
        cause = f"it names no {', '.join(missing)}" if missing else ""
    if cause:
        yield Check(
            "Intuit discovery document",
            False,
            f"{url}: {cause}: set INTUIT_ENVIRONMENT to 'production', 'sandbox' or the URL "
            "of a discovery document, and let this host reach it",
        )
        yield Check("Intuit JWKS", False, "not checked without the discovery document")
        return
    yield Check("Intuit discovery document", True, url)
    jwks_uri = document["jwks_uri"]
    try:
        keys = quickbooks_oauth.fetch_json(url=jwks_uri, what="JWKS").get("keys")
    except ProviderError as error:
        yield Check("Intuit JWKS", False, f"{jwks_uri}: {error}: let this host reach it")
        return
    if not isinstance(keys, list) or not keys:
        yield Check("Intuit JWKS", False, f"{jwks_uri} holds no keys: ID tokens cannot be checked")
        return
    yield Check("Intuit JWKS", True, f"{jwks_uri} ({_keys(len(keys))})")


def page_path(name: str) -> str | None:
    """The path of the URL named `name`, in whichever namespace the URLconf keeps it."""
    for candidate in (name, *(f"{space}:{name}" for space in get_resolver().namespace_dict)):
        try:
            return reverse(candidate)
        except NoReverseMatch:
            continue
    return None


def _app_urls() -> Iterator[Check]:
    base = settings.PUBLIC_BASE_URL
    if is_https(base):
        yield Check("PUBLIC_BASE_URL", True, f"{base} (host domain {urlsplit(base).hostname})")
    else:
        yield Check(
            "PUBLIC_BASE_URL",
            False,
            f"{base} {HTTPS_NEEDED}: set it to the https:// address people reach the app at",
        )
    for label, name, setting in REDIRECT_URIS:
        yield _redirect_uri(label, name, setting)
    for label, name in INTUIT_APP_PAGES:
        path = page_path(name)
        if path is None:
            yield Check(label, False, f'this deployment has no page named "{name}"')
        else:
            yield _app_url(label, base + path)


def _app_url(label: str, url: str) -> Check:
    if is_https(url):
        return Check(label, True, url)
    return Check(label, False, f"{url} {HTTPS_NEEDED}: set PUBLIC_BASE_URL to the https:// one")


def _redirect_uri(label: str, name: str, setting: str) -> Check:
    sent = getattr(settings, setting)
    path = page_path(name)
    own = settings.PUBLIC_BASE_URL + path if path else None
    if own is None:
        return Check(label, False, f'this deployment has no page named "{name}"')
    if sent != own:
        return Check(
            label,
            False,
            f"{setting} is {sent}, but this deployment's callback is {own}: leave "
            f"{setting} unset or set it to {own}",
        )
    return _app_url(label, sent)


def _credentials(name: str, refusal: Callable[[], str], *, keys: str) -> Check:
    try:
        error = refusal()
    except ProviderError as failure:
        return Check(name, False, f"could not ask: {failure}")
    if error == ACCEPTED:
        return Check(name, True, f"accepted (a code never issued was refused as {ACCEPTED})")
    if error == REFUSED:
        return Check(name, False, f"refused as {REFUSED}: set {keys}")
    return Check(name, False, f"a code never issued was refused as {error}, not {ACCEPTED}")


def _verifier_token() -> Check:
    name = "INTUIT_WEBHOOK_VERIFIER_TOKEN"
    if settings.INTUIT_WEBHOOK_VERIFIER_TOKEN:
        return Check(name, True, "set")
    return Check(
        name,
        False,
        "not set: every webhook delivery would be refused; copy the verifier token from "
        "the Intuit app's Webhooks page",
    )


def _encryption_keys() -> Check:
    name = "TOKEN_ENCRYPTION_KEYS"
    keys = settings.TOKEN_ENCRYPTION_KEYS
    generate = (
        'generate one with python -c "from cryptography.fernet import Fernet; '
        'print(Fernet.generate_key().decode())"'
    )
    if not keys:
        return Check(name, False, f"not set: {generate}")
    bad = invalid_fernet_keys(keys)
    if bad:
        return Check(name, False, f"key(s) {bad} are not Fernet keys: {generate}")
    if DEMO_ENCRYPTION_KEYS & set(keys):
        return Check(name, False, f"the demo's published key is among them: {generate}")
    return Check(name, True, _keys(len(keys)))


def _keys(count: int) -> str:
    return f"{count} key" if count == 1 else f"{count} keys"
