"""Tests for course_lib.orchestrator and course_lib.steps: the schema, the loop, tools, corrections, retries."""

from __future__ import annotations

import json

import pytest

from course_lib.orchestrator import DEFAULT_PARAMS, Orchestrator
from course_lib.providers.base import (
    BadRequestError,
    ChatResult,
    Choice,
    ProviderTimeout,
    RateLimitError,
    ServerError,
    Usage,
)
from course_lib.providers.faulty import FaultyProvider
from course_lib.providers.scripted import ScriptedProvider
from course_lib.retry import RetryPolicy
from course_lib.steps import ReasoningStep, numbers_in, ungrounded_numbers, written_matches
from course_lib.validators import InvalidOutputError, parse_output

PROBLEM = "If I invest $1000 at 5% annual interest compounded monthly for 2 years, how much will I have?"
COMPOUND = 1000 * (1 + 0.05 / 12) ** (12 * 2)  # Python's arithmetic, the value the calculator must return


def step(n: int, kind: str, thought: str = "thinking", **extra: object) -> str:
    return json.dumps({"step": n, "step_type": kind, "thought": thought, **extra})


ANALYZE = step(1, "analyze", "Monthly compounding: A = P * (1 + r/n) ** (n*t).")
CALCULATE = step(2, "calculate", "Apply the formula.", expression="1000 * (1 + 0.05 / 12) ** (12 * 2)")
ANSWER = step(3, "final_answer", "The calculator gave the amount.", answer="$1,104.94")


def chat(text: str, prompt: int, completion: int) -> ChatResult:
    return ChatResult(
        choices=[Choice(text=text)], usage=Usage(prompt_tokens=prompt, completion_tokens=completion)
    )


def make(replies, **kwargs) -> tuple[Orchestrator, ScriptedProvider, list[float]]:
    provider = ScriptedProvider(replies)
    sleeps: list[float] = []
    kwargs.setdefault("retry", RetryPolicy(max_attempts=4, seed=0))
    return Orchestrator(provider, sleep=sleeps.append, **kwargs), provider, sleeps


# --------------------------------------------------------------------------- the schema


def check(data: dict, **context):
    return parse_output(json.dumps(data), ReasoningStep, context=context or None)


def test_schema_accepts_each_step_type():
    assert check({"step": 1, "step_type": "analyze", "thought": "t"}).tool_name == "calculator"
    calc = check({"step": 2, "step_type": "calculate", "thought": "t", "expression": "2 × 3", "result": 6})
    assert calc.expression == "2 * 3"
    assert calc.result == "6"
    assert check({"step": 3, "step_type": "verify", "thought": "t"}).expression is None
    assert check({"step": 4, "step_type": "final_answer", "thought": "t", "answer": "6"}).answer == "6"


@pytest.mark.parametrize(
    ("data", "context", "fragment"),
    [
        ({"step": 1, "step_type": "calculate", "thought": "t"}, {}, "a calculate step needs an 'expression'"),
        ({"step": 1, "step_type": "final_answer", "thought": "t"}, {}, "needs a non-empty 'answer'"),
        (
            {"step": 1, "step_type": "final_answer", "thought": "t", "answer": "2", "expression": "1+1"},
            {},
            "must not carry an 'expression'",
        ),
        ({"step": 1, "step_type": "analyze", "thought": "t", "answer": "2"}, {}, "only a final_answer step"),
        ({"step": 1, "step_type": "calculate", "thought": "t", "expression": "r * 2"}, {}, "names"),
        ({"step": 1, "step_type": "conclude", "thought": "t"}, {}, "step_type: Input should be 'analyze'"),
        ({"step": "1", "step_type": "analyze", "thought": "t"}, {}, "step: Input should be a valid integer"),
        ({"step": 0, "step_type": "analyze", "thought": "t"}, {}, "step: Input should be greater than"),
        ({"step": 1, "step_type": "analyze", "thought": "  "}, {}, "thought: String should have at least 1"),
        ({"step": 1, "step_type": "analyze"}, {}, "thought: Field required"),
        ({"step": 4, "step_type": "analyze", "thought": "t"}, {"expected_step": 3}, "step must be 3"),
        (
            {"step": 1, "step_type": "calculate", "thought": "t", "expression": "1", "tool": "web"},
            {"tools": ("calculator",)},
            "unknown tool 'web'",
        ),
    ],
)
def test_schema_errors_are_specific(data, context, fragment):
    with pytest.raises(InvalidOutputError) as info:
        check(data, **context)
    assert fragment in str(info.value)


def test_number_grounding_helpers():
    assert numbers_in("$1,104.94 after 2 years (+3)") == ["1104.94", "2", "3"]
    assert written_matches("1104.94", COMPOUND)
    assert not written_matches("1104.90", COMPOUND)
    assert written_matches("1105", COMPOUND)
    assert not written_matches("abc", 1.0)
    assert ungrounded_numbers("$1,104.94 after 2 years, not 7", [COMPOUND], PROBLEM) == ["7"]


# --------------------------------------------------------------------------- the loop


def test_solves_the_lesson_problem_with_the_calculator_and_sums_tokens():
    orch, provider, _ = make([chat(ANALYZE, 300, 30), chat(CALCULATE, 400, 40), chat(ANSWER, 500, 25)])
    result = orch.run(PROBLEM)
    assert result.status == "answered"
    assert result.ok
    assert result.answer == "$1,104.94"
    assert result.iterations == 3
    assert result.calls == 3
    assert [r.step.step_type for r in result.steps] == ["analyze", "calculate", "final_answer"]
    assert result.steps[1].value == COMPOUND
    assert result.ungrounded == []
    # Total usage is the sum over the run (a common mistake reports only the last call's tokens).
    assert result.usage == Usage(prompt_tokens=1200, completion_tokens=95)
    assert result.tokens_used == 1295
    assert [u.total_tokens for u in result.usage_per_iteration] == [330, 440, 525]
    assert all(call.params == DEFAULT_PARAMS for call in provider.calls)
    # The request sequence the loop sends.
    first, second, third = (call.messages for call in provider.calls)
    assert [m["role"] for m in first] == ["system", "user"]
    assert first[1]["content"] == f"Problem: {PROBLEM}"
    assert second[2:] == [
        {"role": "assistant", "content": ANALYZE},
        {"role": "user", "content": "Reply with step 2."},
    ]
    assert third[4] == {"role": "assistant", "content": CALCULATE}
    assert repr(COMPOUND) in third[5]["content"]
    assert result.messages[-1] == {"role": "assistant", "content": ANSWER}


def test_the_models_arithmetic_is_never_trusted():
    claimed = step(1, "calculate", "Compute it.", expression="1000 * (1 + 0.05 / 12) ** 24", result="1104.90")
    orch, provider, _ = make([claimed, step(2, "final_answer", answer="$1,104.94")])
    result = orch.run(PROBLEM)
    record = result.steps[0]
    assert record.value == COMPOUND
    assert record.claim_ok is False
    fed_back = provider.calls[1].messages[-1]["content"]
    assert repr(COMPOUND) in fed_back
    assert "1104.90" not in fed_back


def test_claims_that_agree_with_the_tool_are_marked_ok():
    good = step(1, "calculate", "15% of 240.", expression="240 * 0.15", result="36")
    orch, _, _ = make([good, step(2, "final_answer", answer="36")])
    result = orch.run("What is 15% of 240?")
    assert result.steps[0].claim_ok is True
    assert result.steps[0].value == 36.0


def test_invalid_output_is_corrected_with_the_output_and_the_error():
    bad = 'Sure! {"step": 1, "step_type": "calculate", "thought": "no expression"}'
    orch, provider, _ = make(
        [bad, CALCULATE.replace('"step": 2', '"step": 1'), step(2, "final_answer", answer="1104.94")]
    )
    events = []
    orch.on_event = events.append
    result = orch.run(PROBLEM)
    assert result.status == "answered"
    assert result.iterations == 2
    assert result.calls == 3
    assert result.steps[0].attempts == 2
    assert len(result.invalid_outputs) == 1
    correction = provider.calls[1].messages
    assert correction[-2] == {"role": "assistant", "content": bad}
    assert bad in correction[-1]["content"]
    assert "a calculate step needs an 'expression'" in correction[-1]["content"]
    # Once fixed, the failed exchange is dropped from the history the next call sees.
    assert all(bad not in m["content"] for m in provider.calls[2].messages)
    assert len(provider.calls[2].messages) == 4
    assert [e.kind for e in events] == ["invalid_output", "step", "tool_result", "step", "finished"]


def test_keep_corrections_keeps_the_failed_exchange_in_history():
    bad = '{"step": 1, "step_type": "analyze"}'
    orch, provider, _ = make([bad, ANALYZE, step(2, "final_answer", answer="x")], keep_corrections=True)
    orch.run(PROBLEM)
    assert {"role": "assistant", "content": bad} in provider.calls[2].messages
    assert len(provider.calls[2].messages) == 6


def test_wrong_step_numbers_are_corrected():
    orch, provider, _ = make([ANALYZE, ANALYZE, step(2, "final_answer", answer="x")])
    result = orch.run(PROBLEM)
    assert result.ok
    assert "step must be 2 (the next step), not 1" in provider.calls[2].messages[-1]["content"]


def test_corrections_are_bounded():
    orch, provider, _ = make(["nope", "still nope", "never"], max_corrections=2)
    result = orch.run(PROBLEM)
    assert result.status == "invalid_output"
    assert not result.ok
    assert result.answer is None
    assert len(provider.calls) == 3
    assert [a.raw for a in result.invalid_outputs] == ["nope", "still nope", "never"]
    assert "after 3 attempt(s)" in result.error
    assert result.usage.total_tokens > 0
    assert result.usage == result.usage_per_iteration[0]


def test_provider_errors_are_retried_with_backoff_and_not_counted_as_format_errors():
    replies = [RateLimitError("429 slow down", retry_after=3.0), ServerError("500"), ANALYZE]
    replies += [ProviderTimeout("timeout"), step(2, "final_answer", answer="x")]
    events = []
    orch, provider, sleeps = make(
        replies, on_event=events.append, retry=RetryPolicy(max_attempts=3, base_delay=1.0, seed=3)
    )
    result = orch.run(PROBLEM)
    assert result.ok
    assert result.invalid_outputs == []
    assert result.iterations == 2
    assert len(provider.calls) == 5
    assert len(sleeps) == 3
    assert sleeps[0] >= 3.0  # honours retry_after
    assert 0 <= sleeps[1] <= 2.0  # second retry: full jitter below base * 2
    kinds = [e.kind for e in events]
    assert kinds == ["provider_retry", "provider_retry", "step", "provider_retry", "step", "finished"]
    assert events[0].delay_s == sleeps[0]
    assert "RateLimitError" in events[0].error


def test_non_retryable_and_exhausted_provider_errors_end_the_run():
    orch, provider, sleeps = make([ANALYZE, BadRequestError("400 bad")])
    result = orch.run(PROBLEM)
    assert result.status == "provider_error"
    assert "BadRequestError" in result.error
    assert sleeps == []
    assert len(result.steps) == 1
    orch, provider, sleeps = make([ServerError("500")] * 3, retry=RetryPolicy(max_attempts=3, seed=0))
    result = orch.run(PROBLEM)
    assert result.status == "provider_error"
    assert len(provider.calls) == 3
    assert len(sleeps) == 2


def test_stops_after_max_iterations():
    orch, provider, _ = make(lambda messages, params: step(len(provider.calls), "analyze"), max_iterations=4)
    result = orch.run(PROBLEM)
    assert result.status == "max_iterations"
    assert result.iterations == 4
    assert len(provider.calls) == 4
    assert "no final answer after 4 iteration(s)" in result.error
    assert len(result.usage_per_iteration) == 4


def test_tool_errors_are_fed_back_and_the_loop_continues():
    zero = step(1, "calculate", "Divide.", expression="10 / (5 - 5)")
    orch, provider, _ = make([zero, step(2, "final_answer", answer="undefined")])
    events = []
    orch.on_event = events.append
    result = orch.run("What is 10 divided by (5 - 5)?")
    assert result.ok
    assert result.steps[0].tool_error and "division by zero" in result.steps[0].tool_error
    assert result.steps[0].value is None
    assert "division by zero" in provider.calls[1].messages[-1]["content"]
    assert "tool_error" in [e.kind for e in events]


def test_custom_tools_and_missing_tools():
    seen = []

    def fake(expression: str) -> float:
        seen.append(expression)
        return 42.0

    calc = step(1, "calculate", "Ask the tool.", expression="6 * 7")
    orch, _, _ = make([calc, step(2, "final_answer", answer="42")], tools={"calculator": fake})
    result = orch.run("What is six times seven?")
    assert seen == ["6 * 7"]
    assert result.steps[0].value == 42.0
    assert result.ungrounded == []
    orch, _, _ = make([calc, step(2, "final_answer", answer="42")], tools={})
    result = orch.run("What is six times seven?")
    assert "no tool named 'calculator'" in result.steps[0].tool_error


def test_answers_with_numbers_no_tool_computed_are_flagged():
    orch, _, _ = make(
        [CALCULATE.replace('"step": 2', '"step": 1'), step(2, "final_answer", answer="$1,150.00")]
    )
    result = orch.run(PROBLEM)
    assert result.ok
    assert result.ungrounded == ["1150.00"]


def test_iter_events_streams_the_same_events_and_returns_the_result():
    orch, _, _ = make([ANALYZE, CALCULATE, ANSWER])
    gen = orch.iter_events(PROBLEM)
    first = next(gen)
    assert first.kind == "step"
    assert first.record.step.step_type == "analyze"
    rest = []
    with pytest.raises(StopIteration) as stop:
        while True:
            rest.append(next(gen))
    result = stop.value.value
    assert [e.kind for e in rest] == ["step", "tool_result", "step", "finished"]
    assert rest[1].record.value == COMPOUND
    assert rest[-1].result == result
    orch2, _, _ = make([ANALYZE, CALCULATE, ANSWER])
    assert list(orch2.stream(PROBLEM))[-1].result.answer == "$1,104.94"


def test_compact_hook_shapes_what_is_sent():
    seen_lengths = []

    def compact(history):
        seen_lengths.append(len(history))
        return [history[0], history[1], *history[-2:]] if len(history) > 4 else history

    replies = [step(i, "analyze") for i in range(1, 4)] + [step(4, "final_answer", answer="x")]
    orch, provider, _ = make(replies, compact=compact)
    result = orch.run(PROBLEM)
    assert result.ok
    assert seen_lengths == [2, 4, 6, 8]
    assert [len(c.messages) for c in provider.calls] == [2, 4, 4, 4]
    assert len(result.messages) == 9


def test_malformed_output_from_a_faulty_provider_is_repaired():
    inner = ScriptedProvider([ANALYZE, ANALYZE, CALCULATE, ANSWER])
    faulty = FaultyProvider(inner, ["malformed", "ok", "rate_limit", "ok", "ok"], retry_after=0.5)
    sleeps: list[float] = []
    result = Orchestrator(faulty, sleep=sleeps.append, retry=RetryPolicy(seed=0)).run(PROBLEM)
    assert result.ok
    assert result.answer == "$1,104.94"
    assert len(result.invalid_outputs) == 1
    assert result.invalid_outputs[0].raw.startswith("Sure! Here is")
    assert sleeps and sleeps[0] >= 0.5


def test_arguments_are_checked():
    with pytest.raises(ValueError, match="empty"):
        make([])[0].run("   ")
    with pytest.raises(ValueError, match="max_iterations"):
        Orchestrator(ScriptedProvider([]), max_iterations=0)
    with pytest.raises(ValueError, match="max_corrections"):
        Orchestrator(ScriptedProvider([]), max_corrections=-1)
