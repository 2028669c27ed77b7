"""Every benchmark against the running product, one table of figures next to their targets.

    python -m bench [--tiny] [--only first_sync changes webhooks sales tenants]
                    [--output FILE]

Needs PostgreSQL and Redis: DATABASE_URL names a database whose name gets `_bench` appended
(dropped and made anew), CELERY_BROKER_URL a Redis database that is flushed (`make bench`
sets both). The table is printed and written to bench/results/latest.md (or FILE).
"""

import argparse
import importlib
import sys
import tempfile
import time
import traceback
from pathlib import Path

from bench import harness
from bench.report import Row, render

BENCHMARKS = ("first_sync", "changes", "webhooks", "sales", "tenants")
DEFAULT_OUTPUT = Path(__file__).resolve().parent / "results" / "latest.md"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="small sizes: proves the code runs")
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, default=list(BENCHMARKS))
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args()
    sizes = harness.TINY if args.tiny else harness.FULL

    rows: list[Row] = []
    failed = False
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ccsync-bench-") as var_dir:
        bench = harness.start(Path(var_dir), sizes)
        try:
            for name in args.only:
                module = importlib.import_module(f"bench.{name}")
                print(f"running {name}...", file=sys.stderr, flush=True)
                try:
                    rows += module.run(bench)
                except Exception as error:
                    failed = True
                    traceback.print_exc()
                    print(bench.stack.logs(), file=sys.stderr)
                    rows.append(Row(module.NAME, "error", f"{type(error).__name__}: {error}"))
        finally:
            harness.stop(bench)
    command = " ".join(["python -m bench", *sys.argv[1:]])
    notes = [
        f"`{command}` took {time.monotonic() - started:.0f} s on this machine. Every provider "
        f"call waits {sizes.latency_ms} ms in the sandbox, which enforces Constant Contact's "
        "4/s and 10,000/day and QuickBooks' 10/s and 500/min. The app runs under gunicorn "
        "with one Celery worker (4 threads) and beat, on PostgreSQL and Redis; with DEBUG on "
        "(the production checks refuse the sandbox's plain-http URLs), except the first "
        "sync's worker process, which keeps no query log.",
    ]
    table = render(rows, title="Benchmarks", notes=notes)
    print(table)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(table)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
