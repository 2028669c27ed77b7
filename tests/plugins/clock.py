"""A clock of the test's own: it moves only when the test moves it or when the code under
test sleeps on it, so nothing waits in real time (integrations/clock.py)."""

import pytest

from integrations.clock import Clock

START = 1_796_126_400.0  # 2026-12-01 12:00 UTC


class FakeClock:
    def __init__(self, now: float = START) -> None:
        self.now = now
        self.slept: list[float] = []

    def time(self) -> float:
        return self.now

    def ms(self) -> int:
        return int(self.now * 1000)

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += max(seconds, 0.0)

    def advance(self, seconds: float) -> None:
        self.now += seconds

    @property
    def clock(self) -> Clock:
        return Clock(time=self.time, monotonic=self.time, sleep=self.sleep)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
