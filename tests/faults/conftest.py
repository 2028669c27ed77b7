"""Fixtures of the fault tests: the whole product running (sandbox, app, worker, beat) on a
Redis of its own that a test may kill, companies installed over HTTP, the app's database
read from outside like an operator would."""

import os
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import psycopg2
import psycopg2.extras
import pytest
import redis
import requests

from ccsync.sync.rules import customer_email, is_active
from support.accounts import PASSWORD, Account, Browser, Identity
from support.html_page import Page
from support.sandbox_server import free_port
from support.stack import Stack, start_stack, stop_stack, wait_for
from tenants.models import Tenant
from tests.faults.expect import Target
from tests.plugins.companies import SandboxCompany
from tests.plugins.journeys import Journey

LIST = "Customers"
RUN_TIMEOUT = 60.0
# How the stack runs for these tests: a dead worker's run is taken over after this many
# seconds without a heartbeat; small pages and chunks make several steps of a small company.
STACK_ENV = {
    "SYNC_STALE_RUN_SECONDS": "4",
    "SYNC_PAGE_SIZE": "5",
    "SYNC_IMPORT_CHUNK_ROWS": "12",
    "SYNC_COALESCE_SECONDS": "0.5",
}


class RedisServer:
    """A redis-server of our own (no persistence: a restart loses everything, like a crash)."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log_path = directory / "redis.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            stdout=self.log_path.open("a"),
            stderr=subprocess.STDOUT,
        )
        wait_for(self._answers, timeout=10, what="redis-server to answer", interval=0.05)

    def _answers(self) -> bool:
        try:
            return bool(redis.Redis.from_url(self.url, socket_timeout=1).ping())
        except redis.RedisError:
            return False

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="package")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.kill()


@pytest.fixture(scope="package")
def stack(redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = start_stack(
        tmp_path_factory.mktemp("faults"),
        name="faults",
        extra_env={
            **STACK_ENV,
            "CELERY_BROKER_URL": redis_server.url,
            "REDIS_URL": redis_server.url,
        },
        celery_app="tests.faults.celery_app",
    )
    yield running
    stop_stack(running)


@pytest.fixture
def live(stack: Stack) -> Iterator[Stack]:
    """The running stack, its knobs reset after the test and its processes checked."""
    yield stack
    stack.sandbox.reset_knobs()
    stack.check_running()


# --- the app's database, read from outside ------------------------------------------------


class AppDatabase:
    def __init__(self, url: str) -> None:
        self.connection = psycopg2.connect(url)
        self.connection.autocommit = True

    def query(self, sql: str, *params: Any) -> list[dict[str, Any]]:
        with self.connection.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cursor:
            cursor.execute(sql, params)
            return [dict(row) for row in cursor.fetchall()]

    def runs(self, realm_id: str) -> list[dict[str, Any]]:
        """The company's runs, newest first."""
        return self.query(
            "SELECT r.* FROM sync_run r JOIN tenants_tenant t ON t.id = r.tenant_id "
            "WHERE t.realm_id = %s ORDER BY r.id DESC",
            realm_id,
        )

    def close(self) -> None:
        self.connection.close()


@pytest.fixture
def app_db(stack: Stack) -> Iterator[AppDatabase]:
    database = AppDatabase(stack.env["DATABASE_URL"])
    yield database
    database.close()


def the_worker(stack: Stack) -> str:
    """The name of the stack's one worker process (earlier tests may have replaced it)."""
    (name,) = [name for name in stack.processes if name.startswith("worker")]
    return name


def kill_worker(stack: Stack, name: str) -> None:
    """SIGKILL: no shutdown, no ack, no chance to tidy up."""
    process = stack.processes.pop(name)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def run_where(
    app_db: AppDatabase, realm_id: str, what: str, test: Any, *, interval: float = 0.05
) -> dict[str, Any]:
    """Waits until the company's newest run passes `test`; returns it."""

    def matching() -> dict[str, Any] | None:
        runs = app_db.runs(realm_id)
        return runs[0] if runs and test(runs[0]) else None

    return wait_for(matching, timeout=RUN_TIMEOUT, what=what, interval=interval)


# --- companies installed on the running stack, over HTTP ------------------------------------


@dataclass
class LiveCompany:
    stack: Stack
    identity: Identity
    account: Account
    session: requests.Session  # the person's browser on our app
    browser: Browser  # ... and on Intuit's and Constant Contact's pages

    @property
    def realm_id(self) -> str:
        return self.identity.realm_id

    @property
    def target(self) -> Target:
        return Target(
            sandbox_url=self.stack.sandbox.url,
            realm_id=self.realm_id,
            username=self.account.username,
            list_name=LIST,
        )

    def app(self, url: str, *, method: str = "GET", data: Any = None) -> requests.Response:
        answer = self.session.request(
            method,
            urljoin(self.stack.app_url, url),
            data=data,
            allow_redirects=False,
            timeout=30,
        )
        assert answer.status_code < 500, answer.text[:2000]
        return answer

    def install(self) -> None:
        """Get App Now, Intuit's consent, Constant Contact's Allow, the list, Connect: the
        first sync starts."""
        to_intuit = self.app("/connect/").headers["Location"]
        back = self.browser.intuit_authorize(to_intuit, self.identity)
        assert self.app(back).headers["Location"] == "/constantcontact/connect/"
        to_cc = self.app("/constantcontact/connect/").headers["Location"]
        back = self.browser.cc_authorize(to_cc, self.account)
        assert self.app(back).headers["Location"] == "/settings/"
        # The Connect button sits outside the form it submits (form="settings-form").
        page = Page(self.app("/settings/").text)
        form = next(form for form in page.forms if "list_id" in form.selects)
        answer = self.app(
            "/settings/",
            method="POST",
            data={**form.fields, "list_id": self.account.lists[LIST]},
        )
        assert "You're done!" in answer.text, answer.text[:2000]

    def control(self, method: str, path: str, payload: Any = None) -> Any:
        return self.stack.control(method, f"/_sandbox/quickbooks/{self.realm_id}{path}", payload)


def new_live_company(stack: Stack, *, customers: int) -> LiveCompany:
    """A company of `customers` seeded customers (every edge case of the rules) and a
    Constant Contact account, not installed yet."""
    journey = Journey(stack.sandbox)
    company = LiveCompany(
        stack=stack,
        identity=journey.new_identity("Faulty Co"),
        account=journey.new_account(LIST, "Newsletter"),
        session=requests.Session(),
        browser=Browser(stack.sandbox),
    )
    company.control("POST", "/seed", {"count": customers, "random_seed": 5})
    unsubscribe_a_customer(company.target)
    return company


def unsubscribe_a_customer(target: Target) -> None:
    """One customer's address is unsubscribed in Constant Contact already: never sent."""
    address = next(
        customer_email(c).address
        for c in target.customers()
        if customer_email(c).address and is_active(c)
    )
    answer = requests.post(
        f"{target.sandbox_url}/_sandbox/cc/accounts",
        json={"username": target.username, "password": PASSWORD, "unsubscribed_emails": [address]},
        timeout=30,
    )
    answer.raise_for_status()


# --- companies installed in process (the Django test client on our side) --------------------


@dataclass
class Installed:
    """A company installed through the real journey against the session's sandbox; its first
    sync is queued, not run."""

    company: SandboxCompany
    identity: Identity
    account: Account

    @property
    def target(self) -> Target:
        return Target(
            sandbox_url=self.company.sandbox.url,
            realm_id=self.identity.realm_id,
            username=self.account.username,
            list_name=LIST,
        )


@pytest.fixture
def installed(sandbox, sandbox_settings, db, settings):
    """installed(customers=n): a seeded company with the app installed on it."""
    settings.SYNC_PAGE_SIZE = 5
    settings.SYNC_IMPORT_CHUNK_ROWS = 10

    def make(*, customers: int) -> Installed:
        journey = Journey(sandbox)
        identity = journey.new_identity("Faulty Co")
        account = journey.new_account(LIST, "Newsletter")
        requests.post(
            f"{sandbox.url}/_sandbox/quickbooks/{identity.realm_id}/seed",
            json={"count": customers, "random_seed": 3},
            timeout=30,
        ).raise_for_status()
        company = SandboxCompany(
            tenant=None,  # type: ignore[arg-type]  (known once installed)
            client=journey.client,
            lists=account.lists,
            sandbox=sandbox,
            journey=journey,
            username=account.username,
        )
        installed = Installed(company=company, identity=identity, account=account)
        unsubscribe_a_customer(installed.target)
        page = journey.full_install(identity, account, LIST)
        assert page.status_code == 200, page
        company.tenant = Tenant.objects.get(realm_id=identity.realm_id)
        return installed

    return make
