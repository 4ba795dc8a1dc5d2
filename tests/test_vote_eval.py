"""Tests for measuring self-consistency from recorded pools (course_lib.lessons.l05_self_consistency.vote_eval)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.lessons.l05_self_consistency.vote_eval import (
    QUIZ,
    QuestionPool,
    QuizItem,
    collect_pools,
    condorcet_accuracy,
    draw_indices,
    gate_tradeoff,
    index_sets,
    pool_accuracy,
    quiz_messages,
    vote_curve,
)
from course_lib.providers.base import ChatResult, Choice, TokenLogprob, Usage
from course_lib.providers.replay.scope import current_sample
from course_lib.providers.scripted import ScriptedProvider
from course_lib.quorum import GatePolicy


def pool(answers, gold="a", confidences=(), tokens=()):
    return QuestionPool(
        question=f"q-{gold}-{len(answers)}",
        gold=gold,
        answers=list(answers),
        confidences=list(confidences),
        tokens=list(tokens),
    )


def test_pool_accuracy_counts_abstentions_as_wrong():
    assert pool_accuracy(pool(["a", "a", "b", None])) == 0.5


def test_pool_accuracy_of_an_empty_pool_is_an_error():
    with pytest.raises(ValueError, match="no samples"):
        pool_accuracy(pool([]))


def test_draws_are_seeded_and_distinct_without_replacement():
    first = draw_indices(10, 4, 50, seed=3)
    assert first == draw_indices(10, 4, 50, seed=3)
    assert first != draw_indices(10, 4, 50, seed=4)
    assert all(len(set(d)) == 4 and all(0 <= i < 10 for i in d) for d in first)


def test_bootstrap_draws_may_repeat_an_index():
    draws = draw_indices(2, 5, 20, seed=0, replace=True)
    assert any(len(set(d)) < 5 for d in draws)


def test_drawing_more_than_the_pool_without_replacement_says_what_to_do():
    with pytest.raises(ValueError, match="record more samples"):
        draw_indices(5, 7, 1)


def test_a_unanimous_right_pool_is_always_right_and_a_wrong_one_never():
    right, wrong = pool(["a"] * 11), pool(["b"] * 11)
    for point in vote_curve([right], (1, 3, 11), draws=20):
        assert point.majority_accuracy == 1.0 and point.agreement == 1.0 and point.tie_rate == 0.0
    for point in vote_curve([wrong], (1, 5), draws=20):
        assert point.majority_accuracy == 0.0 and point.weighted_accuracy == 0.0


def test_voting_the_whole_pool_gives_its_majority_and_one_sample_its_share():
    points = vote_curve([pool(["a", "a", "b"])], (1, 3), draws=3000, seed=1)
    assert points[0].majority_accuracy == pytest.approx(2 / 3, abs=0.03)
    assert points[1].majority_accuracy == 1.0
    assert points[1].agreement == pytest.approx(2 / 3)


def test_weighted_and_majority_votes_use_the_same_draws_and_can_disagree():
    confident_minority = pool(["a", "b", "b"], confidences=[0.9, 0.3, 0.3])
    (point,) = vote_curve([confident_minority], (3,), draws=10)
    assert point.majority_accuracy == 0.0
    assert point.weighted_accuracy == 1.0


def test_missing_confidences_make_the_weighted_vote_a_majority_vote():
    (point,) = vote_curve([pool(["a", "b", "b"], confidences=[None, None, None])], (3,), draws=5)
    assert point.weighted_accuracy == point.majority_accuracy == 0.0


def test_ties_are_counted_and_tokens_scale_with_n():
    (point,) = vote_curve([pool(["a", "b"], tokens=[30, 50])], (2,), draws=10)
    assert point.tie_rate == 1.0
    assert point.tokens_per_question == 80.0


def test_per_question_accuracy_is_reported():
    pools = [pool(["a"] * 3, gold="a"), pool(["x"] * 3, gold="y")]
    (point,) = vote_curve(pools, (3,), draws=5)
    assert point.per_question == {"q-a-3": 1.0, "q-y-3": 0.0}
    assert point.majority_accuracy == 0.5


def test_vote_curve_needs_questions():
    with pytest.raises(ValueError, match="no questions"):
        vote_curve([], (1,))


def test_gate_answers_unanimous_pools_and_escalates_splits():
    sure = pool(["a"] * 7)
    split = pool(["a", "b"])
    outcome = gate_tradeoff([sure], 7, GatePolicy(high=0.85, moderate=0.7), draws=10)
    assert (outcome.answered, outcome.escalated, outcome.accuracy_answered) == (1.0, 0.0, 1.0)
    outcome = gate_tradeoff([split], 2, draws=10)
    assert outcome.answered == 0.0 and outcome.accuracy_answered is None and outcome.wrong_answered == 0.0


def test_gate_lets_a_confident_wrong_answer_through():
    confidently_wrong = pool(["b"] * 7, gold="a")
    outcome = gate_tradeoff([confidently_wrong], 5, draws=10)
    assert outcome.answered == 1.0 and outcome.accuracy_answered == 0.0 and outcome.wrong_answered == 1.0


def test_a_stricter_gate_answers_less():
    mixed = pool(["a"] * 8 + ["b"] * 3)
    loose = gate_tradeoff([mixed], 7, GatePolicy(high=0.6, moderate=0.5), draws=200)
    strict = gate_tradeoff([mixed], 7, GatePolicy(high=1.0, moderate=1.0), draws=200)
    assert strict.answered < loose.answered


def test_condorcet_small_cases_by_hand():
    assert condorcet_accuracy(0.6, 1) == pytest.approx(0.6)
    assert condorcet_accuracy(0.6, 3) == pytest.approx(0.6**3 + 3 * 0.6**2 * 0.4)
    assert condorcet_accuracy(0.6, 2) == pytest.approx(0.36 + 0.48 / 2)
    assert condorcet_accuracy(0.3, 5) < 0.3


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1, max_value=15))
def test_a_coin_flip_stays_a_coin_flip(n):
    assert condorcet_accuracy(0.5, n) == pytest.approx(0.5)


@settings(max_examples=60, deadline=None)
@given(st.floats(min_value=0.51, max_value=0.99), st.integers(min_value=0, max_value=6))
def test_more_independent_votes_help_when_each_is_more_often_right(p, k):
    n = 2 * k + 1
    assert condorcet_accuracy(p, n + 2) >= condorcet_accuracy(p, n) - 1e-12


def test_condorcet_rejects_bad_input():
    with pytest.raises(ValueError):
        condorcet_accuracy(1.5, 3)
    with pytest.raises(ValueError):
        condorcet_accuracy(0.5, 0)


def test_quiz_messages_are_system_shots_then_the_question():
    messages = quiz_messages("What is 2 + 2?")
    assert [m["role"] for m in messages] == ["system", "user", "assistant"] * 1 + [
        "user",
        "assistant",
        "user",
        "assistant",
        "user",
    ]
    assert messages[-1] == {"role": "user", "content": "What is 2 + 2?"}


def test_quiz_items_read_their_own_kind_of_answer():
    label = QuizItem(question="Pick", gold="B", kind="label")
    assert label.extract("B) horse") == "B"
    yesno = QuizItem(question="Is it?", gold="no", kind="yesno")
    assert yesno.extract("No.") == "no"
    number = QuizItem(question="Sum?", gold="13", kind="number")
    assert number.extract("7 + 6 = 13") == "13"
    assert len(QUIZ) >= 10 and len({q.question for q in QUIZ}) == len(QUIZ)


def test_collect_pools_samples_with_logprobs_and_keeps_answers_confidences_tokens():
    replies = ["4", "5", "4"]

    def respond(messages, params):
        i = current_sample()
        return ChatResult(
            choices=[
                Choice(text=replies[i], logprobs=[TokenLogprob(token=replies[i], logprob=-0.5 * (i + 1))])
            ],
            usage=Usage(prompt_tokens=40, completion_tokens=1 + i),
        )

    provider = ScriptedProvider(respond)
    item = QuizItem(question="What is 2 times 2?", gold="4", kind="number")
    (got,) = collect_pools(provider, [item], samples=3, temperature=0.7, max_tokens=10, top_logprobs=3)
    assert got.answers == ["4", "5", "4"]
    assert got.confidences == pytest.approx([math.exp(-0.5), math.exp(-1.0), math.exp(-1.5)])
    assert got.tokens == [41, 42, 43]
    assert got.texts == replies
    assert provider.calls[0].params == {
        "temperature": 0.7,
        "max_tokens": 10,
        "logprobs": True,
        "top_logprobs": 3,
    }
    assert provider.calls[0].messages == quiz_messages("What is 2 times 2?")


def test_small_subsets_are_enumerated_exactly():
    assert index_sets(4, 1, 100) == [[0], [1], [2], [3]]
    assert len(index_sets(5, 2, 10)) == 10  # C(5, 2) = 10 <= 10: all pairs
    assert len(index_sets(5, 2, 9)) == 9  # more pairs than draws: sampled


def test_single_sample_accuracy_is_exact():
    (point,) = vote_curve([pool(["a", "a", "b"])], (1,), draws=400)
    assert point.majority_accuracy == pytest.approx(2 / 3)
