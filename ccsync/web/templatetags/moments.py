"""One way to write a time, on every page, in every email and in the status panel's live
updates (docs/product.md, "The pages"): a moment as "7 Dec 2026, 14:05 UTC" (always with its
zone), a day as "7 Dec 2026", and how long ago in words: "just now", "1 minute ago",
"3 hours ago", never "0 minutes ago".

Templates `{% load moments %}`; views that answer JSON call the same functions."""

from datetime import date, datetime

from django import template
from django.utils import timezone

register = template.Library()

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# (seconds in the unit, its name): the largest unit that fits says how long ago.
UNITS = ((86_400, "day"), (3_600, "hour"), (60, "minute"))


def _day(value: date) -> str:
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


@register.filter
def moment(value: datetime | None) -> str:
    """ "7 Dec 2026, 14:05 UTC": in the site's time zone, named."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    return f"{_day(local)}, {local:%H:%M} {local.tzname()}"


@register.filter
def day(value: date | datetime | None) -> str:
    """ "7 Dec 2026": a date, or the day of a moment in the site's time zone."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = timezone.localtime(value).date()
    return _day(value)


@register.filter
def ago(value: datetime | None, now: datetime | None = None) -> str:
    """How long before `now`, in words: "just now" under a minute (a moment a little ahead,
    from another clock, too), else whole minutes, hours or days ("1 minute ago")."""
    if value is None:
        return ""
    seconds = ((now or timezone.now()) - value).total_seconds()
    for size, unit in UNITS:
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit}{'' if count == 1 else 's'} ago"
    return "just now"


@register.filter
def ago_and_moment(value: datetime | None) -> str:
    """ "3 minutes ago (7 Dec 2026, 14:05 UTC)": how long ago, and when."""
    return f"{ago(value)} ({moment(value)})" if value is not None else ""
