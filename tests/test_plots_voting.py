"""Tests for lesson 05's plots and widget reports (course_lib.lessons.l05_self_consistency.plots, course_lib.lessons.l05_self_consistency.widgets)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest

from course_lib.lessons.l05_self_consistency.plots import (
    answer_shares,
    plot_question_curves,
    plot_vote_curve,
    plot_vote_distributions,
)
from course_lib.lessons.l05_self_consistency.vote_eval import QuestionPool, vote_curve
from course_lib.lessons.l05_self_consistency.widgets import (
    gate_report,
    gate_widget,
    triage_report,
    triage_widget,
)
from course_lib.providers.replay.scope import current_sample
from course_lib.providers.scripted import ScriptedProvider

POOLS = [
    QuestionPool(question="easy", gold="a", answers=["a"] * 9 + ["b"] * 2, tokens=[10] * 11),
    QuestionPool(question="hard", gold="a", answers=["b"] * 6 + ["a"] * 4 + [None], tokens=[20] * 11),
    QuestionPool(
        question="plural", gold="a", answers=["a"] * 4 + ["b"] * 3 + ["c"] * 3 + ["d"], tokens=[5] * 11
    ),
]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_answer_shares_put_the_known_answer_first_and_abstentions_last():
    shares = answer_shares(["b", None, "a", "b", "c"], gold="a")
    assert shares == [("a", 0.2), ("b", 0.4), ("c", 0.2), ("no answer", 0.2)]
    assert answer_shares([]) == []


def test_answer_shares_sum_to_one():
    shares = answer_shares(["x", "y", None, "y"], gold="z")
    assert sum(s for _, s in shares) == pytest.approx(1.0)
    assert [a for a, _ in shares] == ["y", "x", "no answer"]


def test_vote_distribution_plot_draws_one_segment_per_answer():
    fig = plot_vote_distributions(POOLS, labels=["E", "H", "P"])
    ax = fig.axes[0]
    assert len(ax.patches) == 2 + 3 + 4
    assert [t.get_text() for t in ax.get_yticklabels()] == ["E  [a]", "H  [a]", "P  [a]"]
    greens = [p for p in ax.patches if matplotlib.colors.to_hex(p.get_facecolor()) == "#2e7d32"]
    assert [round(p.get_width(), 3) for p in greens] == [round(9 / 11, 3), round(4 / 11, 3), round(4 / 11, 3)]


def test_vote_curve_plot_has_accuracy_and_cost_panels():
    curve = vote_curve(POOLS, (1, 3, 5), draws=30)
    bands = {"claim A": {1: (0.5, 0.5), 3: (0.6, 0.7)}, "claim B": {1: (0.5, 0.5), 5: (0.55, 0.6)}}
    fig = plot_vote_curve(curve, claims=bands)
    left, right = fig.axes
    labels = [line.get_label() for line in left.get_lines()]
    assert "majority vote" in labels and "logprob-weighted vote" in labels
    assert [c.get_label() for c in left.collections] == ["claim A", "claim B"]
    top = left.collections[0].get_paths()[0].vertices[:, 1]
    assert max(top) == pytest.approx(0.7)
    assert [round(b.get_height()) for b in right.patches] == [round(p.tokens_per_question) for p in curve]
    assert [t.get_text() for t in right.texts] == ["1×", "3×", "5×"]


def test_question_curves_colour_by_the_most_common_answer():
    curve = vote_curve(POOLS, (1, 3), draws=30)
    fig = plot_question_curves(curve, POOLS)
    left = fig.axes[0]
    colours = [matplotlib.colors.to_hex(line.get_color()) for line in left.get_lines()[:3]]
    assert colours == ["#2e7d32", "#c62828", "#2e7d32"]  # "plural" leads with 4 of 11
    fig = plot_question_curves(curve)
    colours = [matplotlib.colors.to_hex(line.get_color()) for line in fig.axes[0].get_lines()[:3]]
    assert colours == ["#2e7d32", "#c62828", "#c62828"]


def test_gate_report_shows_coverage_accuracy_and_tokens():
    text = gate_report(POOLS, 5, 0.85, 0.7, draws=50)
    assert "N = 5 votes" in text and "answered automatically" in text
    assert "tokens per question" in text and "5× one sample" in text
    tokens_line = next(line for line in text.splitlines() if "tokens per question" in line)
    assert f"{5 * (10 + 20 + 5) / 3:.0f}" in tokens_line


def test_gate_report_refuses_crossed_thresholds_with_advice():
    assert "must not exceed" in gate_report(POOLS, 5, 0.6, 0.8)


def _triage_provider(replies):
    return ScriptedProvider(lambda messages, params: replies[current_sample()])


def test_triage_report_escalates_a_split_and_answers_agreement():
    split = _triage_provider(
        ["Answer: MONITOR_HOME", "Answer: SCHEDULE_APPOINTMENT"] * 2 + ["Answer: MONITOR_HOME"]
    )
    text = triage_report(split, "Itchy rash for a week", 5, 0.85, 0.7)
    assert "tier human: ESCALATE_HUMAN" in text and "5 model calls" in text
    agree = _triage_provider(["Answer: MONITOR_HOME"] * 3)
    text = triage_report(agree, "Runny nose", 3, 0.85, 0.7)
    assert "tier model_high: MONITOR_HOME" in text and "3 model calls" in text


def test_triage_report_uses_the_rules_without_a_model_call():
    provider = ScriptedProvider([])
    text = triage_report(provider, "Crushing chest pain", 7, 0.85, 0.7)
    assert "tier rules: ER_NOW" in text and "0 model calls" in text
    assert provider.calls == []


def test_widgets_show_the_report_and_follow_the_sliders(capsys):
    box = gate_widget(POOLS, n=3, draws=20)
    assert "N = 3 votes" in capsys.readouterr().out  # outside a notebook the Output widget prints
    votes, high, moderate = box.children[0].children
    votes.value = 5
    assert "N = 5 votes" in capsys.readouterr().out
    moderate.value, high.value = 0.9, 0.5
    assert "must not exceed" in capsys.readouterr().out

    triage = triage_widget(_triage_provider(["Answer: MONITOR_HOME"] * 7), ["Runny nose", "Sore knee"], n=7)
    assert "7 model calls" in capsys.readouterr().out
    triage.children[1].children[0].value = 2
    assert "2 model calls" in capsys.readouterr().out
