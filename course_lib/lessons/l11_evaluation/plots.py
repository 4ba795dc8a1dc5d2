"""The lesson's plot: pass rate with its 95 % interval per prompt version and scorer (lesson 11)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from course_lib.evals.stats import wilson_interval

__all__ = ["plot_pass_rates"]


def plot_pass_rates(
    rates: Mapping[str, Mapping[str, tuple[int, int]]], *, threshold: float | None = None, title: str = ""
) -> Any:
    """Bars of passes/answers per version (groups) and scorer (bars), with Wilson intervals (lesson 11)."""
    import matplotlib.pyplot as plt

    versions = list(rates)
    scorers: Sequence[str] = list(next(iter(rates.values())))
    fig, ax = plt.subplots(figsize=(7, 3.6))
    width = 0.8 / len(scorers)
    for j, scorer in enumerate(scorers):
        xs, ys, lows, highs = [], [], [], []
        for i, version in enumerate(versions):
            k, n = rates[version][scorer]
            low, high = wilson_interval(k, n)
            xs.append(i + (j - (len(scorers) - 1) / 2) * width)
            ys.append(k / n)
            lows.append(k / n - low)
            highs.append(high - k / n)
        bars = ax.bar(xs, ys, width, yerr=[lows, highs], capsize=4, label=scorer)
        ax.bar_label(bars, labels=[f"{y:.0%}" for y in ys], padding=2, fontsize=8)
    if threshold is not None:
        ax.axhline(threshold, color="black", linestyle="--", linewidth=1, label=f"criterion {threshold:.0%}")
    ax.set_xticks(range(len(versions)), versions)
    ax.set_ylim(0, 1.12)
    ax.set_ylabel("pass rate (95% Wilson interval)")
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig
