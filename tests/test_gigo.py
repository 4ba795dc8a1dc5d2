"""Tests for course_lib.lessons.l01_gigo.scenario (answer spread, the lesson's requests and batch) and lesson 01's widget function."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from course_lib.lessons.l01_gigo.banking import BankingPipeline, load_banking_kb, run_batch
from course_lib.lessons.l01_gigo.scenario import (
    BANKING_BATCH,
    MONEY_TOPICS,
    OFF_TOPIC,
    answer_spread,
    grounded_request,
    primary_topic,
    topic_hits,
    vague_request,
)
from course_lib.lessons.l01_gigo.widgets import cascade_controls, cascade_shares, cascade_summary
from course_lib.providers.base import validate_messages
from course_lib.providers.scripted import ScriptedProvider

KB = load_banking_kb()


def test_topic_hits_count_whole_words_in_any_case():
    hits = topic_hits("Refresh the APP; the app's balance is pending. Apple deposits.")
    assert hits["app display"] == 2  # "APP", "refresh"; "app's" and "apple" are other words
    assert hits["balance"] == 1 and hits["deposit"] == 2 and hits["transfer"] == 0


def test_primary_topic_most_hits_then_listed_order_then_off_topic():
    assert primary_topic("your wire transfer was sent; check the app") == "transfer"
    assert primary_topic("the deposit shows in the app") == "deposit"  # one hit each: deposit is listed first
    assert primary_topic("Minecraft is a game about blocks") == OFF_TOPIC
    assert primary_topic("") == OFF_TOPIC
    assert primary_topic("red red blue", {"blue": ("blue",), "red": ("red",)}) == "red"


def test_answer_spread_counts_topics_lengths_and_agreement():
    texts = [
        "Refresh the app.",
        "refresh  the APP.",
        "Your deposit is pending today",
        "A poem about the sea",
    ]
    s = answer_spread(texts)
    assert s.samples == 4 and s.distinct == 3
    assert s.topics == {
        "deposit": 1,
        "transfer": 0,
        "app display": 2,
        "history": 0,
        "balance": 0,
        OFF_TOPIC: 1,
    }
    assert (s.on_topic, s.on_topic_share, s.readings) == (3, 0.75, 2)
    assert (s.top_topic, s.top_topic_share) == ("app display", 0.5)
    assert s.mean_words == pytest.approx(4.0)  # 3, 3, 5 and 5 words
    assert s.sd_words == pytest.approx(1.0)


def test_answer_spread_of_nothing_and_of_only_off_topic_answers():
    empty = answer_spread([])
    assert (empty.samples, empty.on_topic_share, empty.top_topic, empty.top_topic_share) == (
        0,
        0.0,
        None,
        0.0,
    )
    off = answer_spread(["hello there", "how can I help?"])
    assert (off.on_topic, off.readings, off.top_topic) == (0, 0, None)


@given(
    st.lists(
        st.sampled_from(["app refresh", "wire sent", "a poem", "pending deposit", "history"]), max_size=20
    )
)
def test_answer_spread_topic_counts_add_up(texts):
    s = answer_spread(texts)
    assert sum(s.topics.values()) == s.samples == len(texts)
    assert 0 <= s.top_topic_share <= s.on_topic_share <= 1
    assert s.readings <= len(MONEY_TOPICS)
    assert s.distinct == len(set(texts))


def test_vague_and_grounded_requests():
    vague = vague_request("Money not showing")
    assert vague == [{"role": "user", "content": "Help the user: Money not showing"}]
    grounded = grounded_request("Money not showing", "BALANCE", k=1)
    validate_messages(grounded)
    assert grounded[-1] == {"role": "user", "content": "Money not showing"}
    system = grounded[0]["content"]
    assert "[BAL-01]" in system and "[BAL-02]" not in system and "balance and statements specialist" in system
    three = grounded_request("Money not showing", "BALANCE")[0]["content"]
    assert three.count("\n[") == 3


def test_banking_batch_labels_are_what_the_pipeline_does():
    """FAQ-labelled queries are caught by the rules; the others reach the classifier with valid categories."""
    labels = dict(BANKING_BATCH)
    seen: list[str] = []

    def classify(query: str) -> tuple[str, float]:
        seen.append(query)
        return labels[query], 0.9

    small = ScriptedProvider(lambda m, p: "See [BAL-01].", model="small")
    large = ScriptedProvider(lambda m, p: "See [TRF-01].", model="large")
    report = run_batch(BankingPipeline(small=small, large=large, classifier=classify), labels)
    for record in report.records:
        assert (record.tier == "faq") == (labels[record.query] == "FAQ"), record.query
    assert set(seen) == {q for q, label in BANKING_BATCH if label != "FAQ"}
    assert {label for _, label in BANKING_BATCH} - {"FAQ"} <= set(KB.categories)


def test_cascade_shares_give_the_large_model_the_rest():
    assert cascade_shares(0.3, 0.3) == pytest.approx({"faq": 0.3, "small": 0.3, "large": 0.4})
    assert cascade_shares(0.5, 0.5)["large"] == 0.0
    with pytest.raises(ValueError, match="more than every query"):
        cascade_shares(0.7, 0.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        cascade_shares(-0.1, 0.2)


def test_cascade_summary_uses_the_assumed_tier_figures():
    text = cascade_summary(0.3, 0.3)
    # 0.3 × 0 + 0.3 × 0.0025 + 0.4 × 0.0305 = 0.01295 dollars per query
    assert "$0.01295" in text and "$1,295" in text and "$472,675" in text
    assert "1.20 s" in text and "74.1%" in text
    everything_large = cascade_summary(0.0, 0.0)
    assert "$3,050" in everything_large
    assert cascade_summary(0.9, 0.9).startswith("not a valid mix")


def test_cascade_controls_builds_two_sliders():
    pytest.importorskip("ipywidgets")
    w = cascade_controls()
    assert [c.description for c in w.children[:2]] == ["FAQ rules catch", "small model answers"]
