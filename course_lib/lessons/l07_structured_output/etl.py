"""The support-email ETL of lesson 07: ticket schema, prompt, a validated pipeline and its dead-letter queue.

An email comes in; the pipeline asks a model for a :class:`SupportTicket`, validates it (JSON mode,
pydantic, self-correction through :func:`~course_lib.validators.generate_validated`) and loads it into
the CRM. An email that still fails after the last attempt, or whose call failed, is not dropped and
does not block the batch: it goes to the :class:`~course_lib.dlq.DeadLetterQueue` with every attempt,
where a person resolves it with corrected data (validated by the same schema) or it is replayed once
the cause is fixed. Each email's status is committed in SQLite by a
:class:`~course_lib.batch.BatchRunner`, so a crash mid-batch loses nothing.

Pure pieces (schema, prompt, outcome bookkeeping) are separate from the I/O the pipeline is handed:
the provider, the dead-letter queue and ``load``, the function that writes a ticket to the CRM.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationInfo, model_validator

from course_lib.batch import BatchRunner
from course_lib.dlq import DeadLetterQueue
from course_lib.validators import Validated, generate_validated

__all__ = [
    "EMAIL_PATTERN",
    "SAMPLE_EMAILS",
    "TICKET_PARAMS",
    "TICKET_SYSTEM_PROMPT",
    "EtlOutcome",
    "IssueType",
    "SupportEmail",
    "SupportTicket",
    "TicketStore",
    "email_processor",
    "extract_ticket",
    "resolve_and_load",
    "run_etl",
    "ticket_messages",
]

#: A pragmatic email shape; pydantic's ``EmailStr`` needs the optional ``email-validator`` (lesson 07).
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$"


class IssueType(str, Enum):
    """The kinds of support request the CRM knows (lesson 07)."""

    REFUND_REQUEST = "refund_request"
    DELIVERY_ISSUE = "delivery_issue"
    PRODUCT_DEFECT = "product_defect"
    GENERAL_INQUIRY = "general_inquiry"


class SupportTicket(BaseModel):
    """What the CRM needs from a support email, validated (lesson 07).

    With ``context={"received": date}`` the order date must not be later than the day the email
    arrived (a model that "calculates" a relative date can land in the future).
    """

    customer_email: str = Field(pattern=EMAIL_PATTERN)
    order_id: str = Field(pattern=r"^[0-9]{5}$", description="exactly five ASCII digits")
    issue_type: IssueType
    order_date: date
    customer_name: str = Field(min_length=1)

    @model_validator(mode="after")
    def _not_after_received(self, info: ValidationInfo) -> SupportTicket:
        received = (info.context or {}).get("received")
        if received is not None and self.order_date > received:
            raise ValueError(
                f"order_date {self.order_date.isoformat()} is after the email was received "
                f"({received.isoformat()}); count relative dates back from the received date"
            )
        return self


class SupportEmail(BaseModel):
    """One incoming support email: id, sender, subject, body and the day it arrived (lesson 07)."""

    id: str
    sender: str
    subject: str
    body: str
    received: date

    def as_text(self) -> str:
        """The email as the model reads it."""
        return f"From: {self.sender}\nSubject: {self.subject}\n\n{self.body}"


#: Eight support emails for the checkpoint, written by the course; the answers are scripted (lesson 07).
SAMPLE_EMAILS: tuple[SupportEmail, ...] = tuple(
    SupportEmail(id=i, sender=f, subject=s, body=b, received=date.fromisoformat(r))
    for i, f, s, b, r in [
        (
            "e-1001",
            "alice.johnson@example.com",
            "Refund please",
            "Hi, my order #12345 still hasn't arrived. I ordered it on 1 December and it has been three "
            "weeks now. Could I have my money back?\nThanks, Alice Johnson",
            "2024-12-22",
        ),
        (
            "e-1002",
            "bruno.costa@example.com",
            "Where is my parcel?",
            "Tracking for order 23817 says it was delivered yesterday, but nothing is at my door. "
            "I ordered on 3 December.\nBruno Costa",
            "2024-12-10",
        ),
        (
            "e-1003",
            "chen.li@example.com",
            "Kettle leaks",
            "The kettle from order 40552, bought on 28 November, leaks from the base.\nChen Li",
            "2024-12-05",
        ),
        (
            "e-1004",
            "dana.white@example.com",
            "Shipping to Norway?",
            "Do you ship to Norway? I'd like to send a gift like my last order (31200, placed on "
            "2 December).\nDana White",
            "2024-12-09",
        ),
        (
            "e-1005",
            "emil.novak@example.com",
            "Broken lamp",
            "I ordered a desk lamp two weeks ago (order 51873) and it arrived with a cracked shade.\n"
            "Emil Novak",
            "2024-12-20",
        ),
        (
            "e-1006",
            "fiona.grant@example.com",
            "Still waiting",
            "Order 66120 from 30 November has not shipped yet. What is going on?\nFiona Grant",
            "2024-12-12",
        ),
        (
            "e-1007",
            "gus.moreau@example.com",
            "Invoice A-7731",
            "My invoice A-7731 from 4 December shows the wrong amount; I was charged twice. Please refund "
            "the extra charge.\nGus Moreau",
            "2024-12-11",
        ),
        (
            "e-1008",
            "hana.sato@example.com",
            "Wrong size",
            "The shoes in order 80314 (ordered 6 December) are a size too small. Can I get a refund?\n"
            "Hana Sato",
            "2024-12-16",
        ),
    ]
)


#: The ticket extraction's system prompt: the schema in words (lesson 07).
TICKET_SYSTEM_PROMPT = """\
You turn customer support emails into tickets for a CRM. Reply with one JSON object and nothing else.
Keys:
- "customer_email": the sender's email address
- "order_id": the order number, exactly five digits, as a string
- "issue_type": one of "refund_request", "delivery_issue", "product_defect", "general_inquiry"
- "order_date": the date of the order as YYYY-MM-DD; turn relative dates ("3 weeks ago") into a date \
counted back from the day the email was received
- "customer_name": the customer's full name"""

#: Parameters of every extraction call: deterministic, JSON mode on (layer 2) (lesson 07).
TICKET_PARAMS: dict[str, Any] = {"temperature": 0, "response_format": {"type": "json_object"}}


def ticket_messages(email: SupportEmail) -> list[dict[str, str]]:
    """The extraction request for one email: the schema in the system prompt, the email as the user turn (lesson 07)."""
    user = f"Received: {email.received.isoformat()}\n\n{email.as_text()}"
    return [
        {"role": "system", "content": TICKET_SYSTEM_PROMPT},
        {"role": "user", "content": user},
    ]


def extract_ticket(
    provider: Any,
    email: SupportEmail,
    *,
    max_attempts: int = 3,
    params: Mapping[str, Any] | None = None,
) -> Validated[SupportTicket]:
    """One email through all four layers; raises ``ValidationFailedError`` after ``max_attempts`` (lesson 07)."""
    return generate_validated(
        provider,
        ticket_messages(email),
        SupportTicket,
        max_attempts,
        params=dict(TICKET_PARAMS if params is None else params),
        context={"received": email.received},
    )


class TicketStore:
    """An in-memory CRM: ``load(email_id, ticket)`` is idempotent, keyed by the email id (lesson 07).

    Idempotence matters: after a crash the batch runner may run the one email that was in flight
    again, and loading it twice must still leave one ticket.
    """

    def __init__(self) -> None:
        self.tickets: dict[str, SupportTicket] = {}
        self.loads = 0

    def load(self, email_id: str, ticket: SupportTicket) -> None:
        """Create or overwrite the ticket of ``email_id``."""
        self.loads += 1
        self.tickets[email_id] = ticket

    def __len__(self) -> int:
        return len(self.tickets)


Loader = Callable[[str, SupportTicket], Any]


def email_processor(
    provider: Any,
    load: Loader,
    *,
    max_attempts: int = 3,
    params: Mapping[str, Any] | None = None,
) -> Callable[[Any], dict[str, Any]]:
    """``payload -> result``: validate the stored email, extract, load; for batches and DLQ replays (lesson 07)."""

    def process(payload: Any) -> dict[str, Any]:
        email = SupportEmail.model_validate(payload)
        validated = extract_ticket(provider, email, max_attempts=max_attempts, params=params)
        load(email.id, validated.value)
        return {
            "ticket": validated.value.model_dump(mode="json"),
            "attempts": len(validated.attempts),
            "tokens": validated.usage.total_tokens,
        }

    return process


@dataclass(frozen=True)
class EtlOutcome:
    """What happened to one email: loaded or dead-lettered, after how many attempts and tokens (lesson 07)."""

    email_id: str
    status: Literal["loaded", "dead_lettered"]
    attempts: int
    tokens: int
    detail: str
    """The ticket's issue type when loaded, the last error's first line when dead-lettered."""


def _attempt_tokens(attempt: Mapping[str, Any]) -> int:
    usage = attempt.get("usage") or {}
    return int(usage.get("prompt_tokens", 0)) + int(usage.get("completion_tokens", 0))


def _first_line(error: str) -> str:
    lines = [line for line in error.splitlines() if line.strip()]
    return " / ".join(lines[:3]) if lines else ""


def run_etl(
    provider: Any,
    emails: Iterable[SupportEmail],
    *,
    dlq: DeadLetterQueue,
    load: Loader,
    batch_id: str,
    max_attempts: int = 3,
    params: Mapping[str, Any] | None = None,
) -> list[EtlOutcome]:
    """Run a batch of emails: each one is loaded or dead-lettered, never lost; safe to re-run (lesson 07).

    The emails' statuses live in the DLQ's database (a :class:`BatchRunner`); a dead-lettered email's
    DLQ id is ``"{batch_id}/{email.id}"``. Returns one :class:`EtlOutcome` per email, in order.
    """
    emails = list(emails)
    process = email_processor(provider, load, max_attempts=max_attempts, params=params)
    runner = BatchRunner(dlq, lambda item_id, payload: process(payload))
    runner.enqueue(batch_id, [(e.id, e.model_dump(mode="json")) for e in emails])
    runner.run(batch_id)
    results = runner.results(batch_id)
    outcomes = []
    for email in emails:
        if email.id in results:
            done = results[email.id]
            outcomes.append(
                EtlOutcome(email.id, "loaded", done["attempts"], done["tokens"], done["ticket"]["issue_type"])
            )
            continue
        letter = dlq.get(f"{batch_id}/{email.id}")
        tried = [a for a in letter.attempts if a.get("raw") is not None]
        tokens = sum(_attempt_tokens(a) for a in tried)
        last = str(letter.attempts[-1].get("error") or letter.reason) if letter.attempts else letter.reason
        outcomes.append(EtlOutcome(email.id, "dead_lettered", len(tried), tokens, _first_line(last)))
    return outcomes


def resolve_and_load(
    dlq: DeadLetterQueue, item_id: str, data: Mapping[str, Any] | str, load: Loader, *, by: str
) -> SupportTicket:
    """A person's correction: validated as a :class:`SupportTicket`, recorded in the DLQ, then loaded (lesson 07).

    Invalid data raises :class:`~course_lib.dlq.ResolutionRejectedError` and the item stays pending.
    The resolution is committed before loading, so a failed load can be redone from the DLQ.
    """
    ticket = dlq.resolve(item_id, data, SupportTicket, by=by)
    email_id = item_id.rsplit("/", 1)[-1]
    load(email_id, ticket)
    return ticket
