"""Exercise 11: the solution passes, stubs score zero, planted bugs fail, and 11.4 runs the real model."""

from __future__ import annotations

import json
import math

import pytest
from exercise_support import assert_fails, assert_stubs_fail, stub

from course_lib.evals.gate import gate
from course_lib.evals.stats import wilson_interval
from course_lib.grading import load_exercise
from course_lib.grading.checks import ex11
from course_lib.grading.registry import NotGraded, get_question
from course_lib.grading.sandbox import run_question
from course_lib.prompt_files import load_prompt_version

# --------------------------------------------------------------------------- correct implementations


def score_ok(answer, truth):
    try:
        value = json.loads(answer.strip())
    except ValueError:
        value = None
    valid = isinstance(value, dict)
    out = {"valid": valid}
    for key, want in truth.items():
        got = value.get(key) if valid else None
        if isinstance(want, str):
            out[key] = isinstance(got, str) and got.strip().lower() == want.strip().lower()
        else:
            out[key] = valid and key in value and type(got) is type(want) and got == want
    return out


def interval_ok(passes, z=1.96):
    if not passes:
        raise ValueError("empty")
    lo, hi = wilson_interval(sum(passes), len(passes), z)
    return sum(passes) / len(passes), lo, hi


def gate_ok(baseline, candidate, alpha=0.05):
    if set(baseline) != set(candidate):
        raise ValueError("cases differ")
    return gate(baseline, candidate, alpha=alpha, tolerance=1.0).passed


def test_correct_implementations_pass() -> None:
    ex11.check_score_extraction(score_ok)
    ex11.check_pass_rate_interval(interval_ok)
    ex11.check_regression_gate(gate_ok)


def test_questions_registered_with_points() -> None:
    assert [(q.id, q.points, q.targets) for q in load_exercise(11)] == [
        ("11.1", 2, ("score_extraction",)),
        ("11.2", 2, ("pass_rate_interval",)),
        ("11.3", 2, ("regression_gate",)),
        ("11.4", 3, ("name_messages",)),
    ]
    assert get_question("11.4").timeout == 60


# --------------------------------------------------------------------------- planted bugs


def test_scorer_that_finds_json_in_fences_fails() -> None:
    def lenient(answer, truth):
        text = answer.strip().removeprefix("```json").removesuffix("```")
        return score_ok(text, truth)

    assert_fails(ex11.check_score_extraction, lenient, "fenced reply")


def test_scorer_that_coerces_types_fails() -> None:
    def coercing(answer, truth):
        out = score_ok(answer, truth)
        try:
            value = json.loads(answer.strip())
        except ValueError:
            return out
        if isinstance(value, dict):
            for k, v in truth.items():
                out[k] = str(value.get(k, "")).strip().lower() == str(v).strip().lower()
        return out

    assert_fails(ex11.check_score_extraction, coercing, "wrong type")


def test_scorer_that_crashes_on_a_missing_key_fails() -> None:
    def crashing(answer, truth):
        out = score_ok(answer, truth)
        if out["valid"]:
            value = json.loads(answer)
            for k in truth:
                value[k]
        return out

    assert_fails(ex11.check_score_extraction, crashing, "KeyError")


def test_normal_approximation_fails_at_the_edges() -> None:
    def normal(passes, z=1.96):
        if not passes:
            raise ValueError("empty")
        n, p = len(passes), sum(passes) / len(passes)
        half = z * math.sqrt(p * (1 - p) / n)
        return p, max(0.0, p - half), min(1.0, p + half)

    assert_fails(ex11.check_pass_rate_interval, normal, "Wilson")


def test_interval_without_the_empty_check_fails() -> None:
    def no_check(passes, z=1.96):
        lo, hi = wilson_interval(sum(passes), max(1, len(passes)), z)
        return sum(passes) / max(1, len(passes)), lo, hi

    assert_fails(ex11.check_pass_rate_interval, no_check, "no answers")


def test_unpaired_gate_fails() -> None:
    def unpaired(baseline, candidate, alpha=0.05):
        if set(baseline) != set(candidate):
            raise ValueError("cases differ")
        a = [x for v in baseline.values() for x in v]
        b = [x for v in candidate.values() for x in v]
        p1, p2, n = sum(a) / len(a), sum(b) / len(b), len(a)
        pooled = (sum(a) + sum(b)) / (2 * n)
        se = math.sqrt(2 * pooled * (1 - pooled) / n) or 1.0
        return not (p2 < p1 and (p1 - p2) / se > 1.96)

    assert_fails(ex11.check_regression_gate, unpaired, "paired")


def test_gate_that_blocks_any_drop_fails() -> None:
    def strict(baseline, candidate, alpha=0.05):
        if set(baseline) != set(candidate):
            raise ValueError("cases differ")
        return sum(map(sum, candidate.values())) >= sum(map(sum, baseline.values()))

    assert_fails(ex11.check_regression_gate, strict, "noise")


def test_gate_that_pairs_nothing_fails_on_mismatched_cases() -> None:
    def trusting(baseline, candidate, alpha=0.05):
        return sum(map(sum, candidate.values())) >= sum(map(sum, baseline.values())) - 5

    assert_fails(ex11.check_regression_gate, trusting)


def test_stubs_fail_with_a_hint_and_missing_names_are_reported() -> None:
    assert_stubs_fail(
        {
            "11.1": ("score_extraction", stub),
            "11.2": ("pass_rate_interval", stub),
            "11.3": ("regression_gate", stub),
            "11.4": ("name_messages", stub),
        },
        missing="11.4",
    )


# --------------------------------------------------------------------------- 11.4 and the local model


def _prompt_builder(version: str):
    prompt = load_prompt_version("name_extractor", version)
    return prompt.messages


def test_a_broken_prompt_fails_before_the_model_runs() -> None:
    assert_fails(
        ex11.check_name_prompt, lambda s: [{"role": "user", "content": "no sentence here"}], "last message"
    )
    assert_fails(ex11.check_name_prompt, lambda s: "just text", "list of messages")


def test_without_the_local_extra_the_prompt_question_is_not_graded(monkeypatch) -> None:
    import course_lib.providers.local as local

    monkeypatch.setattr(local, "server_ready", lambda url, timeout=1.0: False)
    monkeypatch.setattr(local, "local_extra_installed", lambda: False)
    with pytest.raises(NotGraded, match="local extra is not installed"):
        ex11.check_name_prompt(_prompt_builder("2.0.0"))
    result = run_question(get_question("11.4"), {"name_messages": _prompt_builder("2.0.0")})
    assert result.status == "not_graded" and result.score == 0 and "not graded" in result.hint


def test_threshold_sits_between_the_measured_prompts() -> None:
    assert ex11.MEASURED_PLAIN < ex11.THRESHOLD < ex11.MEASURED_GOOD
    held = {s for s, _ in ex11.HELD_OUT}
    from course_lib.evals.datasets import load_golden

    assert not held & {c.input for c in load_golden("names")}, (
        "held-out sentences must not be in the lesson's set"
    )


@pytest.mark.local
def test_on_the_real_model_the_good_prompt_passes_and_the_plain_one_fails() -> None:
    from course_lib.providers.local import local_extra_installed

    if not local_extra_installed():
        pytest.skip("the local extra is not installed")
    result = run_question(get_question("11.4"), {"name_messages": _prompt_builder("2.0.0")})
    assert result.status == "passed", result.hint
    plain = run_question(get_question("11.4"), {"name_messages": _prompt_builder("1.0.0")})
    assert plain.status == "failed" and "held-out sentences exactly right" in plain.hint, plain.hint


def _mcnemar_gate(*, factor=2, extra_terms=0, below=lambda p, a: p < a, fixed_alpha=None):
    """A regression gate with one planted deviation from the exact McNemar rule."""

    def gate_fn(baseline, candidate, alpha=0.05):
        if set(baseline) != set(candidate):
            raise ValueError("cases differ")
        lost = sum(b and not a for c in baseline for b, a in zip(baseline[c], candidate[c], strict=True))
        gained = sum(a and not b for c in baseline for b, a in zip(baseline[c], candidate[c], strict=True))
        n = lost + gained
        terms = sum(math.comb(n, i) for i in range(min(lost, gained) + 1 + extra_terms))
        p = 1.0 if n == 0 else min(1.0, factor * terms / 2**n)
        return not (lost > gained and below(p, fixed_alpha if fixed_alpha is not None else alpha))

    return gate_fn


@pytest.mark.parametrize(
    ("planted", "hint"),
    [
        (_mcnemar_gate(below=lambda p, a: p <= a), "equals alpha"),
        (_mcnemar_gate(fixed_alpha=0.05), "alpha=0.1"),
        (_mcnemar_gate(factor=3), "alpha=0.04"),
        (_mcnemar_gate(extra_terms=1), "Compute p exactly"),
    ],
    ids=["p-equal-to-alpha-blocks", "ignores-alpha", "wrong-factor", "one-term-too-many"],
)
def test_gates_that_miss_the_exact_threshold_fail(planted, hint) -> None:
    assert_fails(ex11.check_regression_gate, planted, hint)


def test_the_exact_gate_written_out_passes() -> None:
    ex11.check_regression_gate(_mcnemar_gate())
