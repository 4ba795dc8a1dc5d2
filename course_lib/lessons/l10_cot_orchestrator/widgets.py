"""A problem picker over the chain-of-thought orchestrator, and the plain functions it shows (lesson 10).

:func:`solve_report` runs an orchestrator on a problem and returns its trace as text: every step,
tool result, rejected reply and retry as it happened, then how the run ended and what it cost.
:func:`problem_picker` puts a problem menu and sliders for the iteration and correction caps in
front of any function ``(label, max_iterations, max_corrections) -> str``; the lesson calls the same
function directly so the result is visible without a front end.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from course_lib.providers.base import Usage

__all__ = ["describe_event", "describe_result", "last_call_usage", "problem_picker", "solve_report"]

_WIDTH = 72


def _clip(text: str, width: int = _WIDTH) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def describe_event(event: Any) -> str | None:
    """One line (or two) for a :class:`~course_lib.steps.StepEvent`; None for ``finished`` (lesson 10)."""
    if event.kind == "step":
        step = event.record.step
        head = f"step {step.step} {step.step_type:12}"
        if step.step_type == "final_answer":
            return f"{head} answer: {_clip(step.answer or '', 50)}"
        if step.expression:
            claim = f"   (model claims {step.result})" if step.result else ""
            return f"{head} {_clip(step.expression, 40)}{claim}"
        return f"{head} {_clip(step.thought, 55)}"
    if event.kind == "tool_result":
        record = event.record
        verdict = {True: "; the claim agrees", False: "; the claim was WRONG"}.get(record.claim_ok, "")
        return f"{'':20}{record.tool} -> {record.value!r}{verdict}"
    if event.kind == "tool_error":
        return f"{'':20}{event.record.tool} error: {_clip(event.record.tool_error or '', 50)}"
    if event.kind == "invalid_output":
        reason = " ".join((event.error or "").replace("the JSON does not match ReasoningStep:", "").split())
        return f"  rejected reply: {_clip(event.raw or '', 90)}\n{'':20}why: {_clip(reason, 90)}"
    if event.kind == "provider_retry":
        return f"  provider error, retry in {event.delay_s:.2f} s: {_clip(event.error or '', 40)}"
    return None


def last_call_usage(result: Any) -> Usage:
    """The usage of the run's last model call: the only figure a naive orchestrator reports (lesson 10)."""
    if not result.usage_per_iteration:
        return Usage()
    if result.status == "invalid_output" and result.invalid_outputs:
        return result.invalid_outputs[-1].usage
    last = result.usage_per_iteration[-1]
    if result.steps and result.steps[-1].iteration == result.iterations:
        failed = result.steps[-1].attempts - 1  # the iteration's rejected replies came just before
        earlier = result.invalid_outputs[len(result.invalid_outputs) - failed :] if failed else []
        prompt = last.prompt_tokens - sum(a.usage.prompt_tokens for a in earlier)
        completion = last.completion_tokens - sum(a.usage.completion_tokens for a in earlier)
        return Usage(prompt_tokens=prompt, completion_tokens=completion, computed=last.computed)
    return last


def describe_result(result: Any) -> str:
    """How a run ended, its answer, calls and tokens: the whole run beside the last call alone (lesson 10)."""
    lines = [f"status: {result.status}"]
    if result.answer is not None:
        lines[0] += f"; answer: {result.answer}"
    elif result.error:
        lines.append(f"  {_clip(result.error, 90)}")
    if result.ungrounded:
        lines.append(f"numbers in the answer that no tool computed: {', '.join(result.ungrounded)}")
    usage, last = result.usage, last_call_usage(result)
    lines.append(f"iterations: {result.iterations}, model calls: {result.calls}")
    lines.append(
        f"tokens: {usage.total_tokens:,} in the whole run (prompt {usage.prompt_tokens:,} + completion "
        f"{usage.completion_tokens:,}); the last call alone: {last.total_tokens:,}"
    )
    return "\n".join(lines)


def solve_report(orchestrator: Any, problem: str) -> str:
    """Run ``orchestrator`` on ``problem`` and return its trace and :func:`describe_result` as text (lesson 10)."""
    lines: list[str] = []
    result = None
    for event in orchestrator.stream(problem):
        if event.kind == "finished":
            result = event.result
        text = describe_event(event)
        if text is not None:
            lines.append(text)
    assert result is not None  # the stream always ends with a finished event
    return "\n".join([*lines, "-" * 40, describe_result(result)])


def problem_picker(
    run: Callable[[str, int, int], str],
    labels: Sequence[str],
    *,
    max_iterations: int = 10,
    max_corrections: int = 2,
    iteration_limit: int = 10,
    correction_limit: int = 2,
) -> Any:
    """A problem menu and sliders for the iteration and correction caps; prints ``run(...)`` (lesson 10)."""
    import ipywidgets as widgets

    if not labels:
        raise ValueError("the picker needs at least one problem label")

    def show(label: str, max_iterations: int, max_corrections: int) -> None:
        print(run(label, max_iterations, max_corrections))

    style = {"description_width": "120px"}
    return widgets.interactive(
        show,
        label=widgets.Dropdown(
            options=list(labels),
            value=labels[0],
            description="problem",
            style=style,
            layout=widgets.Layout(width="640px"),
        ),
        max_iterations=widgets.IntSlider(
            value=max_iterations, min=1, max=iteration_limit, description="max iterations", style=style
        ),
        max_corrections=widgets.IntSlider(
            value=max_corrections, min=0, max=correction_limit, description="max corrections", style=style
        ),
    )
