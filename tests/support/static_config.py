"""A config that never changes, for sweeps and benchmarks that hold one fixed config."""
from __future__ import annotations

from bot.config.types import Config


class StaticConfig:
    """A config that never changes (tests, benchmarks)."""

    def __init__(self, config: Config) -> None:
        self._config = config

    def current(self) -> Config:
        """The config."""
        return self._config
