"""The sandbox's clocks: the real time, moved ahead by knobs so that a test sees a code
expire, a window pass or an import done without waiting for it.

- `now`, `monotonic`: what expires or refills (authorization codes and tokens, QuickBooks'
  request limits), ahead by `clock_offset_seconds`;
- `activities_now`: how far Constant Contact's bulk activities have got, ahead by
  `cc_activities_offset_seconds` alone (the sync's pauses move it in tests: ID tokens and
  the app's clock stay in step)."""

import time
from datetime import datetime, timedelta

from django.utils import timezone

from sandbox.control import knobs


def now() -> datetime:
    return timezone.now() + timedelta(seconds=knobs.get("clock_offset_seconds"))


def monotonic() -> float:
    """Seconds for durations (time.monotonic), moved ahead as `now` is."""
    return time.monotonic() + knobs.get("clock_offset_seconds")


def activities_now() -> datetime:
    return timezone.now() + timedelta(seconds=knobs.get("cc_activities_offset_seconds"))
