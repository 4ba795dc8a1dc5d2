"""`course grade`: notebooks executed in a real kernel, every check run, reasons for every zero.

Tests that start a kernel take a few seconds each and are marked slow; the file-level and usage-error
tests need no kernel.
"""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import nbformat
import pytest

from course_lib.grading import grade_notebook
from course_lib.grading.cli import main
from course_lib.grading.sync import exercise_from_solution

DEMO = Path(__file__).parent / "data" / "grading" / "99_demo.ipynb"


def _demo():
    return nbformat.read(str(DEMO), as_version=4)


def _replace(nb, old: str, new: str) -> None:
    hits = [c for c in nb.cells if old in c.source]
    assert len(hits) == 1, f"fixture text not found once: {old!r}"
    hits[0].source = hits[0].source.replace(old, new)


def _write(nb, folder: Path, name: str = "99_demo.ipynb") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    nbformat.write(nb, str(path))
    return path


def _statuses(result) -> dict[str, str]:
    return {q.id: q.status for q in result.questions}


# --------------------------------------------------------------------------- no kernel needed


def test_invalid_json_scores_zero_with_the_reason(tmp_path):
    path = tmp_path / "99_demo.ipynb"
    path.write_text('{"cells": [', encoding="utf-8")
    result = grade_notebook(path)
    assert result.error.startswith("the file is not valid JSON (line 1, column 12")
    assert [(q.status, q.score) for q in result.questions] == [("not_run", 0)] * 3
    assert all("not valid JSON" in q.hint for q in result.questions)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"[1, 2]", "not a Jupyter notebook"),
        (b'{"metadata": {}}', "not a Jupyter notebook"),
        (b"\xff\xfe\x00", "not UTF-8"),
    ],
)
def test_files_that_are_not_notebooks(tmp_path, content, reason):
    path = tmp_path / "99_x.ipynb"
    path.write_bytes(content)
    result = grade_notebook(path)
    assert reason in result.error and result.score == 0 and result.max_score == 5


def test_cli_writes_well_formed_json_and_junit_and_exits_1_below_full_marks(tmp_path, capsys):
    path = tmp_path / "99_demo.ipynb"
    path.write_text("not json", encoding="utf-8")
    out_json, out_xml, out_classroom = tmp_path / "g.json", tmp_path / "r" / "g.xml", tmp_path / "c.json"
    code = main(
        [str(path), "--json", str(out_json), "--junit", str(out_xml), "--classroom", str(out_classroom)]
    )
    assert code == 1
    captured = capsys.readouterr()
    assert "not valid JSON" in captured.out and "Points 0/5" in captured.out
    assert captured.err == ""
    data = json.loads(out_json.read_text())
    assert (data["score"], data["max_score"], data["full_marks"]) == (0, 5, False)
    root = ET.fromstring(out_xml.read_bytes())
    assert (root.get("tests"), root.get("errors")) == ("3", "3")
    assert json.loads(out_classroom.read_text())["status"] == "fail"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["missing/99_demo.ipynb"], "no such file"),
        (["{tmp}/demo.ipynb"], "must start with the exercise number"),
        (["{tmp}/42_unknown.ipynb"], "no checks for exercise 42"),
        (["{tmp}/empty_dir"], "no numbered notebooks"),
    ],
)
def test_usage_errors_exit_2_with_a_message(tmp_path, capsys, argv, message):
    (tmp_path / "demo.ipynb").write_text("{}")
    (tmp_path / "42_unknown.ipynb").write_text("{}")
    (tmp_path / "empty_dir").mkdir()
    assert main([a.format(tmp=tmp_path) for a in argv]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("argv", [[], ["x.ipynb", "--timeout", "0"], ["x.ipynb", "--check-timeout", "soon"]])
def test_bad_options_exit_2(argv, capsys):
    assert main(argv) == 2
    assert "usage: course grade" in capsys.readouterr().err


def test_register_adds_the_grade_subcommand():
    import argparse

    from course_lib.grading.cli import register, run

    parser = argparse.ArgumentParser(prog="course")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        ["grade", "a.ipynb", "--timeout", "5", "--check-timeout", "2", "--json", "g.json"]
    )
    assert (args.paths, args.timeout, args.check_timeout, args.json) == (
        ["a.ipynb"],
        5.0,
        2.0,
        Path("g.json"),
    )
    assert args.func is run


# --------------------------------------------------------------------------- with a kernel


@pytest.mark.slow
def test_solution_scores_full_marks_in_the_current_interpreter_within_budget(tmp_path, capfd):
    nb = _demo()
    probe = "import os, sys, pathlib\npathlib.Path('kernel.txt').write_text(sys.executable + '|' + os.environ['COURSE_GRADING'])"
    nb.cells.insert(2, nbformat.v4.new_code_cell(probe))
    path = _write(nb, tmp_path)
    # --same-user: the kernel may then write in the notebook's folder (a separate user could not enter
    # pytest's private temporary folder); the separate-user case is tested in test_grading_isolation.py.
    code = main(
        [str(path), "--same-user", "--json", str(tmp_path / "g.json"), "--junit", str(tmp_path / "g.xml")]
    )
    out, err = capfd.readouterr()
    assert code == 0, out
    assert err == ""
    # The kernel ran this interpreter, in grading mode, with the notebook's folder as working directory,
    # and left nothing else there (hypothesis caches go to a temporary folder).
    assert (tmp_path / "kernel.txt").read_text() == f"{sys.executable}|1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["99_demo.ipynb", "g.json", "g.xml", "kernel.txt"]
    data = json.loads((tmp_path / "g.json").read_text())
    assert (data["score"], data["max_score"], data["full_marks"]) == (5, 5, True)
    notebook = data["notebooks"][0]
    assert notebook["error"] is None and notebook["notes"] == []
    assert notebook["duration_s"] <= 15, f"grading took {notebook['duration_s']} s (budget 15 s)"
    root = ET.fromstring((tmp_path / "g.xml").read_bytes())
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("3", "0", "0")
    assert "Points 5/5" in out


@pytest.mark.slow
def test_generated_exercise_scores_zero_without_crashing(tmp_path):
    exercise, _ = exercise_from_solution(_demo())
    result = grade_notebook(_write(exercise, tmp_path), cell_timeout=10)
    assert result.error is None and result.notes == []
    assert [(q.status, q.score) for q in result.questions] == [("failed", 0)] * 3
    assert all("still raises NotImplementedError" in q.hint for q in result.questions)


@pytest.mark.slow
def test_broken_notebook_reports_a_reason_for_every_zero(tmp_path):
    nb = _demo()
    _replace(nb, "for result in results:", "for result in results[1:]:")  # off by one
    _replace(nb, "            return provider.complete(messages)", "            raise ValueError('boom')")
    _replace(nb, "    counts: dict[str, int] = {}", "    while True:\n        pass")  # hangs in the check
    nb.cells = [
        c for c in nb.cells if not c.source.startswith("check(")
    ]  # deleting check cells skips nothing
    nb.cells.insert(3, nbformat.v4.new_code_cell("while True:\n    pass"))  # cut by the per-cell limit
    nb.cells.insert(4, nbformat.v4.new_code_cell("print(undefined_name)"))
    result = grade_notebook(_write(nb, tmp_path), cell_timeout=2, check_timeout=2)
    assert result.error is None
    assert _statuses(result) == {"99.1": "failed", "99.2": "failed", "99.3": "timeout"}
    hints = {q.id: q.hint for q in result.questions}
    assert "(21, 8, 3); expected (31, 13, 3)" in hints["99.1"]
    assert hints["99.2"].startswith("call_with_retry raised ValueError: boom")
    assert "did not finish within 2 s" in hints["99.3"]
    assert result.notes == [
        "cell 4 (`while True:`) was stopped after the per-cell limit of 2 s",
        "cell 5 (`print(undefined_name)`) raised NameError: name 'undefined_name' is not defined",
    ]
    assert result.duration_s < 20


@pytest.mark.slow
def test_wrong_type_missing_function_and_a_check_that_cannot_stop_it(tmp_path):
    nb = _demo()
    _replace(
        nb,
        "    return next((a for a in answers if counts[a] == best), None)",
        "    return (answers[0], best)",
    )
    _replace(nb, "def total_usage(", "def sum_usage(")
    swallow = "            while True:\n                try:\n                    time.sleep(0.01)\n                except BaseException:\n                    pass"
    _replace(nb, "            return provider.complete(messages)", swallow)
    result = grade_notebook(_write(nb, tmp_path), cell_timeout=5, check_timeout=1)
    assert _statuses(result) == {"99.1": "missing", "99.2": "timeout", "99.3": "failed"}
    hints = {q.id: q.hint for q in result.questions}
    assert "no `total_usage` in the notebook" in hints["99.1"]
    assert "returned ('B', 2), a tuple; expected a str" in hints["99.3"]
    assert any("NameError: name 'total_usage' is not defined" in n for n in result.notes)


@pytest.mark.slow
def test_kernel_death_scores_zero_with_the_cell_named(tmp_path):
    nb = _demo()
    nb.cells.insert(5, nbformat.v4.new_code_cell("import os\nos._exit(3)"))
    result = grade_notebook(_write(nb, tmp_path), cell_timeout=10)
    assert result.error.startswith("the Python kernel died while running cell 6 (`import os`)")
    assert [(q.status, q.score) for q in result.questions] == [("not_run", 0)] * 3
    assert all("kernel died" in q.hint for q in result.questions)


@pytest.mark.slow
def test_several_notebooks_in_one_run_exit_1_unless_all_full(tmp_path, capsys):
    good = _write(_demo(), tmp_path / "a")
    bad = tmp_path / "b" / "99_demo.ipynb"
    bad.parent.mkdir()
    bad.write_text("{")
    assert main([str(good), str(bad), "--json", str(tmp_path / "g.json")]) == 1
    out = capsys.readouterr().out
    assert "[1/2] grading" in out and "[2/2] grading" in out and "Points 5/10" in out
    data = json.loads((tmp_path / "g.json").read_text())
    assert [n["score"] for n in data["notebooks"]] == [5, 0]


@pytest.mark.slow
def test_a_cell_that_ignores_interrupts_ends_grading_with_the_cell_named(tmp_path):
    nb = _demo()
    stubborn = "while True:\n    try:\n        while True:\n            pass\n    except BaseException:\n        pass"
    nb.cells.insert(3, nbformat.v4.new_code_cell(stubborn))
    result = grade_notebook(_write(nb, tmp_path), cell_timeout=1, check_timeout=1)
    assert result.error.startswith(
        "cell 4 (`while True:`) ignored the stop request after the per-cell limit of 1 s"
    )
    assert [(q.status, q.score) for q in result.questions] == [("not_run", 0)] * 3
    assert result.duration_s < 30


@pytest.mark.slow
def test_kernel_death_during_a_check_blames_that_question(tmp_path):
    """The kernel dies inside 99.2's check: 99.2 scores zero, a new kernel grades 99.3."""
    nb = _demo()
    _replace(
        nb, "            return provider.complete(messages)", "            import os\n            os._exit(1)"
    )
    result = grade_notebook(_write(nb, tmp_path), cell_timeout=10)
    assert _statuses(result) == {"99.1": "passed", "99.2": "error", "99.3": "passed"}
    assert result.error is None
    assert "stopped answering" in result.questions[1].hint
    assert any("started again for 1 question(s)" in note for note in result.notes)
    assert result.score == 3


@pytest.mark.slow
def test_a_grading_cell_that_cannot_start_is_reported(tmp_path):
    nb = _demo()
    nb.cells.append(nbformat.v4.new_code_cell("import sys\nsys.modules['runpy'] = None"))
    result = grade_notebook(_write(nb, tmp_path), cell_timeout=10)
    assert result.error.startswith("the grading cell did not finish: ")
    assert "runpy" in result.error
    assert [q.status for q in result.questions] == ["not_run"] * 3
