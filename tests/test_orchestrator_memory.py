"""Tests for course_lib.lessons.l10_cot_orchestrator.memory: the memory-summarisation hook of the orchestrator."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from course_lib.lessons.l10_cot_orchestrator.memory import (
    SUMMARY_HEADER,
    StepSummaryCompactor,
    Turn,
    digest_turn,
    prompt_tokens_per_iteration,
    split_history,
)
from course_lib.orchestrator import Orchestrator
from course_lib.providers.scripted import ScriptedProvider
from course_lib.steps import SYSTEM_PROMPT, next_step_message, tool_error_message, tool_result_message
from course_lib.tokens import count_message_tokens
from course_lib.validators import correction_message

PROBLEM = "Problem: What is 3 * 25 * 0.8?"


def step(n: int, kind: str, thought: str = "thinking", **extra: object) -> str:
    return json.dumps({"step": n, "step_type": kind, "thought": thought, **extra})


def history(n_steps: int) -> list[dict[str, str]]:
    """A loop history with n calculate steps, each answered by a calculator result."""
    messages = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": PROBLEM}]
    for i in range(1, n_steps + 1):
        messages.append({"role": "assistant", "content": step(i, "calculate", expression=f"{i} * 7")})
        messages.append({"role": "user", "content": tool_result_message(i, f"{i} * 7", i * 7)})
    return messages


# --------------------------------------------------------------------------- splitting and digests


def test_split_history_keeps_the_head_and_pairs_each_reply_with_its_follow_up():
    head, turns = split_history(history(3))
    assert [m["role"] for m in head] == ["system", "user"]
    assert len(turns) == 3
    assert turns[1].reply["content"] == step(2, "calculate", expression="2 * 7")
    assert [m["content"] for m in turns[1].follow_up] == [tool_result_message(2, "2 * 7", 14)]


def test_split_history_puts_corrections_into_the_turn_of_the_failed_reply():
    messages = [
        *history(1),
        {"role": "assistant", "content": "not json"},
        {"role": "user", "content": correction_message("not json", "no JSON object")},
        {"role": "assistant", "content": step(2, "final_answer", answer="14")},
    ]
    head, turns = split_history(messages)
    assert len(head) == 2 and len(turns) == 3
    assert turns[2].follow_up == ()


def test_digest_keeps_the_calculator_result_exactly():
    turn = Turn(
        {"role": "assistant", "content": step(2, "calculate", expression="1 + 0.05 / 12", result="1.004167")},
        ({"role": "user", "content": tool_result_message(2, "1 + 0.05 / 12", 1 + 0.05 / 12)},),
    )
    assert digest_turn(turn) == "step 2 (calculate): 1 + 0.05 / 12 = 1.0041666666666667"


def test_digest_of_a_tool_error_a_thought_an_answer_and_an_invalid_reply():
    error = Turn(
        {"role": "assistant", "content": step(3, "calculate", expression="1 / 0")},
        ({"role": "user", "content": tool_error_message(3, "1 / 0", "division by zero in 1 / 0")},),
    )
    assert digest_turn(error) == "step 3 (calculate): 1 / 0 failed (division by zero in 1 / 0)"
    words = " ".join(f"w{i}" for i in range(30))
    thought = Turn({"role": "assistant", "content": step(1, "analyze", words)}, ())
    assert digest_turn(thought, max_words=5) == "step 1 (analyze): w0 w1 w2 w3 w4 …"
    answer = Turn({"role": "assistant", "content": step(4, "final_answer", answer="$60")}, ())
    assert digest_turn(answer) == "step 4 (final_answer): answered $60"
    fenced = Turn(
        {"role": "assistant", "content": "```json\n" + step(1, "check", "x") + "\n```"},
        ({"role": "user", "content": correction_message("x", "step_type: Input should be …")},),
    )
    assert "invalid reply" in digest_turn(fenced)
    assert "invalid reply" in digest_turn(Turn({"role": "assistant", "content": "Sure!"}, ()))


# --------------------------------------------------------------------------- the compactor


def test_short_histories_are_sent_unchanged():
    compact = StepSummaryCompactor(keep_last=2)
    for n in (0, 1, 2):
        assert compact(history(n)) == history(n)
    assert compact.summaries_made == 0


def test_older_steps_become_summaries_in_the_problem_message():
    compact = StepSummaryCompactor(keep_last=2)
    original = history(5)
    sent = compact(original)
    assert original == history(5)  # the loop's own history is not changed
    assert sent[0] == original[0]
    assert sent[1]["role"] == "user"
    assert sent[1]["content"].startswith(PROBLEM + "\n\n" + SUMMARY_HEADER)
    for i in (1, 2, 3):
        assert f"- step {i} (calculate): {i} * 7 = {i * 7}" in sent[1]["content"]
    assert sent[2:] == original[-4:]  # the last two steps verbatim
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert count_message_tokens(sent) < count_message_tokens(original)


def test_each_step_is_summarised_once_however_many_iterations_follow():
    calls: list[str] = []

    def summariser(text: str) -> str:
        calls.append(text)
        return f"summary {len(calls)}"

    compact = StepSummaryCompactor(keep_last=1, summariser=summariser)
    for n in range(1, 8):
        compact(history(n))
    assert len(calls) == 6 == compact.summaries_made
    assert "summary 1" in compact(history(7))[1]["content"]


def test_a_provider_can_summarise():
    provider = ScriptedProvider(lambda messages, params: "computed a product")
    compact = StepSummaryCompactor(keep_last=1, summariser=provider)
    sent = compact(history(3))
    assert sent[1]["content"].count("- computed a product") == 2
    assert len(provider.calls) == 2
    assert "1 * 7" in provider.calls[0].last_user


def test_max_summaries_keeps_the_newest():
    sent = StepSummaryCompactor(keep_last=1, max_summaries=2)(history(5))
    assert "step 1 (" not in sent[1]["content"] and "step 2 (" not in sent[1]["content"]
    assert "step 3 (calculate)" in sent[1]["content"] and "step 4 (calculate)" in sent[1]["content"]


def test_keep_last_zero_summarises_everything():
    sent = StepSummaryCompactor(keep_last=0)(history(2))
    assert len(sent) == 2 and "step 2 (calculate): 2 * 7 = 14" in sent[1]["content"]


@pytest.mark.parametrize("kwargs", [{"keep_last": -1}, {"max_summaries": 0}])
def test_bad_settings_are_refused(kwargs):
    with pytest.raises(ValueError):
        StepSummaryCompactor(**kwargs)


@given(
    values=st.lists(
        st.one_of(
            st.integers(min_value=-(10**12), max_value=10**12),
            st.floats(allow_nan=False, allow_infinity=False, width=64),
        ),
        min_size=1,
        max_size=8,
    ),
    keep_last=st.integers(min_value=0, max_value=3),
)
def test_every_calculator_result_survives_compaction_exactly(values, keep_last):
    messages = [{"role": "system", "content": "s"}, {"role": "user", "content": PROBLEM}]
    for i, value in enumerate(values, start=1):
        messages.append({"role": "assistant", "content": step(i, "calculate", expression="1 + 1")})
        messages.append({"role": "user", "content": tool_result_message(i, "1 + 1", value)})
    sent = StepSummaryCompactor(keep_last=keep_last)(messages)
    text = "\n".join(m["content"] for m in sent)
    for value in values:
        assert (repr(value) if isinstance(value, float) else str(value)) in text
    assert sent[-1] == messages[-1] or keep_last == 0


# --------------------------------------------------------------------------- with the orchestrator


def replies(n: int) -> list[str]:
    out = [step(i, "calculate", f"product {i}", expression=f"{i} * 7") for i in range(1, n)]
    return [*out, step(n, "final_answer", "done", answer=str((n - 1) * 7))]


def test_the_orchestrator_sends_the_compacted_history():
    provider = ScriptedProvider(replies(6))
    result = Orchestrator(provider, compact=StepSummaryCompactor(keep_last=2)).run("What is 5 * 7?")
    assert result.status == "answered" and result.answer == "35"
    sizes = [len(call.messages) for call in provider.calls]
    assert sizes == [2, 4, 6, 6, 6, 6]
    last = provider.calls[-1].messages[1]["content"]
    assert "- step 3 (calculate): 3 * 7 = 21" in last
    # the loop's own history stays complete
    assert len(result.messages) == 2 + 2 * 5 + 1


def test_prompt_tokens_per_iteration_rebuilds_what_each_iteration_sent():
    plain = ScriptedProvider(replies(6))
    result = Orchestrator(plain).run("What is 5 * 7?")
    full = prompt_tokens_per_iteration(result.messages)
    assert full == [count_message_tokens(c.messages) for c in plain.calls]
    assert full == sorted(full) and len(full) == 6
    compact = StepSummaryCompactor(keep_last=2)
    squeezed = prompt_tokens_per_iteration(result.messages, compact)
    compacted = ScriptedProvider(replies(6))
    Orchestrator(compacted, compact=StepSummaryCompactor(keep_last=2)).run("What is 5 * 7?")
    assert squeezed == [count_message_tokens(c.messages) for c in compacted.calls]
    assert squeezed[:3] == full[:3] and squeezed[-1] < full[-1]


def test_next_step_nudges_keep_the_thought_in_the_digest():
    turn = Turn(
        {"role": "assistant", "content": step(1, "analyze", "Average speed is distance over time.")},
        ({"role": "user", "content": next_step_message(1)},),
    )
    assert digest_turn(turn) == "step 1 (analyze): Average speed is distance over time."
