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


class SettingError(Exception):
    """An environment variable is missing or unusable; the message is one plain line."""


class MissingSetting(SettingError):
    """A required environment variable is not set; the message names it and where to get it."""

    def __init__(self, name: str, purpose: str) -> None:
        super().__init__(f"{name} is not set: {purpose} needs it. Get it from {WHERE[name]}.")
        self.name = name


class BadSetting(SettingError):
    """An environment variable is set to something the bot cannot use."""


def _number(env: Mapping[str, str], name: str, default: int, *, low: int, high: int) -> int:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise BadSetting(f"{name} must be a whole number from {low} to {high}, not {raw[:20]!r}.")
    return int(raw)


SUPPORTED_DATABASES = ("sqlite", "postgres", "postgresql", "postgresql+psycopg")


def database_url_problem(url: str) -> str | None:
    """Why DATABASE_URL cannot work, judged without connecting (None: it may)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        return "DATABASE_URL is not a database URL; write sqlite:///path.db or postgresql://…"
    if parsed.drivername not in SUPPORTED_DATABASES:
        return (f"DATABASE_URL uses {parsed.drivername[:30]!r}, which wgbot does not support; "
                f"use sqlite:///path.db or postgresql://…")
    if parsed.drivername == "sqlite":
        path = parsed.database or ""
        if path and path != ":memory:" and not path.startswith("file:"):
            folder = Path(path).expanduser().absolute().parent
            if not folder.is_dir():
                return f"DATABASE_URL points into {folder}, a folder that does not exist."
    elif not parsed.database:
        return "DATABASE_URL names no database (postgresql://user@host:5432/DBNAME)."
    return None


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
    clock_offset_file: Path | None = None  # shifts the process's clock (WGBOT_CLOCK_OFFSET_FILE)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read the environment (defaults for everything that has one)."""
        env = os.environ if env is None else env
        url = env.get("SLACK_API_URL") or DEFAULT_SLACK_API_URL
        if not url.endswith("/"):
            url += "/"
        port = _number(env, "PORT", 3000, low=1, high=65535)
        workers = _number(env, "WEB_CONCURRENCY", 1, low=1, high=64)
        try:
            slack_timeout = max(0.1, float(env.get("WGBOT_SLACK_TIMEOUT") or 15))
        except ValueError:
            slack_timeout = 15.0
        return cls(
            slack_timeout=slack_timeout,
            clock_offset_file=Path(env["WGBOT_CLOCK_OFFSET_FILE"])
            if env.get("WGBOT_CLOCK_OFFSET_FILE") else None,
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

    @property
    def has_socket_mode(self) -> bool:
        """True when Socket Mode credentials are present."""
        return bool(self.bot_token and self.app_token)

    def slack_mode(self) -> str:
        """`socket`, `http` or `console` for `wgbot run`; SettingError when credentials are half set."""
        if self.has_socket_mode:
            return "socket"
        if self.has_slack:
            return "http"
        if not (self.bot_token or self.signing_secret or self.app_token):
            return "console"
        if not self.bot_token:
            raise MissingSetting("SLACK_BOT_TOKEN", "Slack (HTTP or Socket Mode)")
        raise BadSetting("SLACK_BOT_TOKEN is set but neither SLACK_SIGNING_SECRET (HTTP) nor "
                         "SLACK_APP_TOKEN (Socket Mode) is; set one, or unset SLACK_BOT_TOKEN for "
                         "the local console.")

    def require(self, *names: str, purpose: str) -> None:
        """Raise MissingSetting for the first of the named variables that is not set."""
        values = {"SLACK_BOT_TOKEN": self.bot_token, "SLACK_SIGNING_SECRET": self.signing_secret,
                  "SLACK_APP_TOKEN": self.app_token}
        for name in names:
            if not values.get(name):
                raise MissingSetting(name, purpose)
