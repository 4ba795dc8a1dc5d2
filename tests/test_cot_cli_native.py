"""``cot-orchestrator --tools`` and ``--constrained`` on replay, out of the box."""

from __future__ import annotations

import json

from course_lib.cli.cot import EXIT_CONFIG, EXIT_OK, main, recorded_problems

PERCENT = "What is 15% of 240?"
COMPOUND = "If I invest $1000 at 5% annual interest compounded monthly for 2 years, how much will I have?"


def test_tools_option_replays_a_native_tool_call_run(capsys) -> None:
    assert main(["--tools", COMPOUND]) == EXIT_OK
    out = capsys.readouterr().out
    assert "Invalid reply in iteration 1" in out  # the unreadable first call, answered with its error
    assert "calculator: 1104.941335558327" in out
    assert "Final answer: After 2 years you will have $1,104.94." in out


def test_constrained_option_replays_schema_constrained_steps(capsys) -> None:
    assert main(["--constrained", "--json", PERCENT]) == EXIT_OK
    result = json.loads(capsys.readouterr().out)
    assert result["answer"] == "36" and result["status"] == "answered"
    assert result["steps"][0]["value"] == 36.0


def test_protocol_options_are_checked(capsys) -> None:
    assert main(["--tools", "--constrained", PERCENT]) == EXIT_CONFIG
    assert main(["--force-tool", PERCENT]) == EXIT_CONFIG
    assert "--force-tool needs --tools" in capsys.readouterr().err
    assert PERCENT in recorded_problems()
