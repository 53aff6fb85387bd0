"""Data for a command-line test, typed into the console in this process: the same `run_console`
that `wgbot console` runs, on the same database, without the cost of starting a process. The
command that is the test's subject still runs as a real process."""
from __future__ import annotations

import io
from collections.abc import Mapping

from bot.app import run_console
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
