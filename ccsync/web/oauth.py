"""One OAuth 2.0 authorization-code flow for every provider, after django-allauth's
OAuth2LoginView and OAuth2CallbackView.

This module keeps the flow in the session and judges the callback against it: the state is
bound to the session that started the flow, compared in constant time, used once and good
for FLOW_MAX_AGE_SECONDS; a PKCE code verifier stays in the session. An `OAuthAdapter` says
the rest for one provider: where to send the person, what a code is worth, what happens on
success, and its own pages for a refusal or a failure.
"""

import secrets
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.debug import sensitive_variables

from ccsync.web.access import error_page

# An authorization started longer ago than this is not accepted back.
FLOW_MAX_AGE_SECONDS = 15 * 60
# Kept by the flow itself; an adapter's own values go beside them.
_OWN_KEYS = frozenset({"state", "code_verifier", "created"})

GrantT = TypeVar("GrantT")


@dataclass(frozen=True)
class Authorization:
    """Where to send the person, and the secrets the callback is checked with."""

    url: str
    state: str
    code_verifier: str = field(default="", repr=False)  # PKCE only


@dataclass(frozen=True)
class Callback:
    """A callback that matched the flow of this session: the code and what the flow kept."""

    code: str = field(repr=False)
    code_verifier: str = field(repr=False)  # empty unless the adapter uses PKCE
    values: Mapping[str, Any]


class StaleFlow(Exception):
    """The callback cannot finish the flow it names: the "start again" page."""


class OAuthAdapter(ABC, Generic[GrantT]):
    """One provider's part of the flow. `exchange` turns the code into a grant (it may raise
    StaleFlow, `invalid_grant` or `failures`); `succeed` acts on the grant."""

    flow_key: ClassVar[str]  # the session key of the flow
    pkce: ClassVar[bool] = False
    # The provider's "this code is no longer any good": the "start again" page.
    invalid_grant: ClassVar[type[Exception]]
    # Everything else `exchange` may raise that has a page: `failed` answers it.
    failures: ClassVar[tuple[type[Exception], ...]]

    @abstractmethod
    def authorization(self, values: Mapping[str, Any]) -> Authorization:
        """A fresh authorization for a flow that will keep `values`."""

    @abstractmethod
    def restart_url(self, request: HttpRequest) -> str:
        """Where "Start again" sends the person (the flow may be gone: the callback's
        request is all there is)."""

    @abstractmethod
    def denied(self, request: HttpRequest) -> HttpResponse:
        """The person said no (error=access_denied)."""

    @abstractmethod
    def provider_error(self, request: HttpRequest) -> HttpResponse:
        """The provider answered with any other error."""

    @abstractmethod
    def exchange(self, request: HttpRequest, callback: Callback) -> GrantT: ...

    @abstractmethod
    def failed(self, request: HttpRequest, callback: Callback, error: Exception) -> HttpResponse:
        """The page for one of `failures`."""

    @abstractmethod
    def succeed(self, request: HttpRequest, callback: Callback, grant: GrantT) -> HttpResponse: ...


def new_state() -> str:
    """A state for an adapter whose provider library does not make its own."""
    return secrets.token_urlsafe(32)


def authorize(request: HttpRequest, adapter: OAuthAdapter[Any], **values: Any) -> HttpResponse:
    """Starts a flow in this session (ending any earlier one) and sends the person on."""
    authorization = adapter.authorization(values)
    if not authorization.state or (adapter.pkce and not authorization.code_verifier):
        raise ValueError("an authorization needs a state, and a code verifier for PKCE")
    flow = {**values, "state": authorization.state, "created": time.time()}
    if adapter.pkce:
        # Only its S256 challenge leaves the server, in the authorization URL.
        flow["code_verifier"] = authorization.code_verifier
    request.session[adapter.flow_key] = flow
    return redirect(authorization.url)


@sensitive_variables()  # codes and tokens stay out of error reports
def callback(request: HttpRequest, adapter: OAuthAdapter[Any]) -> HttpResponse:
    """The provider's redirect back: judged against the flow, which it ends either way."""
    flow = _take_flow(request, adapter.flow_key)
    error = request.GET.get("error")
    if error == "access_denied":
        return adapter.denied(request)
    if error:
        return adapter.provider_error(request)
    if flow is None:
        return _stale_flow(request, restart_url=adapter.restart_url(request))
    answer = Callback(
        code=request.GET.get("code", ""),
        code_verifier=str(flow.get("code_verifier", "")) if adapter.pkce else "",
        values={name: value for name, value in flow.items() if name not in _OWN_KEYS},
    )
    try:
        grant = adapter.exchange(request, answer)
    except (StaleFlow, adapter.invalid_grant):
        return _stale_flow(request, restart_url=adapter.restart_url(request))
    except adapter.failures as failure:
        return adapter.failed(request, answer, failure)
    return adapter.succeed(request, answer, grant)


def _take_flow(request: HttpRequest, key: str) -> dict[str, Any] | None:
    """The flow started in this session if the callback's state matches it; used once."""
    flow = request.session.pop(key, None)
    state = request.GET.get("state", "")
    if not isinstance(flow, dict) or not state:
        return None
    if time.time() - float(flow.get("created", 0)) > FLOW_MAX_AGE_SECONDS:
        return None
    # As bytes: compare_digest refuses str with non-ASCII characters (a forged state may
    # hold any).
    if not secrets.compare_digest(str(flow.get("state", "")).encode(), state.encode()):
        return None
    return flow


def _stale_flow(request: HttpRequest, *, restart_url: str) -> HttpResponse:
    return error_page(
        request,
        title="This sign-in link has expired",
        message=(
            "The authorization did not come back from the page that started it, or it was "
            "already used. Nothing was saved. Please start again."
        ),
        action_url=restart_url,
        action_label="Start again",
    )
