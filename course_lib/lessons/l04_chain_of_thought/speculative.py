"""Speculative chain of thought: show the cheap direct answer while the reasoning runs (lesson 04).

Both calls start at once (the provider's async form). The direct answer usually arrives first and is
shown as *provisional*; when the step-by-step answer arrives it confirms or replaces it. The user waits
for the fast call, not the slow one, and pays for both. :func:`speculative_timeline` computes the same
schedule in simulated seconds, so a lesson can print and plot it deterministically.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from course_lib.answers import extract_answer
from course_lib.cot import cot_messages, direct_messages
from course_lib.providers.base import ChatResult

__all__ = ["SpeculativeRun", "SpeculativeTimeline", "speculative_cot", "speculative_timeline"]


@dataclass(frozen=True)
class SpeculativeRun:
    """Both answers of a speculative run, when each arrived (seconds since the start) and what they said (lesson 04)."""

    direct: ChatResult
    cot: ChatResult
    direct_at_s: float
    cot_at_s: float
    provisional: str | None
    final: str | None

    @property
    def revised(self) -> bool:
        """True when the reasoned answer replaced a different provisional one."""
        return self.provisional is not None and self.provisional != self.final


@dataclass(frozen=True)
class SpeculativeTimeline:
    """Simulated seconds at which the user sees an answer, three ways (lesson 04).

    ``cot_only``: wait for the reasoning; ``sequential``: direct first, then the reasoning after it;
    ``speculative``: both at once, the direct answer shown when it lands, the reasoned one at the end.
    """

    direct_s: float
    cot_s: float

    @property
    def first_answer_cot_only(self) -> float:
        """CoT alone: the user's first answer is the reasoned one."""
        return self.cot_s

    @property
    def final_answer_sequential(self) -> float:
        """Direct call, then the CoT call after it: the final answer comes after both."""
        return self.direct_s + self.cot_s

    @property
    def first_answer_speculative(self) -> float:
        """Both at once: the first answer on screen is whichever call finishes first."""
        return min(self.direct_s, self.cot_s)

    @property
    def final_answer_speculative(self) -> float:
        """Both at once: the reasoned answer lands when the slower call is done."""
        return max(self.direct_s, self.cot_s)


def speculative_timeline(
    direct_tokens: int, cot_tokens: int, *, ttft_s: float, per_token_s: float
) -> SpeculativeTimeline:
    """When each answer lands, a call taking ``ttft + tokens × per_token`` seconds (the replay's schedule) (lesson 04)."""
    if min(direct_tokens, cot_tokens) < 0 or ttft_s < 0 or per_token_s < 0:
        raise ValueError("token counts and latencies must not be negative")
    return SpeculativeTimeline(
        direct_s=ttft_s + direct_tokens * per_token_s, cot_s=ttft_s + cot_tokens * per_token_s
    )


async def speculative_cot(
    provider: Any,
    question: str,
    *,
    kind: str = "yesno",
    direct_params: Mapping[str, Any] | None = None,
    cot_params: Mapping[str, Any] | None = None,
    on_answer: Callable[[str, str | None, float], None] | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> SpeculativeRun:
    """Ask directly and step by step at the same time; report each answer as it lands (lesson 04).

    ``on_answer(label, answer, seconds)`` is called with ``"provisional"`` for the direct answer (if it
    lands first) and ``"final"`` for the reasoned one, which always wins. Answers are read with
    :func:`~course_lib.answers.extract_answer` of ``kind``.
    """
    start = clock()
    arrivals: dict[str, float] = {}

    async def timed(label: str, messages: list[dict[str, str]], params: Mapping[str, Any]) -> ChatResult:
        result: ChatResult = await provider.acomplete(messages, **{"temperature": 0, **dict(params or {})})
        arrivals[label] = clock() - start
        answer = extract_answer(result.text, kind=kind)
        if on_answer is not None and (label == "cot" or "cot" not in arrivals):
            on_answer("final" if label == "cot" else "provisional", answer, arrivals[label])
        return result

    direct, cot = await asyncio.gather(
        timed("direct", direct_messages(question), direct_params or {}),
        timed("cot", cot_messages(question), cot_params or {}),
    )
    first_was_direct = arrivals["direct"] <= arrivals["cot"]
    return SpeculativeRun(
        direct=direct,
        cot=cot,
        direct_at_s=arrivals["direct"],
        cot_at_s=arrivals["cot"],
        provisional=extract_answer(direct.text, kind=kind) if first_was_direct else None,
        final=extract_answer(cot.text, kind=kind),
    )
