"""`wgbot serve`'s scheduler under process faults, with the real server: a clock killed with
SIGKILL at random moments soon after it starts always comes back with a log line; /healthz
turns 503 while no sweep completes (clock frozen with SIGSTOP) and 200 again once sweeps resume;
a clock whose server is killed with SIGKILL stops instead of sweeping on as an orphan."""
from __future__ import annotations

import os
import random
import re
import signal
import time
from datetime import timedelta
from pathlib import Path

import requests

from bot.scheduling.health import lease_seconds
from tests.conftest import edit_settings
from tests.slack_fake.process import BotProcess
from tests.slack_fake.server import FakeSlack
from tests.slack_fake.travel import Travel

STARTED = re.compile(r"reminder scheduler started as process (\d+)")
KILLS = 10


def clock_pids(bot: BotProcess) -> list[int]:
    """Every clock process the server has started so far, oldest first (from its log)."""
    return [int(p) for p in STARTED.findall(bot.log_text())]


def wait_for_new_clock(bot: BotProcess, known: int, timeout: float) -> int:
    """The pid of the clock started after the first `known` ones (fails after `timeout`)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = clock_pids(bot)
        if len(pids) > known:
            return pids[known]
        time.sleep(0.05)
    raise AssertionError(f"no new scheduler within {timeout}s of a kill:\n{bot.log_text()[-4000:]}")


def alive(pid: int) -> bool:
    """True while the process runs (a zombie waiting to be reaped counts as gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def health(bot: BotProcess) -> requests.Response:
    """GET /healthz."""
    return requests.get(bot.url + "/healthz", timeout=5)


def test_a_killed_scheduler_always_comes_back(fake: FakeSlack, config_dir: Path,
                                              tmp_path: Path) -> None:
    edit_settings(config_dir, {"scheduler": {"poll_seconds": 1}})
    rng = random.Random(int.from_bytes(os.urandom(4)))
    travel = Travel(tmp_path / "clock-offset")
    with BotProcess(fake=fake, config_dir=config_dir, tmp_dir=tmp_path / "proc",
                    env=travel.env) as bot:
        pid = wait_for_new_clock(bot, 0, timeout=10)
        for n in range(1, KILLS + 1):
            time.sleep(rng.uniform(0.05, 1.5))  # "soon after start", at a random moment
            os.kill(pid, signal.SIGKILL)
            # two polls of 1 s, plus the time to start a Python process on a busy machine
            pid = wait_for_new_clock(bot, n, timeout=6)
        log = bot.log_text()
        assert log.count("reminder scheduler (process") >= KILLS
        assert len(re.findall(r"reminder scheduler \(process \d+\) exited", log)) == KILLS
        # and the last one sweeps once the killed one's lease has lapsed (time moved past it)
        travel.forward(timedelta(seconds=lease_seconds(1) + 1))
        kill_done = time.monotonic()
        deadline = kill_done + 20
        while True:
            resp = health(bot)
            ago = resp.json()["scheduler"]["last_sweep_seconds_ago"]
            if resp.status_code == 200 and ago is not None and ago < time.monotonic() - kill_done:
                break
            assert time.monotonic() < deadline, f"no sweep after the last kill: {resp.json()}"
            time.sleep(0.5)


def test_healthz_is_503_while_no_sweep_completes_and_200_after(fake: FakeSlack, config_dir: Path,
                                                               tmp_path: Path) -> None:
    edit_settings(config_dir, {"scheduler": {"poll_seconds": 1}})
    travel = Travel(tmp_path / "clock-offset")
    with BotProcess(fake=fake, config_dir=config_dir, tmp_dir=tmp_path / "proc",
                    env=travel.env) as bot:
        pid = wait_for_new_clock(bot, 0, timeout=10)
        deadline = time.monotonic() + 20
        while health(bot).json()["scheduler"]["last_sweep_seconds_ago"] is None:
            assert time.monotonic() < deadline, "no sweep recorded"
            time.sleep(0.2)
        ok = health(bot).json()
        assert ok["ok"] is True and ok["scheduler"]["state"] == "ok"
        stale_after = ok["scheduler"]["stale_after_seconds"]
        os.kill(pid, signal.SIGSTOP)  # alive but sweeping nothing: the supervisor cannot tell
        try:
            travel.forward(timedelta(seconds=stale_after))  # the time no sweep completes in
            deadline = time.monotonic() + 15
            while (resp := health(bot)).status_code == 200:
                assert time.monotonic() < deadline, f"still 200 {stale_after + 15}s on"
                time.sleep(0.5)
            assert resp.status_code == 503
            body = resp.json()
            assert body["ok"] is False and body["scheduler"]["state"] == "stale"
            assert body["scheduler"]["last_sweep_seconds_ago"] >= stale_after  # rounded to 0.1 s
        finally:
            os.kill(pid, signal.SIGCONT)
        deadline = time.monotonic() + 15
        while health(bot).status_code != 200:
            assert time.monotonic() < deadline, "healthz did not recover after sweeps resumed"
            time.sleep(0.2)


def test_the_scheduler_ends_when_its_server_is_killed(fake: FakeSlack, config_dir: Path,
                                                      tmp_path: Path) -> None:
    edit_settings(config_dir, {"scheduler": {"poll_seconds": 1}})
    with BotProcess(fake=fake, config_dir=config_dir, tmp_dir=tmp_path / "proc") as bot:
        clock = wait_for_new_clock(bot, 0, timeout=10)
        bot.wait_for_log("wgbot clock running", timeout=20)
        assert bot.pid is not None
        os.kill(bot.pid, signal.SIGKILL)  # the master alone; its clock is orphaned
        deadline = time.monotonic() + 15
        while alive(clock):
            assert time.monotonic() < deadline, "the orphaned scheduler kept running"
            time.sleep(0.2)
        assert "is gone; stopping" in bot.log_text()
