"""Plots of conversation cost: the prompt tokens each turn re-sends, per trimming policy (lesson 02).

matplotlib is imported inside the function, so importing this module stays cheap.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["cumulative_tokens", "plot_tokens_per_turn"]


def cumulative_tokens(per_turn: Sequence[int | None]) -> list[int | None]:
    """Running total of prompt tokens billed; ``None`` (a turn that could not be sent) stays ``None`` (lesson 02)."""
    total = 0
    out: list[int | None] = []
    for tokens in per_turn:
        if tokens is None:
            out.append(None)
            continue
        total += tokens
        out.append(total)
    return out


def _nan(values: Sequence[int | None]) -> list[float]:
    return [math.nan if v is None else float(v) for v in values]


def plot_tokens_per_turn(
    series: Mapping[str, Sequence[int | None]],
    *,
    budget: int | None = None,
    title: str = "Prompt tokens re-sent at each turn",
    figsize: tuple[float, float] = (10.0, 3.6),
) -> Any:
    """Two panels, one line per policy: tokens sent at each turn, and the running total billed (lesson 02).

    ``series`` maps a label (``"full history"``, ``"window of 4"`` …) to the prompt tokens of each user
    turn, as :func:`course_lib.conversation.prompt_tokens_per_turn` returns them; ``None`` marks a turn
    that could not be sent and leaves a gap. ``budget`` draws the token budget as a dashed line.
    Returns the figure; end the notebook cell with ``plt.show()``.
    """
    import matplotlib.pyplot as plt

    if not series:
        raise ValueError("series is empty: pass at least one {label: tokens per turn} entry")
    fig, (per_turn_ax, total_ax) = plt.subplots(1, 2, figsize=figsize, constrained_layout=True)
    markers = "osD^v<>"
    for i, (label, values) in enumerate(series.items()):
        turns = list(range(1, len(values) + 1))
        marker = markers[i % len(markers)]
        per_turn_ax.plot(turns, _nan(values), marker=marker, label=label)
        total_ax.plot(turns, _nan(cumulative_tokens(values)), marker=marker, label=label)
    if budget is not None:
        per_turn_ax.axhline(budget, color="grey", linestyle="--", linewidth=1, label=f"budget {budget}")
    longest = max(len(v) for v in series.values())
    for ax, ylabel in (
        (per_turn_ax, "prompt tokens in this request"),
        (total_ax, "prompt tokens billed so far"),
    ):
        ax.set_xlabel("user turn")
        ax.set_ylabel(ylabel)
        ax.set_xticks(range(1, longest + 1))
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    per_turn_ax.set_title(title)
    total_ax.set_title("Running total")
    per_turn_ax.legend(fontsize="small")
    return fig
