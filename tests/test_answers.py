"""Tests for answer extraction and logprob confidence (course_lib.answers)."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from course_lib.answers import answer_region, extract_answer, logprob_confidence, normalize_number
from course_lib.providers.base import TokenLogprob

TRIAGE = ["ER_NOW", "SCHEDULE_APPOINTMENT", "MONITOR_HOME"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The balance after three years is $1,104.94.", "1104.94"),
        ("Answer: 1104.940", "1104.94"),
        ("Answer: $1,104.94 after 3 years", "1104.94"),
        ("Step 1: 1000 * 1.0335\nStep 2: 3 years\n**Answer:** $1,104.94", "1104.94"),
        ("Answer: 12\nWait, let me redo that.\nAnswer: 15", "15"),
        ("So the answer is 42.", "42"),
        ("The answer is 5? No, the answer is 7 apples.", "7"),
        ("Answer: -0.0", "0"),
        ("Answer: −5", "-5"),
        ("Answer: 100", "100"),
    ],
)
def test_numbers_normalise_to_one_form(text, expected):
    assert extract_answer(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Yes.", "yes"), ("**No**, it is not.", "no"), ("Answer: TRUE", "yes"), ("Answer: incorrect", "no")],
)
def test_yes_no(text, expected):
    assert extract_answer(text) == expected


def test_yesno_kind_takes_last_in_free_text():
    assert extract_answer("At first yes, but on reflection no", kind="yesno") == "no"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Answer: monitor home", "MONITOR_HOME"),
        ("The ER now seems excessive.\nAnswer: SCHEDULE_APPOINTMENT", "SCHEDULE_APPOINTMENT"),
        ("Could be MONITOR_HOME, but I'd go with schedule-appointment", "SCHEDULE_APPOINTMENT"),
        ("Answer: urgent care", None),
    ],
)
def test_labels(text, expected):
    assert extract_answer(text, labels=TRIAGE) == expected


def test_a_label_inside_a_longer_label_does_not_count():
    labels = ["positive", "not positive"]
    assert extract_answer("I would say it is not positive", labels=labels) == "not positive"
    assert extract_answer("positive, surely", labels=labels) == "positive"


def test_text_answers_compare_equal_after_normalisation():
    assert extract_answer('Answer: "Paris".') == extract_answer("answer:   paris") == "paris"


def test_empty_text_abstains():
    assert extract_answer("") is None
    assert extract_answer("   \n") is None
    assert extract_answer(None) is None


def test_label_kind_needs_labels():
    with pytest.raises(ValueError, match="labels"):
        extract_answer("Answer: x", kind="label")


def test_answer_region_reports_marker():
    assert answer_region("reasoning\nAnswer: 3") == ("3", True)
    assert answer_region("just 3") == ("just 3", False)


def test_normalize_number_rejects_words():
    assert normalize_number("twelve") is None
    assert normalize_number("NaN") is None


@given(st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False, allow_infinity=False))
def test_dollar_amounts_round_trip(value):
    text = f"Answer: ${value:,.2f}" if value >= 0 else f"Answer: -${-value:,.2f}"
    assert Decimal(extract_answer(text)) == value


def _tokens(pairs):
    return [TokenLogprob(token=t, logprob=lp) for t, lp in pairs]


def test_confidence_is_geometric_mean_probability():
    toks = _tokens([("a", math.log(0.5)), ("b", math.log(0.8))])
    assert logprob_confidence(toks) == pytest.approx(math.sqrt(0.5 * 0.8))


def test_confidence_answer_span_ignores_reasoning_tokens():
    toks = _tokens(
        [("Think", math.log(0.1)), (" hard", math.log(0.1)), ("\nAnswer:", 0.0), (" 42", math.log(0.9))]
    )
    assert logprob_confidence(toks, span="answer") == pytest.approx(0.9)
    assert logprob_confidence(toks, span="all") == pytest.approx((0.1 * 0.1 * 1.0 * 0.9) ** 0.25)


def test_confidence_without_logprobs_is_none():
    assert logprob_confidence(None) is None
    assert logprob_confidence([]) is None
