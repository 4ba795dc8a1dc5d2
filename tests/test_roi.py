"""Tests for course_lib.lessons.l09_role_deep_dives.roi: support automation ROI and build vs buy over time."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from course_lib.lessons.l09_role_deep_dives.roi import (
    Automation,
    BuildOption,
    SupportLoad,
    automation_roi,
    compare_options,
    crossover_month,
    cumulative_value,
    months_to_market,
)

SUPPORT_LOAD = SupportLoad(tickets_per_month=50_000, handle_minutes=8, agent_hourly_usd=25)


def test_support_case_figures():
    r = automation_roi(SUPPORT_LOAD, Automation(automated_share=0.7, ai_cost_per_ticket=0.05))
    assert SUPPORT_LOAD.labour_hours == pytest.approx(50_000 * 8 / 60)
    assert r.labour_before == pytest.approx(500_000 / 3)  # $166,666.67
    assert r.ai_monthly == pytest.approx(1_750)
    assert r.labour_after == pytest.approx(50_000)
    assert r.cost_after == pytest.approx(51_750)
    assert r.monthly_saving == pytest.approx(500_000 / 3 - 51_750)
    assert r.annual_saving == pytest.approx(1_379_000)
    # saving over the whole bill after automation: not ROI
    assert r.saving_to_cost_after == pytest.approx(2.2206, abs=1e-4)
    assert r.roi == pytest.approx((500_000 / 3 - 51_750) / 1_750)  # no one-off cost: gain / AI cost
    assert r.payback_months == 0


def test_one_off_cost_harder_escalations_and_ai_on_every_ticket():
    plan = Automation(0.7, 0.05, ai_sees_every_ticket=True, escalated_handle_minutes=12, one_off_usd=200_000)
    r = automation_roi(SUPPORT_LOAD, plan, months=12)
    assert r.ai_monthly == pytest.approx(50_000 * 0.05)
    assert r.labour_after == pytest.approx(15_000 * 12 / 60 * 25)
    saving = 500_000 / 3 - (75_000 + 2_500)
    assert r.monthly_saving == pytest.approx(saving)
    assert r.investment == pytest.approx(200_000 + 12 * 2_500)
    assert r.roi == pytest.approx((12 * saving - 200_000) / (200_000 + 30_000))
    assert r.payback_months == pytest.approx(200_000 / saving)


def test_automation_that_costs_more_never_pays_back():
    r = automation_roi(SupportLoad(100, 1, 10), Automation(0.5, ai_cost_per_ticket=5.0, one_off_usd=1000))
    assert r.monthly_saving < 0 and math.isinf(r.payback_months) and r.roi < 0


@pytest.mark.parametrize(
    "bad",
    [lambda: Automation(1.2, 0.05), lambda: Automation(0.5, -1), lambda: SupportLoad(-1, 8, 25)],
)
def test_invalid_assumptions_are_refused(bad):
    with pytest.raises(ValueError):
        bad()
    with pytest.raises(ValueError):
        automation_roi(SUPPORT_LOAD, Automation(0.5, 0.1), months=0)


API = BuildOption("API", monthly_variable_usd=15_000, weeks_to_market=2)
FINE_TUNE = BuildOption("fine-tune", setup_usd=10_000, monthly_fixed_usd=5_000, weeks_to_market=8)
SELF_HOST = BuildOption("self-host", setup_usd=50_000, monthly_fixed_usd=12_000, weeks_to_market=16)


def test_value_counts_only_live_months():
    assert months_to_market(FINE_TUNE) == pytest.approx(8 * 12 / 52)
    assert cumulative_value(FINE_TUNE, 100_000, 1.0) == -10_000  # not live yet
    live = 12 - 8 * 12 / 52
    assert cumulative_value(FINE_TUNE, 100_000, 12) == pytest.approx(95_000 * live - 10_000)
    assert API.monthly_cost(volume=10) == 150_000 and FINE_TUNE.monthly_cost(volume=10) == 5_000


def test_crossover_is_where_the_curves_meet():
    benefit = 500_000 / 3 - 50_000
    t = crossover_month(API, FINE_TUNE, benefit)
    assert t is not None and t > months_to_market(FINE_TUNE)
    assert cumulative_value(API, benefit, t) == pytest.approx(cumulative_value(FINE_TUNE, benefit, t))
    assert cumulative_value(FINE_TUNE, benefit, t + 1) > cumulative_value(API, benefit, t + 1)
    assert cumulative_value(FINE_TUNE, benefit, t - 1) < cumulative_value(API, benefit, t - 1)
    # The dearer option never catches up with a cheaper one that also ships sooner.
    assert crossover_month(FINE_TUNE, SELF_HOST, benefit) is None
    # An option that is ahead from the start crosses at 0.
    assert crossover_month(SELF_HOST, FINE_TUNE, benefit) == 0.0


@given(
    setup=st.floats(min_value=0, max_value=1e6),
    monthly_a=st.floats(min_value=0, max_value=1e5),
    monthly_b=st.floats(min_value=0, max_value=1e5),
    weeks_a=st.floats(min_value=0, max_value=52),
    weeks_b=st.floats(min_value=0, max_value=52),
    benefit=st.floats(min_value=0, max_value=1e6),
)
def test_after_the_crossover_b_is_never_behind(setup, monthly_a, monthly_b, weeks_a, weeks_b, benefit):
    a = BuildOption("a", monthly_variable_usd=monthly_a, weeks_to_market=weeks_a)
    b = BuildOption("b", setup_usd=setup, monthly_fixed_usd=monthly_b, weeks_to_market=weeks_b)
    t = crossover_month(a, b, benefit)
    probe = [0, 0.5, 1, 3, 6, 12, 24, 60, 120, 600]
    if t is None:
        assert any(cumulative_value(b, benefit, m) < cumulative_value(a, benefit, m) for m in [*probe, 1e12])
        return
    scale = 1e-6 * (1 + setup + benefit * 1e3)
    for m in probe:
        if m >= t:
            assert cumulative_value(b, benefit, m) >= cumulative_value(a, benefit, m) - scale


def test_compare_options_rows():
    rows = compare_options([API, FINE_TUNE], 100_000, horizons=(12,))
    assert [r["option"] for r in rows] == ["API", "fine-tune"]
    live = 12 - 2 * 12 / 52
    assert rows[0]["cost_12m"] == pytest.approx(15_000 * live)
    assert rows[0]["value_12m"] == pytest.approx(85_000 * live)
    assert rows[1]["monthly_cost"] == 5_000
