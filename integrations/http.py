"""The HTTP transport shared by the provider clients.

Each client owns one `Transport` (one requests.Session, so connections are pooled). The
transport adds the bearer token and the timeouts, calls the rate-limiter hook before every
request and the caller's `after_response` hook after it (the metrics, wired from above),
renews the token once after a 401, waits out a passing throttle where the provider says
which error that is (the one request again, after THROTTLE_BACKOFF) and turns answers into
the provider's errors through the provider's own `error_for`. It retries nothing else: the
Celery layer decides what to retry and when.
"""

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings

from integrations.tokens import TokenSource

BeforeRequest = Callable[[str], None]


class ProviderError(Exception):
    """Base of both providers' errors. Messages never hold tokens or email addresses."""

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.status = status
        # No answer in time: a gateway said so (504), or the read timed out (the transport).
        self.timed_out = status == 504


# (provider, endpoint, HTTP status or None when no answer came, the error the answer carries)
AfterResponse = Callable[[str, str, int | None, ProviderError | None], None]


@dataclass(frozen=True)
class Provider:
    """What the transport needs to know about one provider's errors."""

    name: str  # for messages: "QuickBooks", "Constant Contact"
    key: str  # for metrics and logs: "quickbooks", "constantcontact"
    error: type[ProviderError]  # the provider's base error
    unauthorized: type[ProviderError]  # answered by renewing the token once
    transient: type[ProviderError]  # timeouts and dropped connections
    # The error an answer carries (status, parsed JSON body or None, the endpoint named by
    # the client), or None if it is fine.
    error_for: Callable[[int, Any, str], ProviderError | None]
    # A throttle worth waiting out in place: Constant Contact's 429 comes without a
    # Retry-After, and our limiter's window and theirs never line up exactly.
    throttled: type[ProviderError] | None = None


THROTTLE_BACKOFF = (1.0, 2.0, 4.0)  # seconds before each new try; a longer throttle is raised


# Failures of the connection itself; anything else from requests is a programming error.
CONNECTION_FAILURES = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)


def response_json(response: requests.Response) -> Any:
    """The parsed JSON body, or None when there is none or it is not JSON."""
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


class Transport:
    def __init__(
        self,
        *,
        provider: Provider,
        tokens: TokenSource,
        before_request: BeforeRequest | None = None,
        after_response: AfterResponse | None = None,
        session: requests.Session | None = None,
    ):
        self.provider = provider
        self.tokens = tokens
        self.before_request = before_request
        self.after_response = after_response
        self.session = session or requests.Session()

    def call(
        self,
        method: str,
        url: str,
        *,
        endpoint: str,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> Any:
        """Send one request and return its JSON body; raise the provider's error otherwise."""
        token = self.tokens.access_token()
        status, body, error = self._patiently(method, url, endpoint, token, params, json)
        if isinstance(error, self.provider.unauthorized):
            token = self.tokens.renew(rejected=token)
            status, body, error = self._patiently(method, url, endpoint, token, params, json)
        if error is not None:
            raise error
        if body is None:
            raise self.provider.error(
                f"{self.provider.name} {endpoint}: answer without a JSON body", status=status
            )
        return body

    def _patiently(self, *request: Any) -> tuple[int, Any, ProviderError | None]:
        """An attempt, tried again after the provider's passing throttle."""
        throttled = self.provider.throttled
        for delay in (*THROTTLE_BACKOFF, None):
            status, body, error = self._attempt(*request)
            if delay is None or throttled is None or not isinstance(error, throttled):
                return status, body, error
            time.sleep(delay)
        raise AssertionError("unreachable")

    def _attempt(
        self,
        method: str,
        url: str,
        endpoint: str,
        token: str,
        params: Mapping[str, Any] | None,
        json: Any,
    ) -> tuple[int, Any, ProviderError | None]:
        # A GET that could not reach the provider goes once more (through the limiter, so
        # it is counted): most often the provider had closed an idle kept-alive connection.
        for last in (method != "GET", True):
            if self.before_request is not None:
                self.before_request(endpoint)
            try:
                response = self.session.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
                    timeout=settings.PROVIDER_TIMEOUT,
                )
                break
            except CONNECTION_FAILURES as exc:
                self._count(endpoint, None, None)
                if last or not isinstance(exc, requests.ConnectionError):
                    # `from None`: requests' message repeats the URL, whose query may hold
                    # an email.
                    error = self.provider.transient(
                        f"{self.provider.name} {endpoint}: {type(exc).__name__}"
                    )
                    error.timed_out = isinstance(exc, requests.ReadTimeout)
                    raise error from None
        body = response_json(response)
        refusal = self.provider.error_for(response.status_code, body, endpoint)
        self._count(endpoint, response.status_code, refusal)
        return response.status_code, body, refusal

    def _count(self, endpoint: str, status: int | None, error: ProviderError | None) -> None:
        if self.after_response is not None:
            self.after_response(self.provider.key, endpoint, status, error)
