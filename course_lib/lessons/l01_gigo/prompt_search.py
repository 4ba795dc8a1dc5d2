"""Should a model write the prompt? The measurement that decides, on the name-to-JSON task (lesson 01).

Automatic prompt engineering generates candidate instructions with a model, scores each on labelled
examples and keeps the best. The data here make that a fair test: :data:`DEV` picks the winner,
:data:`HELD_OUT` judges it (a winner picked and judged on the same sentences flatters itself), and
:data:`HUMAN_INSTRUCTION` is the baseline a person wrote. :func:`exact_name` is the metric: the exact
JSON ``{"name": ...}`` with the right name. :func:`pick_and_judge` runs the comparison.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from course_lib.lessons.l01_gigo.entropy import InstructionScore, score_instruction
from course_lib.lessons.l03_prompt_fundamentals.format_check import (
    NAME_EXAMPLES,
    NAME_SENTENCES,
    classify_format,
    extract_name,
)

__all__ = ["DEV", "HELD_OUT", "HUMAN_INSTRUCTION", "Verdict", "exact_name", "pick_and_judge"]

HUMAN_INSTRUCTION = 'Extract the name from the sentence. Reply with JSON only, exactly like {"name": "..."}.'
"""The instruction a person wrote (the same as lesson 03's format rule) (lesson 01)."""
DEV: tuple[tuple[str, str], ...] = NAME_SENTENCES
"""Five sentences with their names: the development set that picks the best candidate (lesson 01)."""
HELD_OUT: tuple[tuple[str, str], ...] = tuple((s, json.loads(a)["name"]) for s, a in NAME_EXAMPLES)
"""Ten other sentences with their names: the held-out set that judges it (lesson 01)."""


def exact_name(answer: str, expected: str) -> bool:
    """True when ``answer`` is exactly ``{"name": expected}`` as JSON (lesson 01)."""
    return classify_format(answer) == "json_exact" and extract_name(answer) == expected


@dataclass(frozen=True)
class Verdict:
    """The human baseline and the best model-written candidate, each on dev and held-out (lesson 01)."""

    human_dev: InstructionScore
    human_held_out: InstructionScore
    candidates_dev: tuple[InstructionScore, ...]
    best_held_out: InstructionScore | None

    @property
    def best_dev(self) -> InstructionScore | None:
        """The candidate with the highest development score (the first one on a tie), or None."""
        return max(self.candidates_dev, key=lambda s: s.rate, default=None)


def pick_and_judge(
    provider: Any,
    candidates: Sequence[str],
    *,
    human: str = HUMAN_INSTRUCTION,
    dev: Sequence[tuple[str, str]] = DEV,
    held_out: Sequence[tuple[str, str]] = HELD_OUT,
    is_right: Callable[[str, str], bool] = exact_name,
) -> Verdict:
    """Score the human instruction and every non-empty candidate on ``dev``; judge the best on ``held_out`` (lesson 01)."""
    human_dev = score_instruction(provider, human, dev, is_right)
    human_held = score_instruction(provider, human, held_out, is_right)
    scored = tuple(score_instruction(provider, c, dev, is_right) for c in candidates if c.strip())
    best = max(scored, key=lambda s: s.rate, default=None)
    best_held = score_instruction(provider, best.instruction, held_out, is_right) if best else None
    return Verdict(human_dev, human_held, scored, best_held)
