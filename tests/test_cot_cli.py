"""Tests for the cot-orchestrator command: output, JSON, exit codes, and the replayed lesson problem."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from course_lib.cli.cot import main, recorded_problems
from course_lib.providers.base import BadRequestError, ChatResult, Choice, Usage
from course_lib.providers.replay.recordings import RECORDINGS_DIR
from course_lib.providers.scripted import ScriptedProvider

ROOT = Path(__file__).resolve().parents[1]
COMPOUND = "If I invest $1000 at 5% annual interest compounded monthly for 2 years, how much will I have?"
EXACT = 1000 * (1 + 0.05 / 12) ** 24  # Python's arithmetic: what the calculator must have computed


def step(n: int, kind: str, thought: str = "t", **extra: object) -> str:
    return json.dumps({"step": n, "step_type": kind, "thought": thought, **extra})


def chat(text: str, prompt: int, completion: int) -> ChatResult:
    return ChatResult(
        choices=[Choice(text=text)], usage=Usage(prompt_tokens=prompt, completion_tokens=completion)
    )


def scripted_run() -> ScriptedProvider:
    return ScriptedProvider(
        [
            chat(step(1, "calculate", "15% of 240.", expression="240 * 0.15", result="36"), 200, 40),
            chat("oops, no JSON here", 260, 5),
            chat(step(2, "final_answer", "Done.", answer="36"), 300, 20),
        ]
    )


@pytest.fixture
def offline_env(monkeypatch):
    for name in ("COURSE_PROVIDER", "COURSE_MODEL", "COURSE_RECORDINGS", "COURSE_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def test_prints_each_step_the_answer_total_tokens_and_iterations(capsys):
    assert main(["What is 15% of 240?"], provider=scripted_run()) == 0
    out = capsys.readouterr().out
    assert "Solving: What is 15% of 240?" in out
    assert "Step 1: CALCULATE" in out
    assert "expression: 240 * 0.15" in out
    assert "calculator: 36.0 (agrees with the claim)" in out
    assert "Invalid reply in iteration 2" in out
    assert "no JSON object" in out
    assert "Step 2: FINAL ANSWER" in out
    assert "Final answer: 36" in out
    assert "Iterations: 2 (3 model calls)" in out
    assert "Tokens used: 825 in the whole run (prompt 760 + completion 65)" in out
    assert "Tokens per iteration: 240, 585" in out


def test_json_output_is_machine_readable(capsys):
    assert main(["--json", "What", "is", "15%", "of", "240?"], provider=scripted_run()) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["problem"] == "What is 15% of 240?"
    assert data["status"] == "answered"
    assert data["ok"] is True
    assert data["answer"] == "36"
    assert data["tokens_used"] == 825
    assert data["usage"]["prompt_tokens"] == 760
    assert [u["prompt_tokens"] + u["completion_tokens"] for u in data["usage_per_iteration"]] == [240, 585]
    assert data["steps"][0]["value"] == 36.0
    assert data["invalid_outputs"][0]["raw"] == "oops, no JSON here"
    assert "messages" not in data


def test_no_answer_within_max_iterations_exits_1(capsys):
    provider = ScriptedProvider([step(1, "analyze"), step(2, "analyze")])
    assert main(["--max-iterations", "2", "Think forever"], provider=provider) == 1
    out = capsys.readouterr().out
    assert "No answer (max_iterations)" in out
    assert "no final answer after 2 iteration(s)" in out


def test_invalid_output_after_all_corrections_exits_1(capsys):
    provider = ScriptedProvider(["nope", "nope again"])
    assert main(["--json", "--max-corrections", "1", "Anything"], provider=provider) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["status"] == "invalid_output"
    assert len(data["invalid_outputs"]) == 2


def test_provider_failure_exits_1_with_a_message(capsys):
    assert main(["Anything"], provider=ScriptedProvider([BadRequestError("400 model not found")])) == 1
    captured = capsys.readouterr()
    assert "No answer (provider_error)" in captured.out
    assert "400 model not found" in captured.err


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        ([], "required: problem"),
        (["--max-iterations", "0", "x"], "must be at least 1"),
        (["--max-corrections", "-1", "x"], "--max-corrections must be 0 or more"),
        (["  "], "the problem is empty"),
    ],
)
def test_usage_errors_exit_2_without_a_traceback(capsys, argv, fragment):
    assert main(argv, provider=ScriptedProvider([])) == 2
    err = capsys.readouterr().err
    assert fragment in err
    assert "Traceback" not in err


def test_configuration_errors_exit_2(capsys, offline_env):
    assert main(["--provider", "nope", "What is 15% of 240?"]) == 2
    err = capsys.readouterr().err
    assert "configuration error: unknown provider 'nope'" in err


def test_help_exits_0(capsys):
    assert main(["--help"]) == 0
    assert "cot-orchestrator" in capsys.readouterr().out


# --------------------------------------------------------------------------- out of the box, on replay


def test_replay_answers_the_lesson_problem_with_the_calculators_value(capsys, offline_env):
    assert main([COMPOUND]) == 0
    out = capsys.readouterr().out
    assert "Final answer: $1,104.94" in out
    assert f"calculator: {EXACT!r} (the claim was wrong)" in out
    assert "Invalid reply in iteration 3" in out
    assert main(["--json", COMPOUND]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["answer"] == "$1,104.94"
    assert data["ungrounded"] == []
    assert EXACT in [s["value"] for s in data["steps"]]
    assert f"{EXACT:,.2f}" == "1,104.94"
    assert data["tokens_used"] == sum(
        u["prompt_tokens"] + u["completion_tokens"] for u in data["usage_per_iteration"]
    )
    assert data["tokens_used"] > data["usage_per_iteration"][-1]["prompt_tokens"]


@pytest.mark.parametrize(
    ("problem", "answer"),
    [
        ("What is 15% of 240?", "36"),
        ("If I buy 3 shirts at $25 each and get 20% discount, what do I pay?", "$60.00"),
        (
            "If a train travels 60 mph for 2.5 hours, then 80 mph for 1.5 hours, what's the average speed?",
            "67.5 mph",
        ),
    ],
)
def test_replay_answers_the_seeds_other_examples(capsys, offline_env, problem, answer):
    assert main(["--json", problem]) == 0
    assert json.loads(capsys.readouterr().out)["answer"] == answer


def test_an_unrecorded_problem_on_replay_says_what_can_be_done(capsys, offline_env):
    assert main(["What is 2 + 2?"]) == 2
    err = capsys.readouterr().err
    assert "no recording for this run" in err
    assert COMPOUND in err
    assert "COURSE_PROVIDER" in err
    assert COMPOUND in recorded_problems()


def test_recordings_match_what_the_loop_sends(tmp_path):
    spec = importlib.util.spec_from_file_location(
        "cot_recordings", ROOT / "scripts/recordings/cot_orchestrator.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fresh = module.build(tmp_path / "cot_orchestrator.jsonl")
    packaged = RECORDINGS_DIR / "cot_orchestrator.jsonl"
    assert fresh.read_text(encoding="utf-8") == packaged.read_text(encoding="utf-8"), (
        "the recordings are stale: run .venv/bin/python scripts/recordings/cot_orchestrator.py"
    )
    assert all(
        json.loads(line)["provenance"]["source"] == "scripted" for line in packaged.read_text().splitlines()
    )
