"""The check registry: question ids, discovery by exercise number, ordering, file-name parsing."""

from __future__ import annotations

import pytest

from course_lib.grading.registry import (
    CheckFailed,
    UnknownExerciseError,
    exercise_number,
    get_question,
    load_exercise,
    question,
)


@question("97.10", points=1, title="tenth", target="f")
def _check_tenth(f):
    pass


@question("97.2", points=3, title="second", target=("f", "g"))
def _check_second(f, g):
    pass


def test_questions_are_sorted_numerically_not_as_text():
    ids = [q.id for q in load_exercise(97)]
    assert ids == ["97.2", "97.10"]


def test_question_records_points_title_and_targets():
    q = get_question("97.2")
    assert (q.points, q.title, q.targets, q.exercise) == (3.0, "second", ("f", "g"), 97)
    assert get_question("97.10").targets == ("f",)


def test_demo_exercise_is_discovered_by_number():
    questions = load_exercise(99)
    assert [q.id for q in questions] == ["99.1", "99.2", "99.3"]
    assert sum(q.points for q in questions) == 5
    assert [q.target for q in questions] == ["total_usage", "call_with_retry", "majority_vote"]


def test_unknown_exercise_names_the_expected_module():
    with pytest.raises(UnknownExerciseError, match=r"checks/ex42\.py"):
        load_exercise(42)


def test_unknown_question_lists_the_known_ones():
    with pytest.raises(UnknownExerciseError, match=r"99\.1, 99\.2, 99\.3"):
        get_question("99.7")
    with pytest.raises(UnknownExerciseError, match="not a question id"):
        get_question("five")


@pytest.mark.parametrize("bad", ["5", "5.", "a.b", "5.2.1", ""])
def test_malformed_question_ids_are_rejected(bad):
    with pytest.raises(ValueError, match="must look like"):
        question(bad, title="x", target="f")


def test_points_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        question("96.1", points=0, title="x", target="f")


def test_a_second_check_for_the_same_id_is_refused():
    with pytest.raises(ValueError, match="already has a check"):

        @question("97.2", title="other", target="f")
        def other(f):
            pass


@pytest.mark.parametrize(
    ("name", "number"),
    [
        ("05_self_consistency.ipynb", 5),
        ("10_cot_orchestrator.ipynb", 10),
        ("99_demo.ipynb", 99),
        ("7-x.ipynb", 7),
    ],
)
def test_exercise_number_from_file_name(name, number):
    assert exercise_number(f"some/dir/{name}") == number


@pytest.mark.parametrize("name", ["self_consistency.ipynb", "ex05.ipynb", "05self.ipynb"])
def test_file_name_without_a_leading_number_is_a_clear_error(name):
    with pytest.raises(UnknownExerciseError, match="must start with the exercise number"):
        exercise_number(name)


def test_check_failed_is_an_assertion_error_with_the_hint_as_message():
    err = CheckFailed("count the first result too")
    assert isinstance(err, AssertionError)
    assert str(err) == "count the first result too"
