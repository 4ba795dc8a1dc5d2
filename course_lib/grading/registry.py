"""The check registry: which function checks which exercise question (exercises, all lessons).

A check module ``course_lib/grading/checks/exNN.py`` registers one check per question::

    @question("5.2", points=2, title="majority vote with ties", target="majority_vote")
    def check_majority_vote(majority_vote):
        if majority_vote(["a", "b", "a"]) != "a":
            raise CheckFailed("the most frequent answer should win")

The check receives the learner's object named ``target`` (``target=None``: the whole notebook
namespace, a tuple of names: one argument per name) and raises :class:`CheckFailed` with a specific,
actionable hint when the answer is wrong. Exercise ``N``'s checks are found by number.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "CheckFailed",
    "NotGraded",
    "Question",
    "UnknownExerciseError",
    "exercise_number",
    "get_question",
    "load_exercise",
    "question",
    "questions_for",
]

CHECKS_PACKAGE = "course_lib.grading.checks"
_QUESTION_ID = re.compile(r"^(\d+)\.(\d+)$")
_REGISTRY: dict[str, Question] = {}


class CheckFailed(AssertionError):
    """A check found a wrong answer; the message is the hint the learner sees (exercises)."""


class NotGraded(Exception):
    """A check cannot run on this machine (the local model is missing, say); the message says why (exercises).

    The question scores nothing and is reported as not graded, and the total says the grade is
    incomplete: it is never counted as passed.
    """


class UnknownExerciseError(LookupError):
    """There are no checks for the exercise (or question) asked for (exercises)."""


@dataclass(frozen=True)
class Question:
    """One graded question: its id, points, title, the name it checks and the check itself (exercises)."""

    id: str
    points: float
    title: str
    target: str | tuple[str, ...] | None
    check: Callable[..., Any]
    timeout: float | None = None
    """Seconds this check may take; ``None`` uses the grader's default."""

    @property
    def exercise(self) -> int:
        """The exercise number, the part of the id before the dot."""
        return int(self.id.split(".")[0])

    @property
    def sort_key(self) -> tuple[int, int]:
        """Numeric order: 5.2 before 5.10."""
        major, minor = self.id.split(".")
        return int(major), int(minor)

    @property
    def targets(self) -> tuple[str, ...]:
        """The names the check needs from the notebook (empty for the whole namespace)."""
        if self.target is None:
            return ()
        return (self.target,) if isinstance(self.target, str) else tuple(self.target)


def question(
    qid: str,
    *,
    points: float = 1,
    title: str,
    target: str | tuple[str, ...] | None,
    timeout: float | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the decorated function as the check for question ``qid`` such as ``"5.2"`` (exercises)."""
    if not _QUESTION_ID.match(qid):
        raise ValueError(f"question id {qid!r} must look like '5.2' (exercise number, dot, question number)")
    if points <= 0:
        raise ValueError(f"question {qid} must be worth a positive number of points, not {points}")

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        old = _REGISTRY.get(qid)
        if old is not None and (old.check.__module__, old.check.__qualname__) != (
            fn.__module__,
            fn.__qualname__,
        ):
            raise ValueError(
                f"question {qid} already has a check ({old.check.__module__}.{old.check.__qualname__}); "
                "give the new one another id"
            )
        _REGISTRY[qid] = Question(qid, float(points), title, target, fn, timeout)
        return fn

    return register


def load_exercise(number: int) -> list[Question]:
    """Import exercise ``number``'s check module and return its questions in order (exercises).

    Questions registered from another module (a test, say) count too when there is no ``exNN`` module.
    """
    name = f"{CHECKS_PACKAGE}.ex{number:02d}"
    try:
        importlib.import_module(name)
    except ModuleNotFoundError as exc:
        registered_elsewhere = any(q.exercise == number for q in _REGISTRY.values())
        if exc.name != name:
            raise
        if not registered_elsewhere:
            raise UnknownExerciseError(
                f"there are no checks for exercise {number}: expected a module {name} "
                f"(file course_lib/grading/checks/ex{number:02d}.py)"
            ) from None
    except Exception as exc:
        raise UnknownExerciseError(
            f"the checks for exercise {number} ({name}) fail to import: {type(exc).__name__}: {exc}"
        ) from exc
    found = sorted((q for q in _REGISTRY.values() if q.exercise == number), key=lambda q: q.sort_key)
    if not found:
        raise UnknownExerciseError(f"{name} registers no questions for exercise {number}")
    return found


def questions_for(number: int) -> list[Question]:
    """Alias of :func:`load_exercise`: the questions of exercise ``number`` (exercises)."""
    return load_exercise(number)


def get_question(qid: str) -> Question:
    """The registered question ``qid`` (loading its exercise's checks first) (exercises)."""
    match = _QUESTION_ID.match(str(qid).strip())
    if not match:
        raise UnknownExerciseError(f"{qid!r} is not a question id; use the form '5.2'")
    questions = load_exercise(int(match.group(1)))
    for q in questions:
        if q.id == qid.strip():
            return q
    known = ", ".join(q.id for q in questions)
    raise UnknownExerciseError(f"exercise {match.group(1)} has no question {qid}; it has {known}")


def exercise_number(path: str | Path) -> int:
    """The exercise number at the start of a notebook's file name: ``05_self_consistency.ipynb`` → 5."""
    stem = Path(path).name
    match = re.match(r"^(\d+)[_\-. ]", stem)
    if not match:
        raise UnknownExerciseError(
            f"cannot tell which exercise {stem!r} is: its name must start with the exercise number, "
            "e.g. 05_self_consistency.ipynb (or pass --exercise N)"
        )
    return int(match.group(1))
