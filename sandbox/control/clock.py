"""The sandbox's time as its authorization servers read it (codes and tokens issued and
expiring): the real time, moved ahead by the knob `clock_offset_seconds`, so that a test
sees a code or a token expire without waiting for it."""

from datetime import datetime, timedelta

from django.utils import timezone

from sandbox.control import knobs


def now() -> datetime:
    return timezone.now() + timedelta(seconds=knobs.get("clock_offset_seconds"))
