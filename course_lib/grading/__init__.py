"""Automatic grading of exercise notebooks: checks, inline feedback, the notebook runner (exercises).

In a notebook: ``from course_lib.grading import check`` then ``check("5.2", majority_vote)``.
From a shell: ``course grade exercises/05_self_consistency.ipynb``. Check authors: see
:mod:`course_lib.grading.checks`. The runner (papermill) is imported only when used.
"""

from __future__ import annotations

from typing import Any

from .inline import CheckResult, check
from .notebook import NotebookFormatError, read_notebook
from .registry import (
    CheckFailed,
    Question,
    UnknownExerciseError,
    exercise_number,
    get_question,
    load_exercise,
    question,
)
from .results import GradeReport, NotebookResult, QuestionResult
from .sandbox import grade_namespace, run_question

__all__ = [
    "CheckFailed",
    "CheckResult",
    "GradeReport",
    "NotebookFormatError",
    "NotebookResult",
    "Question",
    "QuestionResult",
    "UnknownExerciseError",
    "check",
    "exercise_number",
    "get_question",
    "grade_namespace",
    "grade_notebook",
    "load_exercise",
    "question",
    "read_notebook",
    "run_question",
]


def __getattr__(name: str) -> Any:
    if name == "grade_notebook":  # imports papermill only when used
        from .runner import grade_notebook

        return grade_notebook
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
