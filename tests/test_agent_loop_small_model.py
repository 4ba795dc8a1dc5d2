"""Lesson 06's small-model runs: the correction counts the lesson prints follow from the recorded replies."""

from __future__ import annotations

from course_lib.lessons.l06_agent_loop.small_model import correction_counts, json_protocol_runs
from course_lib.orchestrator import Orchestrator
from course_lib.providers.scripted import ScriptedProvider

STEP_1 = '{"step": 1, "step_type": "calculate", "thought": "distance", "expression": "60 * 2.5"}'
ANSWER = '{"step": 2, "step_type": "final_answer", "thought": "done", "answer": "150 miles"}'


def test_a_correction_that_produces_an_accepted_step_is_counted():
    provider = ScriptedProvider(["not json", STEP_1, ANSWER])
    result = Orchestrator(provider, max_iterations=3, params={"temperature": 0.0}).run("How far?")
    counts = correction_counts([result])
    assert (counts.asked, counts.accepted) == (1, 1)
    assert counts.statuses == {"answered": 1}


def test_corrections_that_never_produce_a_step_count_as_asked_not_accepted():
    provider = ScriptedProvider(["nope"] * 3)
    result = Orchestrator(provider, max_iterations=3, max_corrections=2, params={}).run("How far?")
    counts = correction_counts([result])
    assert (counts.asked, counts.accepted) == (2, 0)
    assert str(counts) == "1 runs (1 invalid_output); 0 of 2 corrections accepted"


def test_the_small_models_recorded_runs_replay_with_the_counts_the_lesson_prints():
    results = json_protocol_runs()
    assert all(r.steps == [] or r.steps[0].raw for r in results)
    assert (
        str(correction_counts(results))
        == "4 runs (3 invalid_output, 1 max_iterations); 0 of 6 corrections accepted"
    )
