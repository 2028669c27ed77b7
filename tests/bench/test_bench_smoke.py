"""`python -m bench --tiny`: every benchmark runs end to end against the whole stack and puts
its figures in the table (the sizes are too small for the figures to mean anything; what
must hold at any size, like every tenant finishing, is checked)."""

import subprocess
import sys

from support.sandbox_server import ROOT

FIGURES = {
    "First sync": [
        "run",
        "synced / over the cap / other skips / failed",
        "contacts in the Constant Contact list",
        "wall time, one worker",
        "QuickBooks calls per synced contact",
        "Constant Contact calls per synced contact",
        "worker peak memory (RSS)",
    ],
    "Runs of changes": [
        "webhook arrival → contact updated in Constant Contact: p50 / p95 (max)",
        "edits that reached Constant Contact",
        "Constant Contact calls",
    ],
    "Webhook endpoint": [
        "deliveries answered 200 a second",
        "answer time p50 / p99",
        "events stored (one per delivery)",
    ],
    "Sales data": [
        "runs with / without sales data",
        "QuickBooks calls of the sync, with every fact / without sales data",
        "Constant Contact calls of the sync, with every fact / without sales data",
        "one-time set-up of the Constant Contact account (custom fields listed / created; "
        "the new columns' sample)",
        "contacts in Constant Contact holding every figure the app read",
        "sample recomputed from the sandbox's QuickBooks transactions",
        "with the tag too: contacts holding the tag",
        "Constant Contact calls until every figure is in Constant Contact",
        "contacts whose figures were updated (invoices + 1, total sales + the amount)",
    ],
    "Many tenants": [
        "Constant Contact calls a second: peak / answered 429",
        "the day's Constant Contact calls (the limiter's count, every benchmark)",
        "tenants whose first sync completed",
        "finish times after the start: first / median / last",
    ],
}
# Correctness, whatever the sizes: these rows must say "yes".
MUST_HOLD = {
    "run",
    "contacts in the Constant Contact list",
    "edits that reached Constant Contact",
    "events stored (one per delivery)",
    "Constant Contact calls a second: peak / answered 429",
    "tenants whose first sync completed",
    "runs with / without sales data",
    "contacts in Constant Contact holding every figure the app read",
    "sample recomputed from the sandbox's QuickBooks transactions",
    "with the tag too: contacts holding the tag",
    "contacts whose figures were updated (invoices + 1, total sales + the amount)",
}


def test_every_benchmark_fills_its_rows(tmp_path):
    output = tmp_path / "latest.md"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--tiny", "--output", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-8000:]
    table = output.read_text()
    assert table in done.stdout
    rows = [
        [cell.strip() for cell in line.strip("|").split(" | ")]
        for line in table.splitlines()[6:]
        if line.startswith("| ")
    ]
    assert all(len(row) == 5 and row[2] for row in rows), rows
    for benchmark, figures in FIGURES.items():
        found = {row[1]: row for row in rows if row[0].startswith(benchmark)}
        assert sorted(set(figures) - set(found)) == [], f"{benchmark}: {sorted(found)}"
        for figure in MUST_HOLD & set(figures):
            assert found[figure][4] == "yes", found[figure]
