"""``course record --into`` a place it cannot write stops before running anything; nothing recorded is lost."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from course_lib.cli.record import check_destination, record_with


@pytest.fixture
def bad_destinations(tmp_path):
    a_dir = tmp_path / "a_dir.jsonl"
    a_dir.mkdir()
    a_file = tmp_path / "a_file"
    a_file.write_text("not a folder")
    corrupt = tmp_path / "corrupt.jsonl"
    corrupt.write_text("{not json\n")
    return {"directory": a_dir, "parent is a file": a_file / "rec.jsonl", "corrupt file": corrupt}


@pytest.mark.parametrize("case", ["directory", "parent is a file", "corrupt file"])
def test_record_with_checks_the_destination_before_calling_the_model(bad_destinations, case):
    calls = []
    with pytest.raises(ValueError, match="--into"):
        record_with("local", bad_destinations[case], lambda provider: calls.append(provider))
    assert calls == []  # nothing ran, so nothing was lost


def test_check_destination_accepts_a_new_file_in_a_new_folder(tmp_path):
    target = tmp_path / "new" / "folder" / "rec.jsonl"
    assert check_destination(target) == target
    assert target.parent.is_dir() and list(target.parent.iterdir()) == []


@pytest.mark.parametrize("case", ["directory", "parent is a file", "corrupt file"])
def test_course_record_refuses_without_a_traceback_and_runs_nothing(bad_destinations, tmp_path, case):
    marker = tmp_path / "ran.txt"
    script = tmp_path / "lesson.py"
    script.write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    done = subprocess.run(
        [sys.executable, "-m", "course_lib.cli.main", "record", "--into", str(bad_destinations[case]),
         "--upstream", "local", str(script)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and done.stderr.startswith("error: --into")
    assert not marker.exists()


def test_a_failed_save_keeps_the_runs_answers(tmp_path, monkeypatch):
    import course_lib.cli.record as record_module

    def failing_merge(target, scratch, summary):
        scratch.write_text('{"pretend": "entry"}\n')
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(record_module, "merge_run", failing_merge)
    with pytest.raises(ValueError, match="answers are kept in") as info:
        record_with("local", tmp_path / "rec.jsonl", lambda provider: None)
    kept = Path(str(info.value).rsplit("kept in ", 1)[1])
    assert kept.read_text() == '{"pretend": "entry"}\n'
