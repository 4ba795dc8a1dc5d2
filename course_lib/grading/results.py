"""What grading produces: one result per question, per notebook and per run (exercises, all lessons).

Plain pydantic models, so the same objects feed the terminal table, the JSON file, the JUnit file
and the GitHub Classroom payload. A question scores all its points or none.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Status = Literal["passed", "failed", "error", "timeout", "missing", "not_run", "not_graded"]
"""``passed`` full points; ``failed`` a check found a wrong answer; ``error`` the code (or a check) crashed;
``timeout`` the check did not finish in time; ``missing`` the function or class is not in the notebook;
``not_run`` the notebook could not be read or executed far enough to check anything; ``not_graded`` the
check needs something this machine lacks (the local model, say): no points, and the grade is incomplete."""

__all__ = ["GradeReport", "NotebookResult", "QuestionResult", "Status"]


class QuestionResult(BaseModel):
    """The outcome of one graded question: status, score and a hint saying what to fix (exercises)."""

    id: str
    title: str
    points: float
    score: float = 0.0
    status: Status = "not_run"
    hint: str = ""
    duration_s: float = 0.0

    @property
    def passed(self) -> bool:
        """True when the question earned its points."""
        return self.status == "passed"

    def __bool__(self) -> bool:
        return self.passed

    def line(self) -> str:
        """One plain-text line: mark, id, title, points and the hint."""
        mark = "✔" if self.passed else "✘"
        text = (
            f"{mark} {self.id} {self.title}: {_label(self.status)} ({_num(self.score)}/{_num(self.points)})"
        )
        return f"{text}\n    {self.hint}" if self.hint and not self.passed else text


class NotebookResult(BaseModel):
    """The grade of one notebook: its questions, notes about its execution, and a fatal error if any."""

    path: str
    exercise: int | None = None
    questions: list[QuestionResult] = Field(default_factory=list)
    error: str | None = None
    """Why nothing (or not everything) could be checked: unreadable file, kernel died …"""
    notes: list[str] = Field(default_factory=list)
    """What happened while the notebook ran: cells that raised or were stopped."""
    duration_s: float = 0.0
    isolation: str = ""
    """How the notebook's code was kept apart from the grader (a separate user, or partial isolation)."""

    @property
    def score(self) -> float:
        """Points earned."""
        return sum(q.score for q in self.questions)

    @property
    def max_score(self) -> float:
        """Points available."""
        return sum(q.points for q in self.questions)

    @property
    def incomplete(self) -> bool:
        """True when a question could not be graded here (its status is ``not_graded``)."""
        return any(q.status == "not_graded" for q in self.questions)

    @property
    def full_marks(self) -> bool:
        """True when every question passed (and there was something to grade)."""
        return bool(self.questions) and self.error is None and all(q.passed for q in self.questions)


class GradeReport(BaseModel):
    """Every notebook graded in one run, with totals (exercises)."""

    notebooks: list[NotebookResult] = Field(default_factory=list)

    @property
    def score(self) -> float:
        """Points earned over all notebooks."""
        return sum(n.score for n in self.notebooks)

    @property
    def max_score(self) -> float:
        """Points available over all notebooks."""
        return sum(n.max_score for n in self.notebooks)

    @property
    def full_marks(self) -> bool:
        """True when every notebook earned full marks."""
        return bool(self.notebooks) and all(n.full_marks for n in self.notebooks)

    def to_dict(self) -> dict:
        """A JSON-ready dict with totals at the top and per-question detail below."""
        import os

        return {
            "version": 1,
            "grader": os.environ.get("COURSE_GRADER_REFERENCE", "the grader installed with this course_lib"),
            "score": self.score,
            "max_score": self.max_score,
            "full_marks": self.full_marks,
            "incomplete": any(n.incomplete for n in self.notebooks),
            "notebooks": [
                {
                    **n.model_dump(),
                    "score": n.score,
                    "max_score": n.max_score,
                    "full_marks": n.full_marks,
                    "incomplete": n.incomplete,
                }
                for n in self.notebooks
            ],
        }


def _num(x: float) -> str:
    return f"{x:g}"


def _label(status: Status) -> str:
    return {
        "passed": "passed",
        "failed": "failed",
        "error": "error",
        "timeout": "timed out",
        "missing": "missing",
        "not_run": "not run",
        "not_graded": "not graded",
    }[status]
