"""Window size and token budget → the tokens each turn re-sends and what the last request keeps (lesson 02).

:func:`window_report` is a plain function: give it a transcript and a policy (a sliding window of N
messages, a token budget, or both) and it says how many prompt tokens every user turn would have sent
and which messages the request for the last turn keeps. :func:`window_explorer` puts two sliders on it.
ipywidgets and matplotlib are imported inside the functions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from course_lib.conversation import BudgetTooSmallError, sliding_window, split_system, trim_to_budget
from course_lib.tokens import count_message_tokens

__all__ = ["WindowReport", "format_window_report", "window_explorer", "window_report"]


@dataclass(frozen=True)
class WindowReport:
    """Prompt tokens per user turn under a trimming policy, and what the last request keeps (lesson 02)."""

    per_turn: list[int | None]
    """Prompt tokens of the request that asked each user question; None where the budget cannot hold it."""
    untrimmed: list[int]
    """The same requests with the whole history."""
    request: list[dict[str, Any]]
    """The messages up to and including the last user question: what its request could have sent."""
    kept: list[bool]
    """For each message of :attr:`request`, whether the trimmed request sends it."""
    max_messages: int | None = None
    max_tokens: int | None = None
    error: str | None = None
    """The first budget error, when some turn cannot fit the budget at all."""

    @property
    def total_sent(self) -> int:
        """Prompt tokens billed over the whole conversation under the policy (turns that fit)."""
        return sum(t for t in self.per_turn if t is not None)

    @property
    def total_untrimmed(self) -> int:
        """Prompt tokens billed over the whole conversation with no trimming."""
        return sum(self.untrimmed)

    @property
    def saving(self) -> float:
        """Share of prompt tokens the policy saves, 0..1."""
        return 1 - self.total_sent / self.total_untrimmed if self.total_untrimmed else 0.0


def _trim(prompt: list[dict[str, Any]], max_messages: int | None, max_tokens: int | None, model: str):
    if max_messages is not None:
        prompt = sliding_window(prompt, max_messages)
    if max_tokens is not None:
        prompt = trim_to_budget(prompt, max_tokens, model=model)
    return prompt


def window_report(
    history: Sequence[Mapping[str, Any]],
    *,
    max_messages: int | None = None,
    max_tokens: int | None = None,
    model: str = "gpt-4o",
) -> WindowReport:
    """Replay a transcript's requests under a window and/or budget and report the tokens (lesson 02)."""
    msgs = [dict(m) for m in history]
    users = [i for i, m in enumerate(msgs) if m.get("role") == "user"]
    if not users:
        raise ValueError("the transcript has no user message, so no request to measure")
    per_turn: list[int | None] = []
    untrimmed: list[int] = []
    error: str | None = None
    trimmed: list[dict[str, Any]] | None = None
    for i in users:
        prompt = msgs[: i + 1]
        untrimmed.append(count_message_tokens(prompt, model))
        try:
            trimmed = _trim(prompt, max_messages, max_tokens, model)
        except BudgetTooSmallError as exc:
            error = error or f"turn {len(per_turn) + 1}: {exc}"
            trimmed = None
            per_turn.append(None)
            continue
        per_turn.append(count_message_tokens(trimmed, model))
    request = msgs[: users[-1] + 1]
    pinned, rest = split_system(request)
    sent_rest = 0 if trimmed is None else len(trimmed) - len(pinned)
    kept = [trimmed is not None] * len(pinned) + [j >= len(rest) - sent_rest for j in range(len(rest))]
    return WindowReport(per_turn, untrimmed, request, kept, max_messages, max_tokens, error)


def _preview(text: Any, width: int) -> str:
    line = " ".join(str(text or "").split())
    return line if len(line) <= width else line[: width - 1] + "…"


def format_window_report(report: WindowReport, *, width: int = 60) -> str:
    """The report as text: policy, tokens per turn, totals, and each message of the last request (lesson 02)."""
    n = report.max_messages
    window = "all messages" if n is None else f"last {n} message{'' if n == 1 else 's'}"
    budget = "none" if report.max_tokens is None else f"{report.max_tokens} tokens"
    shown = ", ".join("—" if t is None else str(t) for t in report.per_turn)
    lines = [
        f"window: {window} · budget: {budget}",
        f"prompt tokens per turn: {shown}",
        f"  with the whole history: {', '.join(map(str, report.untrimmed))}",
        f"billed over {len(report.per_turn)} turns: {report.total_sent} tokens "
        f"(whole history {report.total_untrimmed}; {report.saving:.0%} less)",
    ]
    if report.error:
        lines.append(f"cannot send {report.error}")
    lines.append(f"the request for turn {len(report.per_turn)} sends:")
    for message, kept in zip(report.request, report.kept, strict=True):
        mark = "sent   " if kept else "dropped"
        lines.append(f"  {mark} {message.get('role', '?'):9} {_preview(message.get('content'), width)}")
    return "\n".join(lines)


def window_explorer(history: Sequence[Mapping[str, Any]], *, model: str = "gpt-4o", plot: bool = True) -> Any:
    """Two sliders (window size, token budget) over :func:`window_report`, with its text and plot (lesson 02).

    At its maximum, each slider keeps everything: the window holds every message and the budget is the
    largest untrimmed request.
    """
    import ipywidgets as widgets

    full = window_report(history, model=model)
    _, rest = split_system(full.request)
    most = max(full.untrimmed)
    window = widgets.IntSlider(value=len(rest), min=1, max=len(rest), description="window (msgs)")
    budget = widgets.IntSlider(
        value=most, min=50, max=most, step=10, description="budget (tokens)", continuous_update=False
    )
    style = {"description_width": "initial"}
    window.style, budget.style = style, style

    def show(max_messages: int, max_tokens: int) -> None:
        report = window_report(history, max_messages=max_messages, max_tokens=max_tokens, model=model)
        print(format_window_report(report))
        if plot:
            import matplotlib.pyplot as plt

            from course_lib.lessons.l02_api_request.plots import plot_tokens_per_turn

            series = {"whole history": report.untrimmed, "window + budget": report.per_turn}
            plot_tokens_per_turn(series, budget=max_tokens, figsize=(9.0, 3.0))
            plt.show()

    out = widgets.interactive_output(show, {"max_messages": window, "max_tokens": budget})
    return widgets.VBox([widgets.HBox([window, budget]), out])
