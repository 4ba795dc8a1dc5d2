"""Scripted recordings of lesson 08 (labelled ``scripted``: written by the course, not by a model).

    python scripts/recordings/08_token_economics.py

Two requests, priced in the lesson with their real token counts:

1. a typical request: summarise a 5,000-word article with GPT-4 (``max_tokens=500``);
2. one step of the 3 am runaway: the refunds agent's request from :mod:`course_lib.lessons.l08_token_economics.runaway`, whose
   long draft is cut at ``max_tokens=2000`` (``finish_reason="length"``), so the loop never sees
   its final answer. The lesson replays the rest of the incident with the same scripted draft.

The article text below must stay identical to the one the lesson builds.
"""

from course_lib.lessons.l08_token_economics.runaway import agent_messages, stuck_draft
from course_lib.providers.replay.recordings import RecordingStore
from course_lib.tokens import count_message_tokens

MODEL = "gpt-4"
store = RecordingStore("08_token_economics")

# ----------------------------------------------------------------- 1. the typical request
PARAGRAPH = (
    "When the payments team moved its nightly settlement job to a new cluster, nobody expected the change "
    "to touch customers. The job ran as before, but it now started twenty minutes later, and that delay "
    "pushed the final reconciliation past the cut-off the card network imposes. For three days, a small "
    "share of refunds reached customers a day late. Support saw the tickets first: polite questions at "
    "first, then angry ones. The fix took an afternoon; finding the cause took a week, because each team "
    "looked at its own dashboards and every dashboard was green."
)
ARTICLE = " ".join((PARAGRAPH.split() * 60)[:5000])
store.add_scripted(
    model=MODEL,
    messages=[
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": f"Summarize this article: {ARTICLE}"},
    ],
    params={"max_tokens": 500},
    responses=[
        "The article describes a small infrastructure change with an outsized effect on customers. The "
        "payments team moved its nightly settlement job to a new cluster, where it started twenty minutes "
        "later than before. That delay pushed the final reconciliation past the card network's cut-off, so "
        "for three days some refunds reached customers a day late. Support noticed first, as polite "
        "questions turned into complaints. Fixing the schedule took an afternoon, but finding the cause "
        "took a week: every team checked only its own dashboards, and all of them looked healthy. The "
        "lessons it draws are to monitor end-to-end outcomes such as refund delivery times, not just "
        "component health, and to treat timing changes to batch jobs as changes that can reach customers."
    ],
    note="A typical request (a 5,000-word article summarised on GPT-4); the summary is written by "
    "the course to give the request a realistic answer length.",
)

# ----------------------------------------------------------------- 2. one step of the runaway agent
messages = agent_messages()
draft, completion_tokens, cut = stuck_draft(2000, MODEL)
assert cut, "the draft must be cut at max_tokens for the runaway to happen"
store.add_scripted(
    model=MODEL,
    messages=messages,
    params={"max_tokens": 2000},
    responses=[
        {
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": draft}, "finish_reason": "length"}
            ],
            "usage": {
                "prompt_tokens": count_message_tokens(messages, MODEL),
                "completion_tokens": completion_tokens,
                "total_tokens": count_message_tokens(messages, MODEL) + completion_tokens,
            },
        }
    ],
    note="One step of the 3 am runaway: the refunds agent's draft is cut at max_tokens before its "
    "FINAL ANSWER line, so the buggy loop sends the same request again. Written by the course.",
)
print(f"wrote {len(store)} entries to {store.save()}")
