"""Votes, confidence gates and stopping rules for self-consistency, as pure functions (lesson 05).

Like a quorum read across replicas: several answers come in, the most common one wins, and the
share that agreed decides whether the result is trusted (``high``), trusted with a caveat
(``moderate``) or handed to a person (``escalate``).

Ties. A tie is always reported (``VoteResult.tie`` and ``.tied``) and, by default, escalates. The
winner of a tie is chosen by a documented, deterministic policy: ``first_seen`` (the tied answer
whose first vote came from the lowest sample index — samples are indexed by launch order, not
finish order, so this is stable under ``asyncio.gather``), ``lexicographic`` (smallest string, which
does not depend on sample order at all) or ``none`` (no winner).

Abstentions. ``None`` stands for a sample with no usable answer: it votes for nothing but still
counts in the total, so unparseable samples lower the agreement instead of being ignored.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "Decision",
    "GatePolicy",
    "StopRule",
    "TieBreak",
    "VoteResult",
    "gate",
    "is_decided",
    "majority_vote",
    "outcome_fixed",
    "stop_point",
    "weighted_vote",
]

TieBreak = Literal["first_seen", "lexicographic", "none"]
Decision = Literal["high", "moderate", "escalate"]
StopRule = Literal["off", "winner", "decision"]


class VoteResult(BaseModel):
    """The outcome of a vote: winner, counts, scores, ties and abstentions (lesson 05)."""

    model_config = ConfigDict(frozen=True)

    winner: str | None
    counts: dict[str, int]
    """Votes per answer, most votes first (ties in first-seen order)."""
    scores: dict[str, float]
    """What the vote compared: counts for a majority vote, summed weights for a weighted vote."""
    total: int
    """Samples taken, including those with no usable answer."""
    abstained: int = 0
    tie: bool = False
    tied: list[str] = Field(default_factory=list)
    tie_break: TieBreak = "first_seen"

    @property
    def agreement(self) -> float:
        """Share of all samples that voted for the winner (0 when there is none)."""
        if self.winner is None or self.total == 0:
            return 0.0
        return self.counts.get(self.winner, 0) / self.total

    @property
    def distribution(self) -> dict[str, float]:
        """Share of all samples per answer (abstentions are the missing remainder)."""
        return {a: c / self.total for a, c in self.counts.items()} if self.total else {}


def _tally(answers: Sequence[str | None], weights: Sequence[float]) -> tuple[dict, dict, dict]:
    counts: dict[str, int] = {}
    parts: dict[str, list[float]] = {}
    first: dict[str, int] = {}
    for i, (a, w) in enumerate(zip(answers, weights, strict=True)):
        if a is None:
            continue
        first.setdefault(a, i)
        counts[a] = counts.get(a, 0) + 1
        parts.setdefault(a, []).append(w)
    # fsum is exactly rounded, so k equal weights always outscore k-1 of them.
    scores = {a: math.fsum(p) for a, p in parts.items()}
    return counts, scores, first


def _vote(answers: Sequence[str | None], weights: Sequence[float], tie_break: TieBreak) -> VoteResult:
    if tie_break not in ("first_seen", "lexicographic", "none"):
        raise ValueError(f"unknown tie_break {tie_break!r}; use 'first_seen', 'lexicographic' or 'none'")
    counts, scores, first = _tally(answers, weights)
    order = sorted(scores, key=lambda a: (-scores[a], -counts[a], first[a]))
    counts = {a: counts[a] for a in order}
    best = scores[order[0]] if order else 0.0
    tied = [a for a in order if scores[a] == best] if order else []
    if not tied:
        winner = None
    elif len(tied) == 1:
        winner = tied[0]
    elif tie_break == "first_seen":
        winner = min(tied, key=first.__getitem__)
    elif tie_break == "lexicographic":
        winner = min(tied)
    else:
        winner = None
    return VoteResult(
        winner=winner,
        counts=counts,
        scores={a: scores[a] for a in order},
        total=len(answers),
        abstained=sum(a is None for a in answers),
        tie=len(tied) > 1,
        tied=tied if len(tied) > 1 else [],
        tie_break=tie_break,
    )


def majority_vote(answers: Sequence[str | None], *, tie_break: TieBreak = "first_seen") -> VoteResult:
    """Most common answer; ``None`` entries abstain; ties reported and broken by ``tie_break`` (lesson 05)."""
    return _vote(answers, [1.0] * len(answers), tie_break)


def weighted_vote(
    answers: Sequence[str | None],
    weights: Sequence[float | None],
    *,
    tie_break: TieBreak = "first_seen",
    default_weight: float = 1.0,
) -> VoteResult:
    """Answer with the largest summed weight, e.g. logprob confidence (lesson 05).

    A missing weight (``None``: the provider sent no logprobs) counts as ``default_weight``.
    """
    if len(answers) != len(weights):
        raise ValueError(f"{len(answers)} answers but {len(weights)} weights: give one weight per answer")
    resolved = [default_weight if w is None else float(w) for w in weights]
    if any(w < 0 or math.isnan(w) for w in resolved):
        raise ValueError("weights must be non-negative numbers (a confidence in [0, 1] is typical)")
    return _vote(answers, resolved, tie_break)


class GatePolicy(BaseModel):
    """Agreement thresholds: ``>= high`` → high, ``>= moderate`` → moderate, else escalate (lesson 05)."""

    model_config = ConfigDict(frozen=True)

    high: float = Field(0.85, ge=0, le=1)
    moderate: float = Field(0.70, ge=0, le=1)
    escalate_on_tie: bool = True

    @model_validator(mode="after")
    def _ordered(self) -> GatePolicy:
        if self.moderate > self.high:
            raise ValueError(f"moderate ({self.moderate}) must not exceed high ({self.high})")
        return self

    def level(self, agreement: float) -> Decision:
        """The decision for an agreement share, ignoring ties."""
        if agreement >= self.high:
            return "high"
        return "moderate" if agreement >= self.moderate else "escalate"


def gate(vote: VoteResult, policy: GatePolicy | None = None) -> Decision:
    """Map a vote to ``high``, ``moderate`` or ``escalate``; no winner or a tie escalates (lesson 05)."""
    policy = policy or GatePolicy()
    if vote.winner is None or (vote.tie and policy.escalate_on_tie):
        return "escalate"
    return policy.level(vote.agreement)


def is_decided(scores: dict[str, float] | dict[str, int], remaining: int, *, max_weight: float = 1.0) -> bool:
    """True when the leader cannot be caught, not even tied, by ``remaining`` more votes (lesson 05)."""
    ranked = sorted(scores.values(), reverse=True)
    if not ranked:
        return False
    runner_up = ranked[1] if len(ranked) > 1 else 0
    return ranked[0] - runner_up > remaining * max_weight


def outcome_fixed(vote: VoteResult, n: int, rule: StopRule, policy: GatePolicy) -> bool:
    """True when ``vote``, a prefix of an ``n``-sample run, already fixes what ``rule`` names (lesson 05)."""
    remaining = n - vote.total
    if rule == "off" or vote.winner is None or not is_decided(vote.scores, remaining):
        return False
    if rule == "winner":
        return True
    count = vote.counts[vote.winner]
    return policy.level(count / n) == policy.level((count + remaining) / n)


def stop_point(
    answers: Sequence[str | None],
    n: int | None = None,
    *,
    rule: StopRule = "winner",
    policy: GatePolicy | None = None,
) -> int:
    """How many of ``answers``, in order, a run of ``n`` samples needs to fix its outcome (lesson 05).

    ``winner``: the majority winner can no longer change. ``decision``: neither the winner nor the
    gate decision (agreement measured against ``n``) can change, whatever the remaining samples say.
    """
    n = len(answers) if n is None else n
    if n < len(answers):
        raise ValueError(f"n={n} is smaller than the {len(answers)} answers given")
    policy = policy or GatePolicy()
    for k in range(1, len(answers) + 1):
        if outcome_fixed(majority_vote(answers[:k]), n, rule, policy):
            return k
    return len(answers)
