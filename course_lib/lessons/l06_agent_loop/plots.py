"""Plots of the agent loop: the state machine with the moves a run made, context growth, strategy budgets (lesson 06).

matplotlib is imported inside the functions, so importing this module stays cheap.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from course_lib.agent import TRANSITIONS

__all__ = ["STATE_POSITIONS", "plot_context_growth", "plot_state_machine", "plot_strategy_budget"]

STATE_POSITIONS: dict[str, tuple[float, float]] = {
    "start": (0.0, 1.0),
    "ask": (1.4, 1.0),
    "act": (2.8, 2.3),
    "observe": (4.2, 1.0),
    "correct": (1.4, -0.4),
    "done": (4.2, -0.4),
}
"""Where each state sits in :func:`plot_state_machine` (lesson 06)."""


_CURVED = {("observe", "ask"): 0.2, ("correct", "observe"): 0.25}
_LOOP_ABOVE = {"ask"}


def _edge(ax: Any, source: str, target: str, count: int, color: str) -> None:
    (x0, y0), (x1, y1) = STATE_POSITIONS[source], STATE_POSITIONS[target]
    taken = count > 0
    style = {"color": color if taken else "0.82", "lw": 1.0 + min(count, 8) * 0.45 if taken else 0.9}
    if source == target:
        side = 1 if source in _LOOP_ABOVE else -1
        ax.annotate(
            "",
            xy=(x0 + 0.18, y0 + side * 0.16),
            xytext=(x0 - 0.18, y0 + side * 0.16),
            arrowprops={"arrowstyle": "-|>", "connectionstyle": f"arc3,rad={-side * 1.9}", **style},
        )
        label_at = (x0, y0 + side * 0.58)
    else:
        rad = _CURVED.get((source, target), 0.0)
        ax.annotate(
            "",
            xy=(x1, y1),
            xytext=(x0, y0),
            arrowprops={
                "arrowstyle": "-|>",
                "shrinkA": 24,
                "shrinkB": 24,
                "connectionstyle": f"arc3,rad={rad}",
                **style,
            },
        )
        # arc3 bends towards mid + rad * (dy, -dx); the curve's apex is half way there
        dx, dy = x1 - x0, y1 - y0
        label_at = ((x0 + x1) / 2 + rad * dy / 2, (y0 + y1) / 2 - rad * dx / 2)
    if taken:
        ax.text(*label_at, str(count), ha="center", va="center", fontsize=9, color=color, fontweight="bold",
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none"})  # fmt: skip


def plot_state_machine(
    runs: Mapping[str, Mapping[tuple[str, str], int]],
    *,
    figsize: tuple[float, float] | None = None,
) -> Any:
    """One panel per run: the loop's states and allowed moves, each move labelled with how often it was taken (lesson 06).

    ``runs`` maps a title to edge counts as :func:`course_lib.agent.transition_counts` returns them.
    Moves never taken are drawn in light grey. Returns the figure; end the cell with ``plt.show()``.
    """
    import matplotlib.pyplot as plt

    if not runs:
        raise ValueError("runs is empty: pass at least one {title: transition counts} entry")
    figsize = figsize or (5.4 * len(runs), 3.6)
    fig, axes = plt.subplots(1, len(runs), figsize=figsize, constrained_layout=True, squeeze=False)
    colors = ("tab:blue", "tab:red", "tab:green", "tab:purple")
    edges = sorted({(s, t) for (s, _), t in TRANSITIONS.items()})
    for i, (ax, (title, counts)) in enumerate(zip(axes[0], runs.items(), strict=True)):
        color = colors[i % len(colors)]
        for source, target in edges:
            _edge(ax, source, target, int(counts.get((source, target), 0)), color)
        for state, (x, y) in STATE_POSITIONS.items():
            ax.text(x, y, state, ha="center", va="center", fontsize=10,
                    bbox={"boxstyle": "round,pad=0.4", "fc": "#fff3d6" if state == "done" else "#e8f0fb",
                          "ec": "0.4"})  # fmt: skip
        ax.set_title(title, fontsize=10)
        ax.set_xlim(-0.5, 4.8)
        ax.set_ylim(-1.2, 2.7)
        ax.axis("off")
    return fig


def plot_context_growth(
    series: Mapping[str, Sequence[int]],
    *,
    windows: Mapping[str, int] | None = None,
    title: str = "Prompt tokens sent at each iteration",
    figsize: tuple[float, float] = (10.0, 3.8),
) -> Any:
    """Two panels: prompt tokens per iteration for each strategy, and the running total billed (lesson 06).

    ``windows`` draws context-window sizes (label -> tokens) as dashed lines on the first panel.
    """
    import matplotlib.pyplot as plt

    if not series:
        raise ValueError("series is empty: pass at least one {label: tokens per iteration} entry")
    fig, (left, right) = plt.subplots(1, 2, figsize=figsize, constrained_layout=True)
    for label, values in series.items():
        xs = list(range(1, len(values) + 1))
        running, total = [], 0
        for v in values:
            total += v
            running.append(total)
        left.plot(xs, values, label=label, linewidth=1.8)
        right.plot(xs, running, label=label, linewidth=1.8)
    for label, size in (windows or {}).items():
        left.axhline(size, color="0.5", linestyle="--", linewidth=1)
        left.annotate(label, (1, size), xytext=(2, 3), textcoords="offset points", fontsize=8, color="0.35")
    left.set_title(title)
    left.set_ylabel("prompt tokens in this call")
    right.set_title("Running total billed")
    right.set_ylabel("prompt tokens so far")
    for ax in (left, right):
        ax.set_xlabel("iteration")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v / 1000:g}k"))
    left.legend(fontsize="small")
    return fig


def plot_strategy_budget(
    rows: Sequence[Any],
    *,
    window: tuple[str, int] | None = None,
    figsize: tuple[float, float] = (10.0, 3.4),
) -> Any:
    """Bars per strategy: the largest single prompt and the total billed, on log scales (lesson 06).

    ``rows`` are objects with ``name``, ``peak`` and ``total`` (e.g.
    :class:`course_lib.lessons.l06_agent_loop.pr_budget.StrategyTokens`); ``window`` = (label, tokens) marks a context window.
    """
    import matplotlib.pyplot as plt

    if not rows:
        raise ValueError("rows is empty: pass at least one strategy")
    names = [r.name for r in rows]
    fig, (left, right) = plt.subplots(1, 2, figsize=figsize, constrained_layout=True)
    for ax, values, title in (
        (left, [r.peak for r in rows], "Largest single prompt"),
        (right, [r.total for r in rows], "Prompt tokens billed per review"),
    ):
        bars = ax.barh(names, values, color="tab:blue")
        ax.set_xscale("log")
        ax.invert_yaxis()
        ax.set_title(title)
        ax.set_xlabel("tokens (log scale)")
        for bar, value in zip(bars, values, strict=True):
            ax.text(value * 1.08, bar.get_y() + bar.get_height() / 2, f"{value:,}", va="center", fontsize=8)
        ax.set_xlim(right=max(values) * 6)
        ax.grid(axis="x", alpha=0.3)
    if window is not None:
        label, size = window
        left.axvline(size, color="tab:red", linestyle="--", linewidth=1)
        left.annotate(
            label,
            (size, len(rows) - 1),
            xytext=(4, 0),
            textcoords="offset points",
            fontsize=8,
            color="tab:red",
        )
    right.set_yticklabels([])
    return fig
