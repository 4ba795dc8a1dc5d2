"""Timelines in simulated seconds: streamed steps against a blocking call, and speculative CoT (lesson 04)."""

from __future__ import annotations

from typing import Any

from course_lib.lessons.l04_chain_of_thought.speculative import SpeculativeTimeline
from course_lib.lessons.l04_chain_of_thought.stream import Timeline

__all__ = ["plot_speculative_timeline", "plot_step_timeline"]


def plot_step_timeline(streamed: Timeline, blocking: Timeline, *, title: str = "") -> Any:
    """Two rows, streamed and blocking: when each step becomes visible, and the wait before it (lesson 04).

    Returns the matplotlib figure; the x axis is simulated seconds, so the picture is deterministic.
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.2))
    end = max(streamed.total_s, blocking.total_s) or 1.0
    for y, timeline in ((0.0, blocking), (1.0, streamed)):
        wait = timeline.first_step_s
        ax.barh(y, wait, height=0.35, color="#d9d9d9", label="nothing to read yet" if y else None)
        ax.barh(
            y,
            timeline.total_s - wait,
            left=wait,
            height=0.35,
            color="#9ecae1",
            label="steps on screen" if y else None,
        )
        ax.plot(
            [s.visible_s for s in timeline.steps],
            [y] * len(timeline.steps),
            "o",
            color="#08519c",
            label="a step becomes visible" if y else None,
        )
        ax.text(end * 1.02, y, f"first step at {wait:.2f} s", va="center", fontsize=8)
    for step in streamed.steps:
        ax.annotate(
            step.label,
            (step.visible_s, 1.0),
            xytext=(0, 11),
            textcoords="offset points",
            ha="center",
            fontsize=8,
        )
    ax.axvline(streamed.first_token_s, color="#636363", linestyle=":", linewidth=1)
    ax.annotate(
        "first token", (streamed.first_token_s, 0.5), xytext=(4, 0), textcoords="offset points", fontsize=8
    )
    ax.set_yticks([0.0, 1.0], ["blocking", "streamed"])
    ax.set_xlim(0, end * 1.3)
    ax.set_ylim(-0.4, 1.55)
    ax.set_xlabel("simulated seconds since the request")
    ax.set_title(title or "When the user sees each reasoning step")
    fig.legend(loc="lower center", ncol=3, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig


def plot_speculative_timeline(t: SpeculativeTimeline, *, title: str = "") -> Any:
    """Three rows: reasoning only, direct then reasoning, both at once; calls as bars, answers as marks (lesson 04)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.0))
    rows = [
        ("CoT only", [(0.0, t.cot_s, "#9ecae1")], [(t.cot_s, "final")]),
        (
            "direct, then CoT",
            [(0.0, t.direct_s, "#fdae6b"), (t.direct_s, t.cot_s, "#9ecae1")],
            [(t.direct_s, "provisional"), (t.final_answer_sequential, "final")],
        ),
        (
            "speculative",
            [(0.0, t.direct_s, "#fdae6b"), (0.0, t.cot_s, "#9ecae1")],
            [(t.first_answer_speculative, "provisional"), (t.final_answer_speculative, "final")],
        ),
    ]
    for y, (label, bars, marks) in enumerate(rows):
        for k, (left, width, colour) in enumerate(bars):
            offset = 0.18 if label == "speculative" else 0.0
            ax.barh(y + (offset if k == 0 else -offset), width, left=left, height=0.3, color=colour)
        for at, kind in marks:
            ax.plot(at, y, "D" if kind == "final" else "o", color="#08519c" if kind == "final" else "#d94801")
            ax.annotate(f"{kind} {at:.2f} s", (at, y), xytext=(5, 6), textcoords="offset points", fontsize=8)
    from matplotlib.patches import Patch

    handles = [Patch(color="#fdae6b", label="direct call"), Patch(color="#9ecae1", label="step-by-step call")]
    ax.set_yticks(range(len(rows)), [r[0] for r in rows])
    ax.invert_yaxis()
    ax.set_xlim(0, t.final_answer_sequential * 1.25)
    ax.set_xlabel("simulated seconds since the request")
    ax.set_title(title or "Speculative chain of thought: an answer early, the reasoned one at the end")
    fig.legend(handles=handles, loc="lower center", ncol=2, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig
