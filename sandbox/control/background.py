"""Background jobs of the serving process (webhook delivery, bulk import processing).

Apps register their jobs in `AppConfig.ready()`; the gunicorn worker starts them once.
"""

import logging
import threading
import time
from collections.abc import Callable

from django.db import close_old_connections

logger = logging.getLogger(__name__)

_jobs: list[tuple[str, Callable[[], None], float]] = []
_started = False
_lock = threading.Lock()


def register(name: str, job: Callable[[], None], *, every_seconds: float) -> None:
    _jobs.append((name, job, every_seconds))


def start() -> None:
    global _started
    with _lock:
        if _started:
            return
        _started = True
    for name, job, every in _jobs:
        threading.Thread(target=_loop, args=(name, job, every), name=name, daemon=True).start()


def _loop(name: str, job: Callable[[], None], every: float) -> None:
    while True:
        close_old_connections()
        try:
            job()
        except Exception:
            logger.exception("sandbox background job %s failed", name)
        time.sleep(every)
