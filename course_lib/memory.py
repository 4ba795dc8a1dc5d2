"""Hierarchical memory for agent loops: working, short-term and long-term tiers (lesson 06).

An agent that appends every step to its history re-sends all of it on every iteration, so the prompt
grows without bound. Hierarchical memory keeps it bounded:

* **working memory** holds the last few steps verbatim;
* **short-term memory** holds one-line summaries of the steps that fell out of working memory, made by
  an injected summariser (a plain function, or a provider asked to summarise);
* **long-term memory** holds the summaries that fell out of short-term memory in a vector store, and
  brings back only the few most relevant to the current step.

:func:`build_context` assembles a prompt from the tiers within a token budget, dropping the
lowest-priority parts first (long-term notes, then the oldest summaries, then the oldest raw steps), and
never sends more than the budget. :func:`context_tokens_per_iteration` measures both strategies on the
same steps for the lesson's plot. The long-term store interface and an in-memory store live in
:mod:`course_lib.vector_store` (re-exported here).
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .conversation import BudgetTooSmallError, Counter
from .tokens import count_message_tokens
from .vector_store import (
    Hit,
    InMemoryVectorStore,
    VectorStore,
    cosine_similarity,
    hashing_embedding,
    hit_text,
)

__all__ = [
    "BuiltContext",
    "HierarchicalMemory",
    "Hit",
    "InMemoryVectorStore",
    "MemoryGrowth",
    "ShortTermMemory",
    "VectorStore",
    "WorkingMemory",
    "as_summariser",
    "build_context",
    "context_tokens_per_iteration",
    "cosine_similarity",
    "hashing_embedding",
    "truncating_summariser",
]

Summariser = Callable[[str], str]

SUMMARY_INSTRUCTION = (
    "Summarise this step of an agent's work in one sentence of at most 20 words. "
    "Keep every number, name and result exactly as written. Reply with the sentence only."
)


def _as_text(step: Any) -> str:
    if isinstance(step, str):
        return step
    if hasattr(step, "model_dump_json"):
        return step.model_dump_json()
    if isinstance(step, Mapping):
        return json.dumps(dict(step), sort_keys=True, ensure_ascii=False)
    raise TypeError(f"a memory step must be a str, a mapping or a pydantic model, not {type(step).__name__}")


# --------------------------------------------------------------------------- summarisers


def truncating_summariser(max_words: int = 12) -> Summariser:
    """A model-free summariser that keeps the first ``max_words`` words, for tests and plots (lesson 06)."""
    if max_words < 1:
        raise ValueError(f"max_words must be >= 1, got {max_words}")

    def summarise(text: str) -> str:
        words = text.split()
        return " ".join(words[:max_words]) + (" …" if len(words) > max_words else "")

    return summarise


def as_summariser(summariser: Any, *, instruction: str = SUMMARY_INSTRUCTION, **params: Any) -> Summariser:
    """Turn a provider (anything with ``complete``) or a plain function into a summariser (lesson 06)."""
    if hasattr(summariser, "complete"):
        provider = summariser

        def summarise(text: str) -> str:
            messages = [{"role": "system", "content": instruction}, {"role": "user", "content": text}]
            return provider.complete(messages, **params).text.strip()

        return summarise
    if callable(summariser):
        return summariser
    raise TypeError("a summariser is a function (str -> str) or a provider with complete(messages)")


# --------------------------------------------------------------------------- tiers


class WorkingMemory:
    """The most recent steps, verbatim, at most ``limit`` of them (lesson 06)."""

    def __init__(self, limit: int = 5) -> None:
        if limit < 1:
            raise ValueError(f"working memory needs room for at least one step, got limit={limit}")
        self.limit = limit
        self._steps: deque[str] = deque()

    def add(self, step: Any) -> str | None:
        """Add a step; return the oldest step if it had to leave to make room, else None."""
        self._steps.append(_as_text(step))
        return self._steps.popleft() if len(self._steps) > self.limit else None

    @property
    def steps(self) -> list[str]:
        """The steps held, oldest first."""
        return list(self._steps)

    def __len__(self) -> int:
        return len(self._steps)


class ShortTermMemory:
    """Summaries of steps that left working memory, at most ``limit`` of them (lesson 06)."""

    def __init__(self, summariser: Any, limit: int | None = 10) -> None:
        if limit is not None and limit < 1:
            raise ValueError(f"limit must be >= 1 or None (unbounded), got {limit}")
        self.summarise = as_summariser(summariser)
        self.limit = limit
        self._summaries: deque[str] = deque()

    def add(self, step: str) -> str | None:
        """Summarise and keep a step; return the oldest summary if it had to leave, else None."""
        self._summaries.append(self.summarise(step))
        if self.limit is not None and len(self._summaries) > self.limit:
            return self._summaries.popleft()
        return None

    @property
    def summaries(self) -> list[str]:
        """The summaries held, oldest first."""
        return list(self._summaries)

    def __len__(self) -> int:
        return len(self._summaries)


# --------------------------------------------------------------------------- context building


@dataclass(frozen=True)
class BuiltContext:
    """A prompt assembled from memory, its token count, and what each tier kept and dropped (lesson 06)."""

    messages: list[dict[str, Any]]
    tokens: int
    kept: dict[str, int]
    dropped: dict[str, int]


def _render(system: str, task: str, notes: list[str], summaries: list[str], steps: list[str]) -> list[dict]:
    parts = [task]
    if notes:
        parts.append("Relevant notes from earlier work:\n" + "\n".join(f"- {n}" for n in notes))
    if summaries:
        parts.append("Summary of earlier steps:\n" + "\n".join(f"- {s}" for s in summaries))
    messages = [{"role": "system", "content": system}, {"role": "user", "content": "\n\n".join(parts)}]
    return messages + [{"role": "assistant", "content": s} for s in steps]


def build_context(
    system: str,
    task: str,
    *,
    working: Sequence[str] = (),
    summaries: Sequence[str] = (),
    long_term: Sequence[Any] = (),
    budget: int | None = None,
    model: str = "gpt-4o",
    counter: Counter | None = None,
) -> BuiltContext:
    """Assemble system + task + long-term notes + summaries + working steps within ``budget`` tokens (lesson 06).

    Over budget, parts are dropped one at a time in priority order: the least relevant long-term note,
    then the oldest summary, then the oldest working step. The system prompt and the task are always
    kept; if they alone exceed the budget, :class:`BudgetTooSmallError` is raised.
    """
    count = counter or (lambda msgs: count_message_tokens(msgs, model))
    notes = [hit_text(h) for h in long_term]  # best first
    sums, steps = list(summaries), list(working)  # oldest first
    total = {"long_term": len(notes), "short_term": len(sums), "working": len(steps)}
    while True:  # each pass either returns or drops one part, so it ends after at most len(parts)+1 passes
        messages = _render(system, task, notes, sums, steps)
        tokens = count(messages)
        if budget is None or tokens <= budget:
            kept = {"long_term": len(notes), "short_term": len(sums), "working": len(steps)}
            return BuiltContext(messages, tokens, kept, {k: total[k] - kept[k] for k in total})
        if notes:
            notes.pop()
        elif sums:
            sums.pop(0)
        elif steps:
            steps.pop(0)
        else:
            raise BudgetTooSmallError(tokens, budget, what="the system prompt and the task")


class HierarchicalMemory:
    """Working, short-term and long-term memory wired together, with a budgeted context (lesson 06).

    A step enters working memory; the step it pushes out is summarised into short-term memory; the
    summary that pushes out is stored in long-term memory (if a store was given), to be recalled by
    similarity.
    """

    def __init__(
        self,
        summariser: Any,
        store: VectorStore | None = None,
        *,
        working_limit: int = 5,
        short_term_limit: int = 10,
    ) -> None:
        self.working = WorkingMemory(working_limit)
        self.short_term = ShortTermMemory(summariser, short_term_limit)
        self.long_term = store
        self.steps_seen = 0

    def add(self, step: Any) -> None:
        """Record one step and move older material down the tiers."""
        self.steps_seen += 1
        evicted = self.working.add(step)
        if evicted is None:
            return
        promoted = self.short_term.add(evicted)
        if promoted is not None and self.long_term is not None:
            self.long_term.add([promoted], [{"tier": "long_term", "added_at_step": self.steps_seen}])

    def recall(self, query: str, k: int = 3) -> list[Any]:
        """The ``k`` long-term memories most relevant to ``query`` (empty without a store)."""
        return list(self.long_term.query(query, k)) if self.long_term is not None and k > 0 else []

    def context(
        self, system: str, task: str, *, budget: int | None = None, k: int = 3, model: str = "gpt-4o"
    ) -> BuiltContext:
        """The prompt for the next iteration; long-term recall uses the latest step (or the task) as query."""
        steps = self.working.steps
        hits = self.recall(steps[-1] if steps else task, k)
        return build_context(
            system,
            task,
            working=steps,
            summaries=self.short_term.summaries,
            long_term=hits,
            budget=budget,
            model=model,
        )


@dataclass(frozen=True)
class MemoryGrowth:
    """Context tokens per iteration for a naive (full history) and a hierarchical agent (lesson 06)."""

    naive: list[int]
    hierarchical: list[int]

    @property
    def iterations(self) -> list[int]:
        """1, 2, …, n: the x axis of the plot."""
        return list(range(1, len(self.naive) + 1))


def context_tokens_per_iteration(
    steps: Sequence[str],
    *,
    system: str,
    task: str,
    working_limit: int = 5,
    short_term_limit: int = 10,
    k: int = 3,
    summariser: Summariser | None = None,
    budget: int | None = None,
    model: str = "gpt-4o",
) -> MemoryGrowth:
    """Prompt tokens at each iteration when an agent re-sends everything vs uses hierarchical memory (lesson 06).

    Iteration i (from 1) sends the prompt that produces step i, so it holds steps 1 … i-1. The naive agent
    sends all of them; the hierarchical one sends working memory, summaries (default: first 12 words of a
    step) and up to ``k`` recalled notes from an in-memory store with a hashing embedding. Deterministic.
    """
    memory = HierarchicalMemory(
        summariser or truncating_summariser(12),
        InMemoryVectorStore(hashing_embedding()),
        working_limit=working_limit,
        short_term_limit=short_term_limit,
    )
    naive, hierarchical = [], []
    for i, step in enumerate(steps):
        naive.append(count_message_tokens(_render(system, task, [], [], list(steps[:i])), model))
        hierarchical.append(memory.context(system, task, budget=budget, k=k, model=model).tokens)
        memory.add(step)
    return MemoryGrowth(naive, hierarchical)
