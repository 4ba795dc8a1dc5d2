"""GitHub Classroom grades with a pinned grader: a student's edited checks change nothing (grading).

A local bare repository stands in for the course repository (no network). The fake student repository
is a copy of the course whose check for 5.1 was edited to pass anything, with an untouched exercise 05;
scripts/classroom_grade.sh, as the workflow runs it, must grade it with the pinned checks: zero points.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "classroom.yml"


def _git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def test_the_workflow_installs_the_pinned_grader_not_the_students_copy() -> None:
    text = WORKFLOW.read_text()
    assert "COURSE_REPOSITORY:" in text and "COURSE_VERSION:" in text
    assert "classroom_grade.sh" in text and "$pinned/scripts/classroom_grade.sh" in text
    assert "course grade exercises" not in text  # never the student's own `course` command
    assert "Graded by" in text


@pytest.mark.slow
def test_a_students_edited_checks_are_ignored(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("needs git")
    course = tmp_path / "course"
    shutil.copytree(
        ROOT, course, ignore=shutil.ignore_patterns(".venv", ".git", "*.pyc", "__pycache__", ".*cache")
    )
    _git("init", "-q", cwd=course)
    _git("add", "-A", cwd=course)
    _git(
        "-c",
        "user.name=Course",
        "-c",
        "user.email=course@example.invalid",
        "commit",
        "-q",
        "-m",
        "course",
        cwd=course,
    )
    _git("tag", "v-class", cwd=course)
    bare = tmp_path / "course.git"
    _git("clone", "-q", "--bare", str(course), str(bare), cwd=tmp_path)

    student = tmp_path / "student"
    _git("clone", "-q", str(bare), str(student), cwd=tmp_path)
    checks = student / "course_lib" / "grading" / "checks" / "ex05.py"
    text = checks.read_text()
    for name in ("check_majority_vote", "check_weighted_vote", "check_decide", "check_samples_needed"):
        text = text.replace(f"def {name}(", f"def {name}(*_args):\n    return\n\n\ndef _unused_{name}(", 1)
    checks.write_text(text)

    env = {
        **os.environ,
        "COURSE_REPOSITORY": str(bare),
        "COURSE_VERSION": "v-class",
        "PYTHON": sys.executable,
    }
    env.pop("PYTHONPATH", None)
    proc = subprocess.run(
        ["bash", str(ROOT / "scripts" / "classroom_grade.sh"), "exercises/05_self_consistency.ipynb",
         "--json", "grades.json"],
        cwd=student, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    commit = _git("rev-parse", "v-class^{commit}", cwd=course)
    assert f"graded by {bare} at v-class (commit {commit})" in proc.stdout
    data = json.loads((student / "grades.json").read_text())
    assert data["score"] == 0 and data["max_score"] > 0, data
    assert commit in data["grader"]
    assert all("NotImplementedError" in q["hint"] for q in data["notebooks"][0]["questions"])


def test_a_missing_version_fails_with_a_message(tmp_path: Path) -> None:
    env = {**os.environ, "COURSE_REPOSITORY": str(tmp_path / "nowhere.git"), "COURSE_VERSION": "v0"}
    proc = subprocess.run(
        ["bash", str(ROOT / "scripts" / "classroom_grade.sh"), "x.ipynb"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "cannot fetch v0" in proc.stderr
