"""Tests for the triage pipeline and its review queue (course_lib.lessons.l05_self_consistency.triage, course_lib.review)."""

from __future__ import annotations

import asyncio

import pytest

from course_lib.lessons.l05_self_consistency.triage import (
    ESCALATE,
    TriagePipeline,
    extract_triage_label,
    find_red_flags,
    triage_messages,
)
from course_lib.providers.base import RateLimitError, ServerError
from course_lib.providers.replay.scope import current_sample
from course_lib.providers.scripted import ScriptedProvider
from course_lib.quorum import GatePolicy
from course_lib.review import ReviewQueue
from course_lib.tokens import count_message_tokens


def scripted(levels):
    """A provider whose i-th sample ends with 'Answer: levels[i]' (or raises levels[i] if an exception)."""

    def respond(messages, params):
        level = levels[current_sample()]
        if isinstance(level, BaseException):
            raise level
        return f"Step 1: symptoms listed.\nStep 2: severity judged.\nAnswer: {level}"

    return ScriptedProvider(respond)


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        self.now += 1.0
        return self.now


@pytest.mark.parametrize(
    ("symptoms", "flag"),
    [
        ("Severe chest pain radiating to the left arm", "chest pain"),
        ("Sudden pain in my chest when climbing stairs", "chest pain"),
        ("He is short of breath and wheezing", "trouble breathing"),
        ("I can't breathe properly", "trouble breathing"),
        ("Cut on the hand with bleeding that won't stop", "severe bleeding"),
        ("She passed out in the kitchen", "loss of consciousness"),
        ("Face drooping on the left and slurred speech", "stroke signs"),
        ("Had a seizure this morning", "seizure"),
        ("Lips and throat swelling after eating peanuts", "anaphylaxis"),
    ],
)
def test_red_flags_found_anywhere(symptoms, flag):
    assert flag in find_red_flags("Patient says: " + symptoms)


@pytest.mark.parametrize(
    "symptoms",
    [
        "Mild cold symptoms, runny nose, sneezing",
        "Intermittent dizziness, occasional numbness in fingers",
        "Persistent headache for 3 days, mild fever, fatigue",
    ],
)
def test_no_red_flags_in_ordinary_cases(symptoms):
    assert find_red_flags(symptoms) == []


def test_red_flag_never_calls_the_model():
    provider = scripted(["MONITOR_HOME"] * 7)
    pipeline = TriagePipeline(provider)
    record = pipeline.triage("Crushing chest pain and sweating")
    assert provider.calls == []
    assert record.tier == "rules"
    assert record.recommendation == "ER_NOW"
    assert record.model_calls == 0
    assert record.tokens.total_tokens == 0
    assert record.red_flags == ["chest pain"]
    assert len(pipeline.queue) == 0


def test_unanimous_vote_is_auto_handled():
    provider = scripted(["MONITOR_HOME"] * 7)
    pipeline = TriagePipeline(provider, n=7)
    record = pipeline.triage("Mild cold symptoms, runny nose, sneezing")
    assert record.tier == "model_high"
    assert record.recommendation == "MONITOR_HOME"
    assert record.votes == {"MONITOR_HOME": 7}
    assert record.confidence == 1.0
    assert record.model_calls == len(provider.calls) == 7
    per_call = count_message_tokens(triage_messages("Mild cold symptoms, runny nose, sneezing"))
    assert record.tokens.prompt_tokens == 7 * per_call
    assert record.tokens.completion_tokens > 0
    assert pipeline.queue.pending() == []
    assert all(c.params["temperature"] == 0.7 for c in provider.calls)


def test_split_vote_escalates_to_the_review_queue():
    levels = ["SCHEDULE_APPOINTMENT"] * 4 + ["MONITOR_HOME"] * 3
    pipeline = TriagePipeline(scripted(levels), n=7, urgent_vote_escalates=False)
    record = pipeline.triage("Intermittent dizziness, occasional numbness in fingers", case_id="PT-1")
    assert record.tier == "human" and record.escalated
    assert record.recommendation == ESCALATE
    assert record.votes == {"SCHEDULE_APPOINTMENT": 4, "MONITOR_HOME": 3}
    assert record.confidence == pytest.approx(4 / 7)
    assert "57%" in record.reason
    [item] = pipeline.queue.pending()
    assert item.case_id == "PT-1" and item.votes == record.votes


def test_tie_escalates_even_with_lenient_thresholds():
    levels = ["SCHEDULE_APPOINTMENT", "MONITOR_HOME"] * 2
    pipeline = TriagePipeline(scripted(levels), n=4, policy=GatePolicy(high=0.5, moderate=0.1))
    record = pipeline.triage("Sore knee after running")
    assert record.tier == "human"
    assert "tie" in record.reason


def test_moderate_agreement_answers_with_a_caveat():
    levels = ["SCHEDULE_APPOINTMENT"] * 5 + ["MONITOR_HOME"] * 2
    record = TriagePipeline(scripted(levels), n=7).triage("Rash on the forearm for a week")
    assert record.tier == "model_moderate"
    assert record.recommendation == "SCHEDULE_APPOINTMENT"
    assert "clinician" in record.reason


def test_one_urgent_vote_blocks_an_automatic_milder_answer():
    levels = ["MONITOR_HOME"] * 6 + ["ER_NOW"]
    pipeline = TriagePipeline(scripted(levels), n=7)
    record = pipeline.triage("Stomach ache since yesterday evening")
    assert record.tier == "human"
    assert "ER_NOW" in record.reason
    relaxed = TriagePipeline(scripted(levels), n=7, urgent_vote_escalates=False)
    assert relaxed.triage("Stomach ache since yesterday evening").tier == "model_high"


def test_failed_samples_abstain_and_push_towards_review():
    levels = ["MONITOR_HOME"] * 4 + [RateLimitError("429"), ServerError("503"), RateLimitError("429")]
    record = TriagePipeline(scripted(levels), n=7).triage("Mild sore throat")
    assert record.failed_samples == 3
    assert record.tier == "human"


def test_json_answers_are_understood():
    text = (
        '{"step1_symptoms": ["cough"], "step4_recommendation": "SCHEDULE_APPOINTMENT", "why": "not ER_NOW"}'
    )
    assert extract_triage_label(text) == "SCHEDULE_APPOINTMENT"
    assert extract_triage_label("Answer: monitor home") == "MONITOR_HOME"
    assert extract_triage_label("I am not sure") is None
    assert extract_triage_label(None) is None


def test_prompt_asks_for_an_answer_line():
    msgs = triage_messages("cough")
    assert msgs[0]["role"] == "system"
    assert "Symptoms: cough" in msgs[1]["content"] and "Answer: <LEVEL>" in msgs[1]["content"]


def test_empty_symptoms_are_rejected():
    with pytest.raises(ValueError, match="empty"):
        TriagePipeline(scripted([])).triage("  ")


def test_case_ids_are_sequential_and_async_form_works():
    pipeline = TriagePipeline(scripted(["MONITOR_HOME"] * 3), n=3)

    async def run():
        return [await pipeline.atriage("mild cough"), await pipeline.atriage("Chest pain")]

    first, second = asyncio.run(run())
    assert (first.case_id, second.case_id) == ("case-0001", "case-0002")


def test_review_queue_lists_and_resolves_with_an_injected_clock():
    clock = Clock()
    queue = ReviewQueue(decisions=["ER_NOW", "SCHEDULE_APPOINTMENT", "MONITOR_HOME"], clock=clock)
    queue.add("a", "dizzy", "split vote", votes={"X": 2})
    queue.add("b", "rash", "split vote")
    assert [i.case_id for i in queue.pending()] == ["a", "b"]
    done = queue.resolve("a", "SCHEDULE_APPOINTMENT", reviewer="dr-lee", note="see GP this week")
    assert done.status == "resolved" and done.decision == "SCHEDULE_APPOINTMENT"
    assert (done.created_at, done.resolved_at) == (1001.0, 1003.0)
    assert [i.case_id for i in queue.pending()] == ["b"]
    assert [i.case_id for i in queue.list("resolved")] == ["a"]
    assert len(queue) == 1 and len(queue.list()) == 2
    with pytest.raises(ValueError, match="already resolved"):
        queue.resolve("a", "ER_NOW", reviewer="dr-x")
    with pytest.raises(ValueError, match="must be one of"):
        queue.resolve("b", "maybe", reviewer="dr-x")
    with pytest.raises(KeyError, match="no case"):
        queue.resolve("zzz", "ER_NOW", reviewer="dr-x")
    with pytest.raises(ValueError, match="already in the review queue"):
        queue.add("b", "rash", "again")
