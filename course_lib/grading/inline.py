"""Instant feedback inside an exercise notebook: ``check("5.2", majority_vote)`` (exercises).

The same check the grader runs, on the same terms (time limit, output swallowed), printed as one plain
line on stdout with the hint when it fails. While ``course grade`` executes a notebook these calls do
nothing: the grader runs every check itself after the last cell.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from .registry import UnknownExerciseError, get_question
from .results import QuestionResult
from .sandbox import DEFAULT_CHECK_TIMEOUT, run_question

__all__ = ["CheckResult", "check"]

GRADING_ENV = "COURSE_GRADING"
_UNSET: Any = object()


class CheckResult(QuestionResult):
    """The result :func:`check` returns: truthy when the question passed (exercises)."""

    def _ipython_display_(self) -> None:
        """Show nothing as a cell's value: :func:`check` has already printed the feedback."""


def _namespace_for(targets: tuple[str, ...], obj: Any, caller_globals: dict[str, Any]) -> dict[str, Any]:
    if obj is _UNSET:
        return caller_globals
    if not targets:
        return dict(obj) if isinstance(obj, dict) else caller_globals
    if len(targets) == 1:
        return {targets[0]: obj}
    if not isinstance(obj, (tuple, list)) or len(obj) != len(targets):
        raise TypeError(f"this question checks {', '.join(targets)}: pass them as a tuple in that order")
    return dict(zip(targets, obj, strict=True))


def check(qid: str, obj: Any = _UNSET, *, timeout: float | None = DEFAULT_CHECK_TIMEOUT) -> CheckResult:
    """Check question ``qid`` against ``obj`` (or the caller's variables) and print the feedback (exercises).

    Returns a :class:`CheckResult`, truthy when the question passed.
    """
    try:
        q = get_question(qid)
    except UnknownExerciseError as exc:
        print(f"✘ {qid}: {exc}")
        return CheckResult(id=str(qid), title="unknown question", points=0, status="not_run", hint=str(exc))
    base = {"id": q.id, "title": q.title, "points": q.points}
    if os.environ.get(GRADING_ENV) == "1":
        print(f"· {q.id} {q.title}: checked by the grader after the last cell")
        return CheckResult(**base, status="not_run", hint="checked by the grader after the last cell")
    namespace = _namespace_for(q.targets, obj, sys._getframe(1).f_globals)
    result = CheckResult(**run_question(q, namespace, timeout=timeout).model_dump())
    print(result.line())
    return result
