"""The shifted clock real processes follow in tests (WGBOT_CLOCK_OFFSET_FILE)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.clock import ShiftedClock, SystemClock, process_clock
from tests.slack_fake.travel import Travel


def _close(a: datetime, b: datetime) -> bool:
    return abs(a - b) < timedelta(seconds=5)


def test_no_file_is_the_wall_clock(tmp_path: Path) -> None:
    clock = ShiftedClock(tmp_path / "missing")
    assert _close(clock.now(), datetime.now(UTC))
    assert isinstance(process_clock(None), SystemClock)


def test_the_offset_moves_time_and_is_read_again_when_the_file_changes(tmp_path: Path) -> None:
    travel = Travel(tmp_path / "offset")
    clock = process_clock(travel.path)
    assert _close(clock.now(), datetime.now(UTC))
    target = datetime(2027, 3, 4, 9, 0, tzinfo=UTC)
    travel.to(target)
    assert _close(clock.now(), target)
    travel.forward(timedelta(hours=2))
    assert _close(clock.now(), target + timedelta(hours=2))
    assert _close(clock.now(), travel.now())


def test_a_file_caught_mid_write_keeps_the_last_offset(tmp_path: Path) -> None:
    path = tmp_path / "offset"
    path.write_text("-86400")
    clock = ShiftedClock(path)
    assert _close(clock.now(), datetime.now(UTC) - timedelta(days=1))
    path.write_text("-8640 0")  # unreadable, as a torn write would be
    assert _close(clock.now(), datetime.now(UTC) - timedelta(days=1))
