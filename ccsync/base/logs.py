"""Structured logs: one JSON object per line, the tenant and run of the sync (or the tenant
of the page) on every line, and a last line of defence that scrubs tokens and email
addresses from every record.

settings.LOGGING puts `ContextFilter` and `ScrubFilter` on the console handler, so they
apply to every record that reaches it, the libraries' included (urllib3, oauthlib, Celery).
"""

import json
import logging
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token, copy_context
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

_context: ContextVar[dict[str, Any]] = ContextVar("ccsync_log_context", default={})  # noqa: B039


def bind(*, tenant: int | None = None, run: int | None = None) -> Token:
    """Add these to the log context until `unbind(token)`."""
    fields = {name: value for name, value in (("tenant", tenant), ("run", run)) if value}
    return _context.set({**_context.get(), **fields})


def unbind(token: Token) -> None:
    _context.reset(token)


@contextmanager
def log_context(*, tenant: int | None = None, run: int | None = None) -> Iterator[None]:
    """Every log line inside carries this tenant and run (contextvars: per thread and task)."""
    token = bind(tenant=tenant, run=run)
    try:
        yield
    finally:
        unbind(token)


class RequestContextMiddleware:
    """Each request logs in a context of its own: the tenant a page binds stays on all of its
    lines (Django's line for a 500 included) and never on the thread's next request's."""

    def __init__(self, get_response: Callable[["HttpRequest"], "HttpResponse"]) -> None:
        self.get_response = get_response

    def __call__(self, request: "HttpRequest") -> "HttpResponse":
        return copy_context().run(self.get_response, request)


class ContextFilter(logging.Filter):
    """Adds `tenant_id` and `run_id` (None outside a sync) and `context`, their plain text."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = _context.get()
        tenant_id, run_id = context.get("tenant"), context.get("run")
        record.tenant_id = tenant_id
        record.run_id = run_id
        pairs = (("tenant", tenant_id), ("run", run_id))
        record.context = "".join(f" {name}={value}" for name, value in pairs if value)
        return True


_SECRET_PARAMETER = re.compile(
    r"""(?P<name>["']?\b(?:access_token|refresh_token|id_token|client_secret|code_verifier|"""
    r"""password)\b["']?\s*[:=]\s*["']?)[^"'&\s,;}]+""",
    re.IGNORECASE,
)
_AUTHORIZATION = re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+")
# Plain or url-encoded (%40) addresses, as they appear in logged URLs.
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+(?:@|%40)[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# Opaque tokens (OAuth tokens, JWT parts, Fernet texts): long runs of url-safe characters.
_LONG_RUN = re.compile(r"[A-Za-z0-9_-]{32,}")
_HEX_OR_UUID = re.compile(r"[0-9a-f-]+|[0-9A-F-]+")


def _opaque(match: re.Match[str]) -> str:
    text = match[0]
    mixed = any(c.islower() for c in text) and any(c.isupper() or c.isdigit() for c in text)
    # Hex digests and uuids (task ids, hashes) are kept: they are not secrets.
    return "[redacted]" if mixed and not _HEX_OR_UUID.fullmatch(text) else text


def scrub(text: str) -> str:
    """The text without anything that looks like a token, a secret or an email address."""
    text = _AUTHORIZATION.sub(lambda m: f"{m[1]} [redacted]", text)
    text = _SECRET_PARAMETER.sub(lambda m: f"{m['name']}[redacted]", text)
    text = _EMAIL.sub("[email]", text)
    return _LONG_RUN.sub(_opaque, text)


class ScrubFilter(logging.Filter):
    """Rewrites the record's message, exception and stack text through `scrub`."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not break the caller's log call
            message = f"{record.msg!s} {record.args!r}"
        record.msg, record.args = scrub(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True


class RoutineTaskFilter(logging.Filter):
    """Celery's lines about a task beat sends every few seconds (beat's "Sending due task",
    the worker's "received" and "succeeded") demoted from INFO to DEBUG, and written only
    where DEBUG is: a quiet log keeps every other task's lines, and the demo's start banner
    stays on screen. `tasks` are the routine tasks' names (settings.LOG_ROUTINE_TASKS)."""

    def __init__(self, tasks: list[str] | tuple[str, ...] = ()) -> None:
        super().__init__()
        self.tasks = frozenset(tasks)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO or not self._routine(record):
            return True
        record.levelno, record.levelname = logging.DEBUG, logging.getLevelName(logging.DEBUG)
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)

    def _routine(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith("celery."):
            return False
        # Beat passes (entry name, task name); the worker a mapping with the task's name.
        args = record.args
        if isinstance(args, Mapping):
            return args.get("name") in self.tasks
        return isinstance(args, tuple) and any(arg in self.tasks for arg in args)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, tenant_id, run_id, and the
    exception or stack when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "tenant_id": getattr(record, "tenant_id", None),
            "run_id": getattr(record, "run_id", None),
            "process": record.process,
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            payload["exception"] = record.exc_text
        if record.stack_info:
            payload["stack"] = self.formatStack(record.stack_info)
        return json.dumps(payload, default=str)
