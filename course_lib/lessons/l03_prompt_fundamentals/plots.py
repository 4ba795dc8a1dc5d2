"""Plots of lesson 03: answer shapes per prompting condition, and few-shot cost static vs dynamic.

matplotlib is imported inside each function; each returns its figure (end the cell with ``plt.show()``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["plot_fewshot_cost", "plot_format_consistency", "plot_k_sweep"]

_KIND_COLOURS = {
    "json_exact": "#2e7d32",
    "json_other": "#81c784",
    "json_fenced": "#aed581",
    "json_in_prose": "#dce775",
    "json_broken": "#a1887f",
    "labelled": "#ffb74d",
    "bare": "#64b5f6",
    "sentence": "#e57373",
    "empty": "#bdbdbd",
}


def plot_format_consistency(summaries: Sequence[Any], claims: Mapping[str, float] | None = None) -> Any:
    """Left: each condition's answers by shape; right: target-format rate measured vs claimed (lesson 03).

    ``summaries`` are :class:`~course_lib.lessons.l03_prompt_fundamentals.format_check.FormatSummary` rows; ``claims`` maps a condition
    to the rate a source states for it (drawn as a black tick).
    """
    import matplotlib.pyplot as plt

    names = [s.condition for s in summaries]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8), gridspec_kw={"width_ratios": [3, 2]})
    lefts = [0.0] * len(summaries)
    for kind, colour in _KIND_COLOURS.items():
        shares = [s.kinds.get(kind, 0) / s.n for s in summaries]
        if any(shares):
            left.barh(names, shares, left=lefts, color=colour, label=kind, edgecolor="white")
            lefts = [a + b for a, b in zip(lefts, shares, strict=True)]
    left.invert_yaxis()
    left.set_xlim(0, 1)
    left.set_xlabel("share of answers")
    left.set_title("Answer shapes")
    left.legend(loc="lower center", bbox_to_anchor=(0.5, -0.5), ncol=4, fontsize=8, frameon=False)

    xs = range(len(summaries))
    right.bar(xs, [s.target_rate for s in summaries], color="#2e7d32", label='measured: exactly {"name": …}')
    for i, s in enumerate(summaries):
        right.text(i, s.target_rate + 0.02, f"{s.target_rate:.0%}", ha="center", fontsize=9)
        if claims and s.condition in claims:
            right.plot([i - 0.4, i + 0.4], [claims[s.condition]] * 2, color="black", lw=2)
    if claims:
        right.plot([], [], color="black", lw=2, label="claimed")
    right.set_xticks(list(xs), [n.replace(" + ", "\n+ ").replace(" (", "\n(") for n in names], fontsize=8)
    right.set_ylim(0, 1.12)
    right.set_ylabel("format consistency")
    right.set_title(f"Target format (n = {min(s.n for s in summaries)} per condition)")
    right.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig


def plot_fewshot_cost(
    tokens_by_k: Mapping[int, int],
    static_tokens: int,
    monthly: Mapping[str, Sequence[float]],
    volumes: Sequence[int],
    *,
    title: str = "",
) -> Any:
    """Left: prompt tokens vs number of examples k; right: monthly cost vs monthly volume (lesson 03).

    ``monthly`` maps a line label (e.g. ``"static (50 examples)"``) to a cost per entry of ``volumes``.
    """
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
    ks = sorted(tokens_by_k)
    left.plot(ks, [tokens_by_k[k] for k in ks], marker="o", ms=3, label="dynamic: k retrieved examples")
    left.axhline(static_tokens, color="#c62828", ls="--", label=f"static: all examples ({static_tokens:,})")
    left.set_xlabel("examples in the prompt (k)")
    left.set_ylabel("prompt tokens per request")
    left.set_title("Prompt size")
    left.legend(fontsize=8)
    for label, costs in monthly.items():
        right.plot(volumes, costs, marker="o", ms=3, label=label)
    right.set_xscale("log")
    right.set_yscale("log")
    right.set_xlabel("requests per month")
    right.set_ylabel("USD per month")
    right.set_title(title or "Monthly cost")
    right.legend(fontsize=8)
    right.grid(True, which="major", alpha=0.3)
    fig.tight_layout()
    return fig


def plot_k_sweep(points: Sequence[Any], *, chosen: int | None = None, title: str | None = None) -> Any:
    """Exact-answer rate (bars, left axis) and prompt tokens (line, right axis) for each number of examples (lesson 03).

    ``points`` are :class:`~course_lib.lessons.l03_prompt_fundamentals.k_sweep.KPoint` rows; ``chosen``
    outlines the bar of the ``k`` a decision rule picked. Returns the rate axes.
    """
    import matplotlib.pyplot as plt

    if not points:
        raise ValueError("plot_k_sweep needs at least one point")
    fig, ax = plt.subplots(figsize=(7, 3.6))
    labels = [str(p.k) for p in points]
    bars = ax.bar(labels, [p.rate for p in points], color="#2e7d32", label="exact answers (measured)")
    for bar, p in zip(bars, points, strict=True):
        ax.text(bar.get_x() + bar.get_width() / 2, p.rate + 0.02, f"{p.right}/{p.n}", ha="center", fontsize=8)
        if chosen is not None and p.k == chosen:
            bar.set_edgecolor("black")
            bar.set_linewidth(2)
    ax.set_ylim(0, 1.15)
    ax.set_xlabel("worked examples in the prompt (k)")
    ax.set_ylabel("share of answers exactly right")
    tokens = ax.twinx()
    tokens.plot(labels, [p.prompt_tokens for p in points], color="#b9770e", marker="o", label="prompt tokens")
    tokens.set_ylabel("prompt tokens per request")
    tokens.set_ylim(0, max(p.prompt_tokens for p in points) * 1.15)
    handles = ax.get_legend_handles_labels()[0] + tokens.get_legend_handles_labels()[0]
    ax.legend(handles, [h.get_label() for h in handles], loc="lower right", fontsize=8)
    ax.set_title(title or "More examples: the format rate levels off, the cost keeps rising")
    fig.tight_layout()
    return ax
