"""Steps and tokens per iteration of an orchestrator run, with the cumulative usage of the whole run (lesson 10)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import accumulate
from typing import Any

from course_lib.lessons.l10_cot_orchestrator.widgets import last_call_usage

__all__ = ["iteration_labels", "plot_protocol_tallies", "plot_run_tokens"]

_LABEL_BOX = {"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1.5}


def iteration_labels(result: Any) -> list[str]:
    """``"1\\nanalyze"``, ``"2\\ncalculate"``, … for each iteration; ``"rejected"`` where no step was accepted."""
    kinds = {record.iteration: record.step.step_type for record in result.steps}
    return [
        f"{i}\n{kinds.get(i, 'rejected').replace('final_answer', 'answer')}"
        for i in range(1, result.iterations + 1)
    ]


def plot_run_tokens(result: Any, compare: Mapping[str, Any] | None = None, *, title: str = "") -> Any:
    """Tokens per iteration (prompt + completion bars) and the running total; optionally other runs' prompts.

    Left: one bar per iteration, labelled with its step type, and the cumulative tokens of the run
    on a second axis, with the last call's total marked (the only number a naive orchestrator reports).
    Right (when ``compare`` maps labels to runs of the same problem): prompt tokens per iteration of
    each run, e.g. with and without memory summarisation. Returns the matplotlib figure (lesson 10).
    """
    import matplotlib.pyplot as plt

    panels = 2 if compare else 1
    fig, axes = plt.subplots(1, panels, figsize=(5.2 * panels + 0.6, 3.9), squeeze=False)
    ax = axes[0][0]
    iterations = list(range(1, result.iterations + 1))
    prompt = [u.prompt_tokens for u in result.usage_per_iteration]
    completion = [u.completion_tokens for u in result.usage_per_iteration]
    ax.bar(iterations, prompt, color="#9ecae1", label="prompt tokens")
    ax.bar(iterations, completion, bottom=prompt, color="#08519c", label="completion tokens")
    ax.set_xticks(iterations, iteration_labels(result), fontsize=7)
    ax.set_xlabel("iteration and its step")
    ax.set_ylabel("tokens in the iteration")
    running = ax.twinx()
    total = list(accumulate(u.total_tokens for u in result.usage_per_iteration))
    running.plot(iterations, total, "o-", color="#e6550d", label="whole run so far")
    last = last_call_usage(result).total_tokens
    running.axhline(last, color="#636363", linestyle=":", linewidth=1)
    running.annotate(
        f"last call only (a naive report): {last:,}",
        (iterations[-1], last),
        xytext=(-14, 4),
        textcoords="offset points",
        ha="right",
        fontsize=8,
        color="#404040",
        bbox=_LABEL_BOX,
    )
    if total:
        running.annotate(
            f"whole run: {total[-1]:,}",
            (iterations[-1], total[-1]),
            xytext=(-4, 6),
            textcoords="offset points",
            ha="right",
            fontsize=8,
            bbox=_LABEL_BOX,
        )
        running.set_ylim(0, total[-1] * 1.15)
    running.set_ylabel("cumulative tokens")
    handles = ax.get_legend_handles_labels()[0] + running.get_legend_handles_labels()[0]
    ax.legend(handles=handles, loc="upper left", fontsize=7, frameon=False)
    ax.set_title(title or f"{result.calls} calls, {result.status}", fontsize=10)
    if compare:
        right = axes[0][1]
        for (label, run), marker in zip(compare.items(), "os^D", strict=False):
            prompts = [u.prompt_tokens for u in run.usage_per_iteration]
            right.plot(
                range(1, len(prompts) + 1),
                prompts,
                f"{marker}-",
                label=f"{label} ({run.usage.prompt_tokens:,} in all)",
            )
        right.set_xlabel("iteration")
        right.set_ylabel("prompt tokens sent")
        right.set_ylim(bottom=0)
        right.legend(loc="upper left", fontsize=7, frameon=False)
        right.set_title("prompt tokens per iteration", fontsize=10)
    fig.tight_layout()
    return fig


def plot_protocol_tallies(tallies: Sequence[Any], *, title: str = "") -> Any:
    """Grouped bars per protocol: problems finished, answers right, and the share of valid replies (lesson 10).

    ``tallies`` are :class:`~course_lib.lessons.l10_cot_orchestrator.native.NativeTally` rows (protocol,
    problems, finished, right, valid_replies, invalid_replies). Bar labels are counts. Returns the figure.
    """
    import matplotlib.pyplot as plt

    if not tallies:
        raise ValueError("tallies is empty: pass at least one protocol's tally")
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    names = [t.protocol for t in tallies]
    series = (
        (
            "valid replies",
            "#9ecae1",
            [(t.valid_replies, t.valid_replies + t.invalid_replies) for t in tallies],
        ),
        ("problems finished", "#3182bd", [(t.finished, t.problems) for t in tallies]),
        ("answers right", "#31a354", [(t.right, t.problems) for t in tallies]),
    )
    width = 0.8 / len(series)
    for j, (label, color, pairs) in enumerate(series):
        xs = [i + (j - (len(series) - 1) / 2) * width for i in range(len(tallies))]
        shares = [100 * k / n if n else 0.0 for k, n in pairs]
        bars = ax.bar(xs, shares, width, color=color, label=label)
        ax.bar_label(bars, labels=[f"{k}/{n}" for k, n in pairs], fontsize=8, padding=1)
    ax.set_xticks(range(len(tallies)), names)
    ax.set_ylabel("% of replies or problems")
    ax.set_ylim(0, 115)
    ax.legend(fontsize=8, loc="upper left", ncols=3, frameon=False)
    ax.set_title(title or "The same loop on three protocols (bar labels: counts)", fontsize=10)
    fig.tight_layout()
    return fig
