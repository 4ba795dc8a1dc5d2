"""``course grade`` checks where its reports go before grading anything (grading)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from course_lib.grading.cli import main

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = str(ROOT / "exercises" / "05_self_consistency.ipynb")


@pytest.mark.parametrize("option", ["--json", "--junit", "--classroom"])
def test_an_unwritable_destination_fails_at_once_with_a_message(
    option: str, capsys: pytest.CaptureFixture
) -> None:
    start = time.monotonic()
    assert main([NOTEBOOK, option, "/proc/nope/g.json"]) == 2
    err = capsys.readouterr().err
    assert f"{option} /proc/nope/g.json: cannot write there" in err and "Traceback" not in err
    assert time.monotonic() - start < 5  # nothing was graded


def test_a_folder_or_a_pipe_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main([NOTEBOOK, "--json", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err
    pipe = tmp_path / "grades.json"
    os.mkfifo(pipe)
    assert main([NOTEBOOK, "--json", str(pipe)]) == 2
    assert "not a regular file" in capsys.readouterr().err
