"""The scheduling tests' shared world: a database, the fake Slack and a clock, swept by hand."""
from tests.scheduling.test_sweep import world

__all__ = ["world"]
