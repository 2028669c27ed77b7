"""QuickBooks' per-company request limits (10 a second, 500 a minute), in memory.

The sandbox serves from one process, so sliding windows of request times under a lock are
exact. Only accepted requests count: a client that backs off gets through again.
"""

import threading
from collections import deque

from sandbox.control import clock


class RealmThrottle:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._accepted: dict[str, deque[float]] = {}

    def allow(self, *, realm_id: str, per_second: int, per_minute: int) -> bool:
        moment = clock.monotonic()
        with self._lock:
            accepted = self._accepted.setdefault(realm_id, deque())
            while accepted and accepted[0] <= moment - 60:
                accepted.popleft()
            in_last_second = 0
            for earlier in reversed(accepted):
                if earlier <= moment - 1 or in_last_second >= per_second:
                    break
                in_last_second += 1
            if len(accepted) >= per_minute or in_last_second >= per_second:
                return False
            accepted.append(moment)
            return True


realms = RealmThrottle()
