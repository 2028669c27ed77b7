"""One writer per state machine (issue 19): a customer record's sync state, a run's, and the
engine's state about a company's sales data have each one module that writes them, and no
other module of the app does (tests/test_layers.py finds the modules).

A write is an attribute assignment (`record.outcome = ...`, `run.done += 1`, `setattr`), a
queryset's or manager's update, create, get_or_create, update_or_create, bulk_create,
bulk_update, a save (with or without update_fields), or a model built with field values,
naming a field of the machine's model. The model a write reaches is read from the code
around it (names of models in the receiver, in the assignment or loop that bound it, in a
parameter's annotation); a write whose model cannot be read counts against every machine
holding a field of its name, so a write cannot hide behind a variable.
"""

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.apps import apps
from django.db import models

from ccsync.sync.models import CustomerRecord, Run, SalesDataState
from tests.test_layers import app_modules

WRITING_METHODS = {
    "update",
    "create",
    "get_or_create",
    "update_or_create",
    "bulk_create",
    "bulk_update",
    "save",
}
ANY_FIELD = "*"  # a write whose fields cannot be read (`**values`, setattr by a variable)


def field_names(model: type[models.Model]) -> frozenset[str]:
    """The model's fields but its key and its tenant (set once, when a row is made)."""
    names = set()
    for field in model._meta.concrete_fields:
        if not field.primary_key and field.name != "tenant":
            names |= {field.name, field.attname}
    return frozenset(names)


@dataclass(frozen=True)
class Machine:
    owner: str
    model: str
    fields: frozenset[str]


MACHINES = (
    Machine("ccsync.sync.customer_state", "CustomerRecord", field_names(CustomerRecord)),
    Machine("ccsync.sync.runs", "Run", field_names(Run)),
    Machine("ccsync.sync.sales_state", "SalesDataState", field_names(SalesDataState)),
)


def model_names() -> frozenset[str]:
    """Every model class of the project, abstract bases included (Connection)."""
    names = set()
    for model in apps.get_models():
        names |= {c.__name__ for c in model.__mro__ if issubclass(c, models.Model)}
    return frozenset(names - {"Model"})


@dataclass(frozen=True)
class Write:
    module: str
    line: int
    field: str
    models: frozenset[str]  # the models the receiver may be; empty: not known

    def __str__(self) -> str:
        reached = ", ".join(sorted(self.models)) or "an unknown model"
        return f"{self.module}:{self.line} writes {self.field} of {reached}"


class _Scope:
    """What each name of a function (or module) was bound to."""

    def __init__(self, known_models: frozenset[str], parent: "_Scope | None" = None) -> None:
        self.known_models = known_models
        self.parent = parent
        self.classes: set[str] = parent.classes if parent is not None else set()
        self.bound: dict[str, list[ast.AST]] = {}

    def bind(self, target: ast.AST, value: ast.AST) -> None:
        if isinstance(target, ast.Name):
            self.bound.setdefault(target.id, []).append(value)
        elif isinstance(target, ast.Tuple | ast.List):
            values = value.elts if isinstance(value, ast.Tuple | ast.List) else None
            for index, element in enumerate(target.elts):
                same_shape = values is not None and len(values) == len(target.elts)
                self.bind(element, values[index] if same_shape and values else value)
        elif isinstance(target, ast.Starred):
            self.bind(target.value, value)

    def models_of(self, node: ast.AST, seen: frozenset[str] = frozenset()) -> frozenset[str]:
        """The models `node` may be; a type that is no model is named "<...>"."""
        if _is_builtin_value(node):
            return frozenset({"<builtin>"})
        found: set[str] = set()
        for child in ast.walk(node):
            if isinstance(child, ast.Name) and child.id.startswith("<"):
                found.add(child.id)
            elif isinstance(child, ast.Name) and child.id in self.known_models:
                found.add(child.id)
            elif isinstance(child, ast.Name) and child.id in self.classes:
                found.add(f"<{child.id}>")  # a class of the module that is no model
            elif isinstance(child, ast.Attribute) and child.attr in self.known_models:
                found.add(child.attr)
            elif isinstance(child, ast.Name) and child.id not in seen:
                for value in self._values(child.id):
                    found |= self.models_of(value, seen | {child.id})
        return frozenset(found)

    def _values(self, name: str) -> list[ast.AST]:
        scope: _Scope | None = self
        while scope is not None:
            if name in scope.bound:
                return scope.bound[name]
            scope = scope.parent
        return []


BUILTIN_TYPES = {"dict", "list", "set", "Counter", "defaultdict", "OrderedDict"}


def _is_builtin_value(node: ast.AST) -> bool:
    if isinstance(node, ast.Dict | ast.List | ast.Set | ast.DictComp | ast.ListComp | ast.SetComp):
        return True
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in BUILTIN_TYPES
    )


def _bind_all(scope: _Scope, body: ast.AST) -> None:
    """Bind the names of `body` (a function's or the module's), nested functions apart."""
    for node in _walk_scope(body):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                scope.bind(target, node.value)
        elif isinstance(node, ast.AnnAssign | ast.AugAssign) and node.value is not None:
            scope.bind(node.target, node.value)
        elif isinstance(node, ast.AnnAssign):
            scope.bind(node.target, node.annotation)
        elif isinstance(node, ast.For | ast.AsyncFor | ast.comprehension):
            scope.bind(node.target, node.iter)
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            scope.bind(node.optional_vars, node.context_expr)
        elif isinstance(node, ast.NamedExpr):
            scope.bind(node.target, node.value)
        elif isinstance(node, ast.arg) and node.annotation is not None:
            scope.bind(ast.Name(id=node.arg), node.annotation)


def _walk_scope(root: ast.AST) -> Iterator[ast.AST]:
    """The nodes of `root`'s own scope: a nested function's body is its own."""
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            nested = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            if nested and child is not root:
                if isinstance(child, ast.Lambda):
                    stack.append(child)  # a lambda's names are few: read with its parent
                continue
            stack.append(child)


def _scopes(tree: ast.Module, known: frozenset[str]) -> Iterator[tuple[_Scope, ast.AST]]:
    module_scope = _Scope(known)
    module_scope.classes |= {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef) and node.name not in known
    }
    _bind_all(module_scope, tree)
    yield module_scope, tree
    yield from _function_scopes(tree, module_scope, known, None)


def _function_scopes(
    node: ast.AST, parent: _Scope, known: frozenset[str], owner: str | None
) -> Iterator[tuple[_Scope, ast.AST]]:
    """Each function's scope; a method's `self` is its class (a model, or "<Class>")."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.ClassDef):
            yield from _function_scopes(child, parent, known, child.name)
        elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
            scope = _Scope(known, parent)
            if owner is not None:
                kind = owner if owner in known else f"<{owner}>"
                scope.bind(ast.Name(id="self"), ast.Name(id=kind))
                scope.bind(ast.Name(id="cls"), ast.Name(id=kind))
            _bind_all(scope, child)
            yield scope, child
            yield from _function_scopes(child, scope, known, None)
        else:
            yield from _function_scopes(child, parent, known, owner)


def writes_in(module: str, source: str, known: frozenset[str]) -> Iterator[Write]:
    tree = ast.parse(source)
    for scope, root in _scopes(tree, known):
        for node in _walk_scope(root):
            yield from _writes(module, scope, node)


def _writes(module: str, scope: _Scope, node: ast.AST) -> Iterator[Write]:
    def write(line: int, receiver: ast.AST, fields: Iterable[str]) -> Iterator[Write]:
        reached = scope.models_of(receiver)
        for name in fields:
            yield Write(module, line, name, reached)

    if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            for element in ast.walk(target):
                if isinstance(element, ast.Attribute) and isinstance(element.ctx, ast.Store):
                    yield from write(node.lineno, element.value, [element.attr])
    elif isinstance(node, ast.Call):
        yield from _call_writes(node, write, scope)


def _call_writes(node: ast.Call, write, scope: _Scope) -> Iterator[Write]:  # noqa: ANN001
    func = node.func
    if isinstance(func, ast.Name) and func.id == "setattr" and len(node.args) >= 2:
        name = node.args[1]
        field = name.value if isinstance(name, ast.Constant) else ANY_FIELD
        yield from write(node.lineno, node.args[0], [str(field)])
    elif isinstance(func, ast.Name) and func.id in scope.known_models:
        yield from write(node.lineno, func, [k.arg or ANY_FIELD for k in node.keywords])
    elif isinstance(func, ast.Attribute) and func.attr in WRITING_METHODS:
        yield from write(node.lineno, func.value, _fields_of_call(func.attr, node))


def _fields_of_call(method: str, node: ast.Call) -> list[str]:
    if method == "bulk_update":
        listed = node.args[1] if len(node.args) > 1 else _keyword(node, "fields")
        return _names(listed)
    if method in ("save", "bulk_create"):
        listed = _keyword(node, "update_fields")
        if listed is None:
            return [ANY_FIELD] if method == "save" and not node.args else []
        return _names(listed)
    if method == "update" and node.args and not node.keywords:
        return []  # dict.update(other): a queryset's update takes keywords only
    names = [k.arg or ANY_FIELD for k in node.keywords if k.arg != "defaults"]
    defaults = _keyword(node, "defaults")
    if isinstance(defaults, ast.Dict):
        names += [str(k.value) if isinstance(k, ast.Constant) else ANY_FIELD for k in defaults.keys]
    elif defaults is not None:
        names.append(ANY_FIELD)
    return names


def _keyword(node: ast.Call, name: str) -> ast.AST | None:
    return next((k.value for k in node.keywords if k.arg == name), None)


def _names(listed: ast.AST | None) -> list[str]:
    if isinstance(listed, ast.List | ast.Tuple | ast.Set):
        return [str(e.value) if isinstance(e, ast.Constant) else ANY_FIELD for e in listed.elts]
    return [ANY_FIELD]


def violations(found: Iterable[Write], machines: Iterable[Machine] = MACHINES) -> list[str]:
    """Writes of a machine's fields outside its owner."""
    problems = []
    for machine in machines:
        for write in found:
            names_it = write.field == ANY_FIELD or write.field in machine.fields
            may_reach = not write.models or machine.model in write.models
            if names_it and may_reach and write.module != machine.owner:
                problems.append(f"{write} (owned by {machine.owner})")
    return sorted(set(problems))


def app_writes() -> list[Write]:
    known = model_names()
    found = []
    for name, path in sorted(app_modules().items()):
        found += writes_in(name, Path(path).read_text(), known)
    return found


def test_each_state_machine_has_one_writer():
    assert violations(app_writes()) == []


def test_each_owner_exists_and_writes():
    """The owners are modules of the app, and each writes its model (the check looks)."""
    found = app_writes()
    for machine in MACHINES:
        assert machine.owner in app_modules()
        assert any(
            write.module == machine.owner and machine.model in write.models for write in found
        ), machine


def test_the_owners_take_typed_values():
    """The owners' public functions take named values, never **kwargs: a generic setter
    would let any module write any field through them."""
    for machine in MACHINES:
        tree = ast.parse(Path(app_modules()[machine.owner]).read_text())
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                assert node.args.kwarg is None, f"{machine.owner}.{node.name}"


SNIPPET = """
def plain(record):
    record.outcome = "synced"

def augmented(sync):
    run = sync.run
    run.done += 1

def dynamic(run, name):
    setattr(run, name, 1)

def through_a_queryset(tenant):
    waiting = CustomerRecord.objects.filter(tenant=tenant)
    waiting.exclude(pk=1).update(tag_asks=F("tag_asks") + 1)

def in_bulk(records):
    CustomerRecord.objects.bulk_update(records, ["reason"], batch_size=10)

def upserted(rows):
    CustomerRecord.objects.bulk_create(rows, update_conflicts=True, update_fields=["row"])

def saved(record: CustomerRecord):
    record.save(update_fields=["in_list"])

def built(tenant):
    return Run(tenant=tenant, kind="first", state="running")

def splatted(values):
    Run.objects.filter(pk=1).update(**values)

def elsewhere(connection: Connection, sent: ContactImport):
    connection.reason = "refused"
    ContactImport.objects.filter(pk=sent.pk).update(state="confirmed")
    counts = {}
    counts.update({"state": 1})
"""


@pytest.mark.parametrize(
    "expected",
    [
        "other:3 writes outcome of an unknown model",
        "other:7 writes done of an unknown model",
        "other:10 writes * of an unknown model",
        "other:14 writes tag_asks of CustomerRecord",
        "other:17 writes reason of CustomerRecord",
        "other:20 writes row of CustomerRecord",
        "other:23 writes in_list of CustomerRecord",
        "other:26 writes state of Run",
        "other:29 writes * of Run",
    ],
)
def test_the_check_finds_every_kind_of_write(expected):
    found = list(writes_in("other", SNIPPET, model_names()))
    assert any(problem.startswith(expected) for problem in violations(found)), expected


def test_the_check_leaves_other_models_alone():
    found = list(writes_in("other", SNIPPET, model_names()))
    assert not [p for p in violations(found) if ":33 " in p or ":34 " in p or ":36 " in p]
    owned = list(writes_in("ccsync.sync.customer_state", SNIPPET, model_names()))
    assert not [p for p in violations(owned) if "of CustomerRecord" in p]
