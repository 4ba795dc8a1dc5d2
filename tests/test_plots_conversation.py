"""Tests of the lesson-02 plot (tokens per turn) and the window/budget report behind its widget."""

from __future__ import annotations

import math

import matplotlib
import pytest

matplotlib.use("Agg")

from course_lib.conversation import BudgetTooSmallError, trim_to_budget
from course_lib.lessons.l02_api_request.plots import cumulative_tokens, plot_tokens_per_turn
from course_lib.lessons.l02_api_request.widgets import format_window_report, window_report

HISTORY = [
    {"role": "system", "content": "Be brief and exact."},
    {"role": "user", "content": "first question here"},
    {"role": "assistant", "content": "first answer with a few more words in it"},
    {"role": "user", "content": "second question"},
    {"role": "assistant", "content": "second answer"},
    {"role": "user", "content": "third question please"},
    {"role": "assistant", "content": "third answer"},
]


def test_cumulative_tokens_keeps_gaps() -> None:
    assert cumulative_tokens([10, 20, None, 5]) == [10, 30, None, 35]
    assert cumulative_tokens([]) == []


def test_plot_draws_one_line_per_policy_in_both_panels_and_the_budget() -> None:
    import matplotlib.pyplot as plt

    fig = plot_tokens_per_turn({"whole": [10, 20, 30], "trimmed": [10, None, 15]}, budget=25)
    try:
        per_turn, total = fig.axes
        lines = {line.get_label(): line for line in per_turn.get_lines()}
        assert list(lines["whole"].get_ydata()) == [10, 20, 30]
        trimmed = list(lines["trimmed"].get_ydata())
        assert trimmed[0] == 10 and math.isnan(trimmed[1]) and trimmed[2] == 15
        assert list(lines["budget 25"].get_ydata()) == [25, 25]
        totals = {line.get_label(): list(line.get_ydata()) for line in total.get_lines()}
        assert totals["whole"] == [10, 30, 60]
        assert list(lines["whole"].get_xdata()) == [1, 2, 3]
    finally:
        plt.close(fig)


def test_plot_refuses_empty_series() -> None:
    with pytest.raises(ValueError, match="series is empty"):
        plot_tokens_per_turn({})


def test_report_without_policy_sends_everything() -> None:
    report = window_report(HISTORY)
    assert report.per_turn == report.untrimmed
    assert len(report.per_turn) == 3
    assert report.per_turn[0] < report.per_turn[1] < report.per_turn[2]
    assert report.request == HISTORY[:-1]
    assert all(report.kept)
    assert report.saving == 0.0 and report.error is None


def test_report_window_marks_dropped_messages_and_starts_at_a_user_message() -> None:
    report = window_report(HISTORY, max_messages=2)
    # Last request: system + 5 others; the longest suffix of <= 2 starting at a user message is [u3].
    assert report.kept == [True, False, False, False, False, True]
    assert report.total_sent < report.total_untrimmed
    assert 0 < report.saving < 1


def test_report_budget_gap_and_error_when_a_turn_cannot_fit() -> None:
    smallest = min(window_report(HISTORY).untrimmed)
    report = window_report(HISTORY, max_tokens=smallest - 1)
    assert report.per_turn[0] is None
    assert report.error is not None and report.error.startswith("turn 1:")
    text = format_window_report(report)
    assert "cannot send turn 1" in text and "—" in text


def test_report_budget_matches_trim_to_budget() -> None:
    budget = window_report(HISTORY).untrimmed[-1] - 5
    report = window_report(HISTORY, max_tokens=budget)
    kept = trim_to_budget(HISTORY[:-1], budget)
    assert sum(report.kept) == len(kept)
    with pytest.raises(BudgetTooSmallError):
        trim_to_budget(HISTORY[:-1], 5)


def test_report_text_lists_policy_totals_and_messages() -> None:
    text = format_window_report(window_report(HISTORY, max_messages=2, max_tokens=1000))
    assert "window: last 2 messages · budget: 1000 tokens" in text
    assert "the request for turn 3 sends:" in text
    assert text.count("dropped") == 4
    assert "system" in text


def test_report_needs_a_user_message() -> None:
    with pytest.raises(ValueError, match="no user message"):
        window_report([{"role": "system", "content": "x"}])


def test_explorer_builds_two_sliders() -> None:
    import ipywidgets as widgets

    from course_lib.lessons.l02_api_request.widgets import window_explorer

    box = window_explorer(HISTORY, plot=False)
    sliders = [w for w in box.children[0].children if isinstance(w, widgets.IntSlider)]
    assert sliders[0].max == 5  # every non-system message of the last request
    assert sliders[1].max == max(window_report(HISTORY).untrimmed)
