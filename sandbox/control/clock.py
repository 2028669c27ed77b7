"""The sandbox's clock for what expires or refills (authorization codes and tokens,
QuickBooks' request limits): the real time, moved ahead by the knob `clock_offset_seconds`,
so that a test sees a code expire or a window pass without waiting for it."""

import time
from datetime import datetime, timedelta

from django.utils import timezone

from sandbox.control import knobs


def now() -> datetime:
    return timezone.now() + timedelta(seconds=knobs.get("clock_offset_seconds"))


def monotonic() -> float:
    """Seconds for durations (time.monotonic), moved ahead as `now` is."""
    return time.monotonic() + knobs.get("clock_offset_seconds")
