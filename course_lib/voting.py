"""Self-consistency: sample N answers in parallel, vote, and gate on agreement (lesson 05).

:func:`aself_consistency` fans one prompt out to ``n`` samples at temperature > 0 with bounded
concurrency (an ``asyncio.Semaphore``), extracts a comparable answer from each
(:mod:`course_lib.answers`), takes a majority or logprob-weighted vote and gates the agreement into
``high`` / ``moderate`` / ``escalate`` (:mod:`course_lib.quorum`, re-exported here).

Replay. Sample ``i`` runs inside ``sample_scope(i)`` (``course_lib.providers.replay.scope``), so under the
replay transport it always gets the ``i``-th recorded response whatever order the calls finish in.
Any other context-manager factory can be passed as ``scope=``.

Early stopping samples in batches and stops once the remaining samples cannot change the outcome:
``"winner"`` (the winner is fixed; the gate then judges the samples drawn) or ``"decision"`` (the
winner and the gate decision are both fixed, agreement counted against the planned ``n``).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .answers import Extractor, extract_answer, logprob_confidence
from .providers.base import ChatResult, Message, ProviderError, Usage
from .quorum import (
    Decision,
    GatePolicy,
    StopRule,
    TieBreak,
    VoteResult,
    gate,
    is_decided,
    majority_vote,
    outcome_fixed,
    stop_point,
    weighted_vote,
)

__all__ = [
    "ConsistencyResult",
    "Decision",
    "GatePolicy",
    "Sample",
    "ScopeFactory",
    "StopRule",
    "TieBreak",
    "VoteResult",
    "aself_consistency",
    "gate",
    "is_decided",
    "majority_vote",
    "outcome_fixed",
    "run_sync",
    "sample_answers",
    "self_consistency",
    "stop_point",
    "weighted_vote",
]

ScopeFactory = Callable[[int], contextlib.AbstractContextManager[Any]]
"""Builds the context a sample runs in, from its index (replay's ``sample_scope``)."""


class Sample(BaseModel):
    """One sampled completion: its text, extracted answer, confidence and usage (lesson 05)."""

    model_config = ConfigDict(frozen=True)

    index: int
    text: str = ""
    answer: str | None = None
    confidence: float | None = None
    usage: Usage = Field(default_factory=Usage)
    error: str | None = None


def _default_scope() -> ScopeFactory:
    """Replay's ``sample_scope`` (kept in the light ``providers.scope`` module), else a no-op."""
    try:
        from course_lib.providers.replay.scope import sample_scope
    except ImportError:  # pragma: no cover - only before the replay transport exists
        return lambda _i: contextlib.nullcontext()
    return sample_scope


async def _acall(provider: Any, messages: Sequence[Message], **params: Any) -> ChatResult:
    if hasattr(provider, "acomplete"):
        return await provider.acomplete(messages, **params)
    return await asyncio.to_thread(provider.complete, messages, **params)


async def sample_answers(
    provider: Any,
    messages: Sequence[Message],
    n: int,
    *,
    concurrency: int | None = None,
    temperature: float = 0.7,
    extract: Extractor | None = None,
    labels: Sequence[str] | None = None,
    scope: ScopeFactory | None = None,
    start: int = 0,
    on_error: Literal["raise", "abstain"] = "raise",
    confidence_span: Literal["all", "answer"] = "answer",
    **params: Any,
) -> list[Sample]:
    """Draw ``n`` samples concurrently (at most ``concurrency`` in flight, default all ``n``), in index order (lesson 05).

    Answers are read with ``extract`` (default :func:`extract_answer`, restricted to ``labels`` when
    given). Sample ``i`` runs inside ``scope(start + i)``. With ``on_error="abstain"`` a
    :class:`ProviderError` becomes a sample with no answer instead of failing the run.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    concurrency = n if concurrency is None else concurrency
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {concurrency}")
    if extract is None:
        extract = functools.partial(extract_answer, labels=labels) if labels else extract_answer
    scope = scope or _default_scope()
    semaphore = asyncio.Semaphore(concurrency)

    async def one(index: int) -> Sample:
        async with semaphore:
            try:
                with scope(index):
                    result: ChatResult = await _acall(provider, messages, temperature=temperature, **params)
            except ProviderError as exc:
                if on_error == "raise":
                    raise
                return Sample(index=index, error=f"{type(exc).__name__}: {exc}")
        choice = result.choices[0] if result.choices else None
        text = choice.text if choice else ""
        return Sample(
            index=index,
            text=text,
            answer=extract(text),
            confidence=logprob_confidence(choice.logprobs if choice else None, span=confidence_span),
            usage=result.usage,
        )

    outcomes = await asyncio.gather(*(one(start + i) for i in range(n)), return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
    return list(outcomes)  # type: ignore[arg-type]


class ConsistencyResult(BaseModel):
    """Samples, vote, gate decision and total usage of one self-consistency run (lesson 05)."""

    model_config = ConfigDict(frozen=True)

    samples: list[Sample]
    vote: VoteResult
    decision: Decision
    usage: Usage
    planned: int
    """Samples the run was allowed (``n``); fewer were drawn when it stopped early."""

    @property
    def answer(self) -> str | None:
        """The winning answer, or ``None`` when the decision is to escalate."""
        return None if self.decision == "escalate" else self.vote.winner

    @property
    def stopped_early(self) -> bool:
        """True when fewer than ``planned`` samples were drawn."""
        return len(self.samples) < self.planned


async def aself_consistency(
    provider: Any,
    messages: Sequence[Message],
    n: int = 5,
    *,
    weighted: bool = False,
    policy: GatePolicy | None = None,
    tie_break: TieBreak = "first_seen",
    early_stop: StopRule = "off",
    batch_size: int | None = None,
    concurrency: int | None = None,
    **kwargs: Any,
) -> ConsistencyResult:
    """Sample ``n`` answers, vote and gate; ``early_stop`` samples in batches and may stop sooner (lesson 05).

    Other keyword arguments go to :func:`sample_answers` (``temperature``, ``extract``, ``labels``,
    ``scope``, ``on_error``, and provider parameters such as ``logprobs=True`` or ``max_tokens``).
    """
    policy = policy or GatePolicy()
    batch = n if early_stop == "off" else max(1, batch_size or concurrency or 5)
    samples: list[Sample] = []

    def tally() -> VoteResult:
        answers = [s.answer for s in samples]
        if weighted:
            return weighted_vote(answers, [s.confidence for s in samples], tie_break=tie_break)
        return majority_vote(answers, tie_break=tie_break)

    while len(samples) < n:
        size = min(batch, n - len(samples))
        samples += await sample_answers(
            provider, messages, size, concurrency=concurrency, start=len(samples), **kwargs
        )
        # Weights are confidences in [0, 1], so one more sample adds at most 1 to any answer's score.
        if len(samples) < n and outcome_fixed(tally(), n, early_stop, policy):
            break
    vote = tally()
    decision = gate(vote, policy)
    if early_stop == "decision" and len(samples) < n:
        # The decision the full run would reach, whatever the samples not drawn would have said.
        decision = policy.level(vote.counts[vote.winner or ""] / n)
    usage = sum((s.usage for s in samples), Usage())
    return ConsistencyResult(samples=samples, vote=vote, decision=decision, usage=usage, planned=n)


def run_sync(coro_factory: Callable[[], Any]) -> Any:
    """Run a coroutine to completion from sync code, also inside Jupyter's running loop (lesson 05).

    With no running loop this is ``asyncio.run``; inside one (a notebook cell) the coroutine runs on
    a fresh loop in a worker thread, with a copy of the caller's context variables.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro_factory())
    context = contextvars.copy_context()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(context.run, lambda: asyncio.run(coro_factory())).result()


def self_consistency(
    provider: Any, messages: Sequence[Message], n: int = 5, **kwargs: Any
) -> ConsistencyResult:
    """Blocking form of :func:`aself_consistency`; safe to call in a notebook cell (lesson 05)."""
    return run_sync(lambda: aself_consistency(provider, messages, n, **kwargs))
