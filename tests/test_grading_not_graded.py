"""A check that cannot run here (the local model is missing) is reported as not graded, never passed."""

from __future__ import annotations

from course_lib.grading.registry import CheckFailed, NotGraded, Question
from course_lib.grading.results import GradeReport, NotebookResult
from course_lib.grading.sandbox import run_question


def _needs_the_model(fn: object) -> None:
    raise NotGraded("the local extra is not installed (pip install 'course-lib[local]')")


def _wrong(fn: object) -> None:
    raise CheckFailed("wrong")


def test_not_graded_scores_nothing_and_makes_the_grade_incomplete() -> None:
    q = Question("98.1", 2.0, "a prompt on the real model", "f", _needs_the_model)
    result = run_question(q, {"f": print})
    assert result.status == "not_graded" and result.score == 0 and not result.passed
    assert "local extra is not installed" in result.hint and "not graded" in result.line()
    other = run_question(Question("98.2", 1.0, "x", "f", _wrong), {"f": print})
    nb = NotebookResult(path="ex.ipynb", exercise=98, questions=[result, other])
    assert nb.incomplete and not nb.full_marks
    report = GradeReport(notebooks=[nb]).to_dict()
    assert report["incomplete"] is True and report["notebooks"][0]["incomplete"] is True
    complete = NotebookResult(path="ex.ipynb", exercise=98, questions=[other])
    assert not complete.incomplete and GradeReport(notebooks=[complete]).to_dict()["incomplete"] is False


def test_the_terminal_report_says_the_grade_is_incomplete(capsys) -> None:
    from rich.console import Console

    from course_lib.grading.report import junit_xml, print_notebook

    q = Question("98.1", 2.0, "a prompt on the real model", "f", _needs_the_model)
    nb = NotebookResult(path="ex.ipynb", exercise=98, questions=[run_question(q, {"f": print})])
    print_notebook(Console(width=200, force_terminal=False), nb)
    out = capsys.readouterr().out
    assert "not graded" in out and "The grade is incomplete: 98.1" in out
    xml = junit_xml(GradeReport(notebooks=[nb]))
    assert 'skipped="1"' in xml and "<skipped" in xml and "<failure" not in xml
