"""Tests for lesson 01's plots (course_lib.lessons.l01_gigo.plots)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
from matplotlib.figure import Figure

from course_lib.lessons.l01_gigo.banking import ASSUMED_BASELINE, ASSUMED_SHARES, cascade_economics
from course_lib.lessons.l01_gigo.plots import answer_spread_bars, tier_cost_bars
from course_lib.lessons.l01_gigo.scenario import answer_spread


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_answer_spread_bars_one_bar_per_request_and_segments_per_topic():
    spreads = {
        "vague": answer_spread(["a poem", "refresh the app", "a song"]),
        "specific": answer_spread(["refresh the app", "the app screen", "pending deposit"]),
    }
    ax = answer_spread_bars(spreads)
    assert isinstance(ax.figure, Figure)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["vague", "specific"]
    widths = sorted(round(p.get_width()) for p in ax.patches if p.get_width() > 0)
    assert widths == [1, 1, 2, 2]  # vague: app 1, off-topic 2; specific: deposit 1, app 2
    with pytest.raises(ValueError):
        answer_spread_bars({})


def test_tier_cost_bars_stack_tiers_and_label_totals():
    mix = cascade_economics(ASSUMED_SHARES)
    ax = tier_cost_bars({"before": {"large": ASSUMED_BASELINE.cost_per_query * 100_000}, "after": mix})
    assert isinstance(ax.figure, Figure)
    labels = [t.get_text() for t in ax.texts]
    assert labels == ["\\$5,000", "\\$1,295"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["large", "small", "faq"]


def test_entropy_bars_pair_vague_and_specific_per_intent():
    from course_lib.lessons.l01_gigo.entropy import EntropyRow
    from course_lib.lessons.l01_gigo.plots import entropy_bars

    rows = [
        EntropyRow("capital", "vague", "", (2.0, 3.0), (0.9, 0.9)),
        EntropyRow("capital", "specific", "", (0.5,), (0.99,)),
        EntropyRow("python", "vague", "", (1.0,), (0.9,)),
        EntropyRow("python", "specific", "", (1.5,), (0.9,)),
    ]
    ax = entropy_bars(rows)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["capital", "python"]
    assert sorted(round(p.get_width(), 2) for p in ax.patches) == [0.5, 1.0, 1.5, 2.5]
    assert [t.get_text() for t in ax.texts] == ["2 tok", "1 tok", "1 tok", "1 tok"]
    with pytest.raises(ValueError):
        entropy_bars([])
