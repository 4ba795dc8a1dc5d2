"""Timeline of streamed chain-of-thought steps against a blocking call, in simulated seconds (lesson 04)."""

from __future__ import annotations

from typing import Any

from course_lib.lessons.l04_chain_of_thought.stream import Timeline

__all__ = ["plot_step_timeline"]


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
