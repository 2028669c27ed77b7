"""Times that come from outside (QuickBooks' webhooks and records): the range the app keeps.

Python's datetime ends at years 1 and 9999, and an offset can carry a time past either end
once it is turned into UTC; PostgreSQL stores such a time (year 0, year 10000) and nobody
can read it back, so one stored event would fail every page that reads it. A time from
outside is therefore kept only between EARLIEST and a day after now; anything else is not
a time the provider can mean (clocks differ by seconds, not days).
"""

from datetime import UTC, datetime, timedelta

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)  # the Unix epoch: no record of ours is older
AHEAD = timedelta(days=1)


def window(*, now: datetime | None = None) -> tuple[datetime, datetime]:
    """The times kept, first and last, for a query's range."""
    return EARLIEST, (now or datetime.now(UTC)) + AHEAD


def plausible(moment: datetime, *, now: datetime | None = None) -> datetime | None:
    """`moment` in UTC when it lies within window(); else None (out of it, or not a time
    datetime can hold once in UTC). A time without a zone is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        utc = moment.astimezone(UTC)
    except (OverflowError, ValueError):
        return None
    earliest, latest = window(now=now)
    return utc if earliest <= utc <= latest else None
