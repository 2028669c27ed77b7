"""The markers `make test-fast` deselects come from what a test uses, not from its author."""

import pytest

from tests.plugins.markers import TESTS, markers_for, scope_of


@pytest.mark.parametrize(
    ("fixtures", "path", "expected"),
    [
        (["db", "settings"], "sync/test_rules.py", set()),
        (["journey", "sandbox_settings", "sandbox"], "tenants/test_install.py", {"sandbox"}),
        (["synced", "fakes", "db"], "sync/test_in_process.py", set()),  # the fakes: fast
        (["world", "install", "sandbox"], "contract/test_sandbox.py", {"sandbox"}),
        (["live", "stack", "redis_server"], "faults/test_worker_kills.py", {"faults", "stack"}),
        (["sandbox"], "faults/test_bad_input.py", {"faults", "sandbox"}),
        (["page", "stack", "camera"], "browser/test_journeys.py", {"browser", "stack"}),
        (["tmp_path"], "bench/test_bench_smoke.py", {"bench"}),
        ([], "test_layout.py", set()),
    ],
)
def test_markers_follow_fixtures_and_folders(fixtures, path, expected):
    assert markers_for(fixtures=fixtures, path=TESTS / path) == expected


def test_the_whole_stacks_tests_take_turns_on_one_xdist_worker():
    for nodeid in (
        "tests/browser/test_journeys.py::test_change_list",
        "tests/faults/test_bad_input.py::test_get_pages_with_any_next_never_fail[/status/]",
        "tests/bench/test_bench_smoke.py::test_every_benchmark_fills_its_rows",
    ):
        assert scope_of(nodeid) == "whole-stack"
    alone = "tests/sync/test_changes.py::test_a_new_customer_goes_to_the_list"
    assert scope_of(alone) == alone
