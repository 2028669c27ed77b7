"""Data care: what is kept about a QuickBooks company, for how long, and its export and erasure.

See docs/datacare.md. `retention` deletes on a schedule (beat); `company` answers a
data-subject or partner request for one company (this app's export_company / erase_company
management commands).
"""


def describe_counts(counts: dict[str, int]) -> str:
    """Counts for a log line: `customers=120 runs=4` (never what the rows hold)."""
    return " ".join(f"{name}={count}" for name, count in counts.items())
