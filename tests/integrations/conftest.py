import pytest
import responses

from integrations import http

QB_BASE = "https://quickbooks.test"
CC_BASE = "https://api.cc.email/v3"  # the spec's server, so openapi-core can match requests


class FakeTokens:
    """A TokenSource handing out access-1, access-2, ... and recording renewals."""

    def __init__(self) -> None:
        self.current = "access-1"
        self.rejected: list[str] = []

    def access_token(self) -> str:
        return self.current

    def renew(self, *, rejected: str) -> str:
        self.rejected.append(rejected)
        self.current = f"access-{len(self.rejected) + 1}"
        return self.current


@pytest.fixture
def tokens() -> FakeTokens:
    return FakeTokens()


@pytest.fixture
def mocked():
    with responses.RequestsMock() as rsps:
        yield rsps


@pytest.fixture
def provider_settings(settings):
    settings.QUICKBOOKS_API_BASE = QB_BASE
    settings.QUICKBOOKS_MINOR_VERSION = 75
    settings.CONSTANTCONTACT_API_BASE = CC_BASE
    settings.PROVIDER_TIMEOUT = (3.0, 7.0)
    return settings


def bearer(call) -> str:
    return call.request.headers["Authorization"].removeprefix("Bearer ")


@pytest.fixture(autouse=True)
def _no_throttle_waits(monkeypatch):
    """The transport waits out a throttle before each new try: not in these tests."""
    monkeypatch.setattr(http, "THROTTLE_BACKOFF", (0.0, 0.0, 0.0))
