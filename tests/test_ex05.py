"""Exercise 05's checks on the solution, the generated exercise, planted bugs and other correct answers."""

from __future__ import annotations

import math
import sys
import time
import types
from collections import Counter
from pathlib import Path

import nbformat
import pytest

from course_lib.grading import get_question, grade_namespace, run_question
from course_lib.grading.sync import render_exercise

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = ROOT / "solutions" / "05_self_consistency.ipynb"
EXERCISE = ROOT / "exercises" / "05_self_consistency.ipynb"


def _code(nb) -> list[str]:
    """The notebook's definitions: no check cells and no demo after the last question."""
    sources = [c.source for c in nb.cells if c.cell_type == "code" and not c.source.startswith("check(")]
    return [s for s in sources if not s.startswith("samples = ")]


def _namespace(sources: list[str]) -> dict:
    """Run the cells in a fresh module (registered, so the notebook's dataclass can be built)."""
    module = types.ModuleType("ex05_notebook")
    sys.modules[module.__name__] = module
    for source in sources:
        exec(compile(source, "<cell>", "exec"), module.__dict__)
    return module.__dict__


def _solution() -> list[str]:
    return _code(nbformat.read(str(SOLUTION), as_version=4))


def _with(old: str, new: str) -> dict:
    sources = _solution()
    hits = [i for i, s in enumerate(sources) if old in s]
    assert len(hits) == 1, f"fixture text not found once: {old!r}"
    sources[hits[0]] = sources[hits[0]].replace(old, new)
    return _namespace(sources)


def _grade(namespace: dict, qid: str):
    return run_question(get_question(qid), namespace, timeout=10)


def test_solution_scores_full_marks_quickly() -> None:
    start = time.perf_counter()
    results = grade_namespace(5, _namespace(_solution()), check_timeout=10)
    assert time.perf_counter() - start < 10
    assert [(r.id, r.status, r.score) for r in results] == [
        ("5.1", "passed", 2.0),
        ("5.2", "passed", 2.0),
        ("5.3", "passed", 2.0),
        ("5.4", "passed", 1.0),
    ]


def test_exercise_is_generated_from_the_solution() -> None:
    text, regions = render_exercise(SOLUTION)
    assert regions == 4
    assert EXERCISE.read_text(encoding="utf-8") == text, "run scripts/build_exercises.py"
    exercise = nbformat.read(str(EXERCISE), as_version=4)
    assert all(not c.get("outputs") for c in exercise.cells if c.cell_type == "code")
    assert "parameters" in exercise.cells[1].metadata.get("tags", [])


def test_untouched_exercise_scores_zero_with_a_stub_hint() -> None:
    exercise = nbformat.read(str(EXERCISE), as_version=4)
    results = grade_namespace(5, _namespace(_code(exercise)), check_timeout=10)
    assert [r.score for r in results] == [0, 0, 0, 0]
    assert all("still raises NotImplementedError" in r.hint for r in results)


# ------------------------------------------------------------------------------ 5.1 planted bugs


def test_a_tie_broken_silently_fails() -> None:
    q = _grade(_with("tied=leaders if len(leaders) > 1 else [],", "tied=[],"), "5.1")
    assert q.status == "failed" and "share the top count" in q.hint


def test_a_tie_broken_alphabetically_fails() -> None:
    q = _grade(
        _with("winner=leaders[0] if leaders else None,", "winner=min(leaders) if leaders else None,"), "5.1"
    )
    assert q.status == "failed" and "the tied answer seen first" in q.hint


def test_abstentions_left_out_of_the_total_fail() -> None:
    q = _grade(_with("total=len(answers),", "total=sum(counts.values()),"), "5.1")
    assert q.status == "failed" and "abstentions (None) included" in q.hint


def test_none_counted_as_an_answer_fails() -> None:
    q = _grade(
        _with("        if answer is not None:\n            counts", "        if True:\n            counts"),
        "5.1",
    )
    assert q.status == "failed" and "None is an abstention" in q.hint


def test_a_counter_based_majority_vote_passes() -> None:
    namespace = _namespace(_solution())
    Tally = namespace["Tally"]

    def majority_vote(answers):
        counts = Counter(a for a in answers if a is not None)
        ranked = counts.most_common()  # stable: equal counts keep first-seen order
        if not ranked:
            return Tally(winner=None, counts={}, tied=[], total=len(answers))
        top = ranked[0][1]
        tied = [a for a, c in ranked if c == top]
        return Tally(
            winner=tied[0], counts=dict(counts), tied=tied if len(tied) > 1 else [], total=len(answers)
        )

    assert _grade({"majority_vote": majority_vote}, "5.1").status == "passed"


# ------------------------------------------------------------------------------ 5.2 planted bugs


def test_ignoring_the_weights_fails() -> None:
    q = _grade(
        _with(
            "scores[answer] = scores.get(answer, 0.0) + confidence",
            "scores[answer] = scores.get(answer, 0.0) + 1",
        ),
        "5.2",
    )
    assert q.status == "failed" and "a confident minority can outweigh" in q.hint


def test_logprobs_not_exponentiated_fail() -> None:
    q = _grade(_with("math.exp(sum(tokens) / len(tokens))", "sum(tokens) / len(tokens)"), "5.2")
    assert q.status == "failed" and "exponentiate before adding" in q.hint


def test_summed_logprobs_not_exponentiated_fail() -> None:
    q = _grade(_with("math.exp(sum(tokens) / len(tokens))", "sum(tokens)"), "5.2")
    assert q.status == "failed" and "exponentiate before adding" in q.hint


def test_product_of_token_probabilities_fails() -> None:
    q = _grade(_with("math.exp(sum(tokens) / len(tokens))", "math.exp(sum(tokens))"), "5.2")
    assert q.status == "failed" and "*mean* token logprob" in q.hint


def test_samples_without_logprobs_must_weigh_one() -> None:
    q = _grade(_with("if tokens else 1.0", "if tokens else 0.0"), "5.2")
    assert q.status == "failed" and "weight 1.0" in q.hint


def test_a_weighted_vote_in_probability_space_passes() -> None:
    def weighted_vote(answers, logprobs):
        scores: dict = {}
        for answer, tokens in zip(answers, logprobs, strict=True):
            if answer is not None:
                probs = [math.exp(t) for t in tokens or []]
                weight = math.prod(probs) ** (1 / len(probs)) if probs else 1.0  # geometric mean
                scores[answer] = scores.get(answer, 0.0) + weight
        best = max(scores.values(), default=None)
        return next((a for a in scores if scores[a] == best), None), scores

    assert _grade({"weighted_vote": weighted_vote}, "5.2").status == "passed"


# ------------------------------------------------------------------------------ 5.3 planted bugs


def test_strict_threshold_fails() -> None:
    q = _grade(_with("if agreement >= high:", "if agreement > high:"), "5.3")
    assert q.status == "failed" and "reached with >=, not >" in q.hint


def test_strict_moderate_threshold_fails() -> None:
    q = _grade(_with("if agreement >= moderate:", "if agreement > moderate:"), "5.3")
    assert q.status == "failed" and "reached with >=, not >" in q.hint


def test_a_tie_that_does_not_escalate_fails() -> None:
    q = _grade(_with("if votes.count(top) > 1:", "if False:"), "5.3")
    assert q.status == "failed" and "tie escalates" in q.hint


def test_agreement_among_answered_samples_only_fails() -> None:
    q = _grade(_with("agreement = top / total", "agreement = top / sum(votes)"), "5.3")
    assert q.status == "failed" and "of *all* samples" in q.hint


def test_fixed_thresholds_fail() -> None:
    q = _grade(_with("if agreement >= high:", "if agreement >= 0.85:"), "5.3")
    assert q.status == "failed" and "thresholds passed in" in q.hint


# ------------------------------------------------------------------------------ 5.4 planted bugs


def test_stopping_when_a_tie_is_still_possible_fails() -> None:
    q = _grade(_with("if ranked[0] - runner_up > n - k:", "if ranked[0] - runner_up >= n - k:"), "5.4")
    assert q.status == "failed" and "could still tie" in q.hint


def test_off_by_one_remaining_samples_fails() -> None:
    q = _grade(_with("if ranked[0] - runner_up > n - k:", "if ranked[0] - runner_up > n - k + 1:"), "5.4")
    assert q.status == "failed"


@pytest.mark.parametrize("qid", ["5.1", "5.2", "5.3", "5.4"])
def test_a_crashing_answer_scores_zero_with_the_error_named(qid: str) -> None:
    def broken(*args, **kwargs):
        raise KeyError("oops")

    target = get_question(qid).targets[0]
    q = _grade({target: broken}, qid)
    assert q.score == 0 and "KeyError" in q.hint
