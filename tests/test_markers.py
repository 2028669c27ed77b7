"""The markers `make test-fast` deselects come from what a test uses, not from its author."""

import pytest

from tests.plugins.markers import TESTS, markers_for


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
