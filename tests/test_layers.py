"""The app's imports point down its layers, and none closes a cycle (README, Layout).

integrations -> tenants -> ccsync.sync -> ccsync.ops, ccsync.datacare -> entry points.
A module may import its own layer and those below; entry points (views, admin, urls, Celery
tasks, management commands, middleware, settings) may import anything. A leaf, a module
that imports no app code (ccsync.base.jobs, ccsync.base.counters, ccsync.base.logs), may be
imported from anywhere. Imports inside functions count like the others.
"""

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("integrations", "tenants", "ccsync")
LAYERS = (
    ("integrations",),
    ("tenants",),
    ("ccsync.sync",),
    ("ccsync.ops", "ccsync.datacare"),
)
ENTRY = len(LAYERS)
ENTRY_NAMES = {
    "views",
    "admin",
    "urls",
    "tasks",
    "apps",
    "middleware",
    "probes",
    "settings",
    "wsgi",
    "celery",
    "demo",
    "gunicorn_conf",
}
ENTRY_PACKAGES = ("views", "management", "templatetags")

Graph = Mapping[str, set[str]]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def app_modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:
                found[module_name(path)] = path
    return found


def imports_of(name: str, path: Path, known: set[str]) -> Iterator[str]:
    """The app modules `name` imports, wherever the import statement stands."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # `from a import b` imports the module a.b when there is one, else a.
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                yield target
                break


def import_graph() -> dict[str, set[str]]:
    modules = app_modules()
    return {name: set(imports_of(name, path, set(modules))) for name, path in modules.items()}


def layer(name: str) -> int:
    parts = name.split(".")
    if name == "ccsync" or parts[-1] in ENTRY_NAMES or set(parts) & set(ENTRY_PACKAGES):
        return ENTRY
    for index, prefixes in enumerate(LAYERS):
        if any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes):
            return index
    return ENTRY  # ccsync's own top-level modules: settings, urls, the Celery app


def leaves(graph: Graph) -> set[str]:
    """Modules that import no app module at all."""
    return {name for name, targets in graph.items() if not targets}


def upward_imports(graph: Graph) -> list[str]:
    free = leaves(graph)
    return sorted(
        f"{name} (layer {layer(name)}) imports {target} (layer {layer(target)})"
        for name, targets in graph.items()
        for target in targets
        if target not in free and layer(target) > layer(name)
    )


def cycles(graph: Graph) -> list[list[str]]:
    """Every strongly connected group of two or more modules (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(name: str) -> None:
        index[name] = low[name] = len(index)
        stack.append(name)
        for target in graph.get(name, ()):
            if target not in index:
                visit(target)
                low[name] = min(low[name], low[target])
            elif target in stack:
                low[name] = min(low[name], index[target])
        if low[name] == index[name]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == name:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return found


def test_no_import_runs_back_up_a_layer():
    assert upward_imports(import_graph()) == []


def test_no_import_cycle():
    # The package ccsync's __init__ loads the Celery app (Django's convention): left out.
    graph = {name: targets - {"ccsync"} for name, targets in import_graph().items()}
    assert cycles(graph) == []


def test_only_celery_finds_the_tasks_modules():
    graph = import_graph()
    importers = {name for name, targets in graph.items() for t in targets if t.endswith(".tasks")}
    assert importers == set()


def test_the_checks_find_what_they_look_for():
    graph = {
        "integrations.http": {"ccsync.ops.metrics"},  # up, and not a leaf
        "ccsync.ops.metrics": {"ccsync.sync.models"},
        "ccsync.sync.models": {"ccsync.sync.rules"},
        "ccsync.sync.rules": set(),
        "ccsync.sync.runs": {"ccsync.base.jobs"},  # a leaf: fine
        "ccsync.base.jobs": set(),
        "ccsync.sync.kinds": {"ccsync.sync.sending"},
        "ccsync.sync.sending": {"ccsync.sync.kinds"},
        "tenants.views": {"ccsync.sync.runs"},  # an entry point: fine
    }
    assert upward_imports(graph) == [
        "integrations.http (layer 0) imports ccsync.ops.metrics (layer 3)"
    ]
    assert cycles(graph) == [["ccsync.sync.kinds", "ccsync.sync.sending"]]
    assert layer("ccsync.datacare.management.commands.erase_company") == ENTRY
    assert "ccsync.base.jobs" in leaves(graph) and "ccsync.ops.metrics" not in leaves(graph)


def test_the_graph_reads_imports_inside_functions():
    graph = import_graph()
    assert "ccsync.sync.models" in graph["ccsync.ops.metrics"]  # imported in a function
