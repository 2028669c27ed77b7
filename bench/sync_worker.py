"""One sync run in a fresh process, as a worker runs it:

    python -m bench.sync_worker <run id>

prints JSON: the run's wall time, the process's peak resident memory before the run
(Django and the engine loaded) and after it, and the run's provider calls by endpoint
("constantcontact:create_custom_field": 9, ...). The environment is the stack's."""

import json
import os
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import django


def peak_kib() -> int:
    """The process's peak resident memory (VmHWM). Not getrusage's ru_maxrss: Linux carries
    that over from the forking parent through exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def count_endpoints(endpoints: Counter[str]) -> None:
    """Every client the runs make also counts its calls by endpoint, in `endpoints`."""
    from ccsync.sync import clients

    counting = clients._counting

    def by_endpoint(provider: str, acquire: Callable[[str], None], calls: Counter[str]):
        before_request = counting(provider, acquire, calls)

        def counted(endpoint: str) -> None:
            before_request(endpoint)
            endpoints[f"{provider}:{endpoint}"] += 1

        return counted

    clients._counting = by_endpoint


def main() -> None:
    run_id = int(sys.argv[1])
    django.setup()
    from django.conf import settings

    from ccsync.sync import worker

    # The stack runs with DEBUG on (see bench/harness.py), which keeps every query's SQL in
    # memory; a production worker does not.
    settings.DEBUG = False

    endpoints: Counter[str] = Counter()
    count_endpoints(endpoints)
    before = peak_kib()
    started = time.monotonic()
    worker.execute(run_id=run_id, worker=f"bench-{os.getpid()}")
    seconds = time.monotonic() - started
    measured = {"seconds": seconds, "baseline_kib": before, "peak_kib": peak_kib()}
    print(json.dumps({**measured, "endpoints": dict(endpoints)}))


if __name__ == "__main__":
    main()
