"""The console loop in-process: how members may type commands and switch users."""
from __future__ import annotations

import io
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.clock import FixedClock
from bot.config.live import LiveConfig
from bot.app import run_console
from bot.settings import Settings


@pytest.fixture(autouse=True)
def _database(tmp_path: Path, _migrated_sqlite: Path) -> None:
    """The console's database, at the newest schema already (as on any start but the first)."""
    shutil.copyfile(_migrated_sqlite, tmp_path / "c.db")


def converse(config_dir: Path, tmp_path: Path, lines: str) -> str:
    settings = Settings.from_env({"DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}",
                                  "WGBOT_CONFIG_DIR": str(config_dir)})
    out = io.StringIO()
    config = LiveConfig(config_dir, FixedClock(datetime(2026, 11, 26, 10, tzinfo=UTC)))
    assert run_console(settings, as_user="U0CONSOLE", tz=None, config=config,
                       stdin=io.StringIO(lines), stdout=out) == 0
    return out.getvalue()


@pytest.mark.parametrize("typed", ["/wg help move", "wg help move", "WG help move", "/WG help move"])
def test_the_slash_is_optional(config_dir: Path, tmp_path: Path, typed: str) -> None:
    out = converse(config_dir, tmp_path, typed + "\n")
    assert "/WG MOVE" in out and "Commands start with /wg" not in out


@pytest.mark.parametrize("typed,user", [("/as u0anna", "U0ANNA"), ("/AS U0ANNA", "U0ANNA"),
                                        ("/as @U0MARCO", "U0MARCO")])
def test_as_takes_any_case(config_dir: Path, tmp_path: Path, typed: str, user: str) -> None:
    out = converse(config_dir, tmp_path, f"{typed}\n/wg list\n")
    assert f"You are now {user}." in out
    assert f"{user}> /wg list" in out


def test_as_refuses_what_is_not_a_user_id(config_dir: Path, tmp_path: Path) -> None:
    out = converse(config_dir, tmp_path, "/as anna\n/wg list\n")
    assert "Usage: /as U123" in out and "U0CONSOLE> /wg list" in out


@pytest.mark.parametrize("typed", ["/wg help", "/wg help list", "/wg help commit", "/wg recs S3",
                                   "/wg help admin"])
def test_wrapping_never_breaks_a_code_span(config_dir: Path, tmp_path: Path, typed: str) -> None:
    out = converse(config_dir, tmp_path, f"/as U0ADMIN01\n{typed}\n")
    assert "`" in out
    broken = [line for line in out.splitlines() if line.count("`") % 2]
    assert broken == []
    assert max(len(line) for line in out.splitlines() if "`" not in line) <= 88


@pytest.mark.parametrize("typed", ["/wg commit", "wg   commit", "/WG commit"])
def test_the_conversation_gets_the_words_after_wg_alone(config_dir: Path, tmp_path: Path,
                                                         typed: str) -> None:
    """What follows `/wg` reaches the conversation as Slack sends it, without the space before:
    the **Record anyway** button repeats the command as it was typed."""
    twice = f"{typed} Draft the S3 plan by 15 Jan\n" * 2
    out = converse(config_dir, tmp_path, twice)
    assert "Record another one anyway?" in out
    assert "[Record anyway] → /wg commit Draft the S3 plan by 15 Jan  [" in out
