"""The contract (suite.py) of the real clients against the sandbox over HTTP."""

import pytest

from integrations import http
from tests.contract.suite import Contract, World


class TestSandbox(Contract):
    @pytest.fixture
    def world(self, install, knobs, monkeypatch) -> World:
        # A throttle is waited out in place before it is raised: not in these tests.
        monkeypatch.setattr(http, "THROTTLE_BACKOFF", (0.0, 0.0, 0.0))
        return World(company=install(), set_knobs=knobs)
