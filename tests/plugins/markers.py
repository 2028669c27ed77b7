"""The markers each test gets from what it uses: `make test-fast` runs the tests with none."""

from collections.abc import Iterable
from pathlib import Path

import pytest

# Markers come from a test's fixtures (however indirectly it uses them) and its folder, never
# by hand, so a new test cannot be misclassified.
# (A folder's conftest fixtures reach only its own tests: the folder rule covers them.)
FIXTURE_MARKERS = {"sandbox": "sandbox", "stack": "stack"}
FOLDER_MARKERS = {"browser": "browser", "faults": "faults", "bench": "bench"}
TESTS = Path(__file__).resolve().parent.parent


def markers_for(*, fixtures: Iterable[str], path: Path) -> set[str]:
    fixtures = set(fixtures)
    found = {marker for fixture, marker in FIXTURE_MARKERS.items() if fixture in fixtures}
    path = path.resolve()
    folder = path.relative_to(TESTS).parts[0] if path.is_relative_to(TESTS) else ""
    if folder in FOLDER_MARKERS:
        found.add(FOLDER_MARKERS[folder])
    return found


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for marker in sorted(
            markers_for(fixtures=getattr(item, "fixturenames", ()), path=item.path)
        ):
            item.add_marker(marker)
