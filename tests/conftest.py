"""Fixtures every test folder may use: the sandbox, the tests' Redis, the tasks enqueued; and
the plugins that share the rest (tests/plugins: a test folder never imports another)."""

from typing import NamedTuple

import pytest
import redis
from django.conf import settings

from ccsync.base import jobs
from support.sandbox_server import Sandbox, start_sandbox, stop_sandbox
from support.stack import Stack

pytest_plugins = [
    "tests.plugins.markers",
    "tests.plugins.clock",
    "tests.plugins.journeys",
    "tests.plugins.companies",
    "tests.plugins.fakes",
    "tests.plugins.intuit_pages",
    "tests.plugins.webhook_receiver",
]


def flush_test_redis() -> None:
    """Empties the Redis db of the tests' REDIS_URL (the limiter's counters, the metrics)."""
    redis.Redis.from_url(settings.REDIS_URL).flushdb()


def pytest_sessionstart(session: pytest.Session) -> None:
    # The limiter's counters (its daily share included) and the metrics live in the tests'
    # Redis db, emptied once before any test. Under xdist each worker has a db of its own
    # (tests/settings.py) and empties it (gw0's is the controller's: emptied twice).
    flush_test_redis()


@pytest.fixture(autouse=True)
def _fresh_pacer():
    # Each test starts the day's pace afresh: a full bucket, nobody waiting.
    redis.Redis.from_url(settings.REDIS_URL).delete(settings.PACER_REDIS_KEY)


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory) -> Sandbox:
    """The sandbox (Intuit and Constant Contact) running as a real HTTP server."""
    server = start_sandbox(tmp_path_factory.mktemp("sandbox"))
    yield server
    stop_sandbox(server)


@pytest.fixture
def knobs(sandbox):
    """Set sandbox knobs for one test; they are reset afterwards."""
    yield sandbox.set_knobs
    sandbox.reset_knobs()


@pytest.fixture
def sandbox_settings(settings, sandbox):
    """Point every outside endpoint of the app at the sandbox."""
    settings.INTUIT_ENVIRONMENT = sandbox.discovery_url
    settings.QUICKBOOKS_API_BASE = sandbox.quickbooks_api_base
    settings.QUICKBOOKS_APP_BASE = sandbox.url
    settings.INTUIT_CLIENT_ID = sandbox.intuit_client_id
    settings.INTUIT_CLIENT_SECRET = sandbox.intuit_client_secret
    settings.INTUIT_WEBHOOK_VERIFIER_TOKEN = sandbox.webhook_verifier_token
    settings.CONSTANTCONTACT_CLIENT_ID = sandbox.cc_client_id
    settings.CONSTANTCONTACT_CLIENT_SECRET = sandbox.cc_client_secret
    settings.CONSTANTCONTACT_AUTHORIZE_URL = f"{sandbox.cc_oauth_base}/authorize"
    settings.CONSTANTCONTACT_TOKEN_URL = f"{sandbox.cc_oauth_base}/token"
    settings.CONSTANTCONTACT_REVOKE_URL = f"{sandbox.cc_oauth_base}/revoke"
    settings.CONSTANTCONTACT_API_BASE = sandbox.cc_api_base
    settings.CONSTANTCONTACT_ACCOUNT_URL = f"{sandbox.url}/cc/account/"
    return settings


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> pytest.TestReport:
    """A failed test that ran the whole stack (browser journeys, faults) shows its logs."""
    report = yield
    if report.failed:
        for value in getattr(item, "funcargs", {}).values():
            if isinstance(value, Stack):
                report.sections.append(("logs of the stack", value.logs()))
                break
    return report


class Job(NamedTuple):
    task: str
    args: tuple
    queue: str | None


@pytest.fixture
def enqueued(monkeypatch) -> list[Job]:
    """The tasks the app hands to Celery (by name), recorded instead of sent."""
    sent: list[Job] = []
    monkeypatch.setattr(
        jobs,
        "send",
        lambda task, args, *, queue, countdown: sent.append(Job(task, tuple(args), queue)),
    )
    return sent
