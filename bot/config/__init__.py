"""Config: the typed settings and knowledge base, loaded and checked from config/*.yaml."""
from __future__ import annotations

from bot.config.load import (
    ConfigFiles,
    Loaded,
    config_files,
    fingerprint,
    load_config,
    load_files,
    read_config,
)
from bot.config.problems import ConfigError, Problem
from bot.config.report import affects_reminders, changes, summary
from bot.config.tokens import redact
from bot.config.types import Config

__all__ = [
    "Config",
    "ConfigError",
    "ConfigFiles",
    "Loaded",
    "Problem",
    "affects_reminders",
    "changes",
    "config_files",
    "fingerprint",
    "load_config",
    "load_files",
    "read_config",
    "redact",
    "summary",
]
