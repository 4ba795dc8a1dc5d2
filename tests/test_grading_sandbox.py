"""Running one check safely: time limits, stopping runaway threads, statuses and hints."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time

import pytest

from course_lib.grading.registry import CheckFailed, Question
from course_lib.grading.sandbox import (
    TimeLimitExceeded,
    describe_exception,
    grade_namespace,
    quiet,
    run_question,
    run_with_time_limit,
)


def _question(check, target="f", timeout=None):
    return Question("96.1", 2.0, "a question", target, check, timeout)


def test_time_limit_returns_the_value_and_reraises_the_exception():
    assert run_with_time_limit(lambda a, b=0: a + b, 2, b=3, timeout=1.0) == 5
    with pytest.raises(ZeroDivisionError):
        run_with_time_limit(lambda: 1 / 0, timeout=1.0)


def test_time_limit_stops_waiting_and_stops_a_pure_python_loop():
    state = {"stopped": False}

    def spin():
        try:
            while True:
                pass
        finally:
            state["stopped"] = True

    start = time.monotonic()
    with pytest.raises(TimeLimitExceeded):
        run_with_time_limit(spin, timeout=0.2)
    assert time.monotonic() - start < 2.0
    deadline = time.monotonic() + 2.0
    while not state["stopped"] and time.monotonic() < deadline:
        time.sleep(0.01)
    assert state["stopped"], "the runaway thread was not stopped"


def test_time_limit_is_not_swallowed_by_except_exception():
    def stubborn():
        while True:
            with contextlib.suppress(Exception):
                time.sleep(0.005)

    with pytest.raises(TimeLimitExceeded):
        run_with_time_limit(stubborn, timeout=0.2)


def test_checked_code_may_call_asyncio_run():
    async def answer():
        return 42

    assert run_with_time_limit(lambda: asyncio.run(answer()), timeout=2.0) == 42


def test_quiet_swallows_stdout_and_stderr(capsys):
    with quiet() as sink:
        print("to stdout")
        print("to stderr", file=sys.stderr)
    out, err = capsys.readouterr()
    assert (out, err) == ("", "")
    assert "to stdout" in sink.getvalue()


def test_passed_question_scores_its_points():
    result = run_question(_question(lambda f: None), {"f": len})
    assert (result.status, result.score, result.passed, bool(result)) == ("passed", 2.0, True, True)


def test_failed_check_gives_the_hint_and_zero():
    def check(f):
        raise CheckFailed("f([]) returned 1; expected 0")

    result = run_question(_question(check), {"f": len})
    assert (result.status, result.score, result.hint) == ("failed", 0.0, "f([]) returned 1; expected 0")
    assert not result


def test_missing_target_is_named():
    result = run_question(_question(lambda f: None, target="majority_vote"), {"other": 1})
    assert result.status == "missing"
    assert "`majority_vote`" in result.hint


def test_stub_that_still_raises_not_implemented():
    def stub():
        raise NotImplementedError("write it")

    result = run_question(_question(lambda f: f()), {"f": stub})
    assert result.status == "failed"
    assert "still raises NotImplementedError" in result.hint and "`f`" in result.hint


def test_learner_exception_is_reported_with_its_location():
    namespace: dict = {}
    exec("def f(x):\n    return x / 0\n", namespace)
    result = run_question(_question(lambda f: f(1)), namespace)
    assert result.status == "error"
    assert result.hint.startswith("your code raised ZeroDivisionError: division by zero (in `f`, line 2)")


def test_a_crashing_check_is_blamed_on_the_grader_not_the_learner():
    from course_lib.grading.helpers import expect_type

    def buggy_check(f):
        expect_type(f(), "not a type", "f()")  # isinstance() raises TypeError inside the grading package

    result = run_question(_question(buggy_check), {"f": lambda: 1})
    assert result.status == "error"
    assert "bug in the grader" in result.hint
    with pytest.raises(TypeError) as info:
        expect_type(1, "not a type", "x")
    assert "bug in the grader" in describe_exception(info.value)


def test_hanging_check_times_out_and_the_next_question_still_runs():
    def hang(f):
        while True:
            pass

    slow = Question("96.1", 1.0, "hangs", "f", hang, timeout=0.3)
    fine = Question("96.2", 1.0, "fine", "f", lambda f: None)
    start = time.monotonic()
    results = [run_question(q, {"f": len}, timeout=5.0) for q in (slow, fine)]
    assert [r.status for r in results] == ["timeout", "passed"]
    assert "0.3 s" in results[0].hint
    assert time.monotonic() - start < 3.0


def test_exit_in_learner_code_is_an_error_not_the_end_of_grading():
    result = run_question(_question(lambda f: f()), {"f": sys.exit})
    assert result.status == "error"
    assert "exit()" in result.hint


def test_output_printed_by_learner_code_is_swallowed(capsys):
    result = run_question(_question(lambda f: f("noise")), {"f": print})
    assert result.passed
    assert capsys.readouterr() == ("", "")


def test_long_hints_are_cut():
    def check(f):
        raise CheckFailed("x" * 5000)

    assert len(run_question(_question(check), {"f": len}).hint) <= 400


def test_grade_namespace_reports_every_question_of_the_exercise():
    events = []
    results = grade_namespace(
        99, {}, check_timeout=2.0, on_start=lambda q: events.append(q.id), on_result=events.append
    )
    assert [r.id for r in results] == ["99.1", "99.2", "99.3"]
    assert all(r.status == "missing" for r in results)
    assert events[0] == "99.1" and len(events) == 6


def test_checks_run_off_the_event_loop_even_without_a_time_limit():
    # A notebook kernel runs cells inside an event loop; learner code calling asyncio.run must still work.
    async def answer():
        return 42

    def check(f):
        if f() != 42:
            raise CheckFailed("wrong")

    async def kernel_like():
        return run_question(_question(check), {"f": lambda: asyncio.run(answer())}, timeout=None)

    assert asyncio.run(kernel_like()).status == "passed"
