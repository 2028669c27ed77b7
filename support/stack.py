"""The whole product on free local ports, as `make demo` runs it but isolated: the sandbox,
the app behind gunicorn, a Celery worker and beat, with their own database and logs."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import redis
import requests
from cryptography.fernet import Fernet
from psycopg2 import sql

from support.sandbox_server import ROOT, Sandbox, free_port, start_sandbox, stop_sandbox

T = TypeVar("T")
LOG_TAIL_CHARS = 6_000


def wait_for(
    condition: Callable[[], T | None],
    *,
    timeout: float,
    what: str,
    interval: float = 0.2,
) -> T:
    """Polls `condition` until it returns something truthy; fails with `what` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


@dataclass
class Stack:
    sandbox: Sandbox
    app_url: str
    env: dict[str, str]
    log_dir: Path
    celery_app: str = "ccsync"
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    # --- the sandbox's control API ---

    def control(self, method: str, path: str, payload: Any = None) -> Any:
        answer = requests.request(method, f"{self.sandbox.url}{path}", json=payload, timeout=30)
        if answer.status_code >= 400:
            raise AssertionError(f"{method} {path} -> {answer.status_code}: {answer.text[:500]}")
        return answer.json()

    def contacts(self, username: str) -> list[dict[str, Any]]:
        """Every contact of a Constant Contact account, with its list names."""
        return self.control("GET", f"/_sandbox/cc/accounts/{username}/contacts")["contacts"]

    # --- the processes ---

    def check_running(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise AssertionError(f"{name} exited with {process.returncode}:\n{self.logs()}")

    def logs(self) -> str:
        parts = []
        for path in [self.sandbox.log_path, *sorted(self.log_dir.glob("*.log"))]:
            tail = path.read_text(errors="replace")[-LOG_TAIL_CHARS:]
            parts.append(f"----- {path.name} (last {LOG_TAIL_CHARS} characters)\n{tail}")
        return "\n".join(parts)


def _stack_database_url(name: str) -> str:
    """The test run's DATABASE_URL with `_<name>` added to the database name."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}_{name}"))


def _administer_database(url: str, *, create: bool) -> None:
    """Drops the database of `url` and, with `create`, makes it anew and empty."""
    parts = urlsplit(url)
    name = sql.Identifier(parts.path.lstrip("/"))
    connection = psycopg2.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username,
        password=parts.password,
        dbname="postgres",
    )
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            # FORCE: a worker left over from an interrupted run must not keep it open.
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
            if create:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(name))
    finally:
        connection.close()


def _app_env(*, sandbox: Sandbox, app_url: str, var_dir: Path, database_url: str) -> dict[str, str]:
    broker_url = os.environ["CELERY_BROKER_URL"]
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ccsync.settings",
        "CCSYNC_VAR_DIR": str(var_dir),
        "DEBUG": "true",
        "SECRET_KEY": "browser-tests-only",
        "LOG_LEVEL": "WARNING",
        "PUBLIC_BASE_URL": app_url,
        "DATABASE_URL": database_url,
        "REDIS_URL": os.environ.get("REDIS_URL", broker_url),
        "CELERY_BROKER_URL": broker_url,
        "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "OAUTHLIB_INSECURE_TRANSPORT": "1",
        "INTUIT_ENVIRONMENT": sandbox.discovery_url,
        "INTUIT_CLIENT_ID": sandbox.intuit_client_id,
        "INTUIT_CLIENT_SECRET": sandbox.intuit_client_secret,
        "QUICKBOOKS_API_BASE": sandbox.quickbooks_api_base,
        "QUICKBOOKS_APP_BASE": sandbox.url,
        "INTUIT_WEBHOOK_VERIFIER_TOKEN": sandbox.webhook_verifier_token,
        "CONSTANTCONTACT_CLIENT_ID": sandbox.cc_client_id,
        "CONSTANTCONTACT_CLIENT_SECRET": sandbox.cc_client_secret,
        "CONSTANTCONTACT_AUTHORIZE_URL": f"{sandbox.cc_oauth_base}/authorize",
        "CONSTANTCONTACT_TOKEN_URL": f"{sandbox.cc_oauth_base}/token",
        "CONSTANTCONTACT_REVOKE_URL": f"{sandbox.cc_oauth_base}/revoke",
        "CONSTANTCONTACT_API_BASE": sandbox.cc_api_base,
        "CONSTANTCONTACT_ACCOUNT_URL": f"{sandbox.url}/cc/account/",
        "SUPPORT_EMAIL": "support@example.com",
        # Webhook events are gathered briefly before a sync: keep the journeys quick.
        "SYNC_COALESCE_SECONDS": "0.5",
    }


def _spawn(stack: Stack, name: str, *args: str) -> None:
    log = (stack.log_dir / f"{name}.log").open("w")
    stack.processes[name] = subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        env=stack.env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: stopped with its children
    )


def _app_answers(stack: Stack) -> bool:
    stack.check_running()
    try:
        return requests.get(f"{stack.app_url}/", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def spawn_worker(stack: Stack, name: str = "worker") -> subprocess.Popen:
    """A Celery worker (threads, 4 at once) of the stack's app, logging to `<name>.log`."""
    _spawn(
        stack,
        name,
        "-m",
        "celery",
        "-A",
        stack.celery_app,
        "worker",
        "--pool",
        "threads",
        "-c",
        "4",
        "-l",
        "warning",
        "-n",
        f"{name}-{urlsplit(stack.app_url).port}@%h",
    )
    return stack.processes[name]


def start_stack(
    var_dir: Path,
    *,
    name: str = "stack",
    extra_env: Mapping[str, str] | None = None,
    celery_app: str = "ccsync",
) -> Stack:
    """The stack on free ports; `name` suffixes its database, `extra_env` adds to (or
    overrides) the app's environment, `celery_app` is the module the worker and beat run."""
    app_port = free_port()
    app_url = f"http://127.0.0.1:{app_port}"
    log_dir = var_dir / "logs"
    log_dir.mkdir(parents=True)
    # The sandbox registers the app (connect, launch, settings, disconnect, redirect and
    # webhook URLs) from SANDBOX_APP_BASE_URL.
    sandbox = start_sandbox(var_dir / "sandbox", SANDBOX_APP_BASE_URL=app_url)
    database_url = _stack_database_url(name)
    env = _app_env(sandbox=sandbox, app_url=app_url, var_dir=var_dir, database_url=database_url)
    stack = Stack(
        sandbox=sandbox,
        app_url=app_url,
        env={**env, **(extra_env or {})},
        log_dir=log_dir,
        celery_app=celery_app,
    )
    try:
        _prepare_storage(stack, database_url)
        _spawn_processes(stack, app_port=app_port, var_dir=var_dir)
        wait_for(lambda: _app_answers(stack), timeout=30, what="the app to answer")
    except BaseException:
        print(stack.logs(), file=sys.stderr)  # pytest shows it with the failed setup
        stop_stack(stack)
        raise
    return stack


def _prepare_storage(stack: Stack, database_url: str) -> None:
    """A new database, migrated, and empty Redis databases for the stack."""
    _administer_database(database_url, create=True)
    # Messages left in the broker by an interrupted run would name another database's rows.
    redis.Redis.from_url(stack.env["CELERY_BROKER_URL"]).flushdb()
    redis.Redis.from_url(stack.env["REDIS_URL"]).flushdb()
    with (stack.log_dir / "migrate.log").open("w") as log:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=stack.env,
            check=True,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def _spawn_processes(stack: Stack, *, app_port: int, var_dir: Path) -> None:
    """The web process (gunicorn), a worker and beat."""
    _spawn(
        stack,
        "web",
        "-m",
        "gunicorn",
        "ccsync.wsgi",
        "-c",
        "python:ccsync.gunicorn_conf",
        "-b",
        f"127.0.0.1:{app_port}",
    )
    spawn_worker(stack)
    _spawn(
        stack,
        "beat",
        "-m",
        "celery",
        "-A",
        stack.celery_app,
        "beat",
        "-l",
        "warning",
        "-s",
        str(var_dir / "celerybeat-schedule"),
    )


def stop_stack(stack: Stack) -> None:
    for process in stack.processes.values():
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in stack.processes.values():
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    stop_sandbox(stack.sandbox)
    _administer_database(stack.env["DATABASE_URL"], create=False)
