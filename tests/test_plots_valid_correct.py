"""Lesson 07's valid-vs-correct plot and lesson 10's protocol plot draw the counts they are given."""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import pytest

from course_lib.lessons.l07_structured_output.plots import plot_valid_correct
from course_lib.lessons.l10_cot_orchestrator.native import NativeTally
from course_lib.lessons.l10_cot_orchestrator.plots import plot_protocol_tallies


@dataclass
class Row:
    layer: str
    total: int
    valid: int
    correct: int


def test_valid_correct_bars_carry_each_layers_counts():
    fig = plot_valid_correct([Row("JSON mode", 24, 9, 5), Row("schema-constrained", 24, 24, 11)])
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts == ["9/24", "24/24", "5/24", "11/24"]
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["JSON mode", "schema-constrained"]
    plt.close(fig)


def test_protocol_bars_carry_replies_finished_and_right():
    tallies = [
        NativeTally("json", 4, 0, 0, 0, 12, 12),
        NativeTally("schema", 4, 0, 0, 20, 0, 20),
        NativeTally("tools", 4, 1, 0, 2, 9, 11),
    ]
    fig = plot_protocol_tallies(tallies)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts == ["0/12", "20/20", "2/11", "0/4", "0/4", "1/4", "0/4", "0/4", "0/4"]
    plt.close(fig)


@pytest.mark.parametrize("plot", [plot_valid_correct, plot_protocol_tallies])
def test_an_empty_plot_is_refused(plot):
    with pytest.raises(ValueError, match="empty"):
        plot([])
