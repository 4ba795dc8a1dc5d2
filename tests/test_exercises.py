"""Every exercise notebook: generated from its solution, zero for the stubs, full marks for the solution.

One parametrized test each, over ``solutions/NN_*.ipynb``. The slow pair runs the real grader
(:func:`course_lib.grading.grade_notebook`, a kernel per notebook); the planted bugs of each exercise
are in ``test_exNN.py``.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from exercise_support import CHECK_TIMEOUT, EXERCISES_DIR, SOLUTIONS_DIR, exec_namespace, solution_sources

from course_lib.grading import exercise_number, grade_namespace, load_exercise
from course_lib.grading.sync import render_exercise

SOLUTIONS = sorted(SOLUTIONS_DIR.glob("[0-9][0-9]_*.ipynb"))
GRADING_BUDGET_S = 15 * 2
"""A notebook is graded within 15 s; twice that leaves room for a loaded CI machine."""
REGIONS = {1: 5, 2: 4, 3: 5, 4: 5, 5: 4, 6: 5, 7: 7, 8: 6, 9: 5, 10: 3, 11: 4, 12: 3}
"""How many ``# BEGIN SOLUTION`` regions each solution has, so a lost or extra region is noticed."""


def _exercise(solution: Path) -> Path:
    return EXERCISES_DIR / solution.name


def _names(paths) -> list[str]:
    return [p.name for p in paths]


def test_every_solution_has_an_exercise_and_checks() -> None:
    assert len(SOLUTIONS) == len(REGIONS), _names(SOLUTIONS)
    assert _names(sorted(EXERCISES_DIR.glob("[0-9][0-9]_*.ipynb"))) == _names(SOLUTIONS)
    for solution in SOLUTIONS:
        assert load_exercise(exercise_number(solution)), f"no checks registered for {solution.name}"


@pytest.mark.parametrize("solution", SOLUTIONS, ids=_names(SOLUTIONS))
def test_exercise_is_generated_from_the_solution(solution: Path) -> None:
    text, regions = render_exercise(solution)
    assert regions == REGIONS[exercise_number(solution)]
    assert _exercise(solution).read_text(encoding="utf-8") == text, "run scripts/build_exercises.py"
    exercise = nbformat.read(str(_exercise(solution)), as_version=4)
    assert all(not c.get("outputs") for c in exercise.cells if c.cell_type == "code")
    assert "parameters" in exercise.cells[1].metadata.get("tags", [])


@pytest.mark.parametrize("solution", SOLUTIONS, ids=_names(SOLUTIONS))
def test_untouched_exercise_scores_zero_with_a_stub_hint(solution: Path) -> None:
    """In-process and fast: the exercise's cells, stubs and all, graded without a kernel."""
    number = exercise_number(solution)
    namespace = exec_namespace(solution_sources(_exercise(solution)), allow_stubs=True)
    results = grade_namespace(number, namespace, check_timeout=CHECK_TIMEOUT)
    assert [r.id for r in results] == [q.id for q in load_exercise(number)]
    assert [(r.status, r.score) for r in results] == [("failed", 0)] * len(results)
    assert all("still raises NotImplementedError" in r.hint for r in results), [r.hint for r in results]


@pytest.mark.slow
@pytest.mark.parametrize("solution", SOLUTIONS, ids=_names(SOLUTIONS))
def test_solution_notebook_scores_full_marks(solution: Path) -> None:
    from course_lib.grading import grade_notebook

    result = grade_notebook(solution)
    assert result.error is None, result.error
    expected = [(q.id, "passed", q.points) for q in load_exercise(exercise_number(solution))]
    assert [(q.id, q.status, q.score) for q in result.questions] == expected, [
        q.hint for q in result.questions
    ]
    assert result.duration_s <= GRADING_BUDGET_S


@pytest.mark.slow
@pytest.mark.parametrize("solution", SOLUTIONS, ids=_names(SOLUTIONS))
def test_untouched_exercise_notebook_scores_zero_without_a_grader_error(solution: Path) -> None:
    from course_lib.grading import grade_notebook

    result = grade_notebook(_exercise(solution))
    assert result.error is None, result.error
    assert [q.id for q in result.questions] == [q.id for q in load_exercise(exercise_number(solution))]
    assert [(q.status, q.score) for q in result.questions] == [("failed", 0)] * len(result.questions)
    assert all("NotImplementedError" in q.hint for q in result.questions), [q.hint for q in result.questions]
