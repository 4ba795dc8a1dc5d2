"""Tests for lesson 08's plots (course_lib.lessons.l08_token_economics.plots) and widgets (course_lib.lessons.l08_token_economics.widgets)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest

from course_lib.lessons.l08_token_economics.plots import (
    budget_burn_down,
    cost_waterfall,
    runaway_figure,
    spend_timeline,
)
from course_lib.lessons.l08_token_economics.runaway import Incident, Protection, simulate_runaway
from course_lib.lessons.l08_token_economics.savings import OutputLimit, Scenario, compound_table
from course_lib.lessons.l08_token_economics.widgets import (
    WORLDS,
    cost_controls,
    runaway_controls,
    support_chat_table,
    what_if_prices,
)

SHORT = Incident(duration_s=600)


@pytest.fixture(scope="module")
def runs():
    return [
        simulate_runaway(SHORT, None, label="no guards"),
        simulate_runaway(
            SHORT,
            Protection(rate_limit_per_min=None, anomaly_threshold=None, respond_after_s=None),
            label="breaker only",
        ),
    ]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# --------------------------------------------------------------------------- the pure functions


def test_gpt4_world_baseline_is_45000_a_month():
    table = support_chat_table()
    # 1,000 prompt + 250 completion tokens on gpt-4 at $30 / $60 per million: $0.045 a call, 1M calls.
    assert table.baseline.cost.total == pytest.approx(0.045)
    assert table.baseline.cost.projection.per_month == pytest.approx(45_000)
    assert [r.name for r in table.rows] == [
        "baseline",
        "caching",
        "routing",
        "output_limit",
        "compression",
        "batching",
    ]


def test_caching_row_uses_the_what_if_discount():
    table = support_chat_table(cheap_share=0.0, output_cap=1000, compression=0.0, batch_share=0.0)
    saved = table.rows[1].saving_vs_previous
    assert saved == pytest.approx(0.9 * 700 * 27 / 1_000_000 / 0.045)  # 630 cached tokens, $27/M cheaper
    assert [r.saving_vs_previous for r in table.rows[2:]] == pytest.approx([0, 0, 0, 0])


def test_routing_everything_to_the_cheap_model_and_none():
    all_cheap = support_chat_table(
        cache_hit_rate=0, cheap_share=1.0, output_cap=1000, compression=0, batch_share=0
    )
    assert all_cheap.final.cost.total == pytest.approx((1000 * 0.5 + 250 * 1.5) / 1_000_000)  # gpt-3.5-turbo
    none_cheap = support_chat_table(
        cache_hit_rate=0, cheap_share=0.0, output_cap=1000, compression=0, batch_share=0
    )
    assert none_cheap.final.cost.total == pytest.approx(0.045)


def test_today_world_uses_todays_models_and_real_cached_rates():
    table = support_chat_table(world="today", cache_hit_rate=1.0, cheap_share=0.0, output_cap=1000,
                               compression=0, batch_share=0)  # fmt: skip
    assert WORLDS["today"] == ("gpt-4o", "gpt-4o-mini")
    # gpt-4o: 300 uncached at $2.50, 700 cached at $1.25, 250 out at $10 per million.
    assert table.final.cost.total == pytest.approx((300 * 2.5 + 700 * 1.25 + 250 * 10) / 1_000_000)


def test_requests_per_month_scales_the_bill_linearly():
    small, large = (
        support_chat_table(requests_per_month=10_000),
        support_chat_table(requests_per_month=20_000),
    )
    assert large.final.cost.projection.per_month == pytest.approx(2 * small.final.cost.projection.per_month)


def test_what_if_prices_and_bad_arguments():
    table = what_if_prices(0.9)
    assert table.get("gpt-4").cached_input == pytest.approx(3.0)
    assert table.get("gpt-3.5-turbo").cached_input == pytest.approx(0.05)
    assert what_if_prices(0.0).get("gpt-4").cached_rate == pytest.approx(30.0)
    with pytest.raises(ValueError):
        what_if_prices(1.5)
    with pytest.raises(ValueError, match="world"):
        support_chat_table(world="tomorrow")


# --------------------------------------------------------------------------- the plots


def test_waterfall_bars_follow_the_table():
    scenario = Scenario.for_model("gpt-4o", prompt_tokens=1000, completion_tokens=400, requests_per_day=1000)
    table = compound_table(scenario, [OutputLimit(100)])
    ax = cost_waterfall(table)
    heights = [p.get_height() for p in ax.patches]
    monthly = [r.cost.projection.per_month for r in table.rows]
    assert heights == pytest.approx([monthly[0], monthly[0] - monthly[1], monthly[1]])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["baseline", "output\nlimit", "final"]
    assert "\\$" in ax.get_title()  # dollar signs escaped, not mathtext


def test_a_step_that_costs_more_is_drawn_upwards():
    scenario = Scenario.for_model(
        "gpt-4o-mini", prompt_tokens=1000, completion_tokens=100, requests_per_day=10
    )
    from course_lib.lessons.l08_token_economics.savings import ModelRouting

    table = compound_table(scenario, [ModelRouting({"gpt-4o": 1.0})])
    ax = cost_waterfall(table)
    step = ax.patches[1]
    assert step.get_hatch() == "//"
    assert step.get_y() == pytest.approx(table.rows[0].cost.projection.per_month)


def test_spend_timeline_ends_at_each_runs_total(runs):
    ax = spend_timeline(runs, cap=100)
    lines = [line for line in ax.get_lines() if line.get_drawstyle().startswith("steps")]
    assert [line.get_ydata()[-1] for line in lines] == pytest.approx([r.total for r in runs])
    assert any(line.get_label().startswith("breaker only: breaker trips") for line in ax.get_lines())
    assert any(line.get_label().startswith("hourly cap") for line in ax.get_lines())


def test_burn_down_goes_below_zero_only_without_guards(runs):
    ax = budget_burn_down(runs, cap=100, until_min=8)
    by_label = {line.get_label(): line for line in ax.get_lines()}
    assert min(by_label["no guards"].get_ydata()) < 0
    assert min(by_label["breaker only"].get_ydata()) >= 0
    assert ax.get_xlim() == (0, 8)


def test_runaway_figure_has_two_panels(runs):
    fig = runaway_figure(runs, cap=100)
    assert len(fig.axes) == 2


# --------------------------------------------------------------------------- the widgets


def test_cost_widget_shows_the_plain_functions_result_and_follows_its_sliders(capsys):
    pytest.importorskip("ipywidgets")
    widget = cost_controls()
    controls = {getattr(c, "description", ""): c for c in widget.children}
    assert {"requests/mo", "cache hits", "to cheap model", "max_tokens", "prices"} <= set(controls)
    first = capsys.readouterr().out
    expected = support_chat_table().final.cost.projection.per_month
    assert "baseline $45,000/month" in first and f"${expected:,.0f}/month" in first
    controls["cache hits"].value = 0.0
    after = capsys.readouterr().out
    cheaper_without = support_chat_table(cache_hit_rate=0.0).final.cost.projection.per_month
    assert f"${cheaper_without:,.0f}/month" in after


def test_runaway_widget_prints_both_runs(capsys):
    pytest.importorskip("ipywidgets")
    widget = runaway_controls()
    assert {"requests/min", "hourly cap $", "on-call answers pages", "100/min rate limit"} <= {
        getattr(c, "description", "") for c in widget.children
    }
    assert capsys.readouterr().out == ""  # nothing runs until the button is pressed
    widget.update()
    out = capsys.readouterr().out
    assert "no guards" in out and "guarded" in out and "3,500 calls" in out
