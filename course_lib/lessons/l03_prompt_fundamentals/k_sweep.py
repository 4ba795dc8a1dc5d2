"""How many worked examples? The format rate against the token cost for k = 0 … 8 (lesson 03).

A common rule of thumb says 3–5 examples. :func:`run_k_sweep` tests it on one task: for each ``k`` it
asks a provider the name-extraction task with the first ``k`` worked examples and counts answers in the
exact target format with the right name, beside the prompt tokens those examples cost on every request.
:func:`smallest_sufficient_k` is the decision rule: the fewest examples whose rate is within a
tolerance of the best one measured.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import mean
from typing import Any

from course_lib.lessons.l03_prompt_fundamentals.format_check import (
    NAME_EXAMPLES,
    NAME_SENTENCES,
    NAME_TEMPLATE,
    classify_format,
    condition_messages,
    extract_name,
)
from course_lib.prompts import few_shot_messages
from course_lib.tokens import count_message_tokens

__all__ = ["K_PARAMS", "K_VALUES", "KPoint", "k_messages", "run_k_sweep", "smallest_sufficient_k"]

K_VALUES: tuple[int, ...] = (0, 1, 2, 3, 5, 8)
"""The numbers of worked examples the sweep tries (lesson 03)."""
K_PARAMS: dict[str, Any] = {"temperature": 0.7, "max_tokens": 40}
"""Sampling parameters of the sweep, the same as the format experiment's (lesson 03)."""


def k_messages(k: int, sentence: str) -> list[dict[str, Any]]:
    """The request with the first ``k`` worked examples (``k = 0``: the bare instruction) (lesson 03)."""
    if not 0 <= k <= len(NAME_EXAMPLES):
        raise ValueError(f"k must be between 0 and {len(NAME_EXAMPLES)}, got {k}")
    if k == 0:
        return condition_messages("zero-shot", sentence)
    return few_shot_messages(NAME_EXAMPLES[:k], sentence, input_template=NAME_TEMPLATE)


@dataclass(frozen=True)
class KPoint:
    """One ``k`` of the sweep: right answers out of ``n`` and the mean prompt tokens (lesson 03)."""

    k: int
    right: int
    n: int
    prompt_tokens: float

    @property
    def rate(self) -> float:
        """Share of answers in the exact format with the right name."""
        return self.right / self.n if self.n else 0.0


def run_k_sweep(
    provider: Any,
    ks: Sequence[int] = K_VALUES,
    *,
    samples: int = 4,
    sentences: Sequence[tuple[str, str]] = NAME_SENTENCES,
    token_model: str = "gpt-4o",
) -> list[KPoint]:
    """Ask every sentence ``samples`` times for each ``k``; count exact answers and price the prompt (lesson 03).

    Prompt tokens are counted with ``token_model``'s tokenizer, so they compare across providers.
    """
    if samples < 1:
        raise ValueError(f"samples must be at least 1, got {samples}")
    points = []
    for k in ks:
        right = n = 0
        tokens = []
        for sentence, expected in sentences:
            messages = k_messages(k, sentence)
            tokens.append(count_message_tokens(messages, token_model))
            for _ in range(samples):
                text = provider.complete(messages, **K_PARAMS).text
                right += classify_format(text) == "json_exact" and extract_name(text) == expected
                n += 1
        points.append(KPoint(k, right, n, mean(tokens)))
    return points


def smallest_sufficient_k(points: Sequence[KPoint], tolerance: float = 0.05) -> KPoint:
    """The point with the fewest examples whose rate is within ``tolerance`` of the best rate (lesson 03)."""
    if not points:
        raise ValueError("the sweep has no points")
    best = max(p.rate for p in points)
    return min((p for p in points if p.rate >= best - tolerance), key=lambda p: p.k)
