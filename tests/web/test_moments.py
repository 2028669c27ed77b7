"""One time format on every page, email and live update (docs/product.md, "The pages"): a
moment with its zone, a day, and how long ago in words that read naturally."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from ccsync.web.templatetags.moments import ago, ago_and_moment, day, moment
from support.sandbox_server import ROOT

NOW = datetime(2026, 12, 7, 14, 5, 30, tzinfo=UTC)


def test_a_moment_says_its_zone():
    assert moment(NOW) == "7 Dec 2026, 14:05 UTC"
    assert moment(datetime(2027, 1, 1, 0, 0, tzinfo=UTC)) == "1 Jan 2027, 00:00 UTC"
    with timezone.override("Europe/Paris"):  # the site's zone, whatever it is, is named
        assert moment(NOW) == "7 Dec 2026, 15:05 CET"
    assert moment(None) == ""


def test_a_day():
    assert day(date(2031, 3, 9)) == "9 Mar 2031"
    assert day(datetime(2031, 3, 9, 23, 30, tzinfo=UTC)) == "9 Mar 2031"
    with timezone.override("Asia/Tokyo"):  # the day of the moment where the site is
        assert day(datetime(2031, 3, 9, 23, 30, tzinfo=UTC)) == "10 Mar 2031"
    assert day(None) == ""


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (0, "just now"),
        (59, "just now"),
        (-5, "just now"),  # a moment a little ahead, from another clock
        (60, "1 minute ago"),
        (119, "1 minute ago"),
        (180, "3 minutes ago"),
        (3_599, "59 minutes ago"),
        (3_600, "1 hour ago"),
        (7_300, "2 hours ago"),
        (86_400, "1 day ago"),
        (3 * 86_400 + 10, "3 days ago"),
    ],
)
def test_how_long_ago_reads_naturally(seconds, words):
    assert ago(NOW - timedelta(seconds=seconds), NOW) == words


def test_how_long_ago_and_when():
    three_minutes = timezone.now() - timedelta(minutes=3, seconds=5)
    assert ago_and_moment(three_minutes) == f"3 minutes ago ({moment(three_minutes)})"
    assert ago_and_moment(None) == ""


# Django's own date filters write other formats ("Dec. 7, 2026, 2:05 p.m.", "0 minutes").
OTHER_FORMATS = re.compile(r"\|\s*(date|time|timesince|timeuntil|naturaltime)\b")


def test_every_template_writes_times_through_the_one_format():
    templates = [
        path
        for path in sorted((ROOT / "templates").rglob("*"))
        if path.suffix in {".html", ".txt"} and "admin" not in path.parts
    ]
    assert len(templates) > 30
    offenders = [
        str(path.relative_to(ROOT)) for path in templates if OTHER_FORMATS.search(path.read_text())
    ]
    assert offenders == []
