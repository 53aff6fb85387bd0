"""How far a deadline is, in words: rounded to the nearest unit, never truncated."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.replies.commitments import until

NOW = datetime(2026, 11, 30, 9, tzinfo=UTC)


@pytest.mark.parametrize("ahead,words", [
    (timedelta(hours=35, minutes=59), "in 36 hours"),
    (timedelta(hours=47, minutes=40), "in 2 days"),
    (timedelta(days=2, hours=23), "in 3 days"),
    (timedelta(days=11), "in 11 days"),
    (timedelta(minutes=119, seconds=50), "in 2 hours"),
    (timedelta(minutes=90), "in 90 minutes"),
    (timedelta(seconds=30), "due now"),
    (-timedelta(hours=30), "30 hours overdue"),
    (-timedelta(days=3, hours=13), "4 days overdue"),
    (-timedelta(seconds=10), "just overdue"),
])
def test_until_rounds_to_the_nearest_unit(ahead: timedelta, words: str) -> None:
    assert until(NOW + ahead, NOW) == words
