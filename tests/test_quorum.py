"""Tests for votes, gates and stopping rules (course_lib.quorum)."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from course_lib.quorum import GatePolicy, gate, is_decided, majority_vote, stop_point, weighted_vote

answers_st = st.lists(st.sampled_from(["A", "B", "C", None]), min_size=1, max_size=15)
tie_st = st.sampled_from(["first_seen", "lexicographic", "none"])


@given(answers_st, tie_st)
def test_winner_has_the_maximum_count(answers, tie_break):
    vote = majority_vote(answers, tie_break=tie_break)
    counts = Counter(a for a in answers if a is not None)
    if vote.winner is not None:
        assert counts[vote.winner] == max(counts.values())
    assert vote.counts == dict(counts)
    assert vote.tie == (list(counts.values()).count(max(counts.values(), default=0)) > 1)


@given(answers_st, st.randoms(use_true_random=False))
def test_counts_are_permutation_invariant(answers, rnd):
    shuffled = list(answers)
    rnd.shuffle(shuffled)
    a, b = (
        majority_vote(answers, tie_break="lexicographic"),
        majority_vote(shuffled, tie_break="lexicographic"),
    )
    assert a.counts == b.counts
    assert a.winner == b.winner
    assert a.abstained == b.abstained


@given(answers_st, tie_st)
def test_early_stopping_never_changes_the_winner(answers, tie_break):
    k = stop_point(answers, rule="winner")
    assert 1 <= k <= len(answers)
    full = majority_vote(answers, tie_break=tie_break)
    prefix = majority_vote(answers[:k], tie_break=tie_break)
    assert prefix.winner == full.winner


@given(answers_st, st.floats(0.5, 1.0), st.floats(0.0, 0.5))
def test_decision_rule_never_changes_the_gate(answers, high, moderate):
    policy = GatePolicy(high=high, moderate=moderate)
    n = len(answers)
    k = stop_point(answers, rule="decision", policy=policy)
    if k < n:
        prefix = majority_vote(answers[:k])
        assert policy.level(prefix.counts[prefix.winner] / n) == gate(majority_vote(answers), policy)
        assert prefix.winner == majority_vote(answers).winner


@given(answers_st, st.floats(min_value=1e-6, max_value=1e6), tie_st)
def test_equal_weights_give_the_majority_result(answers, w, tie_break):
    weighted = weighted_vote(answers, [w] * len(answers), tie_break=tie_break)
    plain = majority_vote(answers, tie_break=tie_break)
    assert weighted.winner == plain.winner
    assert weighted.tie == plain.tie
    assert weighted.counts == plain.counts


def test_ties_are_reported_and_broken_by_policy():
    vote = majority_vote(["B", "A", "A", "B", "C"])
    assert vote.tie and vote.tied == ["B", "A"]
    assert vote.winner == "B"  # first seen
    assert majority_vote(["B", "A", "A", "B"], tie_break="lexicographic").winner == "A"
    assert majority_vote(["B", "A", "A", "B"], tie_break="none").winner is None
    assert gate(vote) == "escalate"
    assert gate(vote, GatePolicy(high=0.4, moderate=0.3, escalate_on_tie=False)) == "high"


def test_unknown_tie_break_is_rejected():
    with pytest.raises(ValueError, match="tie_break"):
        majority_vote(["A"], tie_break="coin")  # type: ignore[arg-type]


def test_abstentions_lower_agreement():
    vote = majority_vote(["A", "A", None, None])
    assert vote.winner == "A"
    assert vote.abstained == 2
    assert vote.agreement == 0.5
    assert vote.distribution == {"A": 0.5}
    assert majority_vote([None, None]).winner is None
    assert gate(majority_vote([None, None])) == "escalate"


@pytest.mark.parametrize(("agree", "expected"), [(7, "high"), (6, "high"), (5, "moderate"), (4, "escalate")])
def test_gate_on_seven_samples(agree, expected):
    answers = ["MONITOR_HOME"] * agree + ["SCHEDULE_APPOINTMENT"] * (7 - agree)
    assert gate(majority_vote(answers)) == expected


def test_gate_policy_validates_order():
    with pytest.raises(ValueError, match="must not exceed"):
        GatePolicy(high=0.6, moderate=0.8)


def test_weighted_vote_sums_confidences():
    answers = ["Positive", "Positive", "Neutral", "Positive", "Neutral"]
    vote = weighted_vote(answers, [0.92, 0.85, 0.60, 0.78, 0.55])
    assert vote.winner == "Positive"
    assert vote.scores["Positive"] == pytest.approx(2.55)
    assert vote.scores["Neutral"] == pytest.approx(1.15)


def test_confident_minority_can_outweigh_an_unsure_majority():
    answers = ["yes", "yes", "yes", "no", "no"]
    vote = weighted_vote(answers, [0.2, 0.2, 0.2, 0.9, 0.9])
    assert majority_vote(answers).winner == "yes"
    assert vote.winner == "no"


def test_missing_weight_uses_default():
    vote = weighted_vote(["a", "b"], [None, 0.5])
    assert vote.winner == "a"
    with pytest.raises(ValueError, match="one weight per answer"):
        weighted_vote(["a"], [])
    with pytest.raises(ValueError, match="non-negative"):
        weighted_vote(["a"], [-1.0])


def test_is_decided():
    assert is_decided({"A": 4}, remaining=3)
    assert not is_decided({"A": 4, "B": 1}, remaining=3)
    assert not is_decided({"A": 3}, remaining=3)  # could end in a tie
    assert not is_decided({}, remaining=0)


def test_stop_point_examples():
    unanimous = ["A"] * 7
    assert stop_point(unanimous, rule="winner") == 4
    assert stop_point(unanimous, rule="decision") == 6  # 6/7 >= 0.85 whatever the 7th says
    assert stop_point(unanimous, rule="off") == 7
    assert stop_point(["A", "B", "A", "B"], rule="winner") == 4
    with pytest.raises(ValueError, match="smaller"):
        stop_point(["A", "A"], n=1)
