"""Command-line tests without starting a process: data typed into the console in this process
(the same `run_console` that `wgbot console` runs, on the same database), and a whole `wgbot`
command through the console script's own `main`. What only a process shows (its exit as a
terminal sees it, signals, what it imports at its start) still runs as a real process."""
from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

from bot.app import run_console
from bot.cli import main
from bot.clock import SystemClock
from bot.config.live import LiveConfig
from bot.settings import Settings


def typed(env: Mapping[str, str], lines: str, *, as_user: str = "U0CONSOLE") -> str:
    """Feed `lines` to the console of the deployment `env` describes (DATABASE_URL,
    WGBOT_CONFIG_DIR, ...) as `as_user`; what it printed. The console's own clock: the wall clock."""
    settings = Settings.from_env(env)
    out = io.StringIO()
    code = run_console(settings, as_user=as_user, tz=None,
                       config=LiveConfig(settings.config_dir, SystemClock()),
                       stdin=io.StringIO(lines), stdout=out)
    assert code == 0, out.getvalue()
    return out.getvalue()


def in_process(args: list[str], *, env: dict[str, str], cwd: Path,
               monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
               stdin: str = "") -> subprocess.CompletedProcess[str]:
    """`wgbot ARGS` as a process would run it (the environment without Slack tokens but for
    `env`, the folder `cwd`, the input `stdin`), through the console script's own `main` in this
    process: for the cases whose process a test does not need to see start."""
    with monkeypatch.context() as m:
        for name in [k for k in os.environ if k.startswith("SLACK_")]:
            m.delenv(name)
        for name, value in env.items():
            m.setenv(name, value)
        m.chdir(cwd)
        m.setattr(sys, "stdin", io.StringIO(stdin))
        capsys.readouterr()
        code = main(args)
    out = capsys.readouterr()
    return subprocess.CompletedProcess(args, code, out.out, out.err)
