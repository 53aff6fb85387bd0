"""The wgbot command line, run as a real process: console, config check, missing settings,
reminders preview, local export, and serve's shutdown and side-by-side instances. Data a command
needs beforehand is typed into the console in this process (tests/support/console.py); the
command under test runs as a process."""
from __future__ import annotations

import gc
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from icalendar import Calendar

from tests.conftest import edit_settings
from tests.slack_fake.process import BotProcess, wgbot_executable
from tests.slack_fake.server import FakeSlack
from tests.support.console import in_process, typed

WGBOT = str(wgbot_executable())


def run(args: list[str], *, env: dict[str, str], stdin: str = "", cwd: Path | None = None
        ) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    return subprocess.run([WGBOT, *args], input=stdin, capture_output=True, text=True,
                          env={**base, **env}, cwd=cwd, timeout=120)


def _env(config_dir: Path, tmp_path: Path) -> dict[str, str]:
    return {"WGBOT_CONFIG_DIR": str(config_dir), "DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}"}


def test_console_reads_piped_commands(config_dir: Path, tmp_path: Path) -> None:
    out = run(["console", "--as", "U0ANNA"], env=_env(config_dir, tmp_path), cwd=tmp_path,
              stdin="/wg recs short\n/wg commit Draft guidelines by 2030-06-28 for L6\n/wg list\n"
                    "/wg nonsense\n")
    assert out.returncode == 0, out.stderr
    assert "RECOMMENDATIONS FOR THE OSCE IN THE SHORT TERM" in out.stdout
    assert "S6 · " in out.stdout and "[Share in channel]" in out.stdout
    assert "Recorded #1" in out.stdout and "Fri 28 Jun 2030, 17:00 Europe/Vienna" in out.stdout
    assert "[Done] → /wg done 1" in out.stdout
    assert "I don't know `nonsense`" in out.stdout
    assert "Traceback" not in out.stdout + out.stderr


def test_run_without_tokens_is_the_console(config_dir: Path, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    out = in_process(["run"], env=_env(config_dir, tmp_path), cwd=tmp_path,
                      monkeypatch=monkeypatch, capsys=capsys, stdin="recs S3\n")
    assert out.returncode == 0 and "S3 · " in out.stdout


def test_config_check_exit_codes(config_dir: Path, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    ok = run(["config", "check", str(config_dir)], env={})
    assert ok.returncode == 0 and "16 recommendations" in ok.stdout
    edit_settings(config_dir, {"reminders": {"session": ["30d", "7 days"]}})
    bad = in_process(["config", "check", str(config_dir)], env={}, cwd=tmp_path,
                      monkeypatch=monkeypatch, capsys=capsys)
    assert bad.returncode == 1
    assert "reminders.session[1]: '7 days' is not a duration; write it like 7d" in bad.stdout


def test_missing_setting_is_one_line(config_dir: Path, tmp_path: Path) -> None:
    # said before the database is opened (this one is in no folder at all)
    out = run(["serve"], env={**_env(config_dir, tmp_path), "SLACK_SIGNING_SECRET": "x",
                              "DATABASE_URL": f"sqlite:///{tmp_path / 'none' / 'c.db'}"})
    assert out.returncode == 2
    assert out.stderr.strip().startswith("wgbot: SLACK_BOT_TOKEN is not set")
    assert "OAuth & Permissions" in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def _database(path: Path) -> str:
    """Everything an SQLite database holds, schema and rows, as SQL text."""
    conn = sqlite3.connect(path)
    try:
        return "\n".join(conn.iterdump())
    finally:
        conn.close()


def test_reminders_preview_sends_nothing(config_dir: Path, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    env = _env(config_dir, tmp_path)
    assert "Recorded #1" in typed(env, "/wg commit Paper by 2027-02-26 17:00 for S1\n",
                                  as_user="U0ANNA")
    before = _database(tmp_path / "c.db")
    out = in_process(["reminders", "preview", "--at", "2027-02-25T18:00"], env=env, cwd=tmp_path,
                     monkeypatch=monkeypatch, capsys=capsys)
    assert out.returncode == 0, out.stderr
    assert "countdown" in out.stdout and "#C0WGMIGRATE" in out.stdout
    assert "deadline" in out.stdout and "@U0ANNA" in out.stdout
    # nothing was recorded, as sent or at all: the database is as the console left it
    assert _database(tmp_path / "c.db") == before
    # said before the config or the database is opened (this one is in no folder at all)
    bad = in_process(["reminders", "preview", "--at", "soon"],
                     env={**env, "DATABASE_URL": f"sqlite:///{tmp_path / 'none' / 'c.db'}"},
                     cwd=tmp_path, monkeypatch=monkeypatch, capsys=capsys)
    assert bad.returncode == 2 and "--at wants an ISO moment" in bad.stderr, bad.stderr


def test_local_export(config_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                      capsys: pytest.CaptureFixture[str]) -> None:
    env = _env(config_dir, tmp_path)
    assert "Recorded #1" in typed(env, "/wg commit Paper by 2030-02-26 for S1\n")
    out = in_process(["export", "ics", "--out", str(tmp_path / "wg.ics")], env=env,
                      cwd=tmp_path, monkeypatch=monkeypatch, capsys=capsys)
    assert out.returncode == 0, out.stderr
    cal = Calendar.from_ical((tmp_path / "wg.ics").read_bytes())
    assert len(list(cal.walk("VEVENT"))) == 2


@pytest.mark.parametrize("collecting", [True, False])
def test_a_command_leaves_the_garbage_collector_as_it_found_it(
        collecting: bool, config_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    # Commands import with the collector paused (and freeze what they imported), then resume it:
    # a command run inside a longer-lived program must not leave it switched off, or on.
    was = gc.isenabled()
    try:
        (gc.enable if collecting else gc.disable)()
        out = in_process(["config", "check", str(config_dir)], env=_env(config_dir, tmp_path),
                         cwd=tmp_path, monkeypatch=monkeypatch, capsys=capsys)
        assert out.returncode == 0, out.stderr
        assert gc.isenabled() is collecting
    finally:
        (gc.enable if was else gc.disable)()


def test_serve_stops_within_ten_seconds_and_two_instances_coexist(
        fake: FakeSlack, config_dir: Path, tmp_path: Path) -> None:
    # The one stopped runs its clock, which it stops too; the other is a server beside it (what
    # could collide is the master's: its port, its control socket), so it runs none.
    a = BotProcess(fake=fake, config_dir=config_dir, tmp_dir=tmp_path / "a").start()
    b = BotProcess(fake=fake, config_dir=config_dir, tmp_dir=tmp_path / "b",
                   args=["--no-scheduler"]).start()
    try:
        assert requests.get(a.url + "/healthz", timeout=5).ok
        assert requests.get(b.url + "/healthz", timeout=5).ok
        started = time.monotonic()
        assert a.stop(timeout=10) == 0
        assert time.monotonic() - started < 10
        assert requests.get(b.url + "/healthz", timeout=5).ok
    finally:
        a.close()
        b.close()


@pytest.mark.parametrize("args", [["db"], ["reminders"], ["config"]])
def test_incomplete_subcommands_show_usage(args: list[str], tmp_path: Path) -> None:
    out = run(args, env={"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
    assert out.returncode == 2 and "usage" in out.stderr
    assert not (tmp_path / "x.db").exists()  # said before anything was opened
    assert sys.executable  # the console script runs in this interpreter's environment


def test_socket_mode_needs_app_token(config_dir: Path, tmp_path: Path) -> None:
    out = run(["socket"], env={**_env(config_dir, tmp_path), "SLACK_BOT_TOKEN": "xoxb-x"})
    assert out.returncode == 2
    assert out.stderr.strip().startswith("wgbot: SLACK_APP_TOKEN is not set")
    assert "connections:write" in out.stderr


def _one_line_failure(out: subprocess.CompletedProcess[str]) -> str:
    assert out.returncode == 2, (out.returncode, out.stdout, out.stderr)
    assert "Traceback" not in out.stdout + out.stderr
    assert out.stdout == ""  # no console banner, nothing started
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("wgbot: "), out.stderr
    return lines[0]


def test_run_with_only_the_bot_token_names_what_is_missing(config_dir: Path,
                                                           tmp_path: Path) -> None:
    out = run(["run"], env={**_env(config_dir, tmp_path), "SLACK_BOT_TOKEN": "xoxb-x"},
              cwd=tmp_path, stdin="recs S3\n")
    line = _one_line_failure(out)
    assert "SLACK_SIGNING_SECRET" in line and "SLACK_APP_TOKEN" in line


def test_run_with_only_the_app_token_names_the_bot_token(config_dir: Path,
                                                         tmp_path: Path) -> None:
    out = run(["run"], env={**_env(config_dir, tmp_path), "SLACK_APP_TOKEN": "xapp-x"},
              cwd=tmp_path, stdin="recs S3\n")
    assert "SLACK_BOT_TOKEN is not set" in _one_line_failure(out)


_USING_THE_DATABASE = (["run"], ["console"], ["db", "upgrade"], ["brief", "--out", "{tmp}/b"])


# Every command that opens the database fails with the same one line, whatever is wrong with the
# URL. Each command runs once as a real process (the exit code and the streams as a terminal sees
# them); the other combinations go through the same `main` in this process.
@pytest.mark.parametrize("url,expected,as_process", [
    pytest.param(url, expected, as_process, id=f"{url}-{expected}") for url, expected, as_process in (
        ("mysql://u@localhost/wg", "does not support", (0,)),
        ("sqlite:///{tmp}/no/such/folder/wg.db", "a folder that does not exist", (1, 3)),
        ("not a url", "not a database URL", (2,)),
    )])
def test_an_unusable_database_url_is_one_line(config_dir: Path, tmp_path: Path, url: str,
                                              expected: str, as_process: tuple[int, ...],
                                              monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    env = {**_env(config_dir, tmp_path), "DATABASE_URL": url.format(tmp=tmp_path)}
    for i, command in enumerate(_USING_THE_DATABASE):
        args = [a.format(tmp=tmp_path) for a in command]
        out = (run(args, env=env, cwd=tmp_path, stdin="recs S3\n") if i in as_process else
               in_process(args, env=env, cwd=tmp_path, monkeypatch=monkeypatch, capsys=capsys,
                           stdin="recs S3\n"))
        assert expected in _one_line_failure(out), args
    assert not (tmp_path / "no").exists()  # nothing created on the way


def test_a_postgresql_database_that_does_not_exist_is_one_line(
        config_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    base = os.environ.get("WGBOT_TEST_DATABASE_URL")
    if not base:
        pytest.skip("PostgreSQL tests need WGBOT_TEST_DATABASE_URL (.ci/run sets it)")
    url = base.rsplit("/", 1)[0] + "/wgbot_no_such_database"
    env = {**_env(config_dir, tmp_path), "DATABASE_URL": url}
    line = _one_line_failure(in_process(["console"], env=env, cwd=tmp_path,
                                         monkeypatch=monkeypatch, capsys=capsys,
                                         stdin="recs S3\n"))
    assert "cannot open the database" in line and "does not exist" in line


@pytest.mark.parametrize("name,value", [("PORT", "abc"), ("PORT", "70000"),
                                        ("WEB_CONCURRENCY", "two")])
def test_a_bad_port_or_worker_count_is_one_line(config_dir: Path, tmp_path: Path, name: str,
                                               value: str) -> None:
    env = {**_env(config_dir, tmp_path), "SLACK_BOT_TOKEN": "xoxb-x",
           "SLACK_SIGNING_SECRET": "s", name: value}
    line = _one_line_failure(run(["serve"], env=env, cwd=tmp_path))
    assert name in line and value in line
