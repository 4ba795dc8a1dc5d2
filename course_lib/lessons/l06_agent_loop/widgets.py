"""Widgets of the agent loop: max iterations, working-memory size and context window → tokens and outcome (lesson 06).

:func:`loop_budget_report` is a plain function: it plays the sequential pull-request review loop
twice, with the full history and with hierarchical memory, and says how each run ends and what it
sends. :func:`loop_budget_widget` puts sliders on it. ipywidgets is imported inside the function.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from course_lib.lessons.l06_agent_loop.pr_budget import run_sequential

__all__ = ["DEFAULT_WINDOWS", "loop_budget_report", "loop_budget_widget"]

DEFAULT_WINDOWS: dict[str, int] = {
    "gpt-4 (8,192)": 8_192,
    "gpt-3.5-turbo (16,385)": 16_385,
    "gpt-4o-mini (128,000)": 128_000,
}
"""Context windows to choose from, as the course's price table lists them (lesson 06)."""


def loop_budget_report(
    files: Sequence[Any],
    replies: Sequence[str],
    *,
    title: str,
    max_iterations: int,
    working_limit: int,
    window: int | None = None,
    summaries: Sequence[str] | None = None,
    description: str = "",
    model: str = "gpt-4o-mini",
) -> str:
    """Two lines: how the review loop ends with the full history and with hierarchical memory (lesson 06)."""
    common = {
        "title": title,
        "description": description,
        "max_iterations": max_iterations,
        "window": window,
        "model": model,
    }
    full = run_sequential(files, replies, **common)
    tiered = run_sequential(files, replies, working_limit=working_limit, summaries=summaries, **common)
    head = f"max_iterations={max_iterations}, working memory={working_limit} file(s)"
    head += f", window={window:,} tokens" if window is not None else ", no window limit"
    return "\n".join([head, full.describe(), tiered.describe()])


def loop_budget_widget(
    files: Sequence[Any],
    replies: Sequence[str],
    *,
    title: str,
    summaries: Sequence[str] | None = None,
    description: str = "",
    windows: Mapping[str, int] | None = None,
    model: str = "gpt-4o-mini",
) -> Any:
    """Sliders for max iterations and working-memory size, a context-window picker; prints :func:`loop_budget_report`."""
    import ipywidgets as widgets

    choices = dict(windows or DEFAULT_WINDOWS)

    def show(max_iterations: int, working_limit: int, window: int) -> None:
        print(
            loop_budget_report(
                files,
                replies,
                title=title,
                description=description,
                summaries=summaries,
                max_iterations=max_iterations,
                working_limit=working_limit,
                window=window,
                model=model,
            )
        )

    style = {"description_width": "150px"}
    layout = widgets.Layout(width="480px")
    return widgets.interactive(
        show,
        max_iterations=widgets.IntSlider(
            value=len(files) + 1,
            min=1,
            max=len(files) + 10,
            description="max iterations",
            style=style,
            layout=layout,
        ),
        working_limit=widgets.IntSlider(
            value=3, min=1, max=12, description="working memory (files)", style=style, layout=layout
        ),
        window=widgets.Dropdown(
            options=list(choices.items()),
            value=list(choices.values())[-1],
            description="context window",
            style=style,
        ),
    )
