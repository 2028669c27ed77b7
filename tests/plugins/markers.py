"""The markers each test gets from what it uses: `make test-fast` runs the tests with none."""

from collections.abc import Iterable
from pathlib import Path

import pytest
from xdist.scheduler import LoadScopeScheduling

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


# The tests that run the whole product (its processes, Chromium, the benchmarks' stack): the
# folders whose fixtures start it (a folder's conftest fixtures reach only its own tests).
WHOLE_STACK_FOLDERS = ("browser", "faults", "bench")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for marker in sorted(
            markers_for(fixtures=getattr(item, "fixturenames", ()), path=item.path)
        ):
            item.add_marker(marker)


class WholeStackInTurn(LoadScopeScheduling):
    """xdist's `--dist loadgroup` as `make test` uses it: the whole stack's tests are one
    group, run one after another by one worker (two stacks at once would share their
    database names and starve each other of the 2 cores) while the other worker takes the
    rest test by test. (xdist's own xdist_group marker no longer groups under pytest 9.)"""

    def _split_scope(self, nodeid: str) -> str:
        return scope_of(nodeid)


def scope_of(nodeid: str) -> str:
    """The unit of work xdist gives one worker: the whole stack's tests together, any other
    test alone."""
    folder = nodeid.removeprefix("tests/").split("/", 1)[0]
    return "whole-stack" if folder in WHOLE_STACK_FOLDERS else nodeid


@pytest.hookimpl(optionalhook=True)  # xdist's hook: unknown under -p no:xdist
def pytest_xdist_make_scheduler(config: pytest.Config, log) -> LoadScopeScheduling | None:
    if config.getvalue("dist") == "loadgroup":
        return WholeStackInTurn(config, log)
    return None
