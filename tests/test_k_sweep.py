"""Lesson 03's number-of-examples sweep: the requests, the counting, the decision rule and its plot."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest

from course_lib.lessons.l03_prompt_fundamentals.format_check import NAME_SENTENCES, condition_messages
from course_lib.lessons.l03_prompt_fundamentals.k_sweep import (
    KPoint,
    k_messages,
    run_k_sweep,
    smallest_sufficient_k,
)
from course_lib.lessons.l03_prompt_fundamentals.plots import plot_k_sweep
from course_lib.providers.scripted import ScriptedProvider


def test_k_messages_reuse_the_experiment_requests_and_grow_by_two_messages_per_example():
    sentence = NAME_SENTENCES[0][0]
    assert k_messages(0, sentence) == condition_messages("zero-shot", sentence)
    assert k_messages(3, sentence) == condition_messages("few-shot (3 examples)", sentence)
    assert [len(k_messages(k, sentence)) for k in (1, 2, 5)] == [3, 5, 11]
    with pytest.raises(ValueError):
        k_messages(11, sentence)


def test_the_sweep_counts_exact_answers_with_the_right_name():
    names = dict(NAME_SENTENCES)

    def reply(messages, params):
        sentence = messages[-1]["content"].removeprefix("Extract the name from: ")
        examples = (len(messages) - 1) // 2
        # no examples: prose; one example: right shape, wrong name; more: exact
        if examples == 0:
            return "The name is " + names[sentence]
        return json.dumps({"name": names[sentence] if examples > 1 else "Tomas Rivera"})

    points = run_k_sweep(ScriptedProvider(reply), (0, 1, 2), samples=2)
    assert [(p.k, p.right, p.n) for p in points] == [(0, 0, 10), (1, 0, 10), (2, 10, 10)]
    assert points[0].prompt_tokens < points[1].prompt_tokens < points[2].prompt_tokens
    with pytest.raises(ValueError):
        run_k_sweep(ScriptedProvider(reply), (0,), samples=0)


def test_smallest_sufficient_k_takes_the_fewest_examples_within_tolerance():
    points = [KPoint(0, 0, 20, 20), KPoint(1, 15, 20, 50), KPoint(3, 19, 20, 120), KPoint(8, 20, 20, 280)]
    assert smallest_sufficient_k(points, 0.05).k == 3
    assert smallest_sufficient_k(points, 0.25).k == 1
    assert smallest_sufficient_k(points, 0.0).k == 8
    with pytest.raises(ValueError):
        smallest_sufficient_k([])


def test_plot_k_sweep_outlines_the_chosen_bar():
    points = [KPoint(0, 0, 20, 20.0), KPoint(3, 19, 20, 120.0)]
    ax = plot_k_sweep(points, chosen=3)
    assert [t.get_text() for t in ax.texts] == ["0/20", "19/20"]
    widths = [p.get_linewidth() for p in ax.patches]
    assert widths[1] == 2.0 and widths[0] < 2.0
    plt.close("all")
    with pytest.raises(ValueError):
        plot_k_sweep([])
