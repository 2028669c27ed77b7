"""The import layering of the helpers: bench/ and support/ never import tests/ (and support/
never imports bench/), so the tests stay free to change and the benchmarks run without them.
Imports inside functions count too."""

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


def test_imports_inside_functions_are_seen(tmp_path):
    module = tmp_path / "late.py"
    module.write_text("def later():\n    from tests.browser import journey\n    import tests\n")
    assert imported_modules(module) == {"tests.browser", "tests"}
