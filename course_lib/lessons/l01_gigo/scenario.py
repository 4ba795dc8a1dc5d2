"""Garbage in, garbage out, measured: how far repeated answers to one request spread (lesson 01).

Sample the same request many times and ask what the answers are *about*. "Money not showing" can
mean a pending deposit, a transfer that has not arrived, an app that shows an old figure, missing
history or a wrong balance; a vague request lets the samples scatter over those readings (or off
topic altogether), a classified, context-injected one should hold them on one. :func:`answer_spread`
turns a list of answers into a few plain numbers: how many are on topic, how many readings they
cover, how many agree on the most common one, and how long they are.

The topic lists are simple keyword sets, a transparent stand-in for a human rater: good enough to
see a large effect, not a substitute for reading the answers.

:data:`BANKING_BATCH` is the lesson's labelled batch of support queries: each query with the tier
or category a good pipeline gives it.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence

from pydantic import BaseModel, ConfigDict

from course_lib.lessons.l01_gigo.banking import (
    KeywordRetriever,
    KnowledgeBase,
    load_banking_kb,
    support_messages,
)

__all__ = [
    "BANKING_BATCH",
    "MONEY_TOPICS",
    "OFF_TOPIC",
    "Spread",
    "answer_spread",
    "grounded_request",
    "primary_topic",
    "topic_hits",
    "vague_request",
]

OFF_TOPIC = "off-topic"
"""The label of an answer that names none of the topics (lesson 01)."""

#: Five readings of "Money not showing", each as a keyword set (whole words, any case).
MONEY_TOPICS: dict[str, tuple[str, ...]] = {
    "deposit": (
        "deposit",
        "deposits",
        "deposited",
        "paycheck",
        "salary",
        "cheque",
        "pending",
        "cleared",
        "hold",
    ),
    "transfer": ("transfer", "transfers", "transferred", "wire", "ach", "recipient", "sender", "sent"),
    "app display": (
        "app",
        "screen",
        "refresh",
        "display",
        "displayed",
        "website",
        "cache",
        "browser",
        "login",
    ),
    "history": ("history", "transaction", "transactions", "statement", "statements", "activity"),
    "balance": ("balance", "balances", "available", "discrepancy", "incorrect", "calculation"),
}

#: The lesson's batch of support queries with what a good pipeline does with each: ``FAQ`` for a
#: canned rule answer, otherwise the intent category (the knowledge base's categories).
BANKING_BATCH: tuple[tuple[str, str], ...] = (
    ("hi, what's your routing number?", "FAQ"),
    ("What are your branch hours on Saturday?", "FAQ"),
    ("I think I lost my debit card at the gym", "FAQ"),
    ("forgot my password again", "FAQ"),
    ("is there a fee if I use another bank's ATM?", "FAQ"),
    ("Money not showing", "BALANCE"),
    ("my paycheck deposit is still pending", "DEPOSIT"),
    ("the app shows an old balance", "BALANCE"),
    ("why was my card declined at the supermarket", "CARD"),
    ("I deposited a check yesterday, when can I use the money?", "DEPOSIT"),
    ("I sent a wire to my landlord on Monday and it still hasn't arrived", "TRANSFER"),
    ("there is a charge of $89 on my account I don't recognise", "FRAUD"),
    ("can I pay off my personal loan early?", "LOAN"),
    ("I want to complain about an overdraft fee", "OTHER"),
    ("someone called me asking for the code you texted and I gave it to them", "FRAUD"),
    ("it's not there", "OTHER"),
)


def vague_request(query: str) -> list[dict[str, str]]:
    """The GIGO violation: the raw query passed straight to a model with no context (lesson 01)."""
    return [{"role": "user", "content": f"Help the user: {query}"}]


def grounded_request(
    query: str, category: str, kb: KnowledgeBase | None = None, *, k: int = 3
) -> list[dict[str, str]]:
    """The same query classified and context-injected: role, rules and the ``k`` best policies (lesson 01).

    The request the banking pipeline's answer step sends (:func:`~course_lib.lessons.l01_gigo.banking.support_messages`).
    """
    kb = kb or load_banking_kb()
    docs = KeywordRetriever(kb.policies)(query, category, k)
    role = kb.roles.get(category, "customer support specialist")
    return support_messages(query, category, docs, bank=kb.bank, role=role)


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def topic_hits(text: str, topics: Mapping[str, Sequence[str]] = MONEY_TOPICS) -> dict[str, int]:
    """How many of each topic's keywords occur in ``text`` as whole words, any case (lesson 01)."""
    words = Counter(_words(text))
    return {name: sum(words[k.lower()] for k in keywords) for name, keywords in topics.items()}


def primary_topic(text: str, topics: Mapping[str, Sequence[str]] = MONEY_TOPICS) -> str:
    """The topic with the most keyword hits (ties: the one listed first), or :data:`OFF_TOPIC` (lesson 01)."""
    hits = topic_hits(text, topics)
    best = max(hits.values(), default=0)
    if best == 0:
        return OFF_TOPIC
    return next(name for name, n in hits.items() if n == best)


class Spread(BaseModel):
    """How far a set of answers to one request spread, as plain numbers (lesson 01)."""

    model_config = ConfigDict(frozen=True)

    samples: int
    distinct: int
    """Answers that differ after lower-casing and collapsing whitespace."""
    topics: dict[str, int]
    """How many answers have each topic (or :data:`OFF_TOPIC`) as their main one, in topic order."""
    mean_words: float
    sd_words: float
    """Population standard deviation of the answers' lengths in words."""

    @property
    def on_topic(self) -> int:
        """Answers that name at least one topic."""
        return self.samples - self.topics.get(OFF_TOPIC, 0)

    @property
    def on_topic_share(self) -> float:
        """The share of answers that name at least one topic (0 for no answers)."""
        return self.on_topic / self.samples if self.samples else 0.0

    @property
    def readings(self) -> int:
        """How many different topics the on-topic answers have as their main one."""
        return sum(1 for name, n in self.topics.items() if n and name != OFF_TOPIC)

    @property
    def top_topic(self) -> str | None:
        """The most common main topic among on-topic answers (ties: listed first), or None."""
        best = max((n for name, n in self.topics.items() if name != OFF_TOPIC), default=0)
        return (
            next((name for name, n in self.topics.items() if n == best and name != OFF_TOPIC), None)
            if best
            else None
        )

    @property
    def top_topic_share(self) -> float:
        """The share of *all* answers whose main topic is :attr:`top_topic`: how far the samples agree."""
        return self.topics[self.top_topic] / self.samples if self.top_topic else 0.0


def answer_spread(texts: Sequence[str], *, topics: Mapping[str, Sequence[str]] = MONEY_TOPICS) -> Spread:
    """Measure the spread of repeated answers to one request (lesson 01)."""
    mains = Counter(primary_topic(t, topics) for t in texts)
    lengths = [len(t.split()) for t in texts]
    mean = sum(lengths) / len(lengths) if lengths else 0.0
    sd = math.sqrt(sum((n - mean) ** 2 for n in lengths) / len(lengths)) if lengths else 0.0
    return Spread(
        samples=len(texts),
        distinct=len({" ".join(t.lower().split()) for t in texts}),
        topics={name: mains.get(name, 0) for name in [*topics, OFF_TOPIC]},
        mean_words=mean,
        sd_words=sd,
    )
