"""Environment settings: secrets and where things are. Never read from YAML."""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_DATABASE_URL = "sqlite:///wgbot.db"

WHERE = {
    "SLACK_BOT_TOKEN": "Slack app settings → OAuth & Permissions → Bot User OAuth Token (xoxb-…)",
    "SLACK_SIGNING_SECRET": "Slack app settings → Basic Information → App Credentials → Signing Secret",
    "SLACK_APP_TOKEN": "Slack app settings → Basic Information → App-Level Tokens, with the "
                       "connections:write scope (xapp-…)",
}


class MissingSetting(Exception):
    """A required environment variable is not set; the message names it and where to get it."""

    def __init__(self, name: str, purpose: str) -> None:
        super().__init__(f"{name} is not set: {purpose} needs it. Get it from {WHERE[name]}.")
        self.name = name


@dataclass(frozen=True)
class Settings:
    """Everything taken from the environment."""

    bot_token: str | None
    signing_secret: str | None
    app_token: str | None
    slack_api_url: str
    database_url: str
    config_dir: Path
    config_snapshot: Path | None
    host: str
    port: int
    web_concurrency: int
    slack_timeout: float = 15.0  # seconds a Web API call may take (WGBOT_SLACK_TIMEOUT)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read the environment (defaults for everything that has one)."""
        env = os.environ if env is None else env
        url = env.get("SLACK_API_URL") or DEFAULT_SLACK_API_URL
        if not url.endswith("/"):
            url += "/"
        try:
            port = int(env.get("PORT") or 3000)
        except ValueError:
            port = 3000
        try:
            workers = max(1, int(env.get("WEB_CONCURRENCY") or 1))
        except ValueError:
            workers = 1
        try:
            slack_timeout = max(0.1, float(env.get("WGBOT_SLACK_TIMEOUT") or 15))
        except ValueError:
            slack_timeout = 15.0
        return cls(
            slack_timeout=slack_timeout,
            bot_token=env.get("SLACK_BOT_TOKEN") or None,
            signing_secret=env.get("SLACK_SIGNING_SECRET") or None,
            app_token=env.get("SLACK_APP_TOKEN") or None,
            slack_api_url=url,
            database_url=env.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            config_dir=Path(env.get("WGBOT_CONFIG_DIR") or "config"),
            config_snapshot=Path(env["WGBOT_CONFIG_SNAPSHOT"])
            if env.get("WGBOT_CONFIG_SNAPSHOT") else None,
            host=env.get("HOST") or "0.0.0.0",
            port=port,
            web_concurrency=workers,
        )

    @property
    def has_slack(self) -> bool:
        """True when Slack credentials are present (HTTP mode is possible)."""
        return bool(self.bot_token and self.signing_secret)

    def require(self, *names: str, purpose: str) -> None:
        """Raise MissingSetting for the first of the named variables that is not set."""
        values = {"SLACK_BOT_TOKEN": self.bot_token, "SLACK_SIGNING_SECRET": self.signing_secret,
                  "SLACK_APP_TOKEN": self.app_token}
        for name in names:
            if not values.get(name):
                raise MissingSetting(name, purpose)
