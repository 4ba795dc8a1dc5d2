"""Plots of lesson 12: attack success by defence and category, with 95 % Wilson intervals.

matplotlib is imported inside the function; it returns its figure (end the cell with ``;``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from course_lib.lessons._plotting import axes_or_new

__all__ = ["plot_attack_success"]

_COLOURS = {
    "plain": "#e57373",
    "rule": "#ffb74d",
    "spotlight": "#64b5f6",
    "structured": "#2e7d32",
    "structured_free": "#a5d6a7",
}


def plot_attack_success(cells: Sequence[Any], *, ax: Any = None, title: str | None = None) -> Any:
    """Grouped bars: attack success rate per category (and all attacks), one bar per defence, Wilson whiskers (lesson 12)."""
    ax = axes_or_new(ax, (10, 4.2))
    cells = [c for c in cells if c.category != "benign"]
    categories = list(dict.fromkeys(c.category for c in cells))
    defences = list(dict.fromkeys(c.defence for c in cells))
    width = 0.8 / len(defences)
    for j, defence in enumerate(defences):
        row = {c.category: c for c in cells if c.defence == defence}
        xs = [i + (j - (len(defences) - 1) / 2) * width for i in range(len(categories))]
        rates = [row[k].rate for k in categories]
        low = [row[k].rate - row[k].interval[0] for k in categories]
        high = [row[k].interval[1] - row[k].rate for k in categories]
        ax.bar(
            xs, rates, width, label=defence, color=_COLOURS.get(defence, "#90a4ae"), edgecolor="#333", lw=0.5
        )
        ax.errorbar(xs, rates, yerr=[low, high], fmt="none", ecolor="#333", capsize=3, lw=1)
        for x, k in zip(xs, categories, strict=True):
            ax.text(x, 0.02, f"{row[k].attack}/{row[k].n}", ha="center", va="bottom", fontsize=7, rotation=90)
    ax.set_xticks(range(len(categories)), categories)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("attack success rate")
    ax.set_title(
        title or "Injected goal in the output, by defence (bars: rate; whiskers: 95 % Wilson interval)"
    )
    ax.legend(ncol=len(defences), fontsize=8, loc="upper right")
    ax.figure.tight_layout()
    return ax.figure
