import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
METRICS_TOKEN = "metrics-test-token"


def production_env(**overrides: str) -> dict[str, str]:
    """A complete, valid production environment (DEBUG off) for a subprocess."""
    env = {
        "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
        "HOME": "/tmp",
        "DJANGO_SETTINGS_MODULE": "ccsync.settings",
        "SECRET_KEY": "a-long-random-production-secret-for-the-ops-tests",
        "ALLOWED_HOSTS": "ccsync.example.com",
        "PUBLIC_BASE_URL": "https://ccsync.example.com",
        "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "INTUIT_CLIENT_ID": "real-intuit-client",
        "INTUIT_CLIENT_SECRET": "real-intuit-secret",
        "INTUIT_WEBHOOK_VERIFIER_TOKEN": "real-verifier",
        "CONSTANTCONTACT_CLIENT_ID": "real-cc-client",
        "CONSTANTCONTACT_CLIENT_SECRET": "real-cc-secret",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/ccsync_ops_unused",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/10",
        "CCSYNC_VAR_DIR": "/tmp/ccsync-ops-tests",
    }
    return {**env, **overrides}


def run(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture
def metrics_token(settings) -> str:
    settings.METRICS_TOKEN = METRICS_TOKEN
    return METRICS_TOKEN
