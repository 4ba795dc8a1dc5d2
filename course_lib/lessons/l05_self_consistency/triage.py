"""A worked safety-critical system: medical triage with rules, self-consistency and human review (lesson 05).

Defence in depth, cheapest and most certain layer first:

1. **Red-flag rules.** Regular expressions look for emergency signs (chest pain, trouble breathing,
   stroke signs …). A hit returns ``ER_NOW`` at once; no model is called. The rules ignore negation
   on purpose: "no chest pain" also escalates, because a needless ER visit is tolerable and a missed
   emergency is not.
2. **Self-consistency with gating.** ``n`` samples vote; high agreement is answered automatically,
   moderate agreement is answered with a caveat, anything else escalates. By default a single
   sample recommending ``ER_NOW`` is enough to stop the system from auto-answering something milder.
3. **Human review.** Escalated cases wait in a :class:`ReviewQueue` until a clinician resolves them.

Every case returns a :class:`TriageRecord`: which tier handled it, the votes, the agreement, the
tokens spent. This is teaching code, not a medical device.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from course_lib.answers import extract_answer
from course_lib.providers.base import Usage
from course_lib.quorum import Decision, GatePolicy
from course_lib.review import ReviewItem, ReviewQueue
from course_lib.voting import aself_consistency, run_sync

__all__ = [
    "DEFAULT_RED_FLAGS",
    "ESCALATE",
    "TRIAGE_LABELS",
    "RedFlag",
    "ReviewItem",
    "ReviewQueue",
    "Tier",
    "TriagePipeline",
    "TriageRecord",
    "extract_triage_label",
    "find_red_flags",
    "triage_messages",
]

TRIAGE_LABELS = ("ER_NOW", "SCHEDULE_APPOINTMENT", "MONITOR_HOME")
"""The answers a sample may give, most urgent first."""
ESCALATE = "ESCALATE_HUMAN"
Tier = Literal["rules", "model_high", "model_moderate", "human"]


class RedFlag(BaseModel):
    """A named emergency sign and the case-insensitive regex that finds it (lesson 05)."""

    model_config = ConfigDict(frozen=True)

    name: str
    pattern: str

    def search(self, text: str) -> bool:
        """True when the sign appears anywhere in ``text`` (``re.search``, not ``re.match``)."""
        return re.search(self.pattern, text, re.IGNORECASE) is not None


DEFAULT_RED_FLAGS: tuple[RedFlag, ...] = (
    RedFlag(
        name="chest pain", pattern=r"\bchest\s+(?:pain|pressure|tightness)|\bpain\s+in\s+(?:\w+\s+)?chest"
    ),
    RedFlag(
        name="trouble breathing",
        pattern=r"\b(?:difficulty|trouble|struggling)\s+breathing|\bshort(?:ness)?\s+of\s+breath"
        r"|\bcan(?:no|')?t\s+(?:breathe|catch\s+(?:my|his|her|their)\s+breath)",
    ),
    RedFlag(
        name="severe bleeding",
        pattern=r"\b(?:severe|heavy|uncontrolled|profuse)\s+bleeding"
        r"|\bbleeding\s+(?:that\s+)?(?:won'?t|will\s+not|does\s*n[o']?t)\s+stop",
    ),
    RedFlag(
        name="loss of consciousness",
        pattern=r"\b(?:loss\s+of|lost)\s+consciousness|\bunconscious|\bunresponsive|\bpassed\s+out|\bfaint(?:ed|ing)\b",
    ),
    RedFlag(
        name="stroke signs",
        pattern=r"\bstroke\b|\bface\s+(?:is\s+)?droop|\bdrooping\s+face|\bslurred\s+speech"
        r"|\b(?:weakness|numbness)\s+(?:on|in|of)\s+one\s+side",
    ),
    RedFlag(name="seizure", pattern=r"\bseizures?\b|\bconvuls"),
    RedFlag(
        name="anaphylaxis",
        pattern=r"\bthroat\s+(?:is\s+)?(?:closing|swelling)|\banaphyla|\btongue\s+swelling",
    ),
    RedFlag(name="self-harm", pattern=r"\bsuicid|\bkill\s+(?:myself|himself|herself)|\bend\s+my\s+life"),
)


def find_red_flags(symptoms: str, rules: Sequence[RedFlag] = DEFAULT_RED_FLAGS) -> list[str]:
    """Names of the red flags found anywhere in ``symptoms`` (lesson 05)."""
    return [rule.name for rule in rules if rule.search(symptoms)]


def triage_messages(symptoms: str) -> list[dict[str, str]]:
    """The chain-of-thought triage prompt; it asks for a last line ``Answer: <LEVEL>`` (lesson 05)."""
    return [
        {
            "role": "system",
            "content": "You are a careful medical triage assistant. You never diagnose; you choose how "
            "urgently the patient should be seen. When unsure, choose the more urgent level.",
        },
        {
            "role": "user",
            "content": f"Symptoms: {symptoms}\n\n"
            "Think step by step: list the symptoms, judge their severity, check for emergency signs. "
            f"Then give the level on a last line of the form 'Answer: <LEVEL>', where LEVEL is one of "
            f"{', '.join(TRIAGE_LABELS)}.",
        },
    ]


def extract_triage_label(text: str | None) -> str | None:
    """The triage level a sample chose: a JSON ``recommendation`` field or an ``Answer:`` line (lesson 05)."""
    if not text:
        return None
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        try:
            data = json.loads(text[start : end + 1])
        except ValueError:
            data = None
        if isinstance(data, dict):
            for key in ("recommendation", "step4_recommendation", "triage", "level"):
                if isinstance(data.get(key), str):
                    return extract_answer(f"Answer: {data[key]}", labels=TRIAGE_LABELS)
    return extract_answer(text, labels=TRIAGE_LABELS)


class TriageRecord(BaseModel):
    """What happened to one case: tier, recommendation, votes, agreement and tokens (lesson 05)."""

    model_config = ConfigDict(frozen=True)

    case_id: str
    symptoms: str
    tier: Tier
    recommendation: str
    """A triage level, or ``ESCALATE_HUMAN`` when a person must decide."""
    reason: str
    red_flags: list[str] = Field(default_factory=list)
    votes: dict[str, int] = Field(default_factory=dict)
    confidence: float = 0.0
    """Share of samples that agreed with the winner (1.0 for the rule tier)."""
    decision: Decision | None = None
    model_calls: int = 0
    tokens: Usage = Field(default_factory=Usage)
    failed_samples: int = 0

    @property
    def escalated(self) -> bool:
        """True when the case went to the human review queue."""
        return self.tier == "human"


class TriagePipeline:
    """Rules → self-consistency with gating → human review queue (lesson 05)."""

    def __init__(
        self,
        provider: Any,
        *,
        n: int = 7,
        policy: GatePolicy | None = None,
        red_flags: Sequence[RedFlag] = DEFAULT_RED_FLAGS,
        queue: ReviewQueue | None = None,
        concurrency: int = 7,
        temperature: float = 0.7,
        urgent_vote_escalates: bool = True,
        **params: Any,
    ) -> None:
        self.provider = provider
        self.n = n
        self.policy = policy or GatePolicy(high=0.85, moderate=0.70)
        self.red_flags = tuple(red_flags)
        self.queue = queue if queue is not None else ReviewQueue(decisions=TRIAGE_LABELS)
        self.concurrency = concurrency
        self.temperature = temperature
        self.urgent_vote_escalates = urgent_vote_escalates
        self.params = params
        self._ids = itertools.count(1)

    async def atriage(self, symptoms: str, case_id: str | None = None) -> TriageRecord:
        """Triage one case (async)."""
        if not symptoms or not symptoms.strip():
            raise ValueError("symptoms are empty: describe what the patient reports")
        case_id = case_id or f"case-{next(self._ids):04d}"
        flags = find_red_flags(symptoms, self.red_flags)
        if flags:
            return TriageRecord(
                case_id=case_id,
                symptoms=symptoms,
                tier="rules",
                recommendation="ER_NOW",
                reason=f"red flag: {', '.join(flags)}; seek emergency care now",
                red_flags=flags,
                confidence=1.0,
            )
        result = await aself_consistency(
            self.provider,
            triage_messages(symptoms),
            self.n,
            policy=self.policy,
            concurrency=self.concurrency,
            temperature=self.temperature,
            extract=extract_triage_label,
            on_error="abstain",
            **self.params,
        )
        vote = result.vote
        common = {
            "case_id": case_id,
            "symptoms": symptoms,
            "votes": vote.counts,
            "confidence": vote.agreement,
            "decision": result.decision,
            "model_calls": len(result.samples),
            "tokens": result.usage,
            "failed_samples": sum(s.error is not None for s in result.samples),
        }
        reason = ""
        if result.decision == "escalate":
            if vote.tie:
                reason = f"tie between {' and '.join(vote.tied)}: a person must decide"
            else:
                reason = (
                    f"agreement {vote.agreement:.0%} is below the {self.policy.moderate:.0%} needed to answer"
                )
        elif self.urgent_vote_escalates and vote.winner != "ER_NOW" and vote.counts.get("ER_NOW"):
            reason = f"{vote.counts['ER_NOW']} of {vote.total} samples recommended ER_NOW"
        if reason:
            self.queue.add(case_id, symptoms, reason, votes=vote.counts, confidence=vote.agreement)
            return TriageRecord(tier="human", recommendation=ESCALATE, reason=reason, **common)
        tier: Tier = "model_high" if result.decision == "high" else "model_moderate"
        note = "" if tier == "model_high" else "; moderate agreement: confirm with a clinician if in doubt"
        return TriageRecord(
            tier=tier,
            recommendation=vote.winner or ESCALATE,
            reason=f"{vote.agreement:.0%} of samples agree{note}",
            **common,
        )

    def triage(self, symptoms: str, case_id: str | None = None) -> TriageRecord:
        """Triage one case; blocking, safe in a notebook cell."""
        return run_sync(lambda: self.atriage(symptoms, case_id))
