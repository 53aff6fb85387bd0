"""HTTP ack latency of `/wg recs short` in the real `wgbot serve`, against bare Bolt apps.

Three servers run side by side on 127.0.0.1, all on `bot.slack.http.GunicornServer` (gunicorn
master, uvicorn workers, the same edge and dispatch pool) with the same worker count, all talking
to one FakeSlack:

* wgbot        — the real `wgbot serve` (tests.slack_fake.BotProcess), config copied to a temp dir;
* bare-default — bench/bare_app.py in Bolt's default mode (what wgbot uses): the listener runs in
                 Bolt's thread pool and the request thread polls for the ack every 10 ms;
* bare-floor   — bench/bare_app.py with process_before_response=True: the least Bolt can do.

Signed slash commands (tests.slack_fake.SlackClient.command) go to each, after a warm-up, first
one at a time and then from 8 concurrent clients, in rounds that rotate the order of the servers
so that drift in the machine's load spreads evenly. Latency is measured at the client, from
sending the request to having read the whole response.

Then the same sequential and concurrent runs go to wgbot once more while 200 slow clients
(tests.slack_fake.SlowClients: 100 trickling a body, 100 trickling headers, one byte every 2 s,
each replaced as soon as the server cuts it) hold connections open: p50 and max beside the
unattacked run (goals: p50 within 2×, no request over 3 s).

    python -m bench.ack_latency            # full: 500 sequential + 1,000 concurrent per server
    python -m bench.ack_latency --quick    # 100 sequential + 160 concurrent per server
    python -m bench.ack_latency --quick --no-attack   # the ratios only, without the attack runs
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests

from bench._common import REPO, copy_config, ms, python_info, ratio, say, summarize, table, verdict
from bench.bare_app import STATIC_TEXT, build_app
from bot.app import build_slack
from bot.clock import SystemClock
from bot.settings import Settings
from bot.slack.http import DISPATCH_THREADS, Answer, SlackEdge
from tests.slack_fake.client import SlackClient
from tests.slack_fake.process import BOT_TOKEN, DEFAULT_SIGNING_SECRET, BotProcess
from tests.slack_fake.server import FakeSlack

COMMAND = "recs short"
CLIENTS = 8
GOAL_DEFAULT = 1.3
GOAL_FLOOR = 1.3
SLOW_CLIENTS = 200
ATTACK_SECONDS = 15.0  # per phase: longer than the edge's 10 s deadlines, so cuts happen


class Attack:
    """200 slow clients held from another process (as an attacker would be), replaced when cut."""

    def __init__(self, port: int, clients: int) -> None:
        self._cmd = [sys.executable, "-m", "tests.slack_fake.slow_clients", "--port", str(port),
                     "--clients", str(clients), "--reopen"]
        self._proc: subprocess.Popen[str] | None = None
        self.reopened = 0
        self.summary = ""

    def __enter__(self) -> Attack:
        """Open the connections and let each trickle once."""
        self._proc = subprocess.Popen(self._cmd, cwd=REPO, stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, text=True)
        assert self._proc.stdout is not None
        if self._proc.stdout.readline().strip() != "ready":
            raise RuntimeError("the slow clients did not start")
        time.sleep(2.5)
        return self

    def __exit__(self, *exc: object) -> None:
        """Close the connections; read how many were replaced."""
        assert self._proc is not None
        out, _ = self._proc.communicate(input="", timeout=30)
        self.summary = out.strip()
        parts = self.summary.split()
        if len(parts) >= 2 and parts[0] == "reopened":
            self.reopened = int(parts[1])
GOAL_ATTACKED_P50 = 2.0
GOAL_ATTACKED_MAX = 3.0


class BareAppProcess(BotProcess):
    """`python -m bench.bare_app`, started and stopped exactly like the bot (health, group)."""

    def __init__(self, *, mode: str, workers: int, fake: FakeSlack) -> None:
        super().__init__(fake=fake, cwd=REPO)
        self.mode = mode
        self.workers = workers

    def _spawn(self) -> None:
        """Start the bare app instead of `wgbot serve` (same logging, same session)."""
        if self._log is not None:
            self._log.close()
        self._log = open(self.log_path, "ab")  # closed by BotProcess.stop()
        self._log.write(f"\n=== bare_app {self.mode} on port {self.port} ===\n".encode())
        self._log.flush()
        cmd = [sys.executable, "-m", "bench.bare_app", "--host", "127.0.0.1", "--port",
               str(self.port), "--mode", self.mode, "--workers", str(self.workers)]
        self.returncode = None
        self._proc = subprocess.Popen(cmd, cwd=self.cwd, env=self.env, stdin=subprocess.DEVNULL,
                                      stdout=self._log, stderr=subprocess.STDOUT,
                                      start_new_session=True)


@dataclass
class Target:
    """One server under test and the latencies measured against it."""

    name: str
    process: BotProcess
    check: Callable[[requests.Response], bool]
    sequential: list[float] = field(default_factory=list)
    concurrent: list[float] = field(default_factory=list)
    attacked_sequential: list[float] = field(default_factory=list)
    attacked_concurrent: list[float] = field(default_factory=list)
    attacked_reopened: int = 0
    beside_attack: tuple[list[float], list[float]] = ([], [])
    concurrent_wall: float = 0.0
    errors: int = 0
    _clients: list[SlackClient] = field(default_factory=list)

    def fresh_clients(self, n: int) -> list[SlackClient]:
        """n signing clients on new keep-alive connections, each opened by one untimed request.

        Connections are renewed before every phase: gunicorn closes a connection idle for 5 s
        (keepalive), and a request racing that close would fail for reasons unrelated to the
        server's speed.
        """
        self.close_clients()
        for _ in range(n):
            client = SlackClient(self.process.url, self.process.signing_secret,
                                 response_urls=self.process.fake.response_url
                                 if self.process.fake else None)
            client.command(COMMAND)
            self._clients.append(client)
        return list(self._clients)

    def close_clients(self) -> None:
        """Close every keep-alive connection (a graceful stop waits for idle ones otherwise)."""
        for c in self._clients:
            c.close()
        self._clients.clear()


def wgbot_reply_ok(resp: requests.Response) -> bool:
    """The real reply: HTTP 200 with blocks naming S1 and S6."""
    if resp.status_code != 200:
        return False
    blocks = json.dumps(resp.json().get("blocks", []))
    return "S1" in blocks and "S6" in blocks


def bare_reply_ok(resp: requests.Response) -> bool:
    """The bare app's reply: HTTP 200 with the static text."""
    return resp.status_code == 200 and resp.json().get("text") == STATIC_TEXT


def one(client: SlackClient, target: Target) -> tuple[float, bool]:
    """Send one signed `/wg recs short`; its latency in seconds and whether the reply was right."""
    started = time.perf_counter()
    try:
        resp = client.command(COMMAND)
        body = resp.content  # read the whole response before stopping the clock
    except requests.RequestException:
        return time.perf_counter() - started, False
    elapsed = time.perf_counter() - started
    return elapsed, bool(body) and target.check(resp)


def kept(target: Target, timings: list[tuple[float, bool]]) -> list[float]:
    """The latencies of right replies; the others are counted as errors and left out."""
    target.errors += sum(1 for _, ok in timings if not ok)
    return [t for t, ok in timings if ok]


def run_sequential(target: Target, n: int) -> list[float]:
    """n requests one after another from one client."""
    client = target.fresh_clients(1)[0]
    return kept(target, [one(client, target) for _ in range(n)])


def run_concurrent(target: Target, per_client: int) -> tuple[list[float], float]:
    """CLIENTS clients sending per_client requests each at once; latencies and wall time."""
    clients = target.fresh_clients(CLIENTS)
    barrier = threading.Barrier(CLIENTS + 1)
    results: list[list[tuple[float, bool]]] = [[] for _ in clients]

    def work(i: int) -> None:
        barrier.wait()
        results[i] = [one(clients[i], target) for _ in range(per_client)]

    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    return kept(target, [x for r in results for x in r]), wall


class SignedRequests(SlackClient):
    """A SlackClient that keeps the signed body and headers instead of sending them."""

    def post(self, body: bytes, *, content_type: str, **_: object  # type: ignore[override]
             ) -> tuple[bytes, list[tuple[bytes, bytes]]]:
        """The body and the headers Slack would send with it, as the server reads them."""
        headers = self.signed_headers(body, content_type=content_type)
        return body, [(k.lower().encode(), v.encode()) for k, v in headers.items()]


def in_process(fake: FakeSlack, tmp: Path, config_dir: Path, n: int
               ) -> tuple[list[float], list[float]]:
    """`SlackEdge.handle` of wgbot and of the bare floor app on the same signed requests, in this
    process, interleaved in 5 rounds: the work each does per request without the HTTP server."""
    settings = Settings.from_env({
        "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": DEFAULT_SIGNING_SECRET,
        "SLACK_API_URL": fake.url, "DATABASE_URL": f"sqlite:///{tmp / 'in-process.db'}",
        "WGBOT_CONFIG_DIR": str(config_dir)})
    app, core = build_slack(settings, clock=SystemClock(), upgrade=True)
    edges = [SlackEdge(app, signing_secret=DEFAULT_SIGNING_SECRET),
             SlackEdge(build_app("floor", signing_secret=DEFAULT_SIGNING_SECRET, api_url=fake.url,
                                 token=BOT_TOKEN), signing_secret=DEFAULT_SIGNING_SECRET)]
    client = SignedRequests("http://in-process", DEFAULT_SIGNING_SECRET,
                            response_urls=fake.response_url)
    requests_ = [client.command(COMMAND) for _ in range(n + 100)]
    timings: list[list[float]] = [[], []]

    def run(edge: SlackEdge, batch: list[tuple[bytes, list[tuple[bytes, bytes]]]]) -> list[float]:
        out = []
        for body, headers in batch:
            started = time.perf_counter()
            answer: Answer = edge.handle(headers=headers, query=b"", body=body, client="bench")
            out.append(time.perf_counter() - started)
            if answer.status != 200:
                raise RuntimeError(f"in-process answer {answer.status}")
        return out

    try:
        for edge in edges:
            run(edge, requests_[:100])  # warm-up
        per_round = n // 5
        for r in range(5):
            batch = requests_[100 + r * per_round:100 + (r + 1) * per_round]
            for i in (0, 1) if r % 2 == 0 else (1, 0):
                timings[i].extend(run(edges[i], batch))
    finally:
        core.close()
    return timings[0], timings[1]


def report_in_process(wgbot: list[float], floor: list[float]) -> None:
    """Print the in-process medians and wgbot's own work per request."""
    w, f = summarize(wgbot), summarize(floor)
    say(f"\n== In process: `SlackEdge.handle` of a signed `/wg {COMMAND}` (no HTTP server), "
        "wgbot against the bare floor app")
    say(table(["app", "requests", "p50 ms", "p95 ms", "mean ms"],
              [["wgbot", w.n, f"{w.p50 * 1000:.3f}", f"{w.p95 * 1000:.3f}", f"{w.mean * 1000:.3f}"],
               ["bare-floor", f.n, f"{f.p50 * 1000:.3f}", f"{f.p95 * 1000:.3f}",
                f"{f.mean * 1000:.3f}"]]))
    say(f"wgbot's own work: {(w.p50 - f.p50) * 1000:.3f} ms a request more than the bare listener "
        f"({ratio(w.p50, f.p50)})")


def report(targets: list[Target], *, attack: bool = True) -> None:
    """Print the tables and the ratios."""
    by = {t.name: t for t in targets}
    for label, attr in (("sequential (1 client)", "sequential"),
                        (f"concurrent ({CLIENTS} clients)", "concurrent")):
        rows = []
        for t in targets:
            s = summarize(getattr(t, attr))
            extra = [f"{len(t.concurrent) / t.concurrent_wall:.0f}"] if attr == "concurrent" \
                and t.concurrent_wall else []
            rows.append([t.name, s.n, ms(s.p50), ms(s.p95), ms(s.mean), ms(s.max), *extra])
        headers = ["server", "requests", "p50 ms", "p95 ms", "mean ms", "max ms"]
        if attr == "concurrent":
            headers.append("req/s")
        say(f"\n== {label}: `/wg {COMMAND}`")
        say(table(headers, rows))
    say("\n== Ratios of medians (goals: wgbot/bare-default ≤ "
        f"{GOAL_DEFAULT:g}, wgbot/bare-floor ≤ {GOAL_FLOOR:g})")
    rows = []
    for label, attr in (("sequential", "sequential"), ("concurrent", "concurrent")):
        w = summarize(getattr(by["wgbot"], attr)).p50
        d = summarize(getattr(by["bare-default"], attr)).p50
        f = summarize(getattr(by["bare-floor"], attr)).p50
        rows.append([label, ratio(w, d), verdict(w / d, GOAL_DEFAULT), ratio(w, f),
                     verdict(w / f, GOAL_FLOOR), ratio(d, f)])
    say(table(["run", "wgbot/bare-default", "goal", "wgbot/bare-floor", "goal",
               "bare-default/bare-floor"], rows))
    errors = {t.name: t.errors for t in targets}
    say(f"failed or unexpected replies (left out of the timings): {errors}")
    if not attack:
        return
    w = by["wgbot"]
    say(f"\n== wgbot under attack: {SLOW_CLIENTS} slow clients held open "
        f"from another process ({w.attacked_reopened} replaced after the server cut them), "
        f"in 2 phases of {ATTACK_SECONDS:g} s alternating with unattacked ones; goals: p50 ≤ "
        f"{GOAL_ATTACKED_P50:g}× unattacked, max ≤ {GOAL_ATTACKED_MAX:g} s")
    rows = []
    for label, normal, attacked in (("sequential", w.beside_attack[0], w.attacked_sequential),
                                    ("concurrent", w.beside_attack[1], w.attacked_concurrent)):
        n, a = summarize(normal), summarize(attacked)
        rows.append([label, a.n, ms(n.p50), ms(a.p50), ratio(a.p50, n.p50),
                     verdict(a.p50 / n.p50, GOAL_ATTACKED_P50), ms(n.max), ms(a.max),
                     verdict(a.max, GOAL_ATTACKED_MAX)])
    say(table(["run", "requests", "p50 ms", "attacked p50 ms", "ratio", "goal", "max ms",
               "attacked max ms", "goal"], rows))


def main(argv: list[str] | None = None) -> int:
    """Start FakeSlack and the three servers, measure, stop everything."""
    p = argparse.ArgumentParser(prog="python -m bench.ack_latency", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="fewer requests and rounds")
    p.add_argument("--workers", type=int, default=1,
                   help="gunicorn workers for every server (default 1, as WEB_CONCURRENCY)")
    p.add_argument("--scheduler", action="store_true",
                   help="let wgbot serve run its reminder scheduler too (off: HTTP only)")
    p.add_argument("--no-attack", action="store_true",
                   help="skip the runs under attack (the ratios to the bare apps only)")
    args = p.parse_args(argv)
    rounds = 2 if args.quick else 5
    seq_per_round = 50 if args.quick else 100
    conc_per_client = 10 if args.quick else 25
    warmup = 30 if args.quick else 50
    say(f"bench.ack_latency — {python_info()}; GunicornServer with uvicorn workers, "
        f"{args.workers} worker(s), {DISPATCH_THREADS} dispatch threads per server; "
        f"wgbot scheduler {'on' if args.scheduler else 'off'}")
    say(f"{rounds} rounds × ({seq_per_round} sequential + {CLIENTS}×{conc_per_client} concurrent) "
        f"per server after {warmup} warm-up requests; Bolt's default mode polls the ack every "
        f"10 ms")
    targets: list[Target] = []
    with tempfile.TemporaryDirectory(prefix="wgbot-bench-") as tmp, FakeSlack() as fake:
        config_dir = copy_config(Path(tmp))
        own_work = in_process(fake, Path(tmp), config_dir, 1000 if args.quick else 5000)
        bot_args = ["--workers", str(args.workers)] + ([] if args.scheduler else ["--no-scheduler"])
        try:
            targets.append(Target("wgbot", BotProcess(fake=fake, config_dir=config_dir,
                                                      args=bot_args), wgbot_reply_ok))
            targets.append(Target("bare-default", BareAppProcess(mode="default",
                                                                 workers=args.workers, fake=fake),
                                  bare_reply_ok))
            targets.append(Target("bare-floor", BareAppProcess(mode="floor", workers=args.workers,
                                                               fake=fake), bare_reply_ok))
            for t in targets:
                t.process.start()
                say(f"started {t.name} on {t.process.url} (pid {t.process.pid})")
            for t in targets:
                run_sequential(t, warmup)
                run_concurrent(t, max(2, warmup // CLIENTS))
                t.errors = 0
            for r in range(rounds):
                order = targets[r % len(targets):] + targets[:r % len(targets)]
                for t in order:
                    t.sequential.extend(run_sequential(t, seq_per_round))
                for t in order:
                    lat, wall = run_concurrent(t, conc_per_client)
                    t.concurrent.extend(lat)
                    t.concurrent_wall += wall
                say(f"round {r + 1}/{rounds} done")
            wgbot = targets[0]
            normal_seq: list[float] = []
            normal_conc: list[float] = []
            # normal, attacked, normal, attacked: drift hits both alike
            for phase in range(0 if args.no_attack else 4):
                if phase % 2 == 0:
                    phase_started = time.monotonic()
                    while time.monotonic() - phase_started < ATTACK_SECONDS:
                        normal_seq.extend(run_sequential(wgbot, seq_per_round))
                        normal_conc.extend(run_concurrent(wgbot, conc_per_client)[0])
                    continue
                with Attack(wgbot.process.port, SLOW_CLIENTS) as attack:
                    phase_started = time.monotonic()
                    while time.monotonic() - phase_started < ATTACK_SECONDS:
                        wgbot.attacked_sequential.extend(run_sequential(wgbot, seq_per_round))
                        wgbot.attacked_concurrent.extend(run_concurrent(wgbot, conc_per_client)[0])
                wgbot.attacked_reopened += attack.reopened
                say(f"attacked phase done ({attack.summary})")
            wgbot.beside_attack = (normal_seq, normal_conc)
        finally:
            for t in targets:
                t.close_clients()
                t.process.close()
    report_in_process(*own_work)
    report(targets, attack=not args.no_attack)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
