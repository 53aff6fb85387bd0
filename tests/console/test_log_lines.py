"""The console's log lines go to a file, never into the conversation (a real `wgbot console`,
since where its stderr goes is the subject)."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.slack_fake.process import wgbot_executable


def test_a_broken_reload_is_said_once_and_logged_to_the_file(config_dir: Path,
                                                              tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "WGBOT_LOG"))}
    env |= {"WGBOT_CONFIG_DIR": str(config_dir), "DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}"}
    console = subprocess.Popen([str(wgbot_executable()), "console", "--as", "U0ADMIN01"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    assert console.stdin is not None and console.stdout is not None
    try:
        console.stdin.write("/wg recs S3\n")
        console.stdin.flush()
        seen = [console.stdout.readline()]
        while seen[-1] and not seen[-1].startswith("S3 · "):  # started, on the good config
            seen.append(console.stdout.readline())
        settings = config_dir / "settings.yaml"
        settings.write_text(settings.read_text().replace("overdue_max: 3", "overdue_max: x"))
        out, err = console.communicate("/wg admin reload\n", timeout=120)
    finally:
        console.kill()
        console.wait()
    assert console.returncode == 0, err
    problem = "reminders.overdue_max: expected a whole number, got a string"
    assert out.count(problem) == 1  # the reply says it; no log line repeats it
    assert err == ""
    assert problem in (tmp_path / "wgbot.log").read_text()
