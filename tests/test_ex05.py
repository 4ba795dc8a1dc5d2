"""Exercise 05: the solution, planted bugs and other correct answers (notebooks: test_exercises.py)."""

from __future__ import annotations

import math
import time
from collections import Counter

import pytest
from exercise_support import exec_namespace, run_check, solution_path, solution_sources, with_planted_bug

from course_lib.grading import get_question, grade_namespace

SOLUTION = solution_path(5)


def _solution() -> list[str]:
    """The notebook's definitions: no check cells and no demo after the last question."""
    return solution_sources(SOLUTION, skip=lambda source: source.startswith("samples = "))


def _with(old: str, new: str) -> dict:
    """The solution's namespace with one planted bug: ``old`` replaced by ``new``."""
    return exec_namespace(with_planted_bug(_solution(), old, new))


def test_solution_scores_full_marks_quickly() -> None:
    start = time.perf_counter()
    results = grade_namespace(5, exec_namespace(_solution()), check_timeout=10)
    assert time.perf_counter() - start < 10
    assert [(r.id, r.status, r.score) for r in results] == [
        ("5.1", "passed", 2.0),
        ("5.2", "passed", 2.0),
        ("5.3", "passed", 2.0),
        ("5.4", "passed", 1.0),
    ]


# ------------------------------------------------------------------------------ 5.1 planted bugs


def test_a_tie_broken_silently_fails() -> None:
    q = run_check("5.1", _with("tied=leaders if len(leaders) > 1 else [],", "tied=[],"))
    assert q.status == "failed" and "share the top count" in q.hint


def test_a_tie_broken_alphabetically_fails() -> None:
    q = run_check(
        "5.1", _with("winner=leaders[0] if leaders else None,", "winner=min(leaders) if leaders else None,")
    )
    assert q.status == "failed" and "the tied answer seen first" in q.hint


def test_abstentions_left_out_of_the_total_fail() -> None:
    q = run_check("5.1", _with("total=len(answers),", "total=sum(counts.values()),"))
    assert q.status == "failed" and "abstentions (None) included" in q.hint


def test_none_counted_as_an_answer_fails() -> None:
    q = run_check(
        "5.1",
        _with("        if answer is not None:\n            counts", "        if True:\n            counts"),
    )
    assert q.status == "failed" and "None is an abstention" in q.hint


def test_a_counter_based_majority_vote_passes() -> None:
    namespace = exec_namespace(_solution())
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

    assert run_check("5.1", {"majority_vote": majority_vote}).status == "passed"


# ------------------------------------------------------------------------------ 5.2 planted bugs


def test_ignoring_the_weights_fails() -> None:
    q = run_check(
        "5.2",
        _with(
            "scores[answer] = scores.get(answer, 0.0) + confidence",
            "scores[answer] = scores.get(answer, 0.0) + 1",
        ),
    )
    assert q.status == "failed" and "a confident minority can outweigh" in q.hint


def test_logprobs_not_exponentiated_fail() -> None:
    q = run_check("5.2", _with("math.exp(sum(tokens) / len(tokens))", "sum(tokens) / len(tokens)"))
    assert q.status == "failed" and "exponentiate before adding" in q.hint


def test_summed_logprobs_not_exponentiated_fail() -> None:
    q = run_check("5.2", _with("math.exp(sum(tokens) / len(tokens))", "sum(tokens)"))
    assert q.status == "failed" and "exponentiate before adding" in q.hint


def test_product_of_token_probabilities_fails() -> None:
    q = run_check("5.2", _with("math.exp(sum(tokens) / len(tokens))", "math.exp(sum(tokens))"))
    assert q.status == "failed" and "*mean* token logprob" in q.hint


def test_samples_without_logprobs_must_weigh_one() -> None:
    q = run_check("5.2", _with("if tokens else 1.0", "if tokens else 0.0"))
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

    assert run_check("5.2", {"weighted_vote": weighted_vote}).status == "passed"


# ------------------------------------------------------------------------------ 5.3 planted bugs


def test_strict_threshold_fails() -> None:
    q = run_check("5.3", _with("if agreement >= high:", "if agreement > high:"))
    assert q.status == "failed" and "reached with >=, not >" in q.hint


def test_strict_moderate_threshold_fails() -> None:
    q = run_check("5.3", _with("if agreement >= moderate:", "if agreement > moderate:"))
    assert q.status == "failed" and "reached with >=, not >" in q.hint


def test_a_tie_that_does_not_escalate_fails() -> None:
    q = run_check("5.3", _with("if votes.count(top) > 1:", "if False:"))
    assert q.status == "failed" and "tie escalates" in q.hint


def test_agreement_among_answered_samples_only_fails() -> None:
    q = run_check("5.3", _with("agreement = top / total", "agreement = top / sum(votes)"))
    assert q.status == "failed" and "of *all* samples" in q.hint


def test_fixed_thresholds_fail() -> None:
    q = run_check("5.3", _with("if agreement >= high:", "if agreement >= 0.85:"))
    assert q.status == "failed" and "thresholds passed in" in q.hint


# ------------------------------------------------------------------------------ 5.4 planted bugs


def test_stopping_when_a_tie_is_still_possible_fails() -> None:
    q = run_check("5.4", _with("if ranked[0] - runner_up > n - k:", "if ranked[0] - runner_up >= n - k:"))
    assert q.status == "failed" and "could still tie" in q.hint


def test_off_by_one_remaining_samples_fails() -> None:
    q = run_check("5.4", _with("if ranked[0] - runner_up > n - k:", "if ranked[0] - runner_up > n - k + 1:"))
    assert q.status == "failed"


@pytest.mark.parametrize("qid", ["5.1", "5.2", "5.3", "5.4"])
def test_a_crashing_answer_scores_zero_with_the_error_named(qid: str) -> None:
    def broken(*args, **kwargs):
        raise KeyError("oops")

    target = get_question(qid).targets[0]
    q = run_check(qid, {target: broken})
    assert q.score == 0 and "KeyError" in q.hint
