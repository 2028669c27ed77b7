"""The OAuth flow both providers share, with a stand-in adapter: no provider, no sandbox."""

import time
from collections.abc import Mapping
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from ccsync.web import oauth


class Refused(Exception):
    pass


class InvalidGrant(Exception):
    pass


class StandIn(oauth.OAuthAdapter[str]):
    flow_key = "oauth_standin"
    invalid_grant = InvalidGrant
    failures = (Refused,)

    def __init__(self, *, pkce: bool = False, verifier: str = "v" * 64, raises=None) -> None:
        self.pkce = pkce
        self.verifier = verifier
        self.raises = raises
        self.exchanged: list[oauth.Callback] = []

    def authorization(self, values: Mapping[str, Any]) -> oauth.Authorization:
        state = oauth.new_state()
        return oauth.Authorization(
            url=f"https://provider.example/authorize?state={state}",
            state=state,
            code_verifier=self.verifier if self.pkce else "",
        )

    def restart_url(self, request: HttpRequest) -> str:
        return "/start/"

    def denied(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse("denied", status=400)

    def provider_error(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse("provider error", status=400)

    def exchange(self, request: HttpRequest, callback: oauth.Callback) -> str:
        self.exchanged.append(callback)
        if self.raises is not None:
            raise self.raises
        return f"grant for {callback.code}"

    def failed(
        self, request: HttpRequest, callback: oauth.Callback, error: Exception
    ) -> HttpResponse:
        return HttpResponse(f"failed: {type(error).__name__}", status=502)

    def succeed(self, request: HttpRequest, callback: oauth.Callback, grant: str) -> HttpResponse:
        return HttpResponse(grant)


class Session:
    """One browser session: its session store outlives each request."""

    def __init__(self) -> None:
        self.store: dict[str, Any] = {}

    def request(self, path: str = "/", **params: str) -> HttpRequest:
        request = RequestFactory().get(path, params)
        request.session = self.store
        request.user = AnonymousUser()
        return request

    def start(self, adapter: StandIn, **values: Any) -> str:
        """Starts a flow; the state the provider would send back."""
        answer = oauth.authorize(self.request(), adapter, **values)
        assert answer.status_code == 302
        return self.store[adapter.flow_key]["state"]

    def back(self, adapter: StandIn, **params: str) -> HttpResponse:
        return oauth.callback(self.request("/callback/", **params), adapter)


def is_stale(answer: HttpResponse) -> bool:
    page = answer.content.decode()
    return (
        answer.status_code == 400 and "This sign-in link has expired" in page and "/start/" in page
    )


def test_a_matching_callback_is_exchanged_once_with_the_flow_values():
    adapter, browser = StandIn(), Session()
    state = browser.start(adapter, intent="launch", next="/settings/")
    assert "code_verifier" not in browser.store[adapter.flow_key]
    answer = browser.back(adapter, state=state, code="c1")
    assert answer.content == b"grant for c1"
    (callback,) = adapter.exchanged
    assert callback.values == {"intent": "launch", "next": "/settings/"}
    assert callback.code_verifier == ""
    # Used once: the same answer again is stale, and nothing more is exchanged.
    assert is_stale(browser.back(adapter, state=state, code="c1"))
    assert len(adapter.exchanged) == 1


def test_pkce_keeps_the_verifier_in_the_session_and_hands_it_to_the_exchange():
    adapter, browser = StandIn(pkce=True), Session()
    answer = oauth.authorize(browser.request(), adapter)
    assert adapter.verifier not in answer["Location"]
    state = browser.store[adapter.flow_key]["state"]
    browser.back(adapter, state=state, code="c1")
    assert adapter.exchanged[0].code_verifier == adapter.verifier


def test_a_pkce_adapter_without_a_verifier_starts_nothing():
    adapter, browser = StandIn(pkce=True, verifier=""), Session()
    with pytest.raises(ValueError):
        oauth.authorize(browser.request(), adapter)
    assert adapter.flow_key not in browser.store


def test_flow_values_cannot_replace_the_flows_own():
    adapter, browser = StandIn(), Session()
    state = browser.start(adapter, state="chosen", created=0)
    assert state != "chosen"
    assert browser.store[adapter.flow_key]["created"] > 0


@pytest.mark.parametrize("forged", ["", "forged", "ßtate", "x" * 5000])
def test_a_forged_state_is_stale_and_ends_the_flow(forged):
    adapter, browser = StandIn(), Session()
    state = browser.start(adapter)
    assert is_stale(browser.back(adapter, state=forged, code="c1"))
    assert is_stale(browser.back(adapter, state=state, code="c1"))
    assert adapter.exchanged == []


def test_a_callback_in_another_session_is_stale():
    adapter = StandIn()
    state = Session().start(adapter)
    assert is_stale(Session().back(adapter, state=state, code="c1"))
    assert adapter.exchanged == []


def test_a_flow_started_too_long_ago_is_stale():
    adapter, browser = StandIn(), Session()
    state = browser.start(adapter)
    browser.store[adapter.flow_key]["created"] = time.time() - oauth.FLOW_MAX_AGE_SECONDS - 1
    assert is_stale(browser.back(adapter, state=state, code="c1"))
    assert adapter.exchanged == []


@pytest.mark.parametrize(
    ("error", "page"), [("access_denied", b"denied"), ("server_error", b"provider error")]
)
def test_an_error_answer_gets_the_adapters_page_and_ends_the_flow(error, page):
    adapter, browser = StandIn(), Session()
    state = browser.start(adapter)
    assert browser.back(adapter, state=state, error=error).content == page
    assert adapter.flow_key not in browser.store
    assert adapter.exchanged == []


@pytest.mark.parametrize(
    ("raises", "stale", "page"),
    [
        (oauth.StaleFlow(), True, b""),
        (InvalidGrant(), True, b""),
        (Refused(), False, b"failed: Refused"),
    ],
)
def test_what_the_exchange_raises_decides_the_page(raises, stale, page):
    adapter, browser = StandIn(raises=raises), Session()
    answer = browser.back(adapter, state=browser.start(adapter), code="c1")
    assert is_stale(answer) is stale
    assert page in answer.content
