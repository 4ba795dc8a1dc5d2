"""Exercise 02: the solution and planted bugs, graded in-process (notebooks: test_exercises.py)."""

from __future__ import annotations

import time

import pytest
from exercise_support import exec_namespace, run_check, solution_path, solution_sources, with_planted_bug

from course_lib.grading import grade_namespace
from course_lib.grading.checks import ex02
from course_lib.grading.registry import CheckFailed

SOLUTION = solution_path(2)


def _solution() -> list[str]:
    return solution_sources(SOLUTION)


def _with(old: str, new: str) -> dict:
    """The solution's namespace with one planted bug: ``old`` replaced by ``new``."""
    return exec_namespace(with_planted_bug(_solution(), old, new))


def test_solution_scores_full_marks() -> None:
    results = grade_namespace(2, exec_namespace(_solution()), check_timeout=10)
    assert [(r.id, r.status, r.score) for r in results] == [
        ("2.1", "passed", 2.0),
        ("2.2", "passed", 2.0),
        ("2.3", "passed", 2.0),
        ("2.4", "passed", 2.0),
    ]


# ------------------------------------------------------------------------------ planted bugs


def test_llama3_layout_with_one_newline_fails() -> None:
    ns = _with("<|end_header_id|>\\n\\n{content}<|eot_id|>", "<|end_header_id|>\\n{content}<|eot_id|>\\n")
    q = run_check("2.1", ns)
    assert q.status == "failed"
    assert "two newlines after every <|end_header_id|>" in q.hint


def test_llama3_without_trimming_fails_on_padded_content() -> None:
    ns = _with('message["content"].strip()', 'message["content"]')
    q = run_check("2.1", ns)
    assert q.status == "failed" and "trim the whitespace" in q.hint


def test_llama3_ignoring_add_generation_prompt_fails() -> None:
    ns = _with("    if add_generation_prompt:\n", "    if True:\n")
    q = run_check("2.1", ns)
    assert q.status == "failed" and "add_generation_prompt=False" in q.hint


NAIVE_WINDOW = """def sliding_window(messages, max_messages):
    head = [m for m in messages[:1] if m["role"] == "system"]
    rest = messages[len(head) :]
    return head + rest[-max_messages:]
"""


def test_naive_window_with_minus_zero_keeps_everything_and_fails() -> None:
    ns = exec_namespace([*_solution(), NAIVE_WINDOW])
    q = run_check("2.2", ns)
    assert q.status == "failed"
    assert "window of 0 send the system prompt alone" in q.hint


def test_window_that_may_start_with_an_answer_fails() -> None:
    orphan = NAIVE_WINDOW.replace(
        "return head + rest[-max_messages:]", "return head + (rest[-max_messages:] if max_messages else [])"
    )
    q = run_check("2.2", exec_namespace([*_solution(), orphan]))
    assert q.status == "failed"
    assert "never send an answer whose question was cut" in q.hint


def test_window_that_drops_the_system_prompt_fails() -> None:
    ns = _with("            return head + tail\n", "            return tail\n")
    q = run_check("2.2", ns)
    assert q.status == "failed" and "keep the system prompt" in q.hint


NAIVE_BUFFER = """def trim_to_budget(messages, max_tokens, count):
    kept = list(messages)
    while count(kept) > max_tokens:
        if len(kept) > 1:
            kept.pop(1)
    return kept
"""


def test_naive_budget_loop_is_stopped_and_fails_quickly() -> None:
    start = time.perf_counter()
    q = run_check("2.3", exec_namespace([*_solution(), NAIVE_BUFFER]))
    assert time.perf_counter() - start < 8
    assert q.status == "failed"
    # Fixed cases come first: message-by-message popping leaves an orphaned answer before any hang.
    assert "drop whole turns" in q.hint or "did not return within 2 s" in q.hint


def test_budget_loop_that_drops_whole_turns_but_never_gives_up_times_out() -> None:
    endless = """def trim_to_budget(messages, max_tokens, count):
    head = [m for m in messages[:1] if m["role"] == "system"]
    rest = list(messages[len(head) :])
    while count(head + rest) > max_tokens:
        starts = [i for i, m in enumerate(rest) if m["role"] == "user" and i > 0]
        if starts:
            rest = rest[starts[0] :]
    return head + rest
"""
    start = time.perf_counter()
    q = run_check("2.3", exec_namespace([*_solution(), endless]))
    assert time.perf_counter() - start < 8
    assert q.status == "failed" and "did not return within 2 s (an endless loop?)" in q.hint


def test_budget_that_raises_a_plain_value_error_is_told_which_error() -> None:
    ns = _with(
        "raise BudgetTooSmallError(count(head + rest[starts[-1] :]), max_tokens)",
        "raise ValueError('too small')",
    )
    q = run_check("2.3", ns)
    assert q.status == "failed" and "raise BudgetTooSmallError instead" in q.hint


def test_budget_that_never_tries_the_latest_turn_alone_fails() -> None:
    ns = _with("    for start in starts:\n", "    for start in starts[:-1]:\n")
    q = run_check("2.3", ns)
    assert q.status == "failed" and "raised BudgetTooSmallError, but ['system', 'user'] fits" in q.hint


def test_ask_without_rollback_fails() -> None:
    ns = _with("        history.pop()\n", "")
    q = run_check("2.4", ns)
    assert q.status == "failed" and "take the question back out" in q.hint


def test_ask_that_trims_the_transcript_fails() -> None:
    ns = _with(
        "        request = window(history) if window is not None else list(history)\n",
        "        if window is not None:\n            history[:] = window(history)\n        request = list(history)\n",
    )
    q = run_check("2.4", ns)
    assert q.status == "failed" and "the window trims the request, never the transcript" in q.hint


def test_ask_that_forgets_the_history_fails() -> None:
    ns = _with("else list(history)", "else [history[0], history[-1]]")
    q = run_check("2.4", ns)
    assert q.status == "failed" and "send the whole history" in q.hint


# ------------------------------------------------------------------------------ direct calls


def test_checks_accept_another_correct_window() -> None:
    def window(messages, max_messages):
        system = messages[:1] if messages and messages[0]["role"] == "system" else []
        rest = messages[len(system) :]
        kept = rest[max(0, len(rest) - max_messages) :] if max_messages else []
        while kept and kept != rest and kept[0]["role"] != "user":
            kept = kept[1:]
        return [*system, *kept]

    ex02.check_sliding_window(window)


def test_counter_of_the_checks() -> None:
    assert (
        ex02.count_words([{"role": "user", "content": "two words"}, {"role": "assistant", "content": ""}])
        == 10
    )


def test_check_raises_check_failed_for_a_non_string_render() -> None:
    with pytest.raises(CheckFailed, match="expected a str"):
        ex02.check_render_llama3(lambda messages, add_generation_prompt=True: None)
