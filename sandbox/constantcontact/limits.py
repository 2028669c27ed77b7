"""Constant Contact's documented limits for the whole app (its API key, every token):
4 requests per second and 10,000 per day, the day resetting at 00:00 UTC.

In memory, behind a lock: the sandbox serves from one process.
"""

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

Verdict = Literal["ok", "throttled", "quota_exceeded"]


@dataclass
class _Usage:
    recent: deque[float] = field(default_factory=deque)  # accepted calls in the last second
    day: date | None = None
    today: int = 0
    peak_per_second: int = 0
    total: int = 0
    throttled: int = 0
    quota_exceeded: int = 0


_lock = threading.Lock()
_usage = _Usage()


def _today() -> date:
    return datetime.now(UTC).date()


def _trim(now: float) -> None:
    while _usage.recent and _usage.recent[0] <= now - 1.0:
        _usage.recent.popleft()


def admit(*, per_second: int, per_day: int, enforce: bool) -> Verdict:
    """Count one API call, or refuse it when a limit is reached (refusals are not counted)."""
    with _lock:
        now = time.monotonic()
        _trim(now)
        if _usage.day != _today():
            _usage.day, _usage.today = _today(), 0
        if enforce and _usage.today >= per_day:
            _usage.quota_exceeded += 1
            return "quota_exceeded"
        if enforce and len(_usage.recent) >= per_second:
            _usage.throttled += 1
            return "throttled"
        _usage.recent.append(now)
        _usage.today += 1
        _usage.total += 1
        _usage.peak_per_second = max(_usage.peak_per_second, len(_usage.recent))
        return "ok"


def usage() -> dict[str, Any]:
    with _lock:
        _trim(time.monotonic())
        today = _usage.today if _usage.day == _today() else 0
        return {
            "calls_last_second": len(_usage.recent),
            "calls_today": today,
            "day": _today().isoformat(),
            "peak_per_second": _usage.peak_per_second,
            "calls_total": _usage.total,
            "throttled": _usage.throttled,
            "quota_exceeded": _usage.quota_exceeded,
        }


def reset() -> None:
    global _usage
    with _lock:
        _usage = _Usage()
