"""Memory summarisation for the chain-of-thought orchestrator: a ``compact`` hook for the loop (lesson 10).

The orchestrator re-sends its whole history on every call, so the prompt grows with every step.
:class:`StepSummaryCompactor` is a ``compact`` hook for :class:`~course_lib.orchestrator.Orchestrator`:
before each call it keeps the system prompt, the problem and the last few steps verbatim, and
replaces older steps with one-line summaries appended to the problem message.

Two common mistakes are avoided here. It summarised ``messages[1:6]``, which
includes the problem statement itself, so the exact question was paraphrased away; and it inserted
the summary as a second system message in the middle of the conversation, which several chat
templates and APIs refuse. Here the problem is never summarised, the summary rides in the problem's
user message (so user and assistant turns still alternate), and each step is summarised once and
cached, not again on every iteration.

The default summary of a step is a digest computed from the step's own JSON and the tool result
that followed it: it keeps every calculator result exactly, with no model call. A model (or any
function) can summarise instead, through :func:`course_lib.memory.as_summariser`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from course_lib.memory import as_summariser
from course_lib.tokens import count_message_tokens
from course_lib.validators import JSONExtractionError, correction_message, extract_json

__all__ = [
    "SUMMARY_HEADER",
    "StepSummaryCompactor",
    "Turn",
    "digest_turn",
    "prompt_tokens_per_iteration",
    "split_history",
]

SUMMARY_HEADER = "Your earlier steps, summarised (their results are exact):"
"""The line that introduces the summaries in the problem message (lesson 10)."""

_RESULT = re.compile(r"^Result of step \d+ from the [\w .-]+?: (?P<body>.+)$", re.MULTILINE)
_TOOL_ERROR = re.compile(
    r"^The [\w .-]+? could not evaluate step \d+ \((?P<expr>.*)\): (?P<error>.+)$", re.MULTILINE
)
_CORRECTION = correction_message("", "").split("\n", 1)[0]


@dataclass(frozen=True)
class Turn:
    """One step of the history: the model's reply and the messages that answered it (lesson 10)."""

    reply: dict[str, Any]
    follow_up: tuple[dict[str, Any], ...] = ()

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The turn's messages in order."""
        return [self.reply, *self.follow_up]

    @property
    def text(self) -> str:
        """The reply and its follow-up as one text (what a summariser reads)."""
        return "\n".join(str(m.get("content") or "") for m in self.messages)


def split_history(
    messages: Sequence[Mapping[str, Any]],
) -> tuple[list[dict[str, Any]], list[Turn]]:
    """Split a loop's history into its head (up to the first user message) and its turns (lesson 10).

    A turn starts at an assistant message and runs until the next one.
    """
    items = [dict(m) for m in messages]
    first_user = next((i for i, m in enumerate(items) if m.get("role") == "user"), None)
    if first_user is None:
        return items, []
    head, rest = items[: first_user + 1], items[first_user + 1 :]
    turns: list[Turn] = []
    pending: list[dict[str, Any]] = []
    for message in rest:
        if message.get("role") == "assistant":
            if pending:
                turns.append(Turn(pending[0], tuple(pending[1:])))
            pending = [message]
        elif pending:
            pending.append(message)
        else:  # user messages before any reply belong to the head
            head.append(message)
    if pending:
        turns.append(Turn(pending[0], tuple(pending[1:])))
    return head, turns


def _shorten(text: str, max_words: int) -> str:
    words = " ".join(text.split()).split(" ")
    return " ".join(words[:max_words]) + (" …" if len(words) > max_words else "")


def digest_turn(turn: Turn, *, max_words: int = 20) -> str:
    """A one-line summary of a step without a model: its number, type, and exact tool result (lesson 10).

    ``step 2 (calculate): 1 + 0.05 / 12 = 1.0041666666666667``; a step without a tool keeps the
    first ``max_words`` words of its thought; a reply that was not a valid step says so.
    """
    raw = str(turn.reply.get("content") or "")
    try:
        data = extract_json(raw)
    except JSONExtractionError:
        data = None
    follow = "\n".join(str(m.get("content") or "") for m in turn.follow_up)
    corrected = follow.startswith(_CORRECTION)
    if corrected or not isinstance(data, dict) or "step_type" not in data:
        return "an invalid reply, returned to the model for correction"
    label = f"step {data.get('step', '?')} ({data.get('step_type')})"
    if data.get("step_type") == "final_answer" and data.get("answer") is not None:
        return f"{label}: answered {data['answer']}"
    result = _RESULT.search(follow)
    if result:
        return f"{label}: {result.group('body')}"
    error = _TOOL_ERROR.search(follow)
    if error:
        return f"{label}: {error.group('expr')} failed ({_shorten(error.group('error'), max_words)})"
    thought = str(data.get("thought") or "")
    return f"{label}: {_shorten(thought, max_words)}" if thought else label


class StepSummaryCompactor:
    """A ``compact`` hook: the last ``keep_last`` steps verbatim, older ones as one-line summaries (lesson 10).

    ``summariser`` is None (the model-free :func:`digest_turn`), a function ``str -> str``, or a
    provider (anything with ``complete``), which is asked once per step; summaries are cached by
    the step's text, so a step is never summarised twice. ``max_summaries`` keeps only the newest
    summaries (None: all of them).
    """

    def __init__(
        self,
        keep_last: int = 2,
        *,
        summariser: Any = None,
        max_summaries: int | None = None,
        header: str = SUMMARY_HEADER,
    ) -> None:
        if keep_last < 0:
            raise ValueError(f"keep_last must be 0 or more, got {keep_last}")
        if max_summaries is not None and max_summaries < 1:
            raise ValueError(f"max_summaries must be at least 1 or None, got {max_summaries}")
        self.keep_last = keep_last
        self.max_summaries = max_summaries
        self.header = header
        self._summarise: Callable[[Turn], str] = (
            digest_turn if summariser is None else _text_summariser(as_summariser(summariser))
        )
        self._cache: dict[str, str] = {}
        self.summaries_made = 0
        """How many times the summariser ran (each step once, however many iterations follow)."""

    def summary(self, turn: Turn) -> str:
        """The (cached) one-line summary of ``turn``."""
        key = json.dumps(turn.messages, sort_keys=True, ensure_ascii=False)
        if key not in self._cache:
            self._cache[key] = " ".join(self._summarise(turn).split())
            self.summaries_made += 1
        return self._cache[key]

    def __call__(self, history: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """The messages to send instead of ``history`` (a new list; ``history`` is not changed)."""
        head, turns = split_history(history)
        if len(turns) <= self.keep_last:
            return [dict(m) for m in history]
        old = turns[: len(turns) - self.keep_last]
        kept = turns[len(turns) - self.keep_last :]
        lines = [self.summary(t) for t in old]
        if self.max_summaries is not None:
            lines = lines[-self.max_summaries :]
        block = "\n".join([self.header, *(f"- {line}" for line in lines)])
        problem = dict(head[-1])
        problem["content"] = f"{problem.get('content') or ''}\n\n{block}"
        return [*head[:-1], problem, *(m for t in kept for m in t.messages)]


def _text_summariser(summarise: Callable[[str], str]) -> Callable[[Turn], str]:
    def run(turn: Turn) -> str:
        return summarise(turn.text)

    return run


def prompt_tokens_per_iteration(
    messages: Sequence[Mapping[str, Any]],
    compact: Callable[[list[dict[str, Any]]], Sequence[Mapping[str, Any]]] | None = None,
    *,
    model: str = "gpt-4o",
) -> list[int]:
    """Prompt tokens of each iteration's first request, rebuilt from a run's final history (lesson 10).

    Iteration *k* sends the head and the first *k − 1* turns (through ``compact`` if given). Counted
    offline with tiktoken; correction attempts, which add to a request, are not included.
    """
    head, turns = split_history(messages)
    counts = []
    for k in range(len(turns)):
        prefix = head + [m for t in turns[:k] for m in t.messages]
        sent = compact(prefix) if compact is not None else prefix
        counts.append(count_message_tokens(list(sent), model))
    return counts
