"""Token budgets of four ways to review a large pull request, computed with real token counts (lesson 06).

* **whole PR in one prompt**: one call holding every diff;
* **sequential, full history**: an agent loop that reads one file per iteration and keeps everything
  it read and wrote in its history, so each call re-sends all earlier files and reviews;
* **sequential, hierarchical memory**: the same loop, but only the last few files stay verbatim
  (working memory), older ones survive as one-line summaries (short-term) and the oldest go to a
  vector store from which a few are recalled (long-term), via :mod:`course_lib.memory`;
* **map-reduce**: one independent call per file, then one call over the summaries
  (:func:`course_lib.lessons.l06_agent_loop.pr_review.review_pr`).

Nothing here calls a model: the replies are given (the lesson's per-file reviews), and every prompt
is counted with tiktoken exactly as it would be sent. :func:`run_sequential` also plays the loop's
termination rules (:func:`course_lib.agent.stop_reason` and the context window), which is what the
lesson's widget turns.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from course_lib.agent import stop_reason
from course_lib.lessons.l06_agent_loop.pr_review import REVIEW_SYSTEM, file_message
from course_lib.memory import HierarchicalMemory, build_context
from course_lib.tokens import TOKENS_PER_MESSAGE, TOKENS_REPLY_PRIMER, count_tokens
from course_lib.vector_store import InMemoryVectorStore, hashing_embedding

__all__ = [
    "FINAL_REQUEST",
    "SEQUENTIAL_SYSTEM",
    "WHOLE_PR_SYSTEM",
    "LoopOutcome",
    "StrategyTokens",
    "map_reduce_latency",
    "run_sequential",
    "whole_pr_messages",
]

SEQUENTIAL_SYSTEM = (
    REVIEW_SYSTEM + "\nThe files arrive one per message, with your reviews of the earlier files above them. "
    "When every file is reviewed you are asked for the overall review."
)
"""Instructions of the sequential review agent (lesson 06)."""

WHOLE_PR_SYSTEM = (
    "You review a whole pull request at once. For every file, list its problems (file, line, severity "
    "1-10, one sentence each); then give the overall verdict: APPROVE, REQUEST CHANGES or REJECT."
)
"""Instructions of the one-prompt review of the whole pull request (lesson 06)."""

FINAL_REQUEST = "Every file is reviewed. Write the overall review: verdict, the three problems to fix first, what is good."
"""The sequential agent's last user message (lesson 06)."""


@functools.lru_cache(maxsize=8192)
def _tokens(text: str, model: str) -> int:
    return count_tokens(text, model)


def _counter(model: str) -> Any:
    """count_message_tokens with a cache per content string: the same files are counted once."""

    def count(messages: Sequence[dict[str, Any]]) -> int:
        total = TOKENS_REPLY_PRIMER
        for m in messages:
            total += (
                TOKENS_PER_MESSAGE
                + _tokens(m.get("role", ""), model)
                + _tokens(m.get("content") or "", model)
            )
        return total

    return count


def whole_pr_messages(title: str, description: str, files: Sequence[Any]) -> list[dict[str, str]]:
    """One request holding the whole pull request: title, description and every file's diff (lesson 06)."""
    body = "\n\n".join(file_message(f.path, f.diff, i, len(files)) for i, f in enumerate(files, start=1))
    return [
        {"role": "system", "content": WHOLE_PR_SYSTEM},
        {"role": "user", "content": f"Pull request: {title}\n{description}\n\n{body}"},
    ]


@dataclass(frozen=True)
class StrategyTokens:
    """Prompt tokens of every call a strategy makes, with its peak and total (lesson 06)."""

    name: str
    per_call: tuple[int, ...]

    @property
    def calls(self) -> int:
        """How many model calls the strategy makes."""
        return len(self.per_call)

    @property
    def peak(self) -> int:
        """The largest single prompt: what the context window must hold."""
        return max(self.per_call, default=0)

    @property
    def total(self) -> int:
        """Prompt tokens billed over all calls."""
        return sum(self.per_call)


@dataclass(frozen=True)
class LoopOutcome:
    """How a sequential review loop ends, and the prompt tokens of each call it made (lesson 06)."""

    strategy: str
    status: str
    """``answered``, ``max_iterations``, or ``context_overflow`` (a call would not fit the window)."""
    per_iteration: tuple[int, ...]
    files_reviewed: int
    files_total: int
    window: int | None = None

    @property
    def tokens(self) -> StrategyTokens:
        """The calls made, as :class:`StrategyTokens`."""
        return StrategyTokens(self.strategy, self.per_iteration)

    def describe(self) -> str:
        """One line: the outcome in words, peak and total prompt tokens."""
        t = self.tokens
        if self.status == "answered":
            what = f"answered after {t.calls} iterations ({self.files_reviewed} files + the overall review)"
        elif self.status == "max_iterations":
            what = f"stopped at max_iterations={t.calls}: {self.files_reviewed} of {self.files_total} files, no overall review"
        else:
            what = (
                f"failed at iteration {t.calls + 1}: the prompt exceeds the {self.window:,}-token window "
                f"({self.files_reviewed} of {self.files_total} files reviewed)"
            )
        return f"{self.strategy:<22} {what}; peak {t.peak:,} tokens, billed {t.total:,}"


def run_sequential(
    files: Sequence[Any],
    replies: Sequence[str],
    *,
    title: str,
    description: str = "",
    max_iterations: int | None = None,
    working_limit: int | None = None,
    short_term_limit: int = 10,
    k: int = 3,
    summaries: Sequence[str] | None = None,
    window: int | None = None,
    model: str = "gpt-4o-mini",
) -> LoopOutcome:
    """Play the sequential review loop over ``files`` with the given per-file ``replies`` (lesson 06).

    Iteration i (from 1) sends the prompt that reviews file i; iteration ``len(files) + 1`` asks for
    the overall review (a ``final_answer``). ``working_limit=None`` keeps the full history; a number
    uses :class:`~course_lib.memory.HierarchicalMemory` with that many files verbatim, ``summaries``
    (one per file; default: the first 20 words of the reply) for older ones and ``k`` recalled notes.
    The loop stops on the final answer, at ``max_iterations`` (via :func:`~course_lib.agent.stop_reason`),
    or before a call whose prompt would exceed ``window`` tokens.
    """
    if len(replies) != len(files):
        raise ValueError(f"got {len(replies)} replies for {len(files)} files; pass one reply per file")
    limit = max_iterations if max_iterations is not None else len(files) + 1
    count = _counter(model)
    task = f"Pull request: {title}\n{description}".rstrip() + f"\n{len(files)} files follow, one per message."
    head = [{"role": "system", "content": SEQUENTIAL_SYSTEM}, {"role": "user", "content": task}]
    steps = [file_message(f.path, f.diff, i, len(files)) for i, f in enumerate(files, start=1)]
    notes = list(summaries) if summaries is not None else [" ".join(r.split()[:20]) for r in replies]
    memory = None
    if working_limit is not None:
        by_step = {f"{s}\n{r}": n for s, r, n in zip(steps, replies, notes, strict=True)}
        memory = HierarchicalMemory(
            by_step.__getitem__,
            InMemoryVectorStore(hashing_embedding()),
            working_limit=working_limit,
            short_term_limit=short_term_limit,
        )
    history: list[dict[str, str]] = []
    per_iteration: list[int] = []
    status = "max_iterations"
    for iteration in range(1, len(files) + 2):
        current = steps[iteration - 1] if iteration <= len(files) else FINAL_REQUEST
        if memory is None:
            tokens = count([*head, *history, {"role": "user", "content": current}])
        else:
            built = build_context(
                SEQUENTIAL_SYSTEM,
                f"{task}\n\n{current}",
                working=memory.working.steps,
                summaries=memory.short_term.summaries,
                long_term=memory.recall(current, k),
                counter=count,
            )
            tokens = built.tokens
        if window is not None and tokens > window:
            status = "context_overflow"
            break
        per_iteration.append(tokens)
        step_type = "final_answer" if iteration > len(files) else "review"
        reason = stop_reason(step_type, iteration, limit)
        if iteration <= len(files):
            reply = replies[iteration - 1]
            history += [{"role": "user", "content": current}, {"role": "assistant", "content": reply}]
            if memory is not None:
                memory.add(f"{current}\n{reply}")
        if reason is not None:
            status = reason
            break
    reviewed = min(len(per_iteration), len(files))
    name = "full history" if memory is None else f"hierarchical (w={working_limit})"
    return LoopOutcome(name, status, tuple(per_iteration), reviewed, len(files), window)


def map_reduce_latency(
    n_files: int, per_call_s: float, concurrency: int, final_s: float | None = None
) -> float:
    """Wall time of map-reduce when at most ``concurrency`` file reviews run at once, then the final call (lesson 06)."""
    if n_files < 0 or concurrency < 1 or per_call_s < 0:
        raise ValueError("need n_files >= 0, concurrency >= 1 and per_call_s >= 0")
    return math.ceil(n_files / concurrency) * per_call_s + (per_call_s if final_s is None else final_s)
