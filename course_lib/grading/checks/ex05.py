"""Checks of exercise 05, self-consistency (exercises).

5.1 majority vote that reports ties and counts abstentions, 5.2 vote weighted by ``exp(mean logprob)``,
5.3 the confidence gate that escalates low agreement and ties, 5.4 the early-stopping point of a vote.
Every expected value below is computed by hand or by a reference written here, never by the library
the lesson uses, and each check tests behaviour only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from . import (
    CheckFailed,
    call,
    expect_close,
    expect_equal,
    expect_type,
    is_close,
    property_check,
    question,
    show,
)

__all__ = ["check_decide", "check_majority_vote", "check_samples_needed", "check_weighted_vote"]

_MISSING = object()


# ------------------------------------------------------------------------------------------ 5.1


def _field(result: Any, name: str, what: str) -> Any:
    value = getattr(result, name, _MISSING)
    if value is _MISSING and isinstance(result, dict):
        value = result.get(name, _MISSING)
    if value is _MISSING:
        raise CheckFailed(
            f"{what} returned {show(result)}, which has no `{name}`: return a Tally(winner=…, counts=…, "
            "tied=…, total=…)"
        )
    return value


def _expected_tally(answers: Sequence[str | None]) -> tuple[str | None, dict[str, int], set[str], int]:
    counts: dict[str, int] = {}
    for a in answers:
        if a is not None:
            counts[a] = counts.get(a, 0) + 1
    best = max(counts.values(), default=0)
    leaders = [a for a in counts if counts[a] == best]  # dicts keep first-seen order
    winner = leaders[0] if leaders else None
    return winner, counts, set(leaders) if len(leaders) > 1 else set(), len(answers)


def _compare_tally(majority_vote: Any, answers: list[str | None]) -> None:
    what = f"majority_vote({show(answers)})"
    got = call(majority_vote, list(answers))
    winner, counts, tied, total = _expected_tally(answers)
    got_counts = _field(got, "counts", what)
    if not isinstance(got_counts, dict) or dict(got_counts) != counts:
        raise CheckFailed(
            f"{what} counted {show(got_counts)}; expected {show(counts)} (one entry per answer; "
            "None is an abstention and is not an answer)"
        )
    got_total = _field(got, "total", what)
    if got_total != total:
        raise CheckFailed(
            f"{what} gave total={show(got_total)}; expected {total}: every sample counts in the total, "
            "abstentions (None) included, so unreadable samples lower the agreement"
        )
    got_tied = _field(got, "tied", what)
    if not isinstance(got_tied, (list, tuple)) or set(got_tied) != tied or len(got_tied) != len(tied):
        if tied:
            hint = f"{' and '.join(sorted(tied))} share the top count: report every tied answer in `tied`"
        else:
            hint = "there is no tie here: `tied` must be empty unless two or more answers share the top count"
        raise CheckFailed(f"{what} gave tied={show(got_tied)}; {hint}")
    got_winner = _field(got, "winner", what)
    if got_winner != winner:
        if winner is None:
            hint = "no sample gave an answer, so there is no winner: return None"
        elif tied:
            hint = f"on a tie the winner is the tied answer seen first in the list, here {winner!r}"
        else:
            hint = f"{winner!r} has the most votes"
        raise CheckFailed(f"{what} gave winner={show(got_winner)}; expected {show(winner)} ({hint})")


@question("5.1", points=2, title="majority vote that reports ties", target="majority_vote")
def check_majority_vote(majority_vote: Any) -> None:
    """Most votes win; ties are reported and go to the first-seen answer; None abstains but counts."""
    cases: list[list[str | None]] = [
        ["A", "B", "A"],
        ["B", "A", "A", "B"],
        ["A", "B", "B", "A", "C"],
        ["c", "b", "a"],
        ["x", None, None],
        [None, "y", "z", "z", None],
        [None, None],
        [],
        ["only"],
    ]
    for answers in cases:
        _compare_tally(majority_vote, answers)

    from hypothesis import strategies as st

    def agrees(answers: list[str | None]) -> None:
        _compare_tally(majority_vote, answers)

    answer = st.one_of(st.none(), st.sampled_from(["A", "B", "C", "D"]))
    property_check(agrees, answers=st.lists(answer, max_size=12), max_examples=80)


# ------------------------------------------------------------------------------------------ 5.2


def _confidence(logprobs: Sequence[float] | None) -> float:
    if not logprobs:
        return 1.0
    return math.exp(sum(logprobs) / len(logprobs))


def _expected_weighted(
    answers: Sequence[str | None], logprobs: Sequence[Any]
) -> tuple[str | None, dict[str, float]]:
    scores: dict[str, float] = {}
    for a, lp in zip(answers, logprobs, strict=True):
        if a is not None:
            scores[a] = scores.get(a, 0.0) + _confidence(lp)
    if not scores:
        return None, {}
    best = max(scores.values())
    return next(a for a in scores if math.isclose(scores[a], best, rel_tol=1e-12)), scores


_WEIGHT_HINTS = {
    "weights": "a confident minority can outweigh an unsure majority: add up each sample's confidence, "
    "do not count samples",
    "exp": "log-probabilities are <= 0: exponentiate before adding, confidence = exp(mean logprob)",
    "mean": "use the *mean* token logprob (the geometric mean of the token probabilities), not their sum, "
    "so a long answer is not punished for its length",
    "missing": "a sample without logprobs (None or []) counts with weight 1.0",
    "abstain": "a sample whose answer is None votes for nothing",
    "tie": "on equal scores the answer seen first wins",
    "empty": "with no answers there is no winner: return (None, {})",
}


def _scores_with(answers: Sequence[str | None], logprobs: Sequence[Any], weigh: Any) -> dict[str, float]:
    scores: dict[str, float] = {}
    for a, lp in zip(answers, logprobs, strict=True):
        if a is not None:
            scores[a] = scores.get(a, 0.0) + weigh(lp)
    return scores


_BUGS = (  # a plausible wrong weighting, and the hint it earns
    (lambda lp: 1.0, "weights"),
    (lambda lp: sum(lp) / len(lp) if lp else 1.0, "exp"),
    (lambda lp: sum(lp) if lp else 1.0, "exp"),
    (lambda lp: math.exp(sum(lp)) if lp else 1.0, "mean"),
    (lambda lp: math.exp(sum(lp) / len(lp)) if lp else 0.0, "missing"),
)


def _diagnose(scores: Any, answers: Sequence[str | None], logprobs: Sequence[Any], reason: str) -> str:
    """The hint for the mistake the learner's scores match, else the hint of the case."""
    if isinstance(scores, dict):
        for weigh, hint in _BUGS:
            try:
                wrong = _scores_with(answers, logprobs, weigh)
            except (ArithmeticError, ValueError):
                continue
            if wrong != _expected_weighted(answers, logprobs)[1] and is_close(dict(scores), wrong):
                return _WEIGHT_HINTS[hint]
    return _WEIGHT_HINTS[reason]


def _check_weighted_case(weighted_vote: Any, answers: list, logprobs: list, reason: str) -> None:
    what = f"weighted_vote({show(answers)}, {show(logprobs)})"
    got = call(weighted_vote, list(answers), [None if lp is None else list(lp) for lp in logprobs])
    if not isinstance(got, tuple) or len(got) != 2:
        raise CheckFailed(f"{what} returned {show(got)}; expected a pair (winner, scores)")
    winner, scores = got
    expected_winner, expected_scores = _expected_weighted(answers, logprobs)
    hint = _diagnose(scores, answers, logprobs, reason)
    if winner != expected_winner:
        raise CheckFailed(f"{what} gave winner {show(winner)}; expected {show(expected_winner)} ({hint})")
    expect_type(scores, dict, f"{what}[1] (the scores)")
    expect_close(dict(scores), expected_scores, f"{what}[1] (the scores)", rel=1e-6, hint=hint)


@question("5.2", points=2, title="vote weighted by logprob confidence", target="weighted_vote")
def check_weighted_vote(weighted_vote: Any) -> None:
    """Each sample weighs exp(mean token logprob); scores add up per answer; the largest score wins."""
    _check_weighted_case(weighted_vote, ["A", "A", "B"], [[-2.0], [-2.0], [-0.01]], "weights")
    _check_weighted_case(weighted_vote, ["A", "B", "B"], [[-0.05], [-0.7], [-0.7]], "exp")
    _check_weighted_case(weighted_vote, ["A", "B"], [[-0.1, -0.1, -0.1, -0.1], [-0.3]], "mean")
    _check_weighted_case(weighted_vote, ["A", "B", "B"], [[-0.01], None, []], "missing")
    _check_weighted_case(weighted_vote, [None, "A", None], [[0.0], [-1.0], [-0.2]], "abstain")
    _check_weighted_case(weighted_vote, ["B", "A"], [[-0.5], [-0.5]], "tie")
    _check_weighted_case(weighted_vote, [], [], "empty")
    _check_weighted_case(weighted_vote, [None], [[-0.1]], "empty")

    from hypothesis import strategies as st

    def equal_weights_are_a_majority(answers: list[str], logprob: float) -> None:
        got = call(weighted_vote, list(answers), [[logprob]] * len(answers))
        expected, _ = _expected_weighted(answers, [[logprob]] * len(answers))
        if not isinstance(got, tuple) or got[0] != expected:
            raise CheckFailed(
                f"weighted_vote({show(answers)}, every sample [{logprob}]) gave {show(got)}; with equal "
                f"weights the most common answer must win, here {show(expected)} (ties: first seen)"
            )

    property_check(
        equal_weights_are_a_majority,
        answers=st.lists(st.sampled_from("ABC"), min_size=1, max_size=9),
        logprob=st.floats(min_value=-5.0, max_value=0.0),
        max_examples=60,
    )


# ------------------------------------------------------------------------------------------ 5.3


def _expected_decision(counts: dict[str, int], total: int, high: float, moderate: float) -> str:
    positive = [c for c in counts.values() if c > 0]
    if not positive or total <= 0:
        return "escalate"
    top = max(positive)
    if positive.count(top) > 1:
        return "escalate"
    agreement = top / total
    if agreement >= high:
        return "high"
    return "moderate" if agreement >= moderate else "escalate"


def _check_decision(
    decide: Any, counts: dict[str, int], total: int, high: float, moderate: float, hint: str
) -> None:
    what = f"decide({show(counts)}, {total}, high={high}, moderate={moderate})"
    got = call(decide, dict(counts), total, high=high, moderate=moderate)
    expect_equal(got, _expected_decision(counts, total, high, moderate), what, hint)


@question("5.3", points=2, title="gate: answer, caveat or escalate", target="decide")
def check_decide(decide: Any) -> None:
    """Agreement = top count / total; >= high → high, >= moderate → moderate; ties and no votes escalate."""
    lesson_gate = (0.85, 0.70)
    _check_decision(decide, {"A": 7}, 7, *lesson_gate, "7 of 7 agree")
    _check_decision(decide, {"A": 6, "B": 1}, 7, *lesson_gate, "6/7 = 0.857 reaches the high threshold")
    _check_decision(decide, {"A": 5, "B": 2}, 7, *lesson_gate, "5/7 = 0.714 is moderate")
    _check_decision(decide, {"A": 4, "B": 2, "C": 1}, 7, *lesson_gate, "4/7 = 0.571 is below moderate")
    _check_decision(
        decide,
        {"A": 17, "B": 3},
        20,
        *lesson_gate,
        "17/20 is exactly 0.85: a threshold is reached with >=, not >",
    )
    _check_decision(
        decide,
        {"A": 7, "B": 3},
        10,
        *lesson_gate,
        "7/10 is exactly 0.70: a threshold is reached with >=, not >",
    )
    _check_decision(
        decide, {"A": 3, "B": 3, "C": 1}, 7, 0.4, 0.3, "A and B tie: a tie escalates whatever the agreement"
    )
    _check_decision(decide, {"A": 3, "B": 3}, 6, *lesson_gate, "a tie escalates")
    _check_decision(
        decide,
        {"A": 5},
        7,
        *lesson_gate,
        "2 of the 7 samples had no answer: agreement is 5/7 of *all* samples, not 5/5 of those that answered",
    )
    _check_decision(decide, {}, 3, *lesson_gate, "no votes at all: escalate")
    _check_decision(decide, {}, 0, *lesson_gate, "no samples at all: escalate (and do not divide by zero)")
    _check_decision(
        decide, {"A": 0}, 3, 0.5, 0.0, "an answer counted 0 times is no vote: with no votes, escalate"
    )
    _check_decision(decide, {"A": 6, "B": 1}, 7, 1.0, 0.5, "use the thresholds passed in, not fixed ones")

    from hypothesis import strategies as st

    def agrees(counts: dict[str, int], abstained: int, high: float, spread: float) -> None:
        moderate = high * spread
        total = sum(counts.values()) + abstained
        _check_decision(decide, counts, total, high, moderate, "see the rules above")

    property_check(
        agrees,
        counts=st.dictionaries(st.sampled_from("ABCD"), st.integers(1, 8), max_size=4),
        abstained=st.integers(0, 3),
        high=st.sampled_from([0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 1.0]),
        spread=st.sampled_from([0.5, 0.8, 1.0]),
        max_examples=80,
    )


# ------------------------------------------------------------------------------------------ 5.4


def _expected_stop(answers: Sequence[str], n: int) -> int:
    counts: dict[str, int] = {}
    for k, a in enumerate(answers, start=1):
        counts[a] = counts.get(a, 0) + 1
        ranked = [*sorted(counts.values(), reverse=True), 0]
        if ranked[0] - ranked[1] > n - k:
            return k
    return len(answers)


def _check_stop(samples_needed: Any, answers: list[str], n: int, hint: str) -> None:
    what = f"samples_needed({show(answers)}, {n})"
    got = call(samples_needed, list(answers), n)
    expect_equal(got, _expected_stop(answers, n), what, hint)


@question("5.4", points=1, title="early stopping: when is the winner fixed?", target="samples_needed")
def check_samples_needed(samples_needed: Any) -> None:
    """The first k where the leader's margin over the runner-up exceeds the n - k samples still to come."""
    _check_stop(
        samples_needed, ["A", "A", "A", "A", "B", "B", "B"], 7, "after 4: A leads by 4 with 3 to come"
    )
    _check_stop(
        samples_needed, ["A", "B", "A", "B", "A", "A", "A"], 7, "after 6: A leads by 2 with 1 to come"
    )
    _check_stop(
        samples_needed,
        ["A", "A", "A", "B", "A", "B"],
        6,
        "after 3, A leads by 3 with 3 to come, and B could still tie: the margin must be *greater* than "
        "the samples left",
    )
    _check_stop(
        samples_needed, ["A", "A", "A", "B", "B", "B", "B"], 7, "B overtakes: only the last sample decides"
    )
    _check_stop(
        samples_needed, ["A", "A"], 5, "3 samples are still to come: never fixed, use every answer given"
    )
    _check_stop(samples_needed, ["A"], 1, "one sample of one: fixed at once")

    from hypothesis import strategies as st

    def agrees(answers: list[str], extra: int) -> None:
        _check_stop(
            samples_needed, answers, len(answers) + extra, "leader minus runner-up > samples still to come"
        )

    property_check(
        agrees,
        answers=st.lists(st.sampled_from("ABC"), min_size=1, max_size=11),
        extra=st.integers(0, 4),
        max_examples=80,
    )
