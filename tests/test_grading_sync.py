"""Exercises generated from solutions: region stripping, notebook cleaning, --check, the repository's pair."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from course_lib.grading.sync import (
    SolutionMarkupError,
    build_exercises,
    exercise_from_solution,
    strip_solutions,
)

ROOT = Path(__file__).resolve().parents[1]
DEMO = Path(__file__).parent / "data" / "grading" / "99_demo.ipynb"


def _script():
    spec = importlib.util.spec_from_file_location("build_exercises", ROOT / "scripts" / "build_exercises.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_region_becomes_a_stub_at_the_markers_indentation():
    source = (
        "def f(x):\n"
        '    """Docstring stays."""\n'
        "    # BEGIN SOLUTION\n"
        "    y = x * 2\n"
        "    return y\n"
        "    # END SOLUTION\n"
        "\n"
        "TAIL = 1"
    )
    out, regions = strip_solutions(source)
    assert regions == 1
    assert out == (
        "def f(x):\n"
        '    """Docstring stays."""\n'
        '    raise NotImplementedError("replace this line with your solution")\n'
        "\n"
        "TAIL = 1"
    )
    compile(out, "<exercise>", "exec")


def test_marker_message_and_several_regions():
    source = (
        "class A:\n"
        "    def a(self):\n"
        "        # BEGIN SOLUTION: count the votes, don't sort\n"
        "        return 1\n"
        "        # END SOLUTION\n"
        "    def b(self):\n"
        "        #BEGIN SOLUTION\n"
        "        return 2\n"
        "        #END SOLUTION\n"
    )
    out, regions = strip_solutions(source)
    assert regions == 2
    assert '        raise NotImplementedError("count the votes, don\'t sort")' in out.splitlines()
    assert "return 1" not in out and "return 2" not in out
    assert out.endswith("\n")
    compile(out, "<exercise>", "exec")


@pytest.mark.parametrize(
    ("source", "match"),
    [
        ("# BEGIN SOLUTION\nx = 1\n", "line 1: BEGIN SOLUTION is never closed"),
        ("x = 1\n# END SOLUTION\n", "line 2: END SOLUTION without a BEGIN"),
        ("# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION\n", "line 2: BEGIN SOLUTION inside"),
    ],
)
def test_broken_markers_say_where(source, match):
    with pytest.raises(SolutionMarkupError, match=match):
        strip_solutions(source, "05_x.ipynb, cell 3")


def _solution_nb():
    cell = new_code_cell(
        "def f():\n    # BEGIN SOLUTION\n    return 42\n    # END SOLUTION", execution_count=3
    )
    cell.outputs = [new_output("stream", name="stdout", text="42\n")]
    cell.metadata["execution"] = {"iopub.status.busy": "2024-01-01"}
    params = new_code_cell("N = 3", metadata={"tags": ["parameters"]})
    only = new_markdown_cell("Answer: 42", metadata={"tags": ["solution"]})
    nb = new_notebook(cells=[new_markdown_cell("# Title"), params, cell, only])
    nb.metadata.update(
        {"kernelspec": {"name": "python3", "display_name": "P", "language": "python"}, "widgets": {}}
    )
    return nb


def test_exercise_strips_outputs_counts_and_solution_cells_but_keeps_parameters():
    exercise, regions = exercise_from_solution(_solution_nb())
    assert regions == 1
    assert [c.cell_type for c in exercise.cells] == ["markdown", "code", "code"]
    params, stub = exercise.cells[1], exercise.cells[2]
    assert params.metadata["tags"] == ["parameters"] and params.source == "N = 3"
    assert stub.outputs == [] and stub.execution_count is None and "execution" not in stub.metadata
    assert "return 42" not in stub.source and "raise NotImplementedError" in stub.source
    assert set(exercise.metadata) == {"kernelspec"}
    nbformat.validate(exercise)


def test_build_then_check_in_sync_then_detect_drift(tmp_path):
    solutions, exercises = tmp_path / "solutions", tmp_path / "exercises"
    solutions.mkdir()
    shutil.copy(DEMO, solutions / DEMO.name)
    assert build_exercises(solutions, exercises, check=True)[0].problem.startswith("is missing")
    assert build_exercises(solutions, exercises) == []
    generated = exercises / DEMO.name
    assert "raise NotImplementedError" in generated.read_text()
    assert build_exercises(solutions, exercises, check=True) == []
    generated.write_text(generated.read_text().replace("Exercise 99", "Exercise 98"))
    issues = build_exercises(solutions, exercises, check=True)
    assert [i.problem for i in issues] == ["is out of date; run scripts/build_exercises.py"]
    (exercises / "42_orphan.ipynb").write_text("{}")
    assert any(
        "has no solution notebook" in str(i) for i in build_exercises(solutions, exercises, check=True)
    )


def test_a_solution_without_regions_is_flagged(tmp_path):
    solutions = tmp_path / "solutions"
    solutions.mkdir()
    nbformat.write(new_notebook(cells=[new_code_cell("x = 1")]), str(solutions / "03_x.ipynb"))
    issues = build_exercises(solutions, tmp_path / "exercises")
    assert [i.problem for i in issues] == ["has no '# BEGIN SOLUTION' region, so nothing is left to do"]


def test_script_exit_codes(tmp_path, capsys):
    script = _script()
    solutions, exercises = tmp_path / "s", tmp_path / "e"
    solutions.mkdir()
    shutil.copy(DEMO, solutions / DEMO.name)
    args = ["--solutions", str(solutions), "--exercises", str(exercises)]
    assert script.main([*args, "--check"]) == 1
    assert script.main(args) == 0
    assert script.main([*args, "--check"]) == 0
    assert "1 exercise notebook(s) in sync" in capsys.readouterr().out
    assert script.main(["--solutions", str(tmp_path / "nowhere"), "--check"]) == 2


def test_the_repository_exercises_are_in_sync_with_their_solutions(capsys):
    assert _script().main(["--check"]) == 0, capsys.readouterr().out
