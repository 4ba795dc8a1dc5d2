"""Scripted recordings of lesson 02 (labelled ``scripted``: written by the course, not by a model).

    python scripts/recordings/02_api_request.py

Run it before ``02_api_request_local.py``, which adds SmolLM2's real answers to the same file. The
conversation's requests are produced by running :class:`course_lib.conversation.Conversation` against a
scripted provider, so the recorded messages are exactly what the lesson sends.
"""

from course_lib.conversation import Conversation
from course_lib.providers.replay.recordings import RecordingStore
from course_lib.providers.scripted import ScriptedProvider

MODEL = "gpt-4o-mini"
store = RecordingStore("02_api_request")

# ----------------------------------------------------------------- a multi-turn incident conversation

SYSTEM = (
    "You are the on-call assistant of a payments API team. Answer in at most four short sentences, "
    "name concrete commands or metrics, and say when a human must decide."
)
TURNS = [
    (
        "p95 latency of POST /charges went from 280 ms to 1.9 s right after the 14:05 deploy. "
        "Where do I look first?",
        "Start with what changed: diff the 14:05 release against the previous one, config flags included. "
        "Then split the p95 by span in your traces (database, card network, fraud service) to see which one "
        "grew. If one span explains the jump, that is your suspect; if all grew, suspect CPU or connection "
        "limits on the service itself. Rolling back is a human decision, so keep the previous build ready.",
    ),
    (
        "Traces say the database span went from 40 ms to 1.5 s. The release added an index on "
        "charges.customer_id.",
        "Building an index on a large table can block writes or saturate disk I/O while it runs. Check "
        "whether the build is still running (pg_stat_progress_create_index) and whether it was created "
        "CONCURRENTLY. Look for lock waits on charges in pg_stat_activity. If the build blocks writes, "
        "cancelling it is an option, but the database owner must approve.",
    ),
    (
        "pg_stat_activity shows 180 sessions waiting on a lock held by the CREATE INDEX, which is not "
        "concurrent. Cancel it?",
        "Cancelling ends the blocking, and PostgreSQL rolls back a non-concurrent index build cleanly, so "
        "no data is at risk. The price is that the migration must run again later, with CREATE INDEX "
        "CONCURRENTLY. Get the database owner's approval, then run SELECT pg_cancel_backend(<pid>) on the "
        "build's pid. Watch the waiting sessions drain and p95 return to its baseline.",
    ),
    (
        "Cancelled. p95 is back to 300 ms. What do I post in the incident channel?",
        "Post: 'Mitigated at 14:52. Cause: the 14:05 release ran a blocking CREATE INDEX on charges; writes "
        "queued behind its lock and p95 of POST /charges rose from 280 ms to 1.9 s. Action: the build was "
        "cancelled with the database owner's approval; p95 is back to 300 ms. Next: rerun the migration "
        "CONCURRENTLY in a quiet window; postmortem to follow.'",
    ),
    (
        "How do we stop a migration like this from reaching production again?",
        "Add a migration linter to CI that rejects CREATE INDEX without CONCURRENTLY (squawk does this for "
        "PostgreSQL). Set lock_timeout for migration sessions, so a blocked build fails fast instead of "
        "queueing traffic. Rehearse migrations on a production-sized staging copy and alert on lock waits "
        "there.",
    ),
    (
        "Draft the first three sentences of the postmortem summary.",
        "A schema migration in the 14:05 release built an index on the charges table without CONCURRENTLY "
        "and held a lock that blocked writes. For 47 minutes, p95 latency of POST /charges rose from 280 ms "
        "to 1.9 s while requests queued behind the lock. The build was cancelled at 14:52 with the database "
        "owner's approval, latency recovered at once, and no data was lost.",
    ),
]
PARAMS = {"temperature": 0}

fake = ScriptedProvider([answer for _, answer in TURNS], model=MODEL)
conversation = Conversation(SYSTEM, model=MODEL)
for question, _ in TURNS:
    conversation.ask(fake, question, **PARAMS)
for i, (call, (_, answer)) in enumerate(zip(fake.calls, TURNS, strict=True), 1):
    store.add_scripted(
        messages=call.messages,
        params=PARAMS,
        responses=[answer],
        model=MODEL,
        note=f"Turn {i} of the incident conversation: the whole history is sent again with each question.",
    )

# The same fourth question sent without the history: the model has nothing to go on.
store.add_scripted(
    messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": TURNS[3][0]}],
    params=PARAMS,
    responses=[
        "I have no details of this incident in this request: I do not know what was cancelled or what "
        "caused the slowdown. Post that p95 is back to 300 ms, then add the cause, the timeline and the "
        "action taken. Say who approved the change and when the postmortem will follow."
    ],
    model=MODEL,
    note="Statelessness: the fourth question without the earlier turns; a large model says what it lacks.",
)

# ----------------------------------------------------------------- one business function, many adapters

TICKET_SYSTEM = "You summarise customer support tickets in one sentence for the on-call engineer."
TICKETS = {
    "login": (
        "Hi, since this morning our team cannot log in. The password reset email arrives but the link says "
        "'token expired' straight away. We are on the Business plan, account ACME-4411.",
        "Since this morning, account ACME-4411 (Business plan) cannot log in because password reset links "
        "report 'token expired' as soon as they are opened.",
    ),
    "export": (
        "The CSV export of invoices for March has the amounts in cents instead of euros. Our accountant "
        "noticed it today; February's export was fine.",
        "The March invoice CSV export shows amounts in cents instead of euros, a regression since "
        "February's export was correct.",
    ),
    "webhooks": (
        "Webhook deliveries to https://hooks.example.org/orders have been failing with HTTP 500 since the "
        "02:00 deploy. We lost about 300 order notifications.",
        "Since the 02:00 deploy, webhook deliveries to the customer's /orders endpoint fail with HTTP 500, "
        "and about 300 order notifications were lost.",
    ),
}
for name, (ticket, summary) in TICKETS.items():
    store.add_scripted(
        messages=[{"role": "system", "content": TICKET_SYSTEM}, {"role": "user", "content": ticket}],
        params={"temperature": 0, "max_tokens": 60},
        responses=[summary],
        model=MODEL,
        note=f"The ticket-summary business function on the OpenAI adapter ({name} ticket).",
    )

print(f"wrote {len(store)} entries to {store.save()}")
