"""How moments and durations are written (bot/moments.py), for replies and the config alike."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.moments import format_day, format_duration, format_moment

VIENNA = ZoneInfo("Europe/Vienna")


@pytest.mark.parametrize("d,short,words", [
    (timedelta(days=7), "7d", "7 days"), (timedelta(days=1), "1d", "1 day"),
    (timedelta(hours=2), "2h", "2 hours"), (timedelta(hours=36), "36h", "36 hours"),
    (timedelta(minutes=30), "30m", "30 minutes"), (timedelta(seconds=90), "90s", "90 seconds"),
    (timedelta(seconds=1), "1s", "1 second"), (timedelta(0), "0s", "0 seconds"),
    (timedelta(days=-1), "-1d", "-1 day"), (timedelta(seconds=-120), "-2m", "-2 minutes"),
])
def test_a_duration_in_its_largest_whole_unit(d: timedelta, short: str, words: str) -> None:
    assert format_duration(d) == short
    assert format_duration(d, words=True) == words


def test_a_moment_on_the_clock_of_the_zone_it_is_read_in() -> None:
    at = datetime(2027, 3, 4, 9, 0, 30, tzinfo=UTC)
    assert format_moment(at, VIENNA) == "Thu 4 Mar 2027, 10:00 Europe/Vienna"
    assert format_moment(at, VIENNA, zone=False) == "Thu 4 Mar 2027, 10:00"
    assert format_moment(at, VIENNA, zone=False, seconds=True) == "Thu 4 Mar 2027, 10:00:30"
    assert format_moment(at.astimezone(ZoneInfo("Asia/Tokyo")), VIENNA) == format_moment(at, VIENNA)
    assert format_moment(at.replace(tzinfo=None), VIENNA) == format_moment(at, VIENNA)  # naive: UTC
    assert format_day(datetime(2027, 3, 4, 23, 30, tzinfo=UTC), VIENNA) == "Fri 5 Mar 2027"
