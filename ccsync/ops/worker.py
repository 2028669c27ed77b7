"""What ccsync adds to its Celery app (ccsync/celery.py): the settings checks when a worker
or beat starts, the worker heartbeat (ccsync/ops/heartbeat.py), and the tenant in the log
lines of every task that takes a `tenant_id` argument.

Imported before Django is set up: anything touching models is imported inside functions.
"""

import inspect
import logging
from contextvars import Token
from typing import Any

from celery import Celery, bootsteps, signals
from django.conf import settings

from ccsync.base.logs import bind, unbind

logger = logging.getLogger(__name__)


def _refuse_to_start(**_: Any) -> None:
    from ccsync.ops.checks import refuse_to_start

    # It raises SystemExit: Celery's signal dispatch would log and swallow an Exception.
    refuse_to_start()


def _safely(action: str, **kwargs: Any) -> None:
    """heartbeat.<action>(**kwargs). The consumer's thread keeps no connection between
    stamps: a restarted database or a network blip costs one stamp, not the worker. (Closed,
    not left to close_old_connections: with CONN_MAX_AGE longer than the beat, that kept the
    timer thread's connection open after the worker stopped.)"""
    from django.db import DatabaseError, connection

    from ccsync.ops import heartbeat

    try:
        getattr(heartbeat, action)(**kwargs)
    except DatabaseError:
        logger.warning("worker heartbeat not recorded: database unavailable")
    finally:
        connection.close()


class Heartbeat(bootsteps.StartStopStep):
    """Consumer bootstep: stamp at start, then every WORKER_HEARTBEAT_SECONDS; forget the
    worker on a clean shutdown."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def __init__(self, parent, **kwargs) -> None:  # noqa: ANN001
        super().__init__(parent, **kwargs)
        self.timer_ref = None

    def start(self, parent) -> None:  # noqa: ANN001
        queues = sorted(queue.name for queue in parent.task_consumer.queues)
        beat = {"hostname": parent.hostname, "queues": queues}
        _safely("stamp", **beat)
        self.timer_ref = parent.timer.call_repeatedly(
            settings.WORKER_HEARTBEAT_SECONDS, _safely, ("stamp",), beat
        )

    def stop(self, parent) -> None:  # noqa: ANN001
        if self.timer_ref is not None:
            self.timer_ref.cancel()
            self.timer_ref = None

    def shutdown(self, parent) -> None:  # noqa: ANN001
        self.stop(parent)
        _safely("forget", hostname=parent.hostname)


_task_contexts: dict[str, Token] = {}


def _tenant_argument(task: Any, args: tuple, kwargs: dict) -> Any:
    if "tenant_id" in kwargs:
        return kwargs["tenant_id"]
    parameters = list(inspect.signature(task.run).parameters)
    if "tenant_id" in parameters and parameters.index("tenant_id") < len(args):
        return args[parameters.index("tenant_id")]
    return None


def _enter_task(task_id: str, task: Any, args: tuple = (), kwargs: dict | None = None, **_: Any):
    tenant = _tenant_argument(task, args or (), kwargs or {})
    if isinstance(tenant, int):
        _task_contexts[task_id] = bind(tenant=tenant)


def _leave_task(task_id: str, **_: Any) -> None:
    # task_postrun runs in the task's thread, as task_prerun did.
    if (token := _task_contexts.pop(task_id, None)) is not None:
        unbind(token)


def install(app: Celery) -> None:
    app.steps["consumer"].add(Heartbeat)
    signals.worker_init.connect(_refuse_to_start, weak=False)
    signals.beat_init.connect(_refuse_to_start, weak=False)
    signals.task_prerun.connect(_enter_task, weak=False)
    signals.task_postrun.connect(_leave_task, weak=False)
