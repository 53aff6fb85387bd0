"""The brief's chart as a PNG: stacked bars per recommendation and the burn-up to the session.

Drawn with matplotlib's non-interactive Agg backend on a Figure object (no pyplot, no display),
sized for Slack's preview at phone width: one column, large type, a legend above each panel.
"""
from __future__ import annotations

import io
from datetime import UTC, datetime, time

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import HOURLY, AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from bot.domain.brief import Brief

WIDTH_IN, HEIGHT_IN, DPI = 6.0, 9.0, 150  # 900 × 1350 pixels
SIZE = (int(WIDTH_IN * DPI), int(HEIGHT_IN * DPI))
DONE, OPEN, LATE, DUE = "#2e7d32", "#1f77b4", "#d62728", "#555555"


def chart_png(brief: Brief) -> bytes:
    """Both panels in one PNG of SIZE pixels."""
    fig = chart_figure(brief)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def chart_figure(brief: Brief) -> Figure:
    """Both panels, laid out: the commitments per recommendation above the burn-up."""
    fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
    FigureCanvasAgg(fig)
    bars, burn = fig.subplots(2, 1, gridspec_kw={"height_ratios": [3, 2]})
    _bars(bars, brief)
    _burn_up(burn, brief)
    fig.tight_layout(pad=0.8, h_pad=1.6)
    return fig


def _bars(ax, brief: Brief) -> None:  # type: ignore[no-untyped-def]
    recs = brief.recs
    labels = [r.rec.id for r in recs]
    done = [r.readiness.done for r in recs]
    late = [r.readiness.overdue for r in recs]
    open_ = [r.readiness.open - r.readiness.overdue for r in recs]
    y = list(range(len(recs)))[::-1]
    ax.barh(y, done, color=DONE, label="done")
    ax.barh(y, open_, left=done, color=OPEN, label="open")
    ax.barh(y, late, left=[d + o for d, o in zip(done, open_, strict=True)], color=LATE,
            label="overdue")
    ax.set_yticks(y, labels, fontsize=11)
    if not any(r.readiness.total for r in recs):
        ax.set_xlim(0, 1)  # nothing to draw: still whole commitments from 0, not ±0.05
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.tick_params(axis="x", labelsize=10)
    for yi, r in zip(y, recs, strict=True):
        if r.readiness.total == 0:
            ax.text(0, yi, "  nobody", va="center", fontsize=10, color=LATE)
    ax.set_title("Commitments per recommendation", fontsize=14, loc="left")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.06), ncol=3, fontsize=11, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="x", alpha=0.3)


def _burn_up(ax, brief: Brief) -> None:  # type: ignore[no-untyped-def]
    b = brief.burn_up
    days = [datetime.combine(d, time(12), tzinfo=UTC) for d in b.days]
    ax.step(days, b.due, where="post", color=DUE, linewidth=2, label="due (by deadline)")
    now = brief.generated_at
    shown = [(d, n) for d, n in zip(days, b.done, strict=True) if d <= now] or \
        list(zip(days[:1], b.done[:1], strict=True))
    ax.step([d for d, _ in shown], [n for _, n in shown], where="post", color=DONE, linewidth=2.5,
            label="done")
    ax.axvline(brief.session_at, color=LATE, linestyle="--", linewidth=1.5)
    ax.text(brief.session_at, 0, " session", color=LATE, fontsize=10, rotation=90, va="bottom",
            ha="right")
    if days and days[0] <= now <= days[-1]:
        ax.axvline(now, color="#999999", linestyle=":", linewidth=1)
    locator = AutoDateLocator(maxticks=5)
    locator.intervald[HOURLY] = [*locator.intervald[HOURLY], 24]  # two or three days: daily ticks
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    ax.tick_params(labelsize=10)
    ax.set_title("Due vs done, up to the session", fontsize=14, loc="left")
    ax.legend(loc="upper left", fontsize=11, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(alpha=0.3)
    ax.set_ylim(bottom=0, top=None if max((*b.due, *b.done), default=0) else 1)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
