"""The sync's tests drive an installed company (tests/plugins/companies.py) like a worker."""

import pytest


@pytest.fixture(autouse=True)
def _plain_http_oauth(monkeypatch):
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
