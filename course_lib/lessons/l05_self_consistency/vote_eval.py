"""Measuring self-consistency: accuracy, agreement and cost of an N-sample vote, from a recorded pool (lesson 05).

A measured experiment records a *pool* of samples per question (say 21 answers at temperature 0.7).
To learn what an N-sample vote would have done, draw N of the pool many times with a seeded random
generator (or take every N-subset when there are few), vote each draw, and average: :func:`vote_curve` does that for several N at once, for the
majority and the logprob-weighted vote on the *same* draws. :func:`gate_tradeoff` adds a confidence
gate and reports how many questions were answered automatically and how often those answers were
right. :func:`condorcet_accuracy` is the textbook value for independent votes, to compare with.

The functions that measure are pure: they take answers, weights and token counts, never a provider.
:data:`QUIZ` and :func:`collect_pools` are the experiment itself: the questions with known answers, and
the (injected) provider calls that fill a pool per question.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from course_lib.answers import AnswerKind, extract_answer
from course_lib.quorum import GatePolicy, gate, majority_vote, weighted_vote

__all__ = [
    "QUIZ",
    "QUIZ_SHOTS",
    "QUIZ_SYSTEM",
    "CurvePoint",
    "GateOutcome",
    "QuestionPool",
    "QuizItem",
    "collect_pools",
    "condorcet_accuracy",
    "draw_indices",
    "gate_tradeoff",
    "index_sets",
    "pool_accuracy",
    "quiz_messages",
    "vote_curve",
]


class QuizItem(BaseModel):
    """A question with a known answer, and how to read a sample's answer to it (lesson 05)."""

    model_config = ConfigDict(frozen=True)

    question: str
    gold: str
    kind: Literal["number", "yesno", "label"]

    def extract(self, text: str | None) -> str | None:
        """This question's answer in a sample's text (``None`` when there is none)."""
        kind: AnswerKind = self.kind
        return extract_answer(text, kind=kind, labels=("A", "B", "C") if kind == "label" else None)


QUIZ_SYSTEM = "You answer quiz questions. Reply with the answer only: a number, yes or no, or a letter."
"""The quiz prompt's system message (lesson 05)."""
QUIZ_SHOTS = (
    ("What is 1 + 1?", "2"),
    ("Is fire hot? Answer yes or no.", "yes"),
    ("Which is a fruit? A) apple B) chair C) car", "A"),
)
"""Three worked examples, one per answer kind, sent before every quiz question (lesson 05)."""
QUIZ: tuple[QuizItem, ...] = (
    QuizItem(question="What is 2 times 2?", gold="4", kind="number"),
    QuizItem(question="What is 7 + 6?", gold="13", kind="number"),
    QuizItem(question="What is 4 times 3?", gold="12", kind="number"),
    QuizItem(question="What is 10 minus 4?", gold="6", kind="number"),
    QuizItem(question="Is fire cold? Answer yes or no.", gold="no", kind="yesno"),
    QuizItem(question="Is a rock alive? Answer yes or no.", gold="no", kind="yesno"),
    QuizItem(question="Is water wet? Answer yes or no.", gold="yes", kind="yesno"),
    QuizItem(question="Do birds have wings? Answer yes or no.", gold="yes", kind="yesno"),
    QuizItem(question="Is a cat a mammal? Answer yes or no.", gold="yes", kind="yesno"),
    QuizItem(question="Which is a colour? A) red B) table C) dog", gold="A", kind="label"),
    QuizItem(question="Which is an animal? A) spoon B) horse C) cloud", gold="B", kind="label"),
    QuizItem(question="Which is a number? A) tree B) blue C) seven", gold="C", kind="label"),
)
"""The lesson 05 experiment: easy questions a 135M model sometimes gets right, with their answers."""


def quiz_messages(question: str) -> list[dict[str, str]]:
    """The few-shot quiz prompt for one question: system rule, three worked examples, the question (lesson 05)."""
    messages = [{"role": "system", "content": QUIZ_SYSTEM}]
    for asked, answered in QUIZ_SHOTS:
        messages += [{"role": "user", "content": asked}, {"role": "assistant", "content": answered}]
    return [*messages, {"role": "user", "content": question}]


class QuestionPool(BaseModel):
    """The recorded samples of one question: answers, confidences, tokens, and the known answer (lesson 05)."""

    model_config = ConfigDict(frozen=True)

    question: str
    gold: str
    answers: list[str | None]
    confidences: list[float | None] = Field(default_factory=list)
    """One per answer (``None``: no logprobs); empty means every weight is 1."""
    tokens: list[int] = Field(default_factory=list)
    """Prompt + completion tokens of each sample; empty means unknown (counted as 0)."""
    texts: list[str] = Field(default_factory=list)
    """The samples' raw text, when kept."""

    def weights(self) -> list[float | None]:
        """The confidences, or ``None`` for every sample when none were recorded."""
        return list(self.confidences) if self.confidences else [None] * len(self.answers)

    def mean_tokens(self) -> float:
        """Average tokens one sample of this question costs."""
        return sum(self.tokens) / len(self.tokens) if self.tokens else 0.0


class CurvePoint(BaseModel):
    """What an N-sample vote achieves on a set of questions, averaged over seeded draws (lesson 05)."""

    model_config = ConfigDict(frozen=True)

    n: int
    majority_accuracy: float
    weighted_accuracy: float
    agreement: float
    """Mean share of the N samples that voted for the majority winner."""
    tie_rate: float
    """Share of draws whose majority vote was a tie."""
    tokens_per_question: float
    per_question: dict[str, float]
    """Majority-vote accuracy per question."""


class GateOutcome(BaseModel):
    """A vote plus a confidence gate: coverage, accuracy of what was answered, tokens (lesson 05)."""

    model_config = ConfigDict(frozen=True)

    n: int
    answered: float
    """Share of draws answered automatically (gate said ``high`` or ``moderate``)."""
    escalated: float
    accuracy_answered: float | None
    """Accuracy among the answered draws (``None`` when nothing was answered)."""
    wrong_answered: float
    """Share of *all* draws that were answered automatically and wrong: what reaches a user unchecked."""
    tokens_per_question: float


def pool_accuracy(pool: QuestionPool) -> float:
    """Share of a question's recorded samples that are right: the single-sample accuracy (lesson 05)."""
    if not pool.answers:
        raise ValueError(f"question {pool.question!r} has no samples")
    return sum(a == pool.gold for a in pool.answers) / len(pool.answers)


def draw_indices(
    pool_size: int, n: int, draws: int, *, seed: int = 0, replace: bool = False
) -> list[list[int]]:
    """``draws`` seeded draws of ``n`` sample indices out of ``pool_size`` (lesson 05).

    Without replacement (the default) every vote uses ``n`` distinct recorded samples, so no sample
    votes twice; with ``replace=True`` it is the classic bootstrap.
    """
    if n < 1 or draws < 1:
        raise ValueError(f"n and draws must be at least 1, got n={n}, draws={draws}")
    if not replace and n > pool_size:
        raise ValueError(f"cannot draw {n} distinct samples from a pool of {pool_size}; record more samples")
    rng = random.Random(seed)
    if replace:
        return [[rng.randrange(pool_size) for _ in range(n)] for _ in range(draws)]
    return [rng.sample(range(pool_size), n) for _ in range(draws)]


def index_sets(
    pool_size: int, n: int, draws: int, *, seed: int = 0, replace: bool = False
) -> list[list[int]]:
    """Every N-subset of the pool when there are at most ``draws`` of them, else seeded draws (lesson 05).

    So N = 1 (and any small pool) is computed exactly, and large N is estimated.
    """
    if not replace and 1 <= n <= pool_size and math.comb(pool_size, n) <= draws:
        return [list(c) for c in itertools.combinations(range(pool_size), n)]
    return draw_indices(pool_size, n, draws, seed=seed, replace=replace)


def _mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values) if values else 0.0


def vote_curve(
    pools: Sequence[QuestionPool],
    ns: Sequence[int] = (1, 3, 5, 7, 11),
    *,
    draws: int = 200,
    seed: int = 0,
    replace: bool = False,
) -> list[CurvePoint]:
    """Majority and weighted vote accuracy, agreement and tokens for each N, on the same seeded draws (lesson 05).

    Accuracy counts a tie as right only when the tie-break (first seen) picks the known answer. Where
    a pool has at most ``draws`` distinct N-subsets (always for N = 1) all of them are voted, exactly.
    """
    if not pools:
        raise ValueError("no questions: give at least one QuestionPool")
    points = []
    for n in ns:
        majority, weighted, agreement, ties, per_question = [], [], [], [], {}
        for q_index, pool in enumerate(pools):
            right = []
            weights = pool.weights()
            for idx in index_sets(len(pool.answers), n, draws, seed=seed + 1000 * q_index, replace=replace):
                answers = [pool.answers[i] for i in idx]
                vote = majority_vote(answers)
                wvote = weighted_vote(answers, [weights[i] for i in idx])
                right.append(float(vote.winner == pool.gold))
                weighted.append(float(wvote.winner == pool.gold))
                agreement.append(vote.agreement)
                ties.append(float(vote.tie))
            majority += right
            per_question[pool.question] = _mean(right)
        points.append(
            CurvePoint(
                n=n,
                majority_accuracy=_mean(majority),
                weighted_accuracy=_mean(weighted),
                agreement=_mean(agreement),
                tie_rate=_mean(ties),
                tokens_per_question=n * _mean([p.mean_tokens() for p in pools]),
                per_question=per_question,
            )
        )
    return points


def gate_tradeoff(
    pools: Sequence[QuestionPool],
    n: int,
    policy: GatePolicy | None = None,
    *,
    draws: int = 200,
    seed: int = 0,
    replace: bool = False,
) -> GateOutcome:
    """Vote ``n`` samples, gate the agreement, and measure coverage and accuracy of what passes (lesson 05)."""
    policy = policy or GatePolicy()
    answered = wrong = right = total = 0
    for q_index, pool in enumerate(pools):
        for idx in index_sets(len(pool.answers), n, draws, seed=seed + 1000 * q_index, replace=replace):
            vote = majority_vote([pool.answers[i] for i in idx])
            total += 1
            if gate(vote, policy) == "escalate":
                continue
            answered += 1
            if vote.winner == pool.gold:
                right += 1
            else:
                wrong += 1
    if total == 0:
        raise ValueError("no questions: give at least one QuestionPool")
    return GateOutcome(
        n=n,
        answered=answered / total,
        escalated=1 - answered / total,
        accuracy_answered=right / answered if answered else None,
        wrong_answered=wrong / total,
        tokens_per_question=n * _mean([p.mean_tokens() for p in pools]),
    )


def condorcet_accuracy(p: float, n: int) -> float:
    """Chance that a strict majority of ``n`` independent yes/no votes, each right with chance ``p``, is right (lesson 05).

    A tie (even ``n``) counts as half right, as a coin toss would. Real samples of one model are not
    independent, which is why measured curves fall short of this one.
    """
    if not 0 <= p <= 1:
        raise ValueError(f"p must be a probability in [0, 1], got {p}")
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    total = 0.0
    for k in range(n + 1):
        chance = math.comb(n, k) * p**k * (1 - p) ** (n - k)
        if 2 * k > n:
            total += chance
        elif 2 * k == n:
            total += chance / 2
    return total


def collect_pools(
    provider: Any,
    quiz: Sequence[QuizItem] = QUIZ,
    *,
    samples: int = 21,
    temperature: float = 0.7,
    max_tokens: int = 10,
    top_logprobs: int = 3,
    concurrency: int = 1,
) -> list[QuestionPool]:
    """Sample every quiz question ``samples`` times with logprobs and keep the answers as pools (lesson 05).

    The provider is injected: the local model while recording, the replay provider in the lesson.
    """
    from course_lib.voting import run_sync, sample_answers

    pools = []
    for item in quiz:
        drawn = run_sync(
            lambda item=item: sample_answers(
                provider,
                quiz_messages(item.question),
                samples,
                concurrency=concurrency,
                temperature=temperature,
                extract=item.extract,
                confidence_span="all",
                max_tokens=max_tokens,
                logprobs=True,
                top_logprobs=top_logprobs,
            )
        )
        pools.append(
            QuestionPool(
                question=item.question,
                gold=item.gold,
                answers=[s.answer for s in drawn],
                confidences=[s.confidence for s in drawn],
                tokens=[s.usage.total_tokens for s in drawn],
                texts=[s.text for s in drawn],
            )
        )
    return pools
