"""Timeline of streamed chain-of-thought steps against a blocking call, in simulated seconds (lesson 04)."""

from __future__ import annotations

from typing import Any

from ..cot_stream import Timeline

__all__ = ["plot_step_timeline"]


def plot_step_timeline(streamed: Timeline, blocking: Timeline, *, title: str = "") -> Any:
    """Two rows, streamed and blocking: when each step becomes visible, and the wait before it (lesson 04).

    Returns the matplotlib figure; the x axis is simulated seconds, so the picture is deterministic.
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 2.8))
    rows = [("blocking", blocking, 0.0), ("streamed", streamed, 1.0)]
    end = max(streamed.total_s, blocking.total_s) or 1.0
    for name, timeline, y in rows:
        waiting = timeline.first_step_s
        ax.barh(y, waiting, height=0.35, color="#d9d9d9", label="nothing to read yet" if y else None)
        ax.barh(
            y,
            timeline.total_s - waiting,
            left=waiting,
            height=0.35,
            color="#9ecae1",
            label="steps on screen" if y else None,
        )
        for step in timeline.steps:
            ax.plot(step.visible_s, y, marker="o", color="#08519c")
            if name == "streamed":
                ax.annotate(
                    step.label,
                    (step.visible_s, y),
                    xytext=(0, 12),
                    textcoords="offset points",
                    ha="center",
                    fontsize=8,
                )
        ax.text(
            timeline.total_s + end * 0.01,
            y,
            f"{timeline.first_step_s:.2f} s to first step",
            va="center",
            fontsize=8,
        )
    ax.set_yticks([0.0, 1.0], ["blocking", "streamed"])
    ax.set_xlim(0, end * 1.3)
    ax.set_ylim(-0.5, 1.7)
    ax.set_xlabel("simulated seconds since the request")
    ax.set_title(title or "When the user sees each reasoning step")
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    fig.tight_layout()
    return fig
