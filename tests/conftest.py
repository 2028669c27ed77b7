import pytest

from tests.browser.stack import Stack
from tests.sandbox_server import Sandbox, start_sandbox, stop_sandbox


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
