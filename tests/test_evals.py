"""The evaluation toolkit of lesson 11: statistics, scorers, golden sets, prompt versions, the Inspect entry point."""

from __future__ import annotations

import math
import subprocess
import sys
from importlib.metadata import entry_points

import pytest
from pydantic import BaseModel

from course_lib.evals.datasets import dataset_names, load_golden
from course_lib.evals.scorers import (
    exact_json_name,
    exact_match,
    includes,
    json_fields,
    parse_verdict,
    pattern_match,
)
from course_lib.evals.stats import cohen_kappa, flips, mcnemar_exact, standard_error, wilson_interval
from course_lib.prompt_files import PromptFileError, load_prompt, load_prompt_version


def test_wilson_interval_matches_the_formula_and_stays_in_range() -> None:
    lo, hi = wilson_interval(8, 10)
    assert (round(lo, 4), round(hi, 4)) == (0.4902, 0.9433)
    assert wilson_interval(0, 5)[0] == 0.0 and wilson_interval(5, 5)[1] == 1.0
    assert wilson_interval(0, 5)[1] > 0.0  # zero passes is not proof of a zero rate
    with pytest.raises(ValueError):
        wilson_interval(3, 0)
    with pytest.raises(ValueError):
        wilson_interval(4, 3)


def test_standard_error_and_narrower_intervals_with_more_samples() -> None:
    assert standard_error(50, 100) == pytest.approx(0.05)
    small, large = wilson_interval(8, 10), wilson_interval(80, 100)
    assert large[1] - large[0] < small[1] - small[0]


def test_cohen_kappa_is_one_for_agreement_zero_for_chance_negative_for_opposition() -> None:
    human = ["pass", "fail"] * 10
    assert cohen_kappa(human, human) == 1.0
    assert cohen_kappa(human, ["pass"] * 20) == 0.0  # a judge that always says pass agrees 50% by chance
    assert cohen_kappa(human, ["fail", "pass"] * 10) == -1.0
    with pytest.raises(ValueError):
        cohen_kappa(["a"], [])


def test_flips_and_the_exact_paired_test() -> None:
    before = {"a": True, "b": True, "c": False, "d": False}
    after = {"a": False, "b": True, "c": True, "d": True}
    assert flips(before, after) == (["a"], ["c", "d"])
    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(0, 10) == pytest.approx(2 / 2**10)
    assert mcnemar_exact(5, 5) == 1.0
    assert math.isclose(mcnemar_exact(2, 8), mcnemar_exact(8, 2))
    with pytest.raises(ValueError):
        flips({"a": True}, {"b": True})


class _Contact(BaseModel):
    name: str
    age: int


def test_deterministic_scorers() -> None:
    assert exact_match("  Ada  Lovelace ", "ada lovelace") and not exact_match("Ada", "Ada Lovelace")
    assert includes("The name is Ada Lovelace.", "ada lovelace") and not includes("Ada", "Ada Lovelace")
    assert pattern_match("billing | x | high", r"(billing|login) \| [^|]+ \| (low|high)")
    assert not pattern_match("Sure: billing | x | high", r"(billing|login) \| [^|]+ \| (low|high)")
    assert exact_json_name('{"name": "Ada"}', "Ada")
    assert not exact_json_name('```json\n{"name": "Ada"}\n```', "Ada")
    assert not exact_json_name('{"name": "Ada", "age": 3}', "Ada")
    score = json_fields('{"name": "Ada", "age": 36}', _Contact, {"name": "Ada", "age": 37})
    assert score.valid and score.fields == {"name": True, "age": False} and not score.correct
    broken = json_fields('{"name": "Ada"', _Contact, {"name": "Ada", "age": 36})
    assert not broken.valid and broken.fields == {"name": False, "age": False}


def test_judge_verdicts_default_to_fail() -> None:
    assert parse_verdict("PASS") == "pass" and parse_verdict(" Fail.") == "fail"
    assert parse_verdict("I think") == "fail"


def test_golden_sets_are_files_with_unique_ids() -> None:
    assert {"names", "intents", "contacts", "judge_labels", "support_tickets"} <= set(dataset_names())
    names = load_golden("names")
    assert len(names) >= 40 and all(c.target in c.input for c in names)
    assert {c.target for c in load_golden("intents")} <= {
        "BALANCE",
        "DEPOSIT",
        "TRANSFER",
        "CARD",
        "FRAUD",
        "LOAN",
        "OTHER",
    }
    judged = load_golden("judge_labels")
    assert {c.human for c in judged} == {"pass", "fail"}
    with pytest.raises(FileNotFoundError):
        load_golden("nope")


def test_prompt_versions_and_criteria_name_their_eval() -> None:
    old, new = load_prompt_version("name_extractor", "1.0.0"), load_prompt_version("name_extractor", "2.0.0")
    assert (old.version, new.version) == ("1.0.0", "2.0.0") and not old.examples and len(new.examples) == 3
    assert new == load_prompt("name_extractor")
    for name in ("name_extractor", "customer_support_summariser"):
        assert all(c.eval for c in load_prompt(name).evaluation)
    with pytest.raises(PromptFileError, match=r"no version 9\.9\.9"):
        load_prompt_version("name_extractor", "9.9.9")


def test_inspect_finds_the_course_model_api_through_the_entry_point() -> None:
    eps = [ep for ep in entry_points(group="inspect_ai") if ep.value == "course_lib.evals._registry"]
    assert eps, (
        "pyproject.toml must register course_lib.evals._registry under [project.entry-points.inspect_ai]"
    )
    code = (
        "from inspect_ai.model import get_model\n"
        "m = get_model('course/replay/SmolLM2-135M-Instruct', recordings='07_structured_output')\n"
        "print(type(m.api).__name__, m.api.kind)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "CourseModelAPI replay", out.stderr[-2000:]


def test_importing_the_evals_package_does_not_import_inspect() -> None:
    code = "import sys, course_lib, course_lib.evals; print('inspect_ai' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


def test_the_gate_fails_a_significant_regression_and_passes_an_improvement() -> None:
    from course_lib.evals.gate import gate

    good = {f"c{i}": [True] * 5 for i in range(20)}
    worse = {f"c{i}": [i >= 10] * 5 for i in range(20)}
    failed = gate(good, worse)
    assert not failed.passed and failed.lost == 50 and failed.gained == 0 and failed.p_value < 1e-9
    assert "significant regression" in failed.reason and len(failed.flipped_cases) == 10
    assert gate(worse, good).passed
    noisy = {f"c{i}": [True] * 4 + [i != 0] for i in range(20)}
    assert gate(good, noisy).passed is False  # one lost answer is within chance but above a zero tolerance
    assert gate(good, noisy, tolerance=0.02).passed
    with pytest.raises(ValueError):
        gate(good, {"x": [True]})


def test_the_drift_workflow_runs_the_gate_on_a_schedule() -> None:
    from pathlib import Path

    import yaml

    flow = yaml.safe_load((Path(__file__).resolve().parents[1] / ".github/workflows/drift.yml").read_text())
    assert flow[True]["schedule"][0]["cron"]  # YAML reads the key `on` as True
    runs = "\n".join(step.get("run", "") for step in flow["jobs"]["drift"]["steps"])
    assert "python -m course_lib.evals.gate" in runs and "--model course/local/" in runs
    assert "--baseline-model course/replay/" in runs


def test_the_gate_command_line_needs_its_versions() -> None:
    from course_lib.evals.gate import main

    with pytest.raises(SystemExit) as info:
        main(["--baseline", "1.0.0"])
    assert info.value.code == 2
