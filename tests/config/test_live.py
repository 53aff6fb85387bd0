"""The live config: polling for edits, keeping the last good one, snapshots for restarts."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from bot.clock import FixedClock
from bot.config.live import LiveConfig, ReloadResult
from bot.config.load import ConfigError
from tests.conftest import edit_settings

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)


def test_bad_edit_keeps_last_good_and_tells_listeners(config_dir: Path) -> None:
    live = LiveConfig(config_dir, FixedClock(NOW))
    seen: list[ReloadResult] = []
    live.on_reload(seen.append)
    good = live.current()
    (config_dir / "settings.yaml").write_text("timezone: [")
    result = live.poll()
    assert result is not None and not result.applied
    assert str(result.problems[0]).startswith("settings.yaml:1:")
    assert live.current() is good
    assert live.poll() is None  # the same broken files are not reported twice
    assert len(seen) == 1


def test_valid_edit_applies_with_changes(config_dir: Path) -> None:
    live = LiveConfig(config_dir, FixedClock(NOW))
    edit_settings(config_dir, {"session": {"starts_at": "2027-03-11T10:00"}})
    result = live.poll()
    assert result is not None and result.applied and result.replan
    assert any("session moved" in c for c in result.changes)
    assert live.current().session.starts_at.day == 11


def test_restart_while_broken_runs_on_snapshot(config_dir: Path, tmp_path: Path) -> None:
    snap = tmp_path / "snap"
    LiveConfig(config_dir, FixedClock(NOW), snap)  # a good start leaves a snapshot
    (config_dir / "settings.yaml").write_text("admins: []\n")
    with pytest.raises(ConfigError):
        LiveConfig(config_dir, FixedClock(NOW))
    restarted = LiveConfig(config_dir, FixedClock(NOW), snap)
    assert restarted.current().admins  # the last good config
    result = restarted.poll()
    assert result is not None and not result.applied  # and the admins will hear why
