"""Every task the app names is one Celery knows: work is enqueued by name (ccsync.base.jobs),
so a misspelt or renamed task would otherwise fail only when a worker receives it.

The names come from every `enqueue(...)` call of the app's packages (read from the source,
imports inside functions too), beat's schedule and the queue routes; the tasks from the
Celery app once it has discovered every app's tasks module, as a worker does.
"""

import ast
from pathlib import Path

import pytest
from django.conf import settings

from ccsync.base import jobs
from ccsync.celery import app

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("integrations", "tenants", "ccsync")


def enqueued_names(path: Path) -> tuple[set[str], list[str]]:
    """The task names `path` enqueues, and the enqueue calls whose task is not a literal
    (which this test could not check)."""
    names: set[str] = set()
    unreadable: list[str] = []
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if not isinstance(node, ast.Call):
            continue
        called = node.func
        name = called.attr if isinstance(called, ast.Attribute) else getattr(called, "id", "")
        if name != "enqueue":
            continue
        first = node.args[0] if node.args else None
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            names.add(first.value)
        else:
            unreadable.append(f"{shown}:{node.lineno}")
    return names, unreadable


def app_sources() -> list[Path]:
    return sorted(
        path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    )


def named_tasks() -> dict[str, set[str]]:
    """Task name -> where it is named."""
    found: dict[str, set[str]] = {}
    for path in app_sources():
        names, _ = enqueued_names(path)
        for name in names:
            found.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    for entry, beat in settings.CELERY_BEAT_SCHEDULE.items():
        found.setdefault(beat["task"], set()).add(f"CELERY_BEAT_SCHEDULE[{entry!r}]")
    for name in jobs.ROUTES:
        found.setdefault(name, set()).add("ccsync.base.jobs.ROUTES")
    return found


def registered_tasks() -> set[str]:
    app.loader.import_default_modules()  # autodiscovery, as a worker starts
    return set(app.tasks)


def unknown(named: dict[str, set[str]], registered: set[str]) -> list[str]:
    return sorted(
        f"{name} (named in {', '.join(sorted(where))})"
        for name, where in named.items()
        if name not in registered
    )


def test_every_task_named_anywhere_is_registered_with_celery():
    named = named_tasks()
    # The sources were read: the sync's own tasks are among the names.
    assert {"sync.run", "sync.changes", "sync.dispatch"} <= set(named)
    assert unknown(named, registered_tasks()) == []


def test_every_enqueue_names_its_task_literally():
    unreadable = [where for path in app_sources() for where in enqueued_names(path)[1]]
    assert unreadable == []


@pytest.mark.parametrize(
    "source",
    [
        'jobs.enqueue("sync.no_such_task", 1)',
        'def later():\n    from ccsync.base.jobs import enqueue\n    enqueue("sync.no_such_task")',
    ],
)
def test_a_task_nobody_registered_is_caught(tmp_path, source):
    module = tmp_path / "made_up.py"
    module.write_text(source + "\n")
    names, unreadable = enqueued_names(module)
    assert names == {"sync.no_such_task"} and unreadable == []
    found = unknown({name: {"made_up.py"} for name in names}, registered_tasks())
    assert found == ["sync.no_such_task (named in made_up.py)"]


def test_an_enqueue_of_a_computed_name_is_caught(tmp_path):
    module = tmp_path / "computed.py"
    module.write_text('jobs.enqueue(f"sync.{kind}", 1)\n')
    assert enqueued_names(module) == (set(), ["computed.py:1"])
