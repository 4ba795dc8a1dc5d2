"""Plots of lesson 08: the cost waterfall of the five optimisations and the runaway's spend over time.

matplotlib is imported inside each function. Every function draws on ``ax`` when given (so a lesson
can lay out several panels) and returns the axes it drew on.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from course_lib.lessons._plotting import axes_or_new, money_label

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from course_lib.lessons.l08_token_economics.runaway import RunawayResult
    from course_lib.lessons.l08_token_economics.savings import CompoundTable

__all__ = ["budget_burn_down", "cost_waterfall", "runaway_figure", "spend_timeline"]

_COLOURS = ("#c0392b", "#2471a3", "#1e8449", "#7d3c98", "#b9770e")
_SHORT = {
    "baseline": "baseline",
    "caching": "prompt\ncaching",
    "routing": "model\nrouting",
    "output_limit": "output\nlimit",
    "compression": "compression",
    "batching": "batching",
}


def cost_waterfall(table: CompoundTable, *, ax: Axes | None = None, title: str | None = None) -> Axes:
    """Monthly cost from the baseline down through each optimisation to the final bill (lesson 08).

    One red bar per step shows what it removed (hatched green if a step made things dearer); the
    blue bars are the baseline and the final cost.
    """
    ax = axes_or_new(ax, (8, 4))
    monthly = [row.cost.projection.per_month for row in table.rows]
    names = [_SHORT.get(row.name, row.name) for row in table.rows]
    ax.bar(0, monthly[0], color="#2471a3")
    ax.text(0, monthly[0], money_label(monthly[0]), ha="center", va="bottom", fontsize=8)
    for i in range(1, len(monthly)):
        before, after = monthly[i - 1], monthly[i]
        cut = before - after
        ax.bar(i, abs(cut), bottom=min(before, after), color="#c0392b" if cut >= 0 else "#1e8449",
               hatch=None if cut >= 0 else "//")  # fmt: skip
        ax.text(i, before if cut >= 0 else after, f"−{money_label(cut)}" if cut >= 0 else f"+{money_label(-cut)}",
                ha="center", va="bottom", fontsize=8)  # fmt: skip
        ax.plot([i - 1.4, i + 0.4], [before, before], color="grey", lw=0.6, ls=":")
    last = len(monthly)
    ax.bar(last, monthly[-1], color="#2471a3")
    ax.text(last, monthly[-1], money_label(monthly[-1]), ha="center", va="bottom", fontsize=8)
    ax.set_xticks(range(last + 1), [*names, "final"], fontsize=8)
    ax.set_ylabel("USD per month")
    ax.yaxis.set_major_formatter("{x:,.0f}")
    ax.set_ylim(0, max(monthly) * 1.12)
    ax.set_title(title or f"Monthly cost: {money_label(monthly[0])} → {money_label(monthly[-1])}")
    return ax


def _cents_down(value: float) -> float:
    """Round down to the cent, so a spend just under a cap never reads as the cap itself."""
    return math.floor(value * 100 + 1e-6) / 100


def _minutes(values: Sequence[float]) -> list[float]:
    return [v / 60 for v in values]


def _event_marks(ax: Axes, result: RunawayResult, colour: str, y_of: Any) -> None:
    marks = (
        (result.first_alert, "^", "anomaly alert"),
        (result.breaker_trip, "s", "breaker trips"),
        (result.kill_engaged, "X", "kill switch"),
    )
    for when, marker, what in marks:
        if when is not None:
            ax.plot(when / 60, y_of(when), marker=marker, color=colour, ms=9, ls="none",
                    markeredgecolor="black", label=f"{result.label}: {what} at {when / 60:.1f} min")  # fmt: skip


def spend_timeline(
    results: Sequence[RunawayResult], *, cap: float | None = None, ax: Axes | None = None
) -> Axes:
    """Cumulative spend against minutes after the bug, one line per run, guard events marked (lesson 08)."""
    ax = axes_or_new(ax, (7, 4))
    for result, colour in zip(results, _COLOURS, strict=False):
        xs, ys = [0.0, *_minutes(result.times), result.duration_s / 60], [0.0, *result.spend, result.total]
        ax.step(
            xs,
            ys,
            where="post",
            color=colour,
            lw=2,
            label=f"{result.label}: \\${_cents_down(result.total):,.2f}",
        )
        _event_marks(ax, result, colour, result.spend_at)
    if cap is not None:
        ax.axhline(cap, color="black", ls="--", lw=1, label=f"hourly cap {money_label(cap)}")
    ax.set_xlabel("minutes after the bug was deployed")
    ax.set_ylabel("USD spent")
    ax.set_xlim(0, max((r.duration_s for r in results), default=1) / 60)
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=7, loc="upper left")
    ax.set_title("Spend during the runaway")
    return ax


def budget_burn_down(
    results: Sequence[RunawayResult], *, cap: float, until_min: float | None = None, ax: Axes | None = None
) -> Axes:
    """What is left of an hourly budget of ``cap`` USD, minute by minute; below zero is overspend (lesson 08)."""
    ax = axes_or_new(ax, (7, 4))
    for result, colour in zip(results, _COLOURS, strict=False):
        end = result.duration_s / 60 if until_min is None else until_min
        xs = [0.0, *[t for t in _minutes(result.times) if t <= end], end]
        ys = [cap, *[cap - s for t, s in zip(_minutes(result.times), result.spend, strict=True) if t <= end]]
        ys.append(ys[-1])
        ax.step(xs, ys, where="post", color=colour, lw=2, label=result.label)
        _event_marks(ax, result, colour, lambda t, r=result: cap - r.spend_at(t))
    ax.axhline(0, color="black", lw=1)
    low, high = ax.get_ylim()
    ax.axhspan(min(low, 0), 0, color="#f5b7b1", alpha=0.4, zorder=0)  # overspend
    ax.set_ylim(low, high)
    ax.set_xlabel("minutes after the bug was deployed")
    ax.set_ylabel(f"USD left of the {money_label(cap)} hourly budget")
    if until_min is not None:
        ax.set_xlim(0, until_min)
    ax.legend(fontsize=7, loc="upper right")
    ax.set_title("Hourly budget burn-down")
    return ax


def runaway_figure(results: Sequence[RunawayResult], *, cap: float, burn_down_min: float = 8.0) -> Any:
    """Two panels: spend over the whole incident and the budget burn-down of its first minutes (lesson 08)."""
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.2))
    spend_timeline(results, cap=cap, ax=left)
    budget_burn_down(results, cap=cap, until_min=burn_down_min, ax=right)
    fig.tight_layout()
    return fig
