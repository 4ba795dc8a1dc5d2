"""Scripted recordings of lesson 09 (labelled ``scripted``: written by the course, not by a model).

    python scripts/recordings/09_role_deep_dives.py

The backend section replays these with a simulated latency (``LatencyModel``), so fan-out, timeouts
and retries behave like real calls while every number the lesson prints comes from the latency model:

1. three analyses of one customer message (sentiment, summary, entities), the fan-out example,
   each recorded twice because the lesson sends them once one after another and once in parallel;
2. five samples of an ownership question at temperature 0.7, drawn in parallel with bounded concurrency;
3. a long post-incident report, the call that runs past its timeout;
4. a status-page line, the call the retry demo gets through after a 429 and a 500.

The message texts below must stay identical to the ones the lesson sends.
"""

from course_lib.providers.replay.recordings import RecordingStore

MODEL = "gpt-4o-mini"
store = RecordingStore("09_role_deep_dives")

DOC = (
    "I was charged twice for order A-20417 on 3 March and the second charge is still on my card. "
    "Your chat bot told me to wait five days; it has been nine. I need the money back before my rent "
    "is due on Friday, or I am closing my account."
)
TASKS = {
    "sentiment": "Classify the sentiment of the customer's message as positive, neutral or negative. "
    "Reply with one word.",
    "summary": "Summarise the customer's message in one sentence for the support queue.",
    "entities": "List the order numbers, dates and amounts in the customer's message as a JSON object.",
}
ANSWERS = {
    "sentiment": "negative",
    "summary": "A customer charged twice for order A-20417 on 3 March has waited nine days for the "
    "refund and will close the account unless it arrives before Friday.",
    "entities": '{"order_numbers": ["A-20417"], "dates": ["3 March", "Friday"], "amounts": [], '
    '"waited_days": 9, "promised_days": 5}',
}
for name, system in TASKS.items():
    store.add_scripted(
        messages=[{"role": "system", "content": system}, {"role": "user", "content": DOC}],
        params={"temperature": 0},
        responses=[ANSWERS[name]] * 2,
        model=MODEL,
        note=f"Fan-out task '{name}' (three independent analyses of one message); the same answer twice, one per run "
        "(sequential, then parallel).",
    )

OWNER = (
    "Which team should own this ticket: payments, platform or support? End with 'Answer: <team>'.\n\n" + DOC
)
store.add_scripted(
    messages=[{"role": "user", "content": OWNER}],
    params={"temperature": 0.7},
    responses=[
        "The double charge is a payments problem. Answer: payments",
        "A duplicate card charge and a late refund belong to the payments team. Answer: payments",
        "The bot gave wrong advice, which is a support matter. Answer: support",
        "Refunds are handled by payments. Answer: payments",
        "Charged twice: payments should own it. Answer: payments",
    ],
    model=MODEL,
    note="Five samples at temperature 0.7 for the bounded-concurrency fan-out; one sample disagrees.",
)

REPORT = "Write the full post-incident report for this ticket: timeline, impact, cause, actions.\n\n" + DOC
paragraph = (
    "On 3 March the customer was charged twice for order A-20417. The duplicate charge came from a retried "
    "payment request that the payment service did not recognise as a repeat, because the retry carried a "
    "new idempotency key. "
)
store.add_scripted(
    messages=[{"role": "user", "content": REPORT}],
    params={"temperature": 0},
    responses=["Timeline. " + paragraph * 10 + "Actions: reuse the idempotency key on every retry."],
    model=MODEL,
    note="A long answer: the call that runs past the lesson's timeout budget.",
)

STATUS = "Write one line for the public status page about delayed refunds."
store.add_scripted(
    messages=[{"role": "user", "content": STATUS}],
    params={"temperature": 0},
    responses=[
        "Some refunds are arriving later than usual; we are on it and will update here within the hour."
    ],
    model=MODEL,
    note="The call the retry demo gets through after an injected 429 and 500.",
)

print(f"wrote {len(store)} entries to {store.save()}")
