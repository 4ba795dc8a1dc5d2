"""The model judge, checked against human labels before it is trusted (lesson 11).

Thirty answers to the name task, written by the course and labelled by a person (``judge_labels``
golden set), are graded by SmolLM2 with :data:`~course_lib.evals.scorers.JUDGE_RUBRIC`; the verdicts
are recorded. :func:`judge_agreement` replays them and measures raw agreement and Cohen's kappa.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from course_lib.evals.datasets import load_golden
from course_lib.evals.scorers import judge_messages, parse_verdict
from course_lib.evals.stats import cohen_kappa
from course_lib.lessons.l11_evaluation.runs import JUDGE_PARAMS

__all__ = ["Agreement", "judge_agreement"]


class Agreement(BaseModel):
    """How far a judge agrees with the human labels (lesson 11)."""

    items: int
    agree: int
    kappa: float
    judge_passes: int
    human_passes: int
    verdicts: list[str]
    raw: list[str]


def judge_agreement(provider: Any) -> Agreement:
    """The judge's verdicts on the labelled answers, and their agreement with the labels (lesson 11)."""
    items = load_golden("judge_labels")
    raw = [provider.complete(judge_messages(i.input, i.answer), **JUDGE_PARAMS).text for i in items]
    verdicts = [parse_verdict(r) for r in raw]
    human = [i.human for i in items]
    return Agreement(
        items=len(items),
        agree=sum(v == h for v, h in zip(verdicts, human, strict=True)),
        kappa=cohen_kappa(human, verdicts),
        judge_passes=verdicts.count("pass"),
        human_passes=human.count("pass"),
        verdicts=verdicts,
        raw=raw,
    )
