"""The lesson functions that count the recorded native runs: lesson 07's valid/correct table, lesson 10's
finished/right tallies and lesson 06's tool-calling run, replayed from the small model's recordings."""

from __future__ import annotations

import re

import pytest

from course_lib.lessons.l06_agent_loop.native import round_trip, summarize, tool_calling_run
from course_lib.lessons.l07_structured_output.constrained import (
    CONTACT_TRUTH,
    count_layer,
    is_correct,
    is_valid,
    measure_layers,
)
from course_lib.lessons.l07_structured_output.layers import CONTACT_TEXTS
from course_lib.lessons.l10_cot_orchestrator.native import answer_is_right, measure, tally
from course_lib.orchestrator import OrchestratorResult

JOHN = '{"name": "John Smith", "age": 35, "city": "Seattle", "email": "john@example.com"}'


def test_every_right_answer_is_written_in_its_text() -> None:
    assert len(CONTACT_TRUTH) == len(CONTACT_TEXTS)
    for truth, text in zip(CONTACT_TRUTH, CONTACT_TEXTS, strict=True):
        for key in ("name", "city", "email"):
            assert truth[key].casefold() in text.casefold(), (key, text)
        assert re.search(rf"(?<![0-9]){truth['age']}(?![0-9])", text)


def test_valid_is_not_correct() -> None:
    wrong_age = JOHN.replace("35", "53")
    assert is_valid(JOHN) and is_correct(JOHN, CONTACT_TRUTH[0])
    assert is_valid(wrong_age) and not is_correct(wrong_age, CONTACT_TRUTH[0])
    assert not is_valid("Sure! " + JOHN.replace('"age": 35', '"age": "old"'))
    row = count_layer("x", [JOHN, wrong_age, "no json"], CONTACT_TRUTH[:1] * 3)
    assert (row.valid, row.correct) == (2, 1)
    with pytest.raises(ValueError, match="one per reply"):
        count_layer("x", [JOHN], CONTACT_TRUTH[:2])


def test_lesson_07_layer_counts_from_the_recordings() -> None:
    rows = {r.layer: (r.valid, r.correct, r.total) for r in measure_layers()}
    assert rows["prompt: naive"] == (0, 0, 24)
    assert rows["+ JSON mode"] == (9, 5, 24)
    assert rows["schema-constrained"] == (24, 11, 24)  # constrained decoding fixes valid, not correct
    assert all(correct <= valid for valid, correct, _ in rows.values())


def test_answers_are_right_to_the_decimals_written() -> None:
    assert answer_is_right("$1,104.94", 1104.94) and answer_is_right("36", 36)
    assert not answer_is_right("The answer is 871.462374127319", 67.5)
    assert not answer_is_right(None, 36)


def test_tally_counts_finished_and_right() -> None:
    runs = [
        OrchestratorResult(problem="What is 15% of 240?", status="answered", answer="36", calls=2),
        OrchestratorResult(problem="What is 15% of 240?", status="answered", answer="40", calls=2),
        OrchestratorResult(problem="What is 15% of 240?", status="max_iterations", calls=5),
    ]
    t = tally("schema", runs)
    assert (t.finished, t.right, t.problems, t.calls) == (2, 1, 3, 9)


def test_lesson_10_constrained_and_tool_runs_from_the_recordings() -> None:
    schema, runs = measure("schema")
    assert (schema.finished, schema.right, schema.valid_replies, schema.invalid_replies) == (0, 0, 20, 0)
    assert all(r.status == "max_iterations" and r.steps[0].value is not None for r in runs)
    tools, _ = measure("tools")
    assert (tools.finished, tools.right, tools.valid_replies, tools.invalid_replies) == (1, 0, 2, 9)


def test_lesson_06_tool_calling_run_from_the_recording() -> None:
    result = tool_calling_run()
    summary = summarize(result)
    assert summary.status == "answered" and summary.tool_calls == 1 and not summary.right
    lines = round_trip(result)
    assert lines[2].startswith("assistant: tool_calls calculator(")
    assert lines[3].startswith("tool [call_") and "= 871.462374127319" in lines[3]
    assert lines[-1] == "assistant: The answer is 871.462374127319"
