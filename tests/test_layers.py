"""The app's imports point down its layers, and none closes a cycle (README, Layout).

A module's layer is its folder: integrations/ -> tenants/ -> ccsync/sync/ -> ccsync/ops/,
ccsync/datacare/ -> ccsync/web/ and ccsync's own top-level modules (settings, the Celery
app, wsgi, the demo), the entry points. A module may import its own layer and those below,
whatever its file is called (an app's tasks, admin or commands stay in its layer). ccsync/base/
holds the leaves (jobs, counters, logs): they import no app code and may be imported from
anywhere. Imports inside functions count like the others.
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
ENTRY = len(LAYERS)  # ccsync.web and ccsync's top-level modules
LEAVES = "ccsync.base"

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
    for index, prefixes in enumerate(LAYERS):
        if any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes):
            return index
    return ENTRY


def in_base(name: str) -> bool:
    return name == LEAVES or name.startswith(LEAVES + ".")


def upward_imports(graph: Graph) -> list[str]:
    return sorted(
        f"{name} (layer {layer(name)}) imports {target} (layer {layer(target)})"
        for name, targets in graph.items()
        for target in targets
        if not in_base(target) and layer(target) > layer(name)
    )


def base_imports(graph: Graph) -> list[str]:
    """The leaves of ccsync/base/ that import app code (they must not)."""
    return sorted(
        f"{name} imports {target}"
        for name, targets in graph.items()
        if in_base(name)
        for target in targets
        if target != LEAVES
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


def test_the_leaves_import_no_app_code():
    assert base_imports(import_graph()) == []


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
        "integrations.http": {"ccsync.ops.metrics"},  # up
        "ccsync.ops.metrics": {"ccsync.sync.models"},
        "ccsync.sync.models": {"ccsync.sync.rules"},
        "ccsync.sync.rules": set(),
        "ccsync.sync.runs": {"ccsync.base.jobs"},  # a leaf: fine
        "ccsync.base.jobs": set(),
        "ccsync.base.logs": {"tenants.models"},  # a leaf importing app code
        "ccsync.sync.kinds": {"ccsync.sync.sending"},
        "ccsync.sync.sending": {"ccsync.sync.kinds"},
        "ccsync.web.status": {"ccsync.sync.runs"},  # an entry point: fine
        "tenants.admin": {"ccsync.sync.models"},  # named like an entry point, still tenants
    }
    assert upward_imports(graph) == [
        "integrations.http (layer 0) imports ccsync.ops.metrics (layer 3)",
        "tenants.admin (layer 1) imports ccsync.sync.models (layer 2)",
    ]
    assert base_imports(graph) == ["ccsync.base.logs imports tenants.models"]
    assert cycles(graph) == [["ccsync.sync.kinds", "ccsync.sync.sending"]]
    assert layer("ccsync.datacare.management.commands.erase_company") == 3
    assert layer("ccsync.settings") == layer("ccsync.web.urls") == ENTRY


def test_the_graph_reads_imports_inside_functions():
    graph = import_graph()
    assert "ccsync.sync.models" in graph["ccsync.ops.metrics"]  # imported in a function
