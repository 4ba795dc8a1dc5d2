"""Lesson 11 on replay: Inspect runs deterministic, each epoch its own recorded sample; the gate command's
exit codes; the migration rollout; criteria measured; the CLI `inspect eval` on course/replay."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from course_lib.evals.gate import main as gate_main
from course_lib.lessons.l11_evaluation.compare import bucket, rollout, rotate_epochs
from course_lib.lessons.l11_evaluation.runs import RECORDINGS, REPLAY_MODEL, run_intents, run_names
from course_lib.lessons.l11_evaluation.widgets import epochs_report, verdict


def _eval(version: str, limit: int, tmp: Path):
    from inspect_ai import eval as inspect_eval

    from course_lib.evals.tasks import name_extraction

    (log,) = inspect_eval(
        name_extraction(version=version, epochs=5, limit=limit),
        model=REPLAY_MODEL,
        model_args={"recordings": RECORDINGS},
        log_dir=str(tmp),
        display="none",
        log_level="error",
    )
    assert log.status == "success", log.error
    return {(s.id, s.epoch): s.output.completion for s in log.samples}


def test_each_epoch_replays_its_own_recorded_sample_on_every_run(tmp_path: Path) -> None:
    from course_lib.providers.replay.recordings import RecordingStore, resolve_recordings

    first, second = _eval("1.0.0", 6, tmp_path / "a"), _eval("1.0.0", 6, tmp_path / "b")
    assert first == second
    store = RecordingStore(resolve_recordings(RECORDINGS))
    for case in ("name-01", "name-02"):
        answers = [first[(case, epoch)] for epoch in range(1, 6)]
        assert len(set(answers)) > 1, "epochs at temperature 0.7 must replay different recorded samples"
    entries = list(store.entries.values())
    assert all(e.provenance.source == "recorded" for e in entries)
    assert {e.provenance.model for e in entries} == {"SmolLM2-135M-Instruct"}


def test_the_lessons_measured_figures() -> None:
    assert run_names("1.0.0").passed("exact_json") == (2, 220)
    assert run_names("2.0.0").passed("exact_json") == (165, 220)
    assert run_intents().passed("intent_match") == (43, 100)
    with pytest.raises(ValueError):
        run_names("3.0.0")


def test_the_gate_command_exits_1_on_the_rollback_and_0_on_the_upgrade(capsys) -> None:
    assert gate_main(["--baseline", "2.0.0", "--candidate", "1.0.0"]) == 1
    out = capsys.readouterr().out
    assert "FAIL: significant regression" in out
    assert gate_main(["--baseline", "1.0.0", "--candidate", "2.0.0"]) == 0
    assert "PASS" in capsys.readouterr().out


def test_rollout_stops_at_the_first_failing_stage_and_passes_noise() -> None:
    good = {f"c{i:02d}": [True] * 5 for i in range(40)}
    bad = {case: [False] * 5 for case in good}
    stages = rollout(good, bad)
    assert not stages[-1].passed and all(s.passed for s in stages[:-1]) and len(stages) < 4
    assert all(s.passed for s in rollout(good, rotate_epochs(good)))
    assert 0 <= bucket("name-01") < 1 and bucket("name-01") == bucket("name-01")
    real = rollout(run_names("2.0.0").scores["exact_json"], run_names("1.0.0").scores["exact_json"])
    assert not real[-1].passed


def test_epochs_report_and_verdicts() -> None:
    assert verdict(0.91, 0.97, 0.9) == "meets" and verdict(0.5, 0.89, 0.9) == "fails"
    assert verdict(0.85, 0.95, 0.9) == "undecided"
    runs = {"v2": run_names("2.0.0").scores["exact_json"]}
    assert "undecided" in epochs_report(runs, 1, 0.85) and "fails" in epochs_report(runs, 5, 0.85)


def test_criteria_are_measured_by_the_eval_they_name() -> None:
    from course_lib import get_provider
    from course_lib.evals.criteria import measure_criteria
    from course_lib.evals.tasks import NAME_PARAMS
    from course_lib.lessons.l11_evaluation.runs import SUMMARY_PARAMS
    from course_lib.prompt_files import load_prompt, load_prompt_version

    small = get_provider(model="SmolLM2-135M-Instruct", recordings=RECORDINGS)
    v2 = load_prompt_version("name_extractor", "2.0.0")
    measured = measure_criteria(v2, small, **NAME_PARAMS)
    assert (
        set(measured) == {"exact_json_rate", "name_included_rate"} and 0.5 < measured["exact_json_rate"] < 0.9
    )
    summariser = load_prompt("customer_support_summariser")
    support = measure_criteria(
        summariser, get_provider(model="SmolLM2-135M-Instruct", recordings=RECORDINGS), **SUMMARY_PARAMS
    )
    assert set(support) == {"format_valid_rate", "area_accuracy", "p95_latency_s"}
    assert set(summariser.check(support)) == {"format_valid_rate", "area_accuracy", "p95_latency_s"}


def test_inspect_eval_runs_offline_from_the_command_line(tmp_path: Path) -> None:
    inspect = Path(sys.executable).parent / "inspect"
    command = [
        str(inspect),
        "eval",
        "course_lib/evals/tasks.py@name_extraction",
        "--model",
        REPLAY_MODEL,
        "-M",
        f"recordings={RECORDINGS}",
        "-T",
        "version=2.0.0",
        "-T",
        "limit=6",
        "--log-dir",
        str(tmp_path),
        "--display",
        "plain",
    ]
    root = Path(__file__).resolve().parents[1]
    outs = [subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=240) for _ in range(2)]
    for out in outs:
        assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    scores = [re.findall(r"accuracy\s+([0-9.]+)", o.stdout) for o in outs]
    assert scores[0] and scores[0] == scores[1], [o.stdout[-1500:] for o in outs]


def test_inspect_and_the_plain_replay_give_the_same_verdicts_answer_by_answer() -> None:
    """For 1.0.0 this also proves the stored baseline log still matches its recordings."""
    from course_lib.lessons.l11_evaluation.runs import replay_names

    for version in ("1.0.0", "2.0.0"):
        assert replay_names(version) == run_names(version).scores["exact_json"]


def test_the_baseline_is_read_from_its_stored_log_and_a_missing_log_says_how_to_write_it(
    monkeypatch, tmp_path
):
    from course_lib.lessons.l11_evaluation import runs

    assert Path(run_names(runs.BASELINE).log) == runs.BASELINE_LOG  # read back, not run again
    monkeypatch.setattr(runs, "BASELINE_LOG", tmp_path / "missing.eval")
    runs._baseline_run.cache_clear()
    try:
        with pytest.raises(FileNotFoundError, match="--write-baseline"):
            run_names(runs.BASELINE)
    finally:
        runs._baseline_run.cache_clear()
