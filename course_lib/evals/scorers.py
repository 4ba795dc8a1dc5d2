"""Scorers: deterministic checks of an answer, and a model judge whose agreement is measured (lesson 11).

The plain functions (:func:`exact_match`, :func:`includes`, :func:`pattern_match`, :func:`json_fields`,
:func:`exact_json_name`) take an answer and a target and say pass or fail; the Inspect scorers in
:mod:`course_lib.evals.tasks` wrap them. :func:`judge_messages` and :func:`parse_verdict` are the
model-graded rubric: a model reads the answer and says pass or fail. A judge is a model too, so its
verdicts are compared with human labels (Cohen's kappa) before anyone trusts them.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, ValidationError

__all__ = [
    "JUDGE_RUBRIC",
    "FieldScore",
    "exact_json_name",
    "exact_match",
    "includes",
    "json_fields",
    "judge_messages",
    "parse_verdict",
    "pattern_match",
]


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def exact_match(answer: str, target: str) -> bool:
    """The whole answer is the target, ignoring case and surrounding or repeated whitespace (lesson 11)."""
    return _norm(answer) == _norm(target)


def includes(answer: str, target: str) -> bool:
    """The target appears somewhere in the answer, ignoring case (lesson 11)."""
    return _norm(target) in _norm(answer)


def pattern_match(answer: str, pattern: str) -> bool:
    """The whole answer (stripped) matches the regular expression ``pattern`` (lesson 11)."""
    return re.fullmatch(pattern, answer.strip()) is not None


def exact_json_name(answer: str, target: str) -> bool:
    """The answer is exactly the JSON object ``{"name": target}`` (the lesson's format criterion) (lesson 11)."""
    try:
        value = json.loads(answer.strip())
    except ValueError:
        return False
    return isinstance(value, dict) and set(value) == {"name"} and value["name"] == target


class FieldScore(BaseModel):
    """A JSON answer scored against a schema: valid or not, and which fields are right (lesson 11)."""

    valid: bool
    fields: dict[str, bool]
    error: str = ""

    @property
    def correct(self) -> bool:
        """Valid, and every field right."""
        return self.valid and all(self.fields.values())


def json_fields(answer: str, schema: type[BaseModel], target: dict[str, Any]) -> FieldScore:
    """Validate ``answer`` against ``schema`` and compare each field of ``target`` (lesson 11).

    An answer that is not JSON or breaks the schema is invalid and every field counts as wrong, so
    per-field accuracy is measured over all answers, not only the valid ones.
    """
    try:
        parsed = schema.model_validate_json(answer.strip()).model_dump()
    except (ValidationError, ValueError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return FieldScore(valid=False, fields={k: False for k in target}, error=first)
    return FieldScore(
        valid=True,
        fields={
            k: str(parsed.get(k, "")).strip().casefold() == str(v).strip().casefold()
            for k, v in target.items()
        },
    )


JUDGE_RUBRIC = (
    "You grade answers. The task was to give the full name of the person in the sentence. "
    "Reply PASS if the answer gives that person's full name and nothing wrong, otherwise FAIL. "
    "Reply with one word."
)
"""The rubric the model judge applies (lesson 11)."""


def judge_messages(sentence: str, answer: str) -> list[dict[str, str]]:
    """The request asking a judge model to grade one answer against :data:`JUDGE_RUBRIC` (lesson 11)."""
    return [
        {"role": "system", "content": JUDGE_RUBRIC},
        {"role": "user", "content": f"Sentence: {sentence}\nAnswer: {answer}\nGrade:"},
    ]


def parse_verdict(text: str) -> str:
    """``"pass"`` or ``"fail"`` from a judge's reply; anything unclear counts as ``"fail"`` (lesson 11)."""
    words = re.findall(r"[a-z]+", text.casefold())
    for word in words:
        if word in ("pass", "passed", "yes", "correct"):
            return "pass"
        if word in ("fail", "failed", "no", "incorrect", "wrong"):
            return "fail"
    return "fail"
