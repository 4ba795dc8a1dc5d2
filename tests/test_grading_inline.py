"""Inline feedback in a notebook: check("99.3", majority_vote) prints one line and returns a result."""

from __future__ import annotations

from course_lib.grading import CheckResult, check


def majority_vote(answers):
    if not answers:
        return None
    return max(answers, key=lambda a: (answers.count(a), -answers.index(a)))


def first_answer(answers):
    return answers[0] if answers else None


def test_a_passing_answer_prints_a_tick_and_returns_a_truthy_result(capsys):
    result = check("99.3", majority_vote)
    out, err = capsys.readouterr()
    assert isinstance(result, CheckResult) and result and result.score == 2
    assert out == "✔ 99.3 majority vote with ties: passed (2/2)\n"
    assert err == ""


def test_a_wrong_answer_prints_the_hint_and_returns_a_falsy_result(capsys):
    result = check("99.3", first_answer)
    out, err = capsys.readouterr()
    assert not result and result.status == "failed" and result.score == 0
    assert out.startswith("✘ 99.3 majority vote with ties: failed (0/2)\n    majority_vote(")
    assert "majority_vote(['a', 'b', 'b']) returned 'a'; expected 'b'" in out
    assert err == ""


def test_without_an_object_the_callers_variable_is_used(capsys):
    assert check("99.3")  # finds majority_vote among this module's globals
    assert capsys.readouterr().out.startswith("✔ 99.3")


def test_missing_callers_variable(capsys):
    result = check("99.1")
    assert result.status == "missing"
    assert "no `total_usage`" in capsys.readouterr().out


def test_unknown_question_is_reported_not_raised(capsys):
    result = check("99.9", majority_vote)
    assert result.status == "not_run" and not result
    assert "has no question 99.9" in capsys.readouterr().out


def test_while_grading_the_inline_check_defers_to_the_grader(capsys, monkeypatch):
    monkeypatch.setenv("COURSE_GRADING", "1")
    result = check("99.3", first_answer)
    assert result.status == "not_run"
    assert "checked by the grader" in capsys.readouterr().out


def test_a_hanging_answer_is_cut_by_the_time_limit(capsys):
    def hangs(answers):
        while True:
            pass

    result = check("99.3", hangs, timeout=0.3)
    assert result.status == "timeout"
    assert "0.3 s" in capsys.readouterr().out


def test_the_result_does_not_display_twice_in_a_notebook():
    result = check("99.3", majority_vote)
    assert result._ipython_display_() is None


def test_the_checks_never_enter_the_notebooks_process():
    """check() runs the check in a grader process: this process never imports a checks module."""
    import sys

    before = {name for name in sys.modules if name.startswith("course_lib.grading.checks.ex")}
    result = check("99.3", majority_vote)
    after = {name for name in sys.modules if name.startswith("course_lib.grading.checks.ex")}
    assert result.passed
    assert after == before


def test_an_object_that_always_agrees_earns_nothing_inline():
    class Agreeable:
        def __eq__(self, other):
            return True

        __hash__ = object.__hash__

    result = check("99.3", lambda answers: Agreeable())
    assert result.status == "failed" and result.score == 0
