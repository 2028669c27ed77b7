"""The database setting, shared by the app's and the sandbox's settings."""

from pathlib import Path
from typing import Any

import environ


def database_from_env(*, env: environ.Env, variable: str, sqlite_path: Path) -> dict[str, Any]:
    """The database named by `variable` (a URL), else an SQLite file at `sqlite_path`."""
    database = env.db(variable, default=f"sqlite:///{sqlite_path}")
    if database["ENGINE"] == "django.db.backends.sqlite3":
        # The demo's processes share one SQLite file: wait for each other's locks, don't fail.
        database["OPTIONS"] = {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL;",
        }
    else:
        # A new PostgreSQL connection per request costs more than the webhook endpoint's
        # whole work: keep them, checked before reuse.
        database["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
        database["CONN_HEALTH_CHECKS"] = True
    return database
