"""Tests for course_lib.lessons.l08_token_economics.savings: the five optimisations and their compound table."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.cost import load_prices, price_of
from course_lib.lessons.l08_token_economics.savings import (
    ORDER,
    Batching,
    Compression,
    ModelRouting,
    OutputLimit,
    PromptCaching,
    Scenario,
    compound_table,
    compression_ratio,
    saving,
    scenario_cost,
)

MODELS = sorted(m for m, p in load_prices().models.items() if p.mode == "chat")


def gpt4o(**kw) -> Scenario:
    fields = {
        "prompt_tokens": 550,
        "completion_tokens": 200,
        "requests_per_day": 1000,
        "cacheable_tokens": 500,
    }
    return Scenario.for_model("gpt-4o", **{**fields, **kw})


# --------------------------------------------------------------------------- hand-computed cases


def test_baseline_cost_is_hand_computed():
    c = scenario_cost(gpt4o())
    assert c.input_cost == pytest.approx(550 * 2.5 / 1e6)
    assert c.output_cost == pytest.approx(200 * 10 / 1e6)
    assert c.cached_input_cost == 0
    assert c.projection.per_month == pytest.approx((550 * 2.5 + 200 * 10) / 1e6 * 1000 * 30)


def test_caching_bills_the_hit_share_of_the_prefix_at_the_cached_rate():
    s = saving(gpt4o(), PromptCaching(hit_rate=0.8))
    # 400 of the 500 prefix tokens come from the cache: 400 × (2.50 - 1.25) per million saved.
    assert s.per_request == pytest.approx(400 * 1.25 / 1e6)
    assert s.after.cached_input_cost == pytest.approx(400 * 1.25 / 1e6)


def test_what_if_a_90_percent_cache_discount_on_gpt4():
    # 500 cached + 50 new tokens, cache at a tenth of the input price.
    table = load_prices().with_price("gpt-4", cached_input=3.0)
    s = Scenario.for_model(
        "gpt-4", prompt_tokens=550, completion_tokens=0, requests_per_day=1, cacheable_tokens=500
    )
    after = saving(s, PromptCaching(hit_rate=1.0), table).after
    assert after.total == pytest.approx(0.003)
    # With the real table gpt-4 has no cached rate, so caching saves nothing.
    assert saving(s, PromptCaching(hit_rate=1.0)).per_request == 0


def test_routing_mix_gives_the_blended_cost():
    s = Scenario.for_model("gpt-4", prompt_tokens=1000, completion_tokens=250, requests_per_day=1)
    mix = {"gpt-3.5-turbo": 0.6, "gpt-4-turbo": 0.3, "gpt-4": 0.1}
    after = saving(s, ModelRouting(mix)).after.total
    per_model = {"gpt-3.5-turbo": 0.5 + 0.375, "gpt-4-turbo": 10 + 7.5, "gpt-4": 30 + 15}  # USD/1000 req
    assert after == pytest.approx(sum(mix[m] * per_model[m] for m in mix) / 1000)


def test_routing_to_a_pricier_model_reports_a_negative_saving():
    s = saving(gpt4o(), ModelRouting({"gpt-4": 1.0}))
    assert s.per_request < 0


def test_output_limit_caps_the_average_answer():
    s = saving(gpt4o(completion_tokens=2000), OutputLimit(max_tokens=200))
    assert s.per_request == pytest.approx(1800 * 10 / 1e6)
    assert saving(gpt4o(), OutputLimit(max_tokens=5000)).per_request == 0


def test_compression_reduces_prompt_tokens():
    s = saving(gpt4o(), Compression(reduction=0.2))
    assert s.per_request == pytest.approx(110 * 2.5 / 1e6)


def test_batching_discounts_the_batched_share():
    s = saving(gpt4o(), Batching(share=0.4, discount=0.5))
    assert s.fraction == pytest.approx(0.2)


def test_compression_ratio_counts_tokens():
    verbose = "Hello! I would kindly like to request your assistance in summarizing the following article."
    ratio = compression_ratio(verbose, "Summarize key points:", "gpt-4")
    # 17 tokens down to 6 (Sum|mar|ize| key| points|:)
    assert ratio == pytest.approx(1 - 6 / 17)


def test_invalid_settings_are_rejected():
    with pytest.raises(ValueError):
        PromptCaching(hit_rate=1.5)
    with pytest.raises(ValueError):
        ModelRouting({"gpt-4": 0.5})
    with pytest.raises(ValueError):
        Compression(reduction=-0.1)
    with pytest.raises(ValueError):
        Batching(share=2)
    with pytest.raises(ValueError):
        OutputLimit(max_tokens=-1)
    with pytest.raises(ValueError, match="cacheable_tokens"):
        gpt4o(cacheable_tokens=600)


def test_compound_table_follows_the_documented_order_whatever_the_input_order():
    opts = [Batching(0.1), Compression(0.15), OutputLimit(150), PromptCaching(0.9),
            ModelRouting({"gpt-4o-mini": 0.7, "gpt-4o": 0.3})]  # fmt: skip
    table = compound_table(gpt4o(), opts)
    assert [r.name for r in table.rows] == ["baseline", *ORDER]
    records = table.as_records()
    assert records[0]["step"] == "baseline"
    assert records[-1]["cost_per_month"] == pytest.approx(table.final.cost.projection.per_month)
    with pytest.raises(ValueError, match="once"):
        compound_table(gpt4o(), [Batching(0.1), Batching(0.2)])


# --------------------------------------------------------------------------- properties

scenarios = st.builds(
    lambda model, prompt, prefix_share, completion, rpd: Scenario.for_model(
        model,
        prompt_tokens=prompt,
        cacheable_tokens=prompt * prefix_share,
        completion_tokens=completion,
        requests_per_day=rpd,
    ),
    model=st.sampled_from(MODELS),
    prompt=st.floats(0, 200_000),
    prefix_share=st.floats(0, 1),
    completion=st.floats(0, 20_000),
    rpd=st.floats(0, 1e6),
)
fractions = st.floats(0, 1)


def cheaper_mixes(model: str):
    """Mixes over models whose every rate is no higher than ``model``'s."""
    top = price_of(model)
    ok = [
        m
        for m in MODELS
        if price_of(m).input <= top.input
        and price_of(m).output <= top.output
        and price_of(m).cached_rate <= top.cached_rate
    ]
    return st.lists(st.sampled_from(ok), min_size=1, max_size=3, unique=True).flatmap(
        lambda ms: st.lists(st.floats(0.01, 1), min_size=len(ms), max_size=len(ms)).map(
            lambda ws: {m: w / sum(ws) for m, w in zip(ms, ws, strict=True)}
        )
    )


@st.composite
def optimisation_sets(draw, scenario: Scenario):
    (model,) = scenario.mix
    return [
        PromptCaching(draw(fractions)),
        ModelRouting(draw(cheaper_mixes(model))),
        OutputLimit(draw(st.integers(0, 30_000))),
        Compression(draw(fractions)),
        Batching(draw(fractions), draw(fractions)),
    ]


@settings(max_examples=150)
@given(data=st.data(), scenario=scenarios)
def test_savings_are_never_negative(data, scenario):
    for opt in data.draw(optimisation_sets(scenario)):
        s = saving(scenario, opt)
        assert s.per_request >= -1e-12 * max(1.0, s.before.total), opt
        assert s.per_month >= -1e-9 * max(1.0, s.before.projection.per_month), opt


@given(scenario=scenarios)
def test_zero_hit_rate_saves_nothing(scenario):
    s = saving(scenario, PromptCaching(hit_rate=0.0))
    assert s.per_request == 0
    assert s.after.cached_input_cost == 0


@given(scenario=scenarios, extra_prompt=st.floats(0, 10_000), extra_completion=st.floats(0, 10_000))
def test_scenario_cost_is_monotone_in_tokens(scenario, extra_prompt, extra_completion):
    bigger = scenario.model_copy(
        update={
            "prompt_tokens": scenario.prompt_tokens + extra_prompt,
            "completion_tokens": scenario.completion_tokens + extra_completion,
        }
    )
    assert scenario_cost(bigger).total >= scenario_cost(scenario).total - 1e-15


@settings(max_examples=100)
@given(data=st.data(), scenario=scenarios)
def test_compound_table_is_the_documented_order_applied_step_by_step(data, scenario):
    opts = data.draw(optimisation_sets(scenario))
    shuffled = data.draw(st.permutations(opts))
    table = compound_table(scenario, shuffled)
    # Apply them by hand in ORDER: every row must be the running result.
    by_name = {o.name: o for o in opts}
    current = scenario
    assert table.rows[0].cost == scenario_cost(scenario)
    for row, name in zip(table.rows[1:], ORDER, strict=True):
        current = by_name[name].apply(current)
        assert row.name == name
        assert row.scenario == current
        assert row.cost.total == pytest.approx(scenario_cost(current).total, rel=1e-12, abs=1e-15)
    # The per-step savings telescope to the total saving.
    steps = sum(prev.cost.total - row.cost.total for prev, row in itertools.pairwise(table.rows))
    assert steps == pytest.approx(table.baseline.cost.total - table.final.cost.total, abs=1e-12)
    base = table.baseline.cost.total
    if base > 0:
        assert table.final.saving_vs_baseline == pytest.approx(1 - table.final.cost.total / base)
    # Same table whatever order the optimisations were given in.
    assert compound_table(scenario, opts) == table
