"""Direct vs chain-of-thought answers of a real model on the lesson's comparisons, read by code (lesson 04).

:func:`collect_samples` asks each comparison directly and step by step, ``samples`` times at
temperature 0.7 (what ``scripts/recordings/04_chain_of_thought_local.py`` recorded from SmolLM2-135M),
and :func:`summarise` counts right, wrong and unreadable replies and the CoT format the replies kept.
The lesson and its evidence box call the same functions, so the printed figures and the box agree.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from course_lib.cot import COMPARISONS, Comparison, cot_messages, direct_messages, parse_steps, tally_answers
from course_lib.providers.base import ChatResult

__all__ = [
    "MODES",
    "SMALL_MODEL",
    "ModeSummary",
    "collect_samples",
    "has_answer_line",
    "small_model_samples",
    "summarise",
]

SMALL_MODEL = "SmolLM2-135M-Instruct"
"""The real model the lesson's recordings come from (lesson 04)."""

MODES: dict[str, tuple[Any, dict[str, int]]] = {
    "direct": (direct_messages, {"max_tokens": 24}),
    "cot": (cot_messages, {"max_tokens": 256}),
}
"""Each way of asking: its message builder and its output cap (lesson 04)."""

_ANSWER_LINE = re.compile(r"(?im)^\s*answer\s*:")

Samples = dict[tuple[str, str], list[ChatResult]]


def has_answer_line(text: str) -> bool:
    """True when a reply has the ``Answer:`` line the CoT prompt asks for (lesson 04)."""
    return bool(_ANSWER_LINE.search(text or ""))


def collect_samples(
    provider: Any, comparisons: Sequence[Comparison] = COMPARISONS, *, samples: int = 8
) -> Samples:
    """``samples`` replies at temperature 0.7 per comparison and mode, keyed by (question, mode) (lesson 04)."""
    out: Samples = {}
    for comparison in comparisons:
        for mode, (build, params) in MODES.items():
            messages = build(comparison.question)
            out[comparison.question, mode] = [
                provider.complete(messages, temperature=0.7, **params) for _ in range(samples)
            ]
    return out


def small_model_samples() -> Samples:
    """The recorded SmolLM2-135M replies, replayed (a fresh provider, so the first samples) (lesson 04)."""
    from course_lib.providers.registry import get_provider

    provider = get_provider("replay", recordings="04_chain_of_thought", model=SMALL_MODEL)
    return collect_samples(provider)


@dataclass(frozen=True)
class ModeSummary:
    """One way of asking, over every comparison: answers right, wrong, unreadable, and the format kept (lesson 04)."""

    mode: str
    right: int
    wrong: int
    missing: int
    with_steps: int
    with_answer_line: int
    mean_completion_tokens: float

    @property
    def total(self) -> int:
        """Replies counted."""
        return self.right + self.wrong + self.missing


def summarise(samples: Samples, comparisons: Sequence[Comparison] = COMPARISONS) -> dict[str, ModeSummary]:
    """Per mode: right, wrong and no-answer counts (by ``tally_answers``), steps, Answer lines, mean tokens (lesson 04)."""
    by_question: Mapping[str, Comparison] = {c.question: c for c in comparisons}
    out: dict[str, ModeSummary] = {}
    for mode in MODES:
        keyed = [(q, rs) for (q, m), rs in samples.items() if m == mode]
        tallies = [tally_answers([r.text for r in rs], by_question[q]) for q, rs in keyed]
        replies = [r for _, rs in keyed for r in rs]
        out[mode] = ModeSummary(
            mode=mode,
            right=sum(t.correct for t in tallies),
            wrong=sum(t.wrong for t in tallies),
            missing=sum(t.missing for t in tallies),
            with_steps=sum(bool(parse_steps(r.text)) for r in replies),
            with_answer_line=sum(has_answer_line(r.text) for r in replies),
            mean_completion_tokens=sum(r.usage.completion_tokens for r in replies) / max(len(replies), 1),
        )
    return out
