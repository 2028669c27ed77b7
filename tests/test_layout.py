"""The import layering of the helpers: bench/ and support/ never import tests/ (and support/
never imports bench/), so the tests stay free to change and the benchmarks run without them.
A test folder never imports another: what folders share comes from tests/plugins. Imports
inside functions count too."""

import ast
from pathlib import Path

import pytest

from support.sandbox_server import ROOT


def imported_modules(path: Path) -> set[str]:
    """Every module `path` imports, wherever the import statement is."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def top_level(module: str) -> str:
    return module.partition(".")[0]


@pytest.mark.parametrize(
    ("package", "forbidden"), [("bench", {"tests"}), ("support", {"tests", "bench"})]
)
def test_helpers_do_not_import_the_tests(package, forbidden):
    modules = sorted((ROOT / package).rglob("*.py"))
    assert modules
    offenders = {
        f"{path.relative_to(ROOT)} imports {module}"
        for path in modules
        for module in imported_modules(path)
        if top_level(module) in forbidden
    }
    assert sorted(offenders) == []


def other_test_folders(path: Path, modules: set[str]) -> set[str]:
    """The test modules `path` imports from outside its own folder and tests/plugins."""
    own = ".".join(path.parent.relative_to(ROOT).parts)
    return {
        module
        for module in modules
        if top_level(module) == "tests"
        and not module.startswith("tests.plugins")
        and module.rpartition(".")[0] != own
        and module != own
    }


def test_no_test_folder_imports_another():
    offenders = {
        f"{path.relative_to(ROOT)} imports {module}"
        for path in sorted((ROOT / "tests").rglob("*.py"))
        for module in other_test_folders(path, imported_modules(path))
    }
    assert sorted(offenders) == []


def test_an_import_across_test_folders_is_seen():
    sync_test = ROOT / "tests" / "sync" / "test_x.py"
    assert other_test_folders(
        sync_test,
        {"tests.tenants.conftest", "tests.conftest", "tests.sync.helpers", "tests.plugins.fakes"},
    ) == {"tests.tenants.conftest", "tests.conftest"}


def test_imports_inside_functions_are_seen(tmp_path):
    module = tmp_path / "late.py"
    module.write_text("def later():\n    from tests.browser import journey\n    import tests\n")
    assert imported_modules(module) == {"tests.browser", "tests"}
