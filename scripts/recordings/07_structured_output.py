"""Scripted recordings of lesson 07: a large model's answers in the support-email ETL (labelled ``scripted``).

The answers are written by the course to show what a large model typically does: most
emails validate at once, some need one correction (a number where a string was asked for, a relative
date counted forwards, an issue type outside the list), and one cannot be fixed by any model because
the email has no order number. The requests are exactly those the pipeline sends: the script runs
:func:`course_lib.lessons.l07_structured_output.etl.extract_ticket` against a scripted provider and stores each call it received.

    python scripts/recordings/07_structured_output.py
"""

from __future__ import annotations

import contextlib
import json

from course_lib.lessons.l07_structured_output.etl import SAMPLE_EMAILS, extract_ticket
from course_lib.providers.replay.recordings import RecordingStore
from course_lib.providers.scripted import ScriptedProvider
from course_lib.validators import ValidationFailedError

MODEL = "gpt-4o-mini"


def ticket(email: str, order_id: object, issue: str, day: str, name: str) -> str:
    """A ticket as the scripted model writes it."""
    return json.dumps(
        {
            "customer_email": email,
            "order_id": order_id,
            "issue_type": issue,
            "order_date": day,
            "customer_name": name,
        }
    )


# sender -> the answer to attempt 1, 2, 3 (one entry when the first answer validates)
ANSWERS: dict[str, list[str]] = {
    "alice.johnson@example.com": [
        ticket("alice.johnson@example.com", "12345", "refund_request", "2024-12-01", "Alice Johnson")
    ],
    "bruno.costa@example.com": [
        ticket("bruno.costa@example.com", 23817, "delivery_issue", "2024-12-03", "Bruno Costa"),
        ticket("bruno.costa@example.com", "23817", "delivery_issue", "2024-12-03", "Bruno Costa"),
    ],
    "chen.li@example.com": [
        ticket("chen.li@example.com", "40552", "product_defect", "2024-11-28", "Chen Li")
    ],
    "dana.white@example.com": [
        ticket("dana.white@example.com", "31200", "general_inquiry", "2024-12-02", "Dana White")
    ],
    "emil.novak@example.com": [
        ticket("emil.novak@example.com", "51873", "product_defect", "2025-01-03", "Emil Novak"),
        ticket("emil.novak@example.com", "51873", "product_defect", "2024-12-06", "Emil Novak"),
    ],
    "fiona.grant@example.com": [
        ticket("fiona.grant@example.com", "66120", "not_shipped", "2024-11-30", "Fiona Grant"),
        ticket("fiona.grant@example.com", "66120", "delivery_issue", "2024-11-30", "Fiona Grant"),
    ],
    "gus.moreau@example.com": [
        ticket("gus.moreau@example.com", "A7731", "refund_request", "2024-12-04", "Gus Moreau"),
        ticket("gus.moreau@example.com", "7731", "refund_request", "2024-12-04", "Gus Moreau"),
        ticket("gus.moreau@example.com", "A-7731", "refund_request", "2024-12-04", "Gus Moreau"),
    ],
    "hana.sato@example.com": [
        ticket("hana.sato@example.com", "80314", "refund_request", "2024-12-06", "Hana Sato")
    ],
}
SHOWS = {
    "alice.johnson@example.com": "a first answer that validates",
    "bruno.costa@example.com": "order_id sent as a number, fixed after the error is fed back",
    "chen.li@example.com": "a first answer that validates",
    "dana.white@example.com": "a first answer that validates",
    "emil.novak@example.com": "a relative date counted forwards, fixed after the error is fed back",
    "fiona.grant@example.com": "an issue type outside the list, fixed after the error is fed back",
    "gus.moreau@example.com": "an email without an order number: every attempt fails (dead letter)",
    "hana.sato@example.com": "a first answer that validates (the call is replayed from the DLQ)",
}


def answer(messages: list[dict], params: dict) -> str:
    """Reply by sender and attempt number (attempt = assistant turns so far + 1)."""
    sender = next(line for line in messages[1]["content"].splitlines() if line.startswith("From: "))[6:]
    attempt = sum(m["role"] == "assistant" for m in messages)
    return ANSWERS[sender][attempt]


def main() -> None:
    """Run every sample email through the pipeline's extraction and store each request with its answer."""
    provider = ScriptedProvider(answer, model=MODEL)
    for email in SAMPLE_EMAILS:
        with contextlib.suppress(ValidationFailedError):  # e-1007 fails on purpose
            extract_ticket(provider, email)
    store = RecordingStore("07_structured_output")
    for call in provider.calls:
        attempt = sum(m["role"] == "assistant" for m in call.messages) + 1
        sender = call.messages[1]["content"].split("From: ", 1)[1].split("\n", 1)[0]
        store.add_scripted(
            messages=call.messages,
            params=call.params,
            responses=[answer(call.messages, call.params)],
            model=MODEL,
            note=f"Scripted large-model answer, attempt {attempt}: {SHOWS[sender]}.",
        )
    print(f"{len(provider.calls)} scripted calls; wrote {len(store)} entries to {store.save()}")


if __name__ == "__main__":
    main()
