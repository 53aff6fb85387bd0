"""A bare slack-bolt App that acks `/wg` with a static text, on wgbot's own server stack.

The baseline of bench.ack_latency: the same `bot.slack.http.GunicornServer` (gunicorn master,
uvicorn workers, same worker count) and the same edge (`SlackEdge`: limits, signature check, Bolt
dispatched in a thread pool; `/healthz`) as `wgbot serve`, but a listener that does nothing except
ack. Two modes:

* ``default``: Bolt's default (process_before_response=False), like wgbot: the listener runs
  in Bolt's thread pool while the request thread polls for the ack every 10 ms;
* ``floor``: process_before_response=True: the listener runs in the request thread and the
  response leaves as soon as it returns (the least Bolt can do).

    SLACK_SIGNING_SECRET=... SLACK_API_URL=http://127.0.0.1:PORT/api/ \\
        python -m bench.bare_app --port 3001 --mode default
"""
from __future__ import annotations

import argparse
import logging
import os
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.slack.http import ASGIApp, GunicornServer, SlackEdge, asgi_app

STATIC_TEXT = "The report's six short-term recommendations: S1 to S6."
MODES = ("default", "floor")


def build_app(mode: str, *, signing_secret: str, api_url: str, token: str | None) -> App:
    """The bare Bolt app: one `/wg` listener that acks a static ephemeral text."""
    client = WebClient(token=token, base_url=api_url)
    app = App(signing_secret=signing_secret, client=client, token_verification_enabled=False,
              process_before_response=(mode == "floor"), logger=logging.getLogger("bare.bolt"))

    @app.command("/wg")
    def handle_wg(ack: Ack, command: dict[str, Any]) -> None:
        ack(response_type="ephemeral", text=STATIC_TEXT)

    return app


def main(argv: list[str] | None = None) -> int:
    """Serve the bare app with GunicornServer until SIGTERM."""
    p = argparse.ArgumentParser(prog="python -m bench.bare_app", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--mode", choices=MODES, default="default")
    p.add_argument("--workers", type=int,
                   default=max(1, int(os.environ.get("WEB_CONCURRENCY") or 1)))
    args = p.parse_args(argv)
    logging.basicConfig(level=os.environ.get("WGBOT_LOG_LEVEL", "INFO").upper())
    signing_secret = os.environ["SLACK_SIGNING_SECRET"]
    api_url = os.environ["SLACK_API_URL"]  # the fake's; never the real Slack
    token = os.environ.get("SLACK_BOT_TOKEN") or None

    def load() -> ASGIApp:
        app = build_app(args.mode, signing_secret=signing_secret, api_url=api_url, token=token)
        return asgi_app(SlackEdge(app, signing_secret=signing_secret),
                        health=lambda: (True, {"ok": True}))

    GunicornServer(load=load, host=args.host, port=args.port, workers=args.workers).run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
