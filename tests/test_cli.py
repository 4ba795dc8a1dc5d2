"""The `course` command: subcommands registered, doctor works offline, usage errors exit 2."""

from __future__ import annotations

import pytest

from course_lib.cli.main import build_parser, main


def test_every_subcommand_is_registered():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert {"grade", "record", "serve-local", "doctor"} <= set(sub.choices)


def test_doctor_passes_offline(capsys, monkeypatch):
    monkeypatch.delenv("COURSE_PROVIDER", raising=False)
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "provider=replay" in out and "FAIL" not in out


def test_doctor_reports_a_bad_provider(capsys, monkeypatch):
    monkeypatch.setenv("COURSE_PROVIDER", "nonsense")
    assert main(["doctor"]) == 1
    assert "unknown provider 'nonsense'" in capsys.readouterr().out


def test_no_command_prints_help_and_exits_2(capsys):
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().out


def test_unknown_command_is_a_usage_error():
    with pytest.raises(SystemExit) as info:
        main(["fly"])
    assert info.value.code == 2
