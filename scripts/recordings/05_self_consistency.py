"""Scripted recordings of lesson 05 (labelled ``scripted``: written by the course, not by a model).

They illustrate what a large model's samples look like: a sentiment question that splits 3 to 2, and
the medical triage checkpoint, where seven chain-of-thought samples agree, half-agree or split. The exact
requests are taken from the library itself: each case runs once against a scripted provider and the
messages and parameters it sent are copied into the recording.

    python scripts/recordings/05_self_consistency.py
"""

from __future__ import annotations

from course_lib.lessons.l05_self_consistency.triage import TriagePipeline, find_red_flags
from course_lib.providers.replay.recordings import RecordingStore
from course_lib.providers.scripted import ScriptedProvider
from course_lib.voting import self_consistency

MODEL = "gpt-4o-mini"
store = RecordingStore("05_self_consistency")


def requests_of(run) -> tuple[list, dict]:
    """The messages and parameters the library sends, captured with a scripted provider."""
    provider = ScriptedProvider(lambda messages, params: "Answer: MONITOR_HOME")
    run(provider)
    first = provider.calls[0]
    assert all(c.messages == first.messages and c.params == first.params for c in provider.calls)
    return first.messages, first.params


# ---------------------------------------------------------------- an ambiguous sentiment question
SENTIMENT = [
    {
        "role": "user",
        "content": "Classify the sentiment of this review as Positive, Negative or Neutral. "
        "End with 'Answer: <label>'.\n\nReview: This product is not bad for the price.",
    }
]
LABELS = ("Positive", "Negative", "Neutral")
messages, params = requests_of(lambda p: self_consistency(p, SENTIMENT, 5, labels=LABELS))
store.add_scripted(
    messages=messages,
    params=params,
    model=MODEL,
    responses=[
        "'Not bad' is a hedged compliment, and 'for the price' says it is good value.\nAnswer: Positive",
        "The reviewer is neither enthusiastic nor unhappy; the tone is lukewarm.\nAnswer: Neutral",
        "A double negative that reads as mild approval of the value for money.\nAnswer: Positive",
        "Value for money is praised, if faintly.\nAnswer: Positive",
        "It weighs quality against price without a clear verdict.\nAnswer: Neutral",
    ],
    note="A genuinely ambiguous review splits 3 Positive to 2 Neutral over five samples "
    "at temperature 0.7. Written by the course to show a large model's spread.",
)

# ---------------------------------------------------------------- the triage checkpoint


def cot(symptoms: str, severity: str, emergency: str, level: str) -> str:
    """One chain-of-thought triage sample in the shape the prompt asks for."""
    return (
        f"1. Symptoms: {symptoms}.\n2. Severity: {severity}.\n3. Emergency signs: {emergency}.\n"
        f"Answer: {level}"
    )


CASES = {
    "Mild cold: runny nose, sneezing, no fever": [
        cot("runny nose, sneezing", "mild", "none", "MONITOR_HOME"),
        cot("nasal discharge, sneezing, afebrile", "mild", "none", "MONITOR_HOME"),
        cot("cold symptoms without fever", "mild", "none", "MONITOR_HOME"),
        cot("runny nose and sneezing", "mild, self-limiting", "none", "MONITOR_HOME"),
        cot("upper respiratory symptoms", "mild", "none", "MONITOR_HOME"),
        cot("runny nose, sneezing, no fever", "mild", "none", "MONITOR_HOME"),
        cot("common cold picture", "mild", "none; rest and fluids", "MONITOR_HOME"),
    ],
    "Persistent headache for 3 days, mild fever, fatigue": [
        cot(
            "headache 3 days, mild fever, fatigue", "moderate", "none, but persistent", "SCHEDULE_APPOINTMENT"
        ),
        cot("ongoing headache with low fever", "moderate", "none", "SCHEDULE_APPOINTMENT"),
        cot("headache, fever, tiredness", "mild to moderate", "none", "SCHEDULE_APPOINTMENT"),
        cot("3-day headache, fever, fatigue", "mild", "none; likely viral", "MONITOR_HOME"),
        cot(
            "persistent headache and fever", "moderate", "no neck stiffness reported", "SCHEDULE_APPOINTMENT"
        ),
        cot("headache, mild fever", "moderate", "none", "SCHEDULE_APPOINTMENT"),
        cot("headache lasting days with fever", "moderate", "none; needs assessment", "SCHEDULE_APPOINTMENT"),
    ],
    "Twisted ankle yesterday, swollen, can walk but it hurts": [
        cot("ankle swelling after a twist, weight-bearing", "moderate", "none", "SCHEDULE_APPOINTMENT"),
        cot("sprained ankle, able to walk", "mild", "none; rest, ice, elevate", "MONITOR_HOME"),
        cot("swollen painful ankle", "moderate", "none, fracture not excluded", "SCHEDULE_APPOINTMENT"),
        cot("ankle injury with swelling", "moderate", "none", "SCHEDULE_APPOINTMENT"),
        cot("twisted ankle, walking possible", "mild", "none", "MONITOR_HOME"),
        cot("painful swollen ankle", "moderate", "none; may need an X-ray", "SCHEDULE_APPOINTMENT"),
        cot("ankle sprain", "moderate", "none", "SCHEDULE_APPOINTMENT"),
    ],
    "Intermittent dizziness, occasional numbness in fingers": [
        cot("dizziness, finger numbness", "moderate", "unclear", "SCHEDULE_APPOINTMENT"),
        cot("intermittent dizziness, tingling fingers", "mild", "none", "MONITOR_HOME"),
        cot("dizziness with numbness", "possibly serious", "numbness could be neurological", "ER_NOW"),
        cot("episodes of dizziness, numb fingers", "moderate", "none definite", "SCHEDULE_APPOINTMENT"),
        cot("dizziness, numbness in fingers", "moderate", "none", "SCHEDULE_APPOINTMENT"),
        cot("occasional dizziness", "mild", "none", "MONITOR_HOME"),
        cot("dizziness and paraesthesia", "moderate", "needs work-up", "SCHEDULE_APPOINTMENT"),
    ],
    "Itchy rash on the forearm for two weeks, slowly spreading": [
        cot("itchy spreading rash", "mild", "none", "MONITOR_HOME"),
        cot("rash for two weeks, spreading", "moderate", "none", "SCHEDULE_APPOINTMENT"),
        cot("pruritic forearm rash", "mild", "none", "MONITOR_HOME"),
        cot("spreading rash", "moderate", "none; could be fungal", "SCHEDULE_APPOINTMENT"),
        "A slowly spreading itchy rash is rarely urgent, but two weeks is long. Hard to say without a photo.",
        cot("itchy rash", "mild", "none", "MONITOR_HOME"),
        cot("persistent rash, spreading", "moderate", "none", "SCHEDULE_APPOINTMENT"),
    ],
    "Stomach ache after a large meal, mild nausea": [
        cot("stomach ache after eating, nausea", "mild", "none", "MONITOR_HOME"),
        cot("post-prandial abdominal pain", "mild", "none", "MONITOR_HOME"),
        cot("abdominal pain and nausea", "mild", "none; indigestion likely", "MONITOR_HOME"),
        cot("stomach ache, nausea", "mild", "none", "MONITOR_HOME"),
        cot("abdominal pain", "uncertain", "appendicitis cannot be excluded", "ER_NOW"),
        cot("indigestion after a big meal", "mild", "none", "MONITOR_HOME"),
        cot("nausea, stomach ache", "mild", "none", "MONITOR_HOME"),
    ],
}

for symptoms, replies in CASES.items():
    assert not find_red_flags(symptoms), f"{symptoms!r} would be caught by a red-flag rule"
    assert len(replies) == 7
    messages, params = requests_of(lambda p, s=symptoms: TriagePipeline(p, n=7).triage(s))
    store.add_scripted(
        messages=messages,
        params=params,
        model=MODEL,
        responses=replies,
        note="Triage checkpoint: seven chain-of-thought triage samples in a large model's style, written by the "
        "course to show a unanimous, a strong, a moderate, a split, a tied and an urgent-minority vote.",
    )

print(f"wrote {len(store)} entries to {store.save()}")
