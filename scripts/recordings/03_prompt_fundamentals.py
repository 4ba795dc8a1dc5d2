"""Scripted recordings of lesson 03 (labelled ``scripted``: written by the course, not by a model).

They illustrate what a capable large model does: obey a system prompt over a conflicting user
request, and follow a prompt more closely as it evolves from a bare instruction to a system prompt
with worked examples. The messages are built with the same library calls the lesson makes.
Real answers of the small local model are recorded by ``03_prompt_fundamentals_local.py`` and
``scripts/experiments/03_format_consistency.py``; the number-of-examples sweep by ``03_fewshot_k_local.py``.
"""

from course_lib.prompt_files import load_prompt
from course_lib.prompts import SystemPrompt, few_shot_messages, zero_shot
from course_lib.providers.replay.recordings import RecordingStore

store = RecordingStore("03_prompt_fundamentals")

# --- the system prompt wins over a conflicting user request
CONFLICT = [
    {"role": "system", "content": "You only output JSON. Never use prose."},
    {"role": "user", "content": "Write a poem about coding."},
]
store.add_scripted(
    messages=CONFLICT,
    params={"temperature": 0},
    responses=['{"error": "I can only answer in JSON, so I cannot write a poem."}'],
    note="What a capable large model typically does when the user asks for prose against a JSON-only system prompt.",
)

# --- the evolution of a prompt: three iterations over the same three bug reports
REPORTS = [
    "User cannot log in after resetting their password.",
    "Exporting a report to CSV times out when it has more than 50,000 rows.",
    "Push notifications stop arriving on Android after the app updates to 4.2.",
]
INSTRUCTIONS = "Summarise this bug report in at most 20 words, as one sentence, without guessing at causes."
BUG_SYSTEM = SystemPrompt(
    role="You summarise bug reports for a development team's issue tracker.",
    constraints=["At most 15 words.", "Only facts stated in the report; never guess a cause."],
    output_format=["One line: <who> cannot <action> due to <reason>.", "No preamble, no explanation."],
)
BUG_EXAMPLES = [
    (
        "The app crashes whenever a user uploads a file larger than 10 MB.",
        "User cannot upload large files due to a crash above 10 MB.",
    ),
    (
        "Card payments fail now and then when traffic is high.",
        "User cannot pay by card due to failures under high traffic.",
    ),
]


def iteration_messages(iteration: int, report: str) -> list[dict[str, str]]:
    """The request of one iteration (the lesson builds the same three)."""
    if iteration == 1:
        return zero_shot(f"Summarise: {report}")
    if iteration == 2:
        return zero_shot(INSTRUCTIONS, f"Report: {report}")
    return few_shot_messages(
        BUG_EXAMPLES, report, system=BUG_SYSTEM.render(), input_template="Report: {input}"
    )


ANSWERS = {
    1: [
        "The user is having trouble logging in after they reset their password. This is a common problem "
        "and it might be caused by a stale session or cached credentials.",
        "When someone exports a big report to CSV, the export takes too long and times out. The server may "
        "be running out of memory, or the query could need an index.",
        "Android users stop getting push notifications once they update to version 4.2, which probably means "
        "something changed in how the app registers for notifications.",
    ],
    2: [
        "User cannot log in after a password reset.",
        "CSV export of reports with more than 50,000 rows times out.",
        "Summary: Android push notifications stopped arriving after updating the app to version 4.2.",
    ],
    3: [
        "User cannot log in due to a password reset.",
        "User cannot export large reports due to a CSV timeout.",
        "User cannot receive Android notifications due to the 4.2 update.",
    ],
}
for iteration, answers in ANSWERS.items():
    for report, answer in zip(REPORTS, answers, strict=True):
        store.add_scripted(
            messages=iteration_messages(iteration, report),
            params={"temperature": 0},
            responses=[answer],
            note=f"Prompt evolution, iteration {iteration}: the kind of answer a capable model gives to this prompt.",
        )

# --- the versioned prompt file in use
TICKETS = {
    "I changed my password this morning and now the mobile app says my session is invalid every time "
    "I open it. I can't see any of my orders.": "login | cannot open the mobile app after a password change | high",
    "Could you add a dark mode? The white background is hard on the eyes at night.": (
        "other | cannot switch the app to a dark theme | low"
    ),
}
summariser = load_prompt("customer_support_summariser")
for ticket, answer in TICKETS.items():
    store.add_scripted(
        messages=summariser.messages(ticket),
        params={"temperature": 0},
        responses=[answer],
        note="A large model following the versioned support-summary prompt (one line, three fields).",
    )

print(f"wrote {len(store)} entries to {store.save()}")
