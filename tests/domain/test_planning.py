"""What is due when: countdowns, deadline windows, working-day nudges, digests, quiet hours, DST."""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.config.types import Digest, QuietHours
from bot.domain import planning
from bot.domain.dates import at_local
from bot.moments import format_duration
from tests.factories import VIENNA, config



def test_countdowns_fall_in_window_once() -> None:
    cfg = config()
    start = cfg.session.starts_at.astimezone(UTC)
    seven = start - timedelta(days=7)
    hits = planning.countdowns(cfg, after=seven - timedelta(seconds=30), until=seven)
    assert [(p.kind, p.recipient, p.moment) for p in hits] == [("countdown", "C0WG", seven)]
    # the next window does not see it again
    assert planning.countdowns(cfg, after=seven, until=seven + timedelta(seconds=30)) == []
    assert hits[0].key == f"countdown|C0WG|session@{planning.stamp(start)}|{planning.stamp(seven)}"


def test_no_channel_no_countdown() -> None:
    cfg = config()
    cfg = replace(cfg, channels=replace(cfg.channels, working_group=None))
    start = cfg.session.starts_at.astimezone(UTC)
    assert planning.countdowns(cfg, after=start - timedelta(days=40), until=start) == []


def test_deadline_window_is_shifted_by_offset() -> None:
    after = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    until = after + timedelta(seconds=30)
    lo, hi = planning.deadline_window(timedelta(days=1), after=after, until=until)
    assert (lo, hi) == (after + timedelta(days=1), until + timedelta(days=1))


def test_working_days_skip_weekends() -> None:
    friday_17 = datetime(2026, 12, 4, 17, 0, tzinfo=VIENNA).astimezone(UTC)
    first = planning.nth_working_day_after(friday_17, 1, VIENNA)
    second = planning.nth_working_day_after(friday_17, 2, VIENNA)
    assert first.astimezone(VIENNA) == datetime(2026, 12, 7, 17, 0, tzinfo=VIENNA)  # Monday
    assert second.astimezone(VIENNA) == datetime(2026, 12, 8, 17, 0, tzinfo=VIENNA)


def test_nudges_keep_local_time_across_dst() -> None:
    # Vienna leaves summer time on Sunday 25 Oct 2026: the nudge stays at 17:00 local.
    friday = datetime(2026, 10, 23, 17, 0, tzinfo=VIENNA).astimezone(UTC)
    monday = planning.nth_working_day_after(friday, 1, VIENNA)
    assert monday.astimezone(VIENNA).hour == 17
    assert monday - friday == timedelta(days=3, hours=1)


def test_quiet_hours_push_dm_to_morning() -> None:
    q = QuietHours(start=time(20, 0), end=time(8, 0))
    late = datetime(2026, 12, 1, 22, 30, tzinfo=VIENNA).astimezone(UTC)
    assert planning.quiet_shift(late, VIENNA, q).astimezone(VIENNA) == \
        datetime(2026, 12, 2, 8, 0, tzinfo=VIENNA)
    early = datetime(2026, 12, 2, 6, 0, tzinfo=VIENNA).astimezone(UTC)
    assert planning.quiet_shift(early, VIENNA, q).astimezone(VIENNA) == \
        datetime(2026, 12, 2, 8, 0, tzinfo=VIENNA)
    noon = datetime(2026, 12, 2, 12, 0, tzinfo=VIENNA).astimezone(UTC)
    assert planning.quiet_shift(noon, VIENNA, q) == noon
    assert planning.quiet_shift(late, VIENNA, None) == late


def test_quiet_hours_in_recipient_timezone() -> None:
    q = QuietHours(start=time(20, 0), end=time(8, 0))
    tokyo = ZoneInfo("Asia/Tokyo")
    moment = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)  # 21:00 in Tokyo, 13:00 in Vienna
    assert planning.quiet_shift(moment, VIENNA, q) == moment
    assert planning.quiet_shift(moment, tokyo, q).astimezone(tokyo) == \
        datetime(2026, 12, 3, 8, 0, tzinfo=tokyo)


def test_digest_cron_follows_dst_in_coordinator_timezone() -> None:
    cfg = config()
    # Mondays 09:00 Vienna: 08:00 UTC in winter, 07:00 UTC after the change on 28 Mar 2027.
    after = datetime(2027, 3, 20, tzinfo=UTC)
    until = datetime(2027, 4, 6, tzinfo=UTC)
    hits = [p for p in planning.digests(cfg, after=after, until=until, tz_of={})
            if p.subject == "weekly"]
    assert [p.moment for p in hits] == [datetime(2027, 3, 22, 8, 0, tzinfo=UTC),
                                        datetime(2027, 3, 29, 7, 0, tzinfo=UTC),
                                        datetime(2027, 4, 5, 7, 0, tzinfo=UTC)]
    assert all(p.recipient == "U0COORD" for p in hits)


def test_digest_before_session() -> None:
    cfg = config()
    pre = cfg.session.starts_at.astimezone(UTC) - timedelta(days=3)
    hits = planning.digests(cfg, after=pre - timedelta(seconds=1), until=pre, tz_of={})
    assert [p.subject for p in hits] == [f"session@{planning.stamp(cfg.session.starts_at)}"]


@pytest.mark.parametrize(("cron", "weekly_kept"), [
    ("0 9 * * mon", False),   # an hour before it (09:00, the Monday before a Thursday session)
    ("0 9 * * tue", False),   # 23 hours after it
    ("0 11 * * tue", True),   # 25 hours after it: another day's news
    ("0 9 * * sun", True),    # 25 hours before it
])
def test_a_weekly_digest_within_a_day_of_the_one_before_the_session_is_left_out(
        cron: str, weekly_kept: bool) -> None:
    """Two digests to a coordinator within a day of each other would say nearly the same: the
    one before the session goes alone. The channel's weekly summary is not a coordinator's
    digest and keeps its own schedule."""
    cfg = config(digest=Digest(cron=cron, before_session=timedelta(days=3)))
    pre = cfg.session.starts_at.astimezone(UTC) - timedelta(days=3)  # Monday 1 Mar, 10:00
    hits = planning.digests(cfg, after=pre - timedelta(days=2), until=pre + timedelta(days=2),
                            tz_of={})
    mine = [p.subject for p in hits if p.recipient == "U0COORD"]
    assert mine.count(f"session@{planning.stamp(cfg.session.starts_at)}") == 1
    assert ("weekly" in mine) == weekly_kept, mine
    assert [p.subject for p in hits if p.recipient == "C0CO"] == [planning.SUMMARY_SUBJECT]


def test_dst_gap_moves_forward() -> None:
    # 02:30 on 28 Mar 2027 does not exist in Vienna
    day = datetime(2027, 3, 28, 12, 0, tzinfo=VIENNA)
    moment = at_local(day.date(), time(2, 30), VIENNA)
    assert moment.astimezone(VIENNA).strftime("%H:%M") == "03:30"


def test_subjects_round_trip() -> None:
    due = datetime(2026, 12, 4, 16, 0, tzinfo=UTC)
    assert planning.parse_commitment_subject(planning.commitment_subject(12, due)) == (12, due)
    assert planning.parse_commitment_subject("garbage") is None
    assert format_duration(timedelta(days=1), words=True) == "1 day"
    assert format_duration(timedelta(hours=2), words=True) == "2 hours"


def test_quiet_hours_ending_in_a_half_hour_gap_end_when_the_clock_resumes() -> None:
    # Lord Howe Island moves its clocks from 02:00 to 02:30 on 4 Oct 2026: 02:15 never happens.
    # The quiet hours end 02:15 later that night, at 02:45, as every local time in a gap does.
    lord_howe = ZoneInfo("Australia/Lord_Howe")
    planned = datetime(2026, 10, 3, 23, 0, tzinfo=lord_howe)
    shifted = planning.quiet_shift(planned, lord_howe, QuietHours(time(20, 0), time(2, 15)))
    assert shifted.astimezone(lord_howe).isoformat() == "2026-10-04T02:45:00+11:00"
    assert shifted - planned == timedelta(hours=3, minutes=15)
