"""Shared helpers for the benchmarks: statistics, tables, the repo config, temporary folders."""
from __future__ import annotations

import shutil
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bot.config.load import load_config
from bot.config.types import Config

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Summary:
    """Count, median, 95th percentile, mean and maximum of a set of timings (seconds)."""

    n: int
    p50: float
    p95: float
    mean: float
    max: float


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0-100) by linear interpolation between closest ranks."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    lo = int(rank)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (rank - lo)


def summarize(values: Sequence[float]) -> Summary:
    """Summary statistics of timings."""
    if not values:
        nan = float("nan")
        return Summary(0, nan, nan, nan, nan)
    return Summary(len(values), percentile(values, 50), percentile(values, 95),
                   statistics.fmean(values), max(values))


def ms(seconds: float) -> str:
    """Seconds as milliseconds with a sensible number of decimals."""
    value = seconds * 1000
    return f"{value:.2f}" if value < 100 else f"{value:.1f}"


def ratio(a: float, b: float) -> str:
    """a / b as '1.23×' (or 'n/a' when b is zero)."""
    return f"{a / b:.2f}×" if b else "n/a"


def verdict(value: float, goal: float) -> str:
    """'within goal' or 'ABOVE goal' for a ratio (informational; nothing is asserted)."""
    return "within goal" if value <= goal else "ABOVE goal"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table: first column left-aligned, the others right-aligned."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(row, widths, strict=True)))

    out = [line(cells[0]), "  ".join("-" * w for w in widths)]
    out.extend(line(r) for r in cells[1:])
    return "\n".join(out)


def say(text: str = "") -> None:
    """Print and flush (progress lines appear while a long run is under way)."""
    print(text, flush=True)


def copy_config(target_dir: Path) -> Path:
    """A private copy of the repo's config/ folder inside target_dir."""
    target = target_dir / "config"
    shutil.copytree(REPO / "config", target)
    return target


def repo_config(now: datetime) -> Config:
    """The repo's config/ loaded as the bot loads it, as of `now`."""
    return load_config(REPO / "config", now=now).config


def python_info() -> str:
    """One line naming the interpreter, for the report header."""
    return f"Python {sys.version.split()[0]} on {sys.platform}"
