"""The live config: polling for edits, keeping the last good one, snapshots for restarts, and
what the admins hear about it — with a clock we move, real files, and the fake Slack."""
from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import Core, build_core
from bot.clock import FixedClock
from bot.config.live import LiveConfig, ReloadResult
from bot.config.problems import ConfigError
from bot.console.adapters import ConsoleDirectory
from bot.conversation import Caller
from bot.settings import Settings
from bot.slack.web import SlackNotifier, make_client
from tests.config.test_config import billion_laughs
from tests.conftest import ADMIN, MEMBER, edit_settings
from tests.slack_fake.server import FakeSlack

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def settle(live: LiveConfig, clock: FixedClock) -> ReloadResult | None:
    """What the scheduler's next ticks see once an edit has had time to settle."""
    first = live.poll()
    clock.advance(live.settle)
    return live.poll() or first


def test_bad_edit_keeps_last_good_and_tells_listeners(config_dir: Path) -> None:
    clock = FixedClock(NOW)
    live = LiveConfig(config_dir, clock)
    seen: list[ReloadResult] = []
    live.on_reload(seen.append)
    good = live.current()
    (config_dir / "settings.yaml").write_text("timezone: [")
    result = settle(live, clock)
    assert result is not None and not result.applied
    assert str(result.problems[0]).startswith("settings.yaml:1:")
    assert live.current() is good
    clock.advance(live.settle)
    assert live.poll() is None  # the same broken files are not reported twice
    assert len(seen) == 1


def test_valid_edit_applies_with_changes(config_dir: Path) -> None:
    clock = FixedClock(NOW)
    live = LiveConfig(config_dir, clock)
    edit_settings(config_dir, {"session": {"starts_at": "2027-03-11T10:00"}})
    result = settle(live, clock)
    assert result is not None and result.applied and result.replan
    assert any("session moved" in c for c in result.changes)
    assert live.current().session.starts_at.day == 11


def test_an_edit_older_than_the_settle_time_applies_on_the_first_look(config_dir: Path) -> None:
    clock = FixedClock(NOW)
    live = LiveConfig(config_dir, clock)
    edit_settings(config_dir, {"scheduler": {"poll_seconds": 20}})
    saved = (clock.now() - live.settle).timestamp()
    for name in ("settings.yaml", "recommendations.yaml"):
        os.utime(config_dir / name, (saved, saved))
    result = live.poll()
    assert result is not None and result.applied
    assert live.current().poll_seconds == 20


def test_restart_while_broken_runs_on_snapshot(config_dir: Path, tmp_path: Path) -> None:
    snap = tmp_path / "snap"
    clock = FixedClock(NOW)
    LiveConfig(config_dir, clock, snap)  # a good start leaves a snapshot
    (config_dir / "settings.yaml").write_text("admins: []\n")
    with pytest.raises(ConfigError):
        LiveConfig(config_dir, clock)
    restarted = LiveConfig(config_dir, clock, snap)
    assert restarted.current().admins  # the last good config
    result = settle(restarted, clock)
    assert result is not None and not result.applied  # and the admins will hear why


# ------------------------------------------------------------------ a running bot


@dataclass
class Running:
    """The core on SQLite with the config watched as `wgbot clock` watches it."""

    core: Core
    clock: FixedClock
    fake: FakeSlack
    config_dir: Path

    @property
    def live(self) -> LiveConfig:
        return self.core.config

    @property
    def settings_file(self) -> Path:
        return self.config_dir / "settings.yaml"

    def write(self, data: bytes) -> None:
        """Write settings.yaml as an editor does, stamped with the clock's time."""
        self.settings_file.write_bytes(data)
        stamp = self.clock.now().timestamp()
        os.utime(self.settings_file, (stamp, stamp))

    def tick(self, seconds: float = 1.0) -> ReloadResult | None:
        """One scheduler tick a little later."""
        self.clock.advance(timedelta(seconds=seconds))
        return self.live.poll()

    def save(self, data: bytes) -> ReloadResult | None:
        """An admin saves a version; the scheduler ticks until it has settled."""
        self.write(data)
        first = self.tick()
        self.clock.advance(self.live.settle)
        return self.live.poll() or first

    def dms(self) -> list[str]:
        """Every DM the admin got: text and blocks."""
        return [c.params.get("text", "") + json.dumps(c.params.get("blocks"))
                for c in self.fake.messages(ADMIN)]

    def say(self, text: str, user: str = ADMIN) -> str:
        reply = self.core.conversation.answer(Caller(user), text).reply
        return reply.text + "\n" + "\n".join(getattr(p, "text", "") for p in reply.parts)


@pytest.fixture
def running(config_dir: Path, tmp_path: Path, fake: FakeSlack, _migrated_sqlite: Path
            ) -> Iterator[Running]:
    shutil.copyfile(_migrated_sqlite, tmp_path / "wgbot.db")  # a database at the newest schema
    settings = Settings.from_env({"DATABASE_URL": f"sqlite:///{tmp_path / 'wgbot.db'}",
                                  "WGBOT_CONFIG_DIR": str(config_dir)})
    clock = FixedClock(NOW)
    notifier = SlackNotifier(make_client(token="xoxb-test", base_url=fake.url))
    core = build_core(settings, clock=clock, notifier=notifier, directory=ConsoleDirectory(),
                      config=LiveConfig(config_dir, clock, tmp_path / "snapshot"), upgrade=True)
    core.config.on_reload(core.operations.after_reload)
    yield Running(core, clock, fake, config_dir)
    core.close()


def test_a_file_caught_mid_write_is_judged_only_once_it_settles(running: Running) -> None:
    new = running.settings_file.read_bytes().replace(b"poll_seconds: 30", b"poll_seconds: 20")
    assert new != running.settings_file.read_bytes()
    step = running.live.settle.total_seconds() / 4
    seen = []
    running.write(b"")  # the editor truncates the file…
    seen.append(running.tick(step))
    running.write(new[: len(new) // 2])  # …writes half of it…
    seen.append(running.tick(step))
    running.write(new)  # …and the rest
    seen.append(running.tick(step))
    assert seen == [None, None, None]  # nothing is judged while the bytes keep changing
    running.clock.advance(running.live.settle)
    result = running.live.poll()
    assert result is not None and result.applied
    assert running.live.current().poll_seconds == 20
    assert running.tick() is None and running.tick(60) is None  # no flapping afterwards
    dms = running.dms()
    assert len(dms) == 1 and "checks now every 20 seconds" in dms[0], dms
    assert not any("empty" in dm or "problem" in dm for dm in dms)


def test_a_refused_version_is_known_by_the_bytes_that_were_read(running: Running) -> None:
    """settings.yaml as a named pipe holding one version: a reload that read the file a second
    time (to fingerprint it) would wait for bytes that never come, or hash another version."""
    good = running.settings_file.read_bytes().replace(b"poll_seconds: 30", b"poll_seconds: 20")
    running.settings_file.unlink()
    os.mkfifo(running.settings_file)
    replies: list[str] = []
    reloader = threading.Thread(target=lambda: replies.append(running.say("admin reload")),
                                daemon=True)
    reloader.start()
    fd = _open_for_writing(running.settings_file)
    os.write(fd, b"timezone: [\n")
    os.close(fd)
    reloader.join(20)
    if reloader.is_alive():  # release it before failing
        os.close(_open_for_writing(running.settings_file))
    assert not reloader.is_alive(), "the reload read the file a second time"
    assert "kept the last good one" in replies[0] and "settings.yaml:2:1" in replies[0]
    # the admin's next save is the good version, which must not be mistaken for the refused one
    running.settings_file.unlink()
    result = running.save(good)
    assert result is not None and result.applied
    assert running.live.current().poll_seconds == 20


def _bad(running: Running, old: bytes, new: bytes) -> bytes:
    text = running.settings_file.read_bytes()
    assert text.count(old) == 1
    return text.replace(old, new)


def test_one_dm_per_distinct_problem_set_rate_limited_then_one_fixed_dm(running: Running) -> None:
    good = running.settings_file.read_bytes()
    bad_poll = _bad(running, b"poll_seconds: 30", b"poll_seconds: 0")
    result = running.save(bad_poll)
    assert result is not None and not result.applied
    assert len(running.dms()) == 1 and "poll_seconds" in running.dms()[0]
    # the admin keeps editing around the same mistake: same problems, no new DM
    running.save(bad_poll + b"# still looking\n")
    running.save(b"# a comment on top\n" + bad_poll)
    assert len(running.dms()) == 1
    # a different mistake soon after is held back…
    assert good.count(b"timezone: Europe/Vienna") == 1
    bad_zone = good.replace(b"timezone: Europe/Vienna", b"timezone: Europe/Viena")
    result = running.save(bad_zone)
    assert result is not None and not result.applied
    assert len(running.dms()) == 1
    # …and told once the interval has passed, without any further edit
    running.clock.advance(running.live.notice_interval)
    running.live.poll()
    running.tick()
    dms = running.dms()
    assert len(dms) == 2 and "Europe/Viena" in dms[1] and "poll_seconds" not in dms[1]
    # back to a valid file: one DM saying so
    result = running.save(good.replace(b"poll_seconds: 30", b"poll_seconds: 25"))
    assert result is not None and result.applied
    running.tick()
    running.tick(600)
    dms = running.dms()
    assert len(dms) == 3, dms
    assert "valid again" in dms[2] and "checks now every 25 seconds" in dms[2]
    assert "Config* — OK" in running.say("admin status")


def test_reverting_to_the_running_version_is_a_fix_too(running: Running) -> None:
    good = running.settings_file.read_bytes()
    running.save(_bad(running, b"poll_seconds: 30", b"poll_seconds: 0"))
    assert len(running.dms()) == 1
    running.save(good)  # exactly the bytes in force
    dms = running.dms()
    assert len(dms) == 2 and "valid again" in dms[1]
    assert "Config* — OK" in running.say("admin status")


def test_many_versions_within_seconds_give_few_dms(running: Running) -> None:
    base = running.settings_file.read_bytes()
    for i in range(11):  # a new broken version every second, each one different
        running.write(base.replace(b"poll_seconds: 30", b"poll_seconds: %d" % -i))
        running.tick()
    for _ in range(5):
        running.tick()
    assert len(running.dms()) == 1


# ------------------------------------------------------------------ never parse under the lock


def test_a_command_is_answered_while_a_check_is_stuck_reading(running: Running) -> None:
    """The check a request triggers runs beside it: the request answers from the last good
    config at once, while the read (here: a pipe nobody has written to yet) is still waiting."""
    good = running.settings_file.read_bytes()
    running.settings_file.unlink()
    os.mkfifo(running.settings_file)
    running.clock.advance(timedelta(seconds=running.live.current().poll_seconds + 1))
    answered = threading.Event()
    replies: list[str] = []

    def member() -> None:
        replies.append(running.say("session", user=MEMBER))
        answered.set()

    threading.Thread(target=member, daemon=True).start()
    assert answered.wait(20), "the command waited for the config check"
    assert "Thu 4 Mar 2027, 10:00" in replies[0]  # the config in force
    fd = _open_for_writing(running.settings_file)  # the check is there, reading
    os.write(fd, good)
    os.close(fd)
    running.live.wait_idle()


def _open_for_writing(fifo: Path) -> int:
    stop = threading.Event()
    for _ in range(2000):
        try:
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as e:
            assert e.errno == errno.ENXIO
            stop.wait(0.005)
            continue
        os.set_blocking(fd, True)
        return fd
    raise AssertionError("nothing ever read the config file")


def test_commands_are_answered_while_an_admin_reload_is_reading(running: Running) -> None:
    good = running.settings_file.read_bytes()
    running.settings_file.unlink()
    os.mkfifo(running.settings_file)
    reloaded: list[str] = []
    reloader = threading.Thread(target=lambda: reloaded.append(running.say("admin reload")),
                                daemon=True)
    reloader.start()
    fd = _open_for_writing(running.settings_file)  # the reload is reading
    running.clock.advance(timedelta(seconds=running.live.current().poll_seconds + 1))
    for command in ("session", "list", "admin config", "admin status"):
        out: list[str] = []
        t = threading.Thread(target=lambda c=command, o=out: o.append(running.say(c)), daemon=True)
        t.start()
        t.join(20)
        assert out, f"/wg {command} waited for the reload"
    assert reloader.is_alive() and not reloaded
    os.write(fd, good.replace(b"poll_seconds: 30", b"poll_seconds: 20"))
    os.close(fd)
    reloader.join(20)
    assert reloaded and "checks now every 20 seconds" in reloaded[0]


def test_an_alias_bomb_is_refused_as_a_located_problem(running: Running) -> None:
    bomb = billion_laughs(9).encode()
    running.settings_file.write_bytes(bomb + running.settings_file.read_bytes())
    reply = running.say("admin reload")
    assert "kept the last good one" in reply
    assert "settings.yaml:4:" in reply and "aliases" in reply
    assert "Thu 4 Mar 2027, 10:00" in running.say("session", user=MEMBER)


# ------------------------------------------------------------------ secrets stay secret

TOKEN = "xoxb-2718281828-3141592653-QwErTyUiOpAsDf"
SECRET = "0123456789abcdef0123456789abcdef"


def test_a_pasted_token_is_echoed_nowhere(running: Running,
                                          caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    good = running.settings_file.read_bytes()
    # refused: the token where a channel id belongs, the secret as a key
    bad = _bad(running, b"working_group: C0", b"working_group: " + TOKEN.encode() + b"\n  # C0")
    bad = bad.replace(b"\ntimezone:", b"\n" + SECRET.encode() + b": 1\ntimezone:", 1)
    result = running.save(bad)
    assert result is not None and not result.applied
    reload_reply = running.say("admin reload")
    assert "is not a Slack channel id" in reload_reply and "unknown key" in reload_reply
    # applied: the token in the session's place, with a warning about it
    placed = good.replace(b"place: ", b"place: " + TOKEN.encode() + b" ", 1)
    placed = placed.replace(b"\ntimezone:", b"\n# " + SECRET.encode() + b"\ntimezone:", 1)
    assert placed != good
    running.clock.advance(running.live.notice_interval)
    result = running.save(placed)
    assert result is not None and result.applied, result
    assert any("session place changed" in c for c in result.changes)
    applied_reply = running.say("admin reload")
    effective = running.say("admin config")
    assert "hidden" in effective
    shown = [reload_reply, applied_reply, effective, running.say("admin status"),
             *running.dms(), *(r.getMessage() for r in caplog.records),
             *(str(p) for p in result.warnings), *result.changes]
    assert len(running.dms()) == 2
    for text in shown:
        assert TOKEN not in text and SECRET not in text, text
        assert TOKEN[:16] not in text and SECRET[:16] not in text, text


def test_two_processes_watching_the_same_files_send_each_notice_once(
        running: Running, tmp_path: Path) -> None:
    settings = Settings.from_env({"DATABASE_URL": f"sqlite:///{tmp_path / 'wgbot.db'}",
                                  "WGBOT_CONFIG_DIR": str(running.config_dir)})
    notifier = SlackNotifier(make_client(token="xoxb-test", base_url=running.fake.url))
    other = build_core(settings, clock=running.clock, notifier=notifier,
                       directory=ConsoleDirectory(),
                       config=LiveConfig(running.config_dir, running.clock), upgrade=False)
    other.config.on_reload(other.operations.after_reload)
    try:
        good = running.settings_file.read_bytes()
        for version in (_bad(running, b"poll_seconds: 30", b"poll_seconds: 0"),
                        good.replace(b"poll_seconds: 30", b"poll_seconds: 25")):
            running.write(version)
            for _ in range(3):
                running.tick()
                other.config.poll()
        dms = running.dms()
        assert len(dms) == 2, dms
        assert "poll_seconds" in dms[0] and "valid again" in dms[1]
    finally:
        other.close()
