"""The day of Constant Contact calls, as the operator sees it: today's spend, where the day
is heading, how long companies' changes wait, how fresh their unsubscribes are (the same
figures in /metrics and the admin)."""

from dataclasses import dataclass

from ccsync.sync import pacing


@dataclass(frozen=True)
class Figure:
    name: str  # the metric's, after `ccsync_`
    label: str  # the admin's
    value: float
    help: str


def day_of_calls() -> list[Figure]:
    snapshot = pacing.get_pacer().snapshot()
    return [
        Figure(
            "constantcontact_daily_requests_used",
            "Calls today (UTC)",
            snapshot.spent,
            "Constant Contact requests the app made today (UTC), counted by the shared limiter.",
        ),
        Figure(
            "constantcontact_daily_requests_limit",
            "The day's share",
            snapshot.share,
            "The app's daily share of Constant Contact requests (SYNC_CC_DAILY_SHARE).",
        ),
        Figure(
            "constantcontact_projected_at_midnight",
            "Projected at 24:00 UTC",
            snapshot.projected,
            "Today's requests at midnight UTC, at the last hour's rate.",
        ),
        Figure(
            "change_window_seconds",
            "A company's changes wait now (s)",
            round(snapshot.window, 1),
            "Seconds a company's changes wait before their run now (their change window).",
        ),
        Figure(
            "companies_waiting",
            "Companies waiting their turn",
            snapshot.waiting,
            "Companies whose changes wait for the pacer to give them their turn.",
        ),
        Figure(
            "oldest_wait_seconds",
            "Longest wait now (s)",
            round(snapshot.oldest_wait, 1),
            "Seconds the company waiting longest has waited.",
        ),
        Figure(
            "unsubscribes_freshness_seconds",
            "Unsubscribes read when older than (s)",
            round(snapshot.unsubscribes_fresh),
            "How old a run of changes' unsubscribes may be now: 0 while the day's slack pays "
            "for reading them before every run, else 4 to 24 hours as pressure grows.",
        ),
    ]
