"""The sandbox as a real HTTP server (tests, benchmarks): a subprocess with its own database."""

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Sandbox:
    url: str
    env: dict[str, str]
    process: subprocess.Popen
    log_path: Path
    baseline: dict[str, Any] = field(default_factory=dict)

    # The app as registered with the sandbox's Intuit and Constant Contact.
    intuit_client_id: str = "sandbox-intuit-client"
    intuit_client_secret: str = "sandbox-intuit-secret"
    webhook_verifier_token: str = "sandbox-webhook-verifier"
    cc_client_id: str = "sandbox-cc-client"
    cc_client_secret: str = "sandbox-cc-secret"

    @property
    def discovery_url(self) -> str:
        return f"{self.url}/intuit/.well-known/openid_configuration"

    @property
    def quickbooks_api_base(self) -> str:
        return f"{self.url}/quickbooks"

    @property
    def cc_api_base(self) -> str:
        return f"{self.url}/cc/v3"

    @property
    def cc_oauth_base(self) -> str:
        return f"{self.url}/cc/oauth2/default/v1"

    def manage(self, *args: str) -> str:
        """Run a sandbox management command against this server's database."""
        done = subprocess.run(
            [sys.executable, "-m", "sandbox", *args],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        )
        return done.stdout

    def set_knobs(self, **values: Any) -> dict[str, Any]:
        answer = requests.post(f"{self.url}/_sandbox/knobs", json=values, timeout=10)
        answer.raise_for_status()
        return answer.json()

    def reset_knobs(self) -> None:
        """Every knob back to its default, but for the `baseline` a test set for its whole
        length (tests/plugins/companies.py, `unlimited`)."""
        requests.post(f"{self.url}/_sandbox/knobs/reset", timeout=10).raise_for_status()
        if self.baseline:
            self.set_knobs(**self.baseline)

    @contextlib.contextmanager
    def knobs(self, **values: Any) -> Iterator[dict[str, Any]]:
        try:
            yield self.set_knobs(**values)
        finally:
            self.reset_knobs()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_sandbox(var_dir: Path, **extra_env: str) -> Sandbox:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sandbox.settings",
        "CCSYNC_VAR_DIR": str(var_dir),
        "SANDBOX_DATABASE_URL": f"sqlite:///{var_dir / 'sandbox.sqlite3'}",
        "SANDBOX_PUBLIC_URL": url,
        "SANDBOX_LOG_LEVEL": "WARNING",
        **extra_env,
    }
    subprocess.run(
        [sys.executable, "-m", "sandbox", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    log_path = var_dir / "sandbox.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            requests.get(f"{url}/_sandbox/knobs", timeout=1).raise_for_status()
            break
        except requests.RequestException:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"the sandbox did not start:\n{log_path.read_text()}") from None
            time.sleep(0.2)
    return Sandbox(url=url, env=env, process=process, log_path=log_path)


def stop_sandbox(sandbox: Sandbox) -> None:
    sandbox.process.terminate()
    try:
        sandbox.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        sandbox.process.kill()
