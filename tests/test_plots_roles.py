"""Tests for lesson 09's plots (course_lib.lessons.l09_role_deep_dives.plots) and widgets (course_lib.lessons.l09_role_deep_dives.widgets)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest

from course_lib.lessons.l09_role_deep_dives.plots import (
    fanout_timeline,
    hit_rate_plot,
    latency_histogram,
    value_curves,
    vram_bars,
)
from course_lib.lessons.l09_role_deep_dives.roi import BuildOption
from course_lib.lessons.l09_role_deep_dives.vram import vram_table
from course_lib.lessons.l09_role_deep_dives.widgets import (
    roi_controls,
    roi_report,
    vram_controls,
    vram_report,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_fanout_timeline_sums_sequential_and_takes_the_longest_in_parallel():
    ax = fanout_timeline({"a": 1.0, "b": 2.0, "c": 0.5})
    assert "1.8x faster" in ax.get_title()  # 3.5 s one after another, 2 s in parallel: 1.75x
    labels = [t.get_text() for t in ax.texts]
    assert "3.50 s" in labels and "2.00 s" in labels
    bounded = fanout_timeline({"a": 1.0, "b": 1.0, "c": 1.0}, concurrency=2)
    assert "2.00 s" in [t.get_text() for t in bounded.texts]  # two waves of 1 s


def test_vram_bars_stack_every_part_and_draw_capacities():
    rows = vram_table(["llama-2-7b"], ["fp16", "int4"])
    ax = vram_bars(rows, capacities={"A10G": 23.2})
    heights = [p.get_height() for p in ax.patches]
    assert len(heights) == 3 * len(rows)
    assert sum(heights[0::2]) == pytest.approx(rows[0]["total_gb"])  # bar 0: weights, KV, overhead
    assert any(t.get_text().strip() == "A10G" for t in ax.texts)


def test_latency_histogram_marks_percentiles_and_the_slo():
    ax = latency_histogram({"run": [0.5, 1.0, 1.5, 2.0, 8.0]}, slo_s=2.0)
    assert "p50 1.50 s" in ax.get_legend().get_texts()[0].get_text()
    assert any("SLO 2 s" in t.get_text() for t in ax.texts)


def test_hit_rate_plot_uses_minutes():
    ax = hit_rate_plot([(0.0, 0.0), (120.0, 0.5)], [(0.0, 0.0), (120.0, 1.0)], window=10)
    line = ax.get_lines()[0]
    assert list(line.get_xdata()) == [0.0, 2.0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["since the start", "last 10 requests"]


def test_value_curves_mark_the_crossover():
    options = [BuildOption("API", monthly_variable_usd=15_000, weeks_to_market=2),
               BuildOption("fine-tune", setup_usd=10_000, monthly_fixed_usd=5_000, weeks_to_market=8)]  # fmt: skip
    ax = value_curves(options, 100_000, months=36)
    assert len(ax.get_lines()) >= 3  # two curves and the crossover marker
    assert any("fine-tune passes API" in t.get_text() for t in ax.texts)


def test_roi_report_follows_its_assumptions_and_the_controls_drive_it():
    text = roi_report(50_000, 0.7, 0.05, 8, 0, ai_sees_every_ticket=False)
    # 50,000 tickets x 8 min at $25/h = $166,667; 15,000 left to agents = $50,000; AI 35,000 x $0.05.
    assert "before $166,667/month" in text and "labour $50,000 + AI $1,750" in text
    assert "payback 0.0 months" in text
    assert "payback never" in roi_report(automated_share=0.0)
    dearer = roi_report(ai_cost_per_ticket=1.0)
    assert dearer != roi_report() and "saving $" in dearer
    controls = roi_controls()
    assert [c.description for c in controls.children[:5]] == [
        "tickets/mo",
        "automated",
        "AI $/ticket",
        "escalated min",
        "build $",
    ]


def test_vram_report_and_controls():
    text = vram_report("llama-3-70b", "fp16", 8192, 1, "A100-80GB")
    assert "weights 141.1 GB" in text and "4 GPUs per replica" in text
    assert "1 GPU per replica" in vram_report(7, "int4", 8192, 1, "A10G")
    assert "KV cache 0.0 GB" in vram_report(7, "int4")
    assert vram_controls().children[0].value == "llama-3-70b"
