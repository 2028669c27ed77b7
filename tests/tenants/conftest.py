"""The tenants' tests walk the install journey (tests/plugins/journeys.py) in a fresh cache."""

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _plain_http_oauth(monkeypatch):
    # The sandbox speaks plain http on 127.0.0.1; oauthlib refuses that unless told.
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()
