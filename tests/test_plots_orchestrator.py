"""Tests for lesson 10's plot and widget helpers: run traces, the last call's usage, the tokens plot, the picker."""

from __future__ import annotations

import json

import pytest

from course_lib.lessons.l10_cot_orchestrator.widgets import (
    describe_event,
    describe_result,
    last_call_usage,
    problem_picker,
    solve_report,
)
from course_lib.orchestrator import Orchestrator
from course_lib.providers.base import ChatResult, Choice, Usage
from course_lib.providers.faulty import FaultyProvider
from course_lib.providers.scripted import ScriptedProvider
from course_lib.retry import RetryPolicy


def step(n: int, kind: str, thought: str = "t", **extra: object) -> str:
    return json.dumps({"step": n, "step_type": kind, "thought": thought, **extra})


def chat(text: str, prompt: int, completion: int) -> ChatResult:
    return ChatResult(
        choices=[Choice(text=text)], usage=Usage(prompt_tokens=prompt, completion_tokens=completion)
    )


def run(replies, **kwargs):
    return Orchestrator(ScriptedProvider(replies), sleep=lambda s: None, **kwargs)


ANSWERED = [
    chat(step(1, "calculate", "15% of 240.", expression="240 * 0.15", result="35"), 200, 40),
    chat("Sure! here it is", 250, 5),
    chat(step(2, "final_answer", "Done.", answer="36"), 300, 20),
]


# --------------------------------------------------------------------------- last call, descriptions


def test_last_call_usage_is_the_final_reply_alone_not_the_iteration():
    result = run(ANSWERED).run("What is 15% of 240?")
    assert result.usage.total_tokens == 240 + 255 + 320
    assert result.usage_per_iteration[-1].total_tokens == 255 + 320
    assert last_call_usage(result).total_tokens == 320


def test_last_call_usage_when_corrections_run_out_and_when_iterations_do():
    bad = run([chat("no json", 100, 3), chat("still none", 120, 4)], max_corrections=1).run("q?")
    assert bad.status == "invalid_output"
    assert last_call_usage(bad).total_tokens == 124
    never = run([chat(step(i, "analyze"), 10 * i, 1) for i in (1, 2, 3)], max_iterations=3).run("q?")
    assert never.status == "max_iterations"
    assert last_call_usage(never).total_tokens == 31


def test_last_call_usage_of_an_empty_run_is_zero():
    failing = FaultyProvider(ScriptedProvider(["x"]), ["bad_request"], sleep=lambda s: None)
    result = Orchestrator(failing, sleep=lambda s: None).run("q?")
    assert result.status == "provider_error"
    assert last_call_usage(result).total_tokens == 0


def test_solve_report_shows_steps_claims_rejections_and_both_token_figures():
    text = solve_report(run(ANSWERED), "What is 15% of 240?")
    lines = text.splitlines()
    assert lines[0].startswith("step 1 calculate") and "240 * 0.15" in lines[0] and "claims 35" in lines[0]
    assert "calculator -> 36.0; the claim was WRONG" in lines[1]
    assert "rejected reply: Sure! here it is" in lines[2]
    assert "no JSON object" in lines[3]
    assert lines[4].startswith("step 2 final_answer") and "answer: 36" in lines[4]
    assert "status: answered; answer: 36" in text
    assert "iterations: 2, model calls: 3" in text
    assert "tokens: 815 in the whole run (prompt 750 + completion 65); the last call alone: 320" in text


def test_describe_result_names_ungrounded_numbers_and_the_reason_for_no_answer():
    grounded = run(
        [
            chat(step(1, "calculate", "x", expression="3 * 25"), 10, 1),
            chat(step(2, "final_answer", "x", answer="$75, a saving of $15"), 10, 1),
        ]
    ).run("3 shirts at $25?")
    assert "no tool computed: 15" in describe_result(grounded)
    capped = run([chat(step(i, "analyze"), 5, 1) for i in (1, 2)], max_iterations=2).run("q?")
    assert "status: max_iterations" in describe_result(capped)
    assert "no final answer after 2 iteration(s)" in describe_result(capped)


def test_retries_and_tool_errors_are_described():
    inner = ScriptedProvider(
        [step(1, "calculate", "x", expression="1 / 0"), step(2, "final_answer", "x", answer="none")]
    )
    faulty = FaultyProvider(inner, ["rate_limit"], retry_after=0.5, sleep=lambda s: None)
    orchestrator = Orchestrator(faulty, sleep=lambda s: None, retry=RetryPolicy(seed=0))
    lines = [line for e in orchestrator.stream("q?") if (line := describe_event(e))]
    assert lines[0].startswith("  provider error, retry in 0.50 s: RateLimitError")
    assert "calculator error: division by zero" in lines[2]


# --------------------------------------------------------------------------- the picker


def test_problem_picker_calls_the_run_function_with_its_settings():
    seen = []

    def fake_run(label, max_iterations, max_corrections):
        seen.append((label, max_iterations, max_corrections))
        return f"ran {label}"

    widget = problem_picker(fake_run, ["a", "b"], max_iterations=4, max_corrections=1)
    assert seen[-1] == ("a", 4, 1)
    label, iterations, corrections = widget.children[:3]
    label.value = "b"
    iterations.value = 7
    corrections.value = 0
    assert seen[-1] == ("b", 7, 0)
    with pytest.raises(ValueError):
        problem_picker(fake_run, [])


# --------------------------------------------------------------------------- the plot


def test_plot_run_tokens_draws_bars_running_total_and_comparison():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from course_lib.lessons.l10_cot_orchestrator.plots import iteration_labels, plot_run_tokens

    result = run(ANSWERED).run("What is 15% of 240?")
    assert iteration_labels(result) == ["1\ncalculate", "2\nanswer"]
    other = run([chat(step(1, "calculate", "x", expression="240 * 0.15"), 150, 30), ANSWERED[2]]).run("q?")
    fig = plot_run_tokens(result, {"full": result, "short": other})
    try:
        axes = {ax.get_ylabel(): ax for ax in fig.axes}
        left, running = axes["tokens in the iteration"], axes["cumulative tokens"]
        right = axes["prompt tokens sent"]
        heights = [round(p.get_height()) for p in left.patches]
        assert heights == [200, 550, 40, 25]  # prompt bars, then completion bars
        assert list(running.lines[0].get_ydata()) == [240, 815]
        assert running.lines[1].get_ydata()[0] == 320  # the last call alone
        assert [list(line.get_ydata()) for line in right.lines] == [[200, 550], [150, 300]]
        texts = " ".join(t.get_text() for t in running.texts)
        assert "last call only (a naive report): 320" in texts and "whole run: 815" in texts
    finally:
        plt.close(fig)
    rejected = run([chat("nope", 10, 1)], max_corrections=0).run("q?")
    assert iteration_labels(rejected) == ["1\nrejected"]
    plt.close(plot_run_tokens(rejected))
