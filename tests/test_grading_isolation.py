"""Tampering and misbehaving notebooks: no unearned points, and the batch always finishes (grading).

One batch (``course grade`` in a subprocess, as CI runs it) grades an untouched exercise 05 notebook with
one tampering cell each, a few notebooks that hang, flood, kill or leave daemons behind, and the
solution last. Each test then reads its notebook's line in the JSON report. Where the grader cannot run
the notebook as a separate user (not root, no passwordless sudo), the tests that need it are skipped.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import nbformat
import pytest

from course_lib.grading.isolation import plan_isolation

ROOT = Path(__file__).resolve().parents[1]
EXERCISE = ROOT / "exercises" / "05_self_consistency.ipynb"
SOLUTION = ROOT / "solutions" / "05_self_consistency.ipynb"
CHECKS = ROOT / "course_lib" / "grading" / "checks" / "ex05.py"
SEPARATE_USER = plan_isolation().mode == "separate-user"
needs_separate_user = pytest.mark.skipif(
    not SEPARATE_USER, reason="needs root or passwordless sudo to run notebooks as a separate user"
)
MARKER = "course-grade-daemon-marker"

pytestmark = pytest.mark.slow

# Each cell runs after the exercise's own cells (stubs and all).
TAMPERING: dict[str, str] = {
    "replace_runner": """
        import course_lib.grading.sandbox as sandbox, course_lib.grading.runner as runner
        from course_lib.grading.results import QuestionResult
        def everything_passes(q, namespace, **kwargs):
            return QuestionResult(id=q.id, title=q.title, points=q.points, score=q.points, status="passed")
        sandbox.run_question = everything_passes
        runner.run_question = everything_passes
        runner.grade_notebook = lambda *a, **k: None
    """,
    "swap_registry": """
        import dataclasses
        from course_lib.grading import registry
        try:
            registry.load_exercise(5)
        except Exception as exc:
            print("could not load the checks:", exc)
        for qid, q in list(registry._REGISTRY.items()):
            registry._REGISTRY[qid] = dataclasses.replace(q, check=lambda *args: None)
    """,
    "rewrite_code_objects": """
        import importlib
        try:
            module = importlib.import_module("course_lib.grading.checks.ex05")
            for name in module.__all__:
                getattr(module, name).__code__ = (lambda *args: None).__code__
        except Exception as exc:
            print("could not reach the checks:", exc)
    """,
    "overwrite_checks_on_disk": f"""
        import importlib, pathlib
        path = pathlib.Path({str(CHECKS)!r})
        try:
            text = path.read_text()
            path.write_text(text.replace("def check_majority_vote(majority_vote: Any) -> None:",
                                         "def check_majority_vote(majority_vote: Any) -> None:\\n    return"))
            importlib.reload(importlib.import_module("course_lib.grading.checks.ex05"))
        except Exception as exc:
            print("could not change the checks:", exc)
    """,
    "forge_results": """
        import json, os, pathlib, tempfile
        line = json.dumps({"event": "result", "result": {"id": "5.1", "status": "passed", "score": 2}})
        for folder in (pathlib.Path.cwd(), pathlib.Path(tempfile.gettempdir()), pathlib.Path("/tmp")):
            try:
                (folder / "results.jsonl").write_text((line + "\\n") * 4 + json.dumps({"event": "done"}) + "\\n")
            except OSError:
                pass
        print(line)
        os._exit(0)
    """,
    "reference_implementations": """
        from dataclasses import dataclass
        try:
            from course_lib.grading.checks import ex05 as reference
        except Exception as exc:
            reference = None
            print("could not import the checks:", type(exc).__name__)

        @dataclass
        class Tally:
            winner: object
            counts: dict
            tied: list
            total: int

        def majority_vote(answers):
            winner, counts, tied, total = reference._expected_tally(answers)
            return Tally(winner, counts, sorted(tied), total)

        def weighted_vote(answers, logprobs):
            return reference._expected_weighted(answers, logprobs)

        def decide(counts, total, *, high=0.85, moderate=0.70):
            return reference._expected_decision(counts, total, high, moderate)

        def samples_needed(answers, n):
            return reference._expected_stop(answers, n)
    """,
    "always_equal": """
        class Agreeable:
            def __eq__(self, other): return True
            def __ne__(self, other): return False
            def __hash__(self): return 0
            def __len__(self): return 0
            def __iter__(self): return iter(())
            def __getattr__(self, name): return Agreeable()
            def __getitem__(self, key): return Agreeable()
            def __bool__(self): return True
            def __float__(self): return 0.0

        def majority_vote(answers): return Agreeable()
        def weighted_vote(answers, logprobs): return Agreeable()
        def decide(counts, total, **kwargs): return Agreeable()
        def samples_needed(answers, n): return Agreeable()
    """,
    "named_pipes": """
        import os, pathlib, tempfile
        for folder in (pathlib.Path.cwd(), pathlib.Path(tempfile.gettempdir()), pathlib.Path(os.environ.get("HOME", "/tmp"))):
            for name in ("results.jsonl", "kernel.log", "executed.ipynb", "grades.json"):
                try:
                    os.mkfifo(folder / name)
                except OSError:
                    pass
    """,
    "kill_the_grader": """
        import os, signal
        pid = os.getppid()
        while pid > 1:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError as exc:
                print("could not kill", pid, exc)
            try:
                pid = int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1])
            except OSError:
                break
    """,
}

# Misbehaving notebooks: each costs only its own grade.
MISBEHAVING: dict[str, str] = {
    "flood": """
        import sys
        chunk = "x" * 1_000_000
        for _ in range(200):
            print(chunk)
            sys.__stdout__.write(chunk)
    """,
    "daemon": f"""
        import subprocess
        subprocess.Popen(["sh", "-c", "sleep 600 # {MARKER}"], start_new_session=True)
        subprocess.Popen(["sh", "-c", "(setsid sleep 600 # {MARKER}) &"], start_new_session=True)
    """,
    "hang_in_a_check": """
        def majority_vote(answers):
            while True:
                try:
                    pass
                except BaseException:
                    pass
    """,
    "killed_in_a_check": """
        import os, signal
        def majority_vote(answers):
            os.kill(os.getpid(), signal.SIGKILL)
    """,
}


def _notebook(folder: Path, name: str, cell: str) -> Path:
    nb = nbformat.read(str(EXERCISE), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(textwrap.dedent(cell).strip()))
    path = folder / f"05_{name}.ipynb"
    nbformat.write(nb, str(path))
    return path


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Grade every tampering and misbehaving notebook, then the solution, in one ``course grade`` run."""
    folder = tmp_path_factory.mktemp("tampering")
    original = CHECKS.read_bytes()
    paths = [_notebook(folder, name, cell) for name, cell in {**TAMPERING, **MISBEHAVING}.items()]
    solution = folder / "05_solution.ipynb"
    solution.write_bytes(SOLUTION.read_bytes())
    report = folder / "grades.json"
    before = {p.name for p in Path("/tmp").glob("course-grade-*")}
    start = time.monotonic()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "course_lib.grading.cli", *map(str, paths), str(solution), "--json", str(report),
             "--timeout", "20", "--check-timeout", "5"],
            capture_output=True,
            text=True,
            timeout=900,
            cwd=str(folder),
        )  # fmt: skip
    finally:
        changed = CHECKS.read_bytes() != original
        if changed:
            CHECKS.write_bytes(original)
    assert report.exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    data = json.loads(report.read_text())
    by_name = {Path(nb["path"]).stem.removeprefix("05_"): nb for nb in data["notebooks"]}
    return {
        "proc": proc,
        "notebooks": by_name,
        "checks_changed": changed,
        "seconds": time.monotonic() - start,
        "leftover_dirs": {p.name for p in Path("/tmp").glob("course-grade-*")} - before,
    }


def _score(batch: dict[str, Any], name: str) -> float:
    nb = batch["notebooks"][name]
    return nb["score"]


def test_the_batch_finishes_and_grades_every_notebook(batch: dict[str, Any]) -> None:
    assert batch["proc"].returncode == 1, batch["proc"].stderr[-2000:]
    assert set(batch["notebooks"]) == {*TAMPERING, *MISBEHAVING, "solution"}
    solution = batch["notebooks"]["solution"]
    assert solution["full_marks"], solution
    assert "Traceback" not in batch["proc"].stderr


@pytest.mark.parametrize("name", sorted(TAMPERING))
def test_tampering_earns_nothing(batch: dict[str, Any], name: str) -> None:
    if (
        name in {"overwrite_checks_on_disk", "kill_the_grader", "reference_implementations"}
        and not SEPARATE_USER
    ):
        pytest.skip("needs root or passwordless sudo to run notebooks as a separate user")
    assert _score(batch, name) == 0, batch["notebooks"][name]


@needs_separate_user
def test_the_checks_on_disk_are_untouched(batch: dict[str, Any]) -> None:
    assert not batch["checks_changed"]


@needs_separate_user
def test_isolation_is_reported(batch: dict[str, Any]) -> None:
    report = batch["notebooks"]["solution"]["isolation"]
    assert "separate user" in report and "cannot read the checks" in report, report


@pytest.mark.parametrize("name", sorted(MISBEHAVING))
def test_misbehaving_notebook_costs_only_its_own_grade(batch: dict[str, Any], name: str) -> None:
    nb = batch["notebooks"][name]
    assert nb["score"] == 0, nb
    assert len(nb["questions"]) == 4


def test_a_hang_or_a_kill_in_one_check_still_grades_the_other_questions(batch: dict[str, Any]) -> None:
    for name in ("hang_in_a_check", "killed_in_a_check"):
        questions = {q["id"]: q for q in batch["notebooks"][name]["questions"]}
        assert questions["5.1"]["status"] in {"timeout", "error", "failed"}, questions["5.1"]
        assert questions["5.1"]["score"] == 0
        assert questions["5.2"]["status"] == "failed" and "NotImplementedError" in questions["5.2"]["hint"]


@needs_separate_user
def test_no_process_or_folder_is_left_behind(batch: dict[str, Any]) -> None:
    leftovers = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if MARKER.encode() in (entry / "cmdline").read_bytes():
                    leftovers.append(entry.name)
            except OSError:
                continue
    assert leftovers == []
    assert batch["leftover_dirs"] == set()


def test_the_batch_stays_within_its_time(batch: dict[str, Any]) -> None:
    assert batch["seconds"] < 14 * 60


_ = os
