"""Time as the app reads it and waits on it: the system's clock, or one a test gives (the
limiter's waits, the pacer's day, the sync's pauses), so that no test waits in real time."""

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class Clock:
    monotonic: Callable[[], float] = time.monotonic  # seconds, for durations
    sleep: Callable[[float], None] = time.sleep
    time: Callable[[], float] = time.time  # seconds since the epoch (last: it hides the module)


SYSTEM = Clock()
