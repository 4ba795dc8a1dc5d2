"""Tests for course_lib.cost: token counts pinned against tiktoken, the price table, request cost."""

from __future__ import annotations

import json
from importlib import resources

import pytest
from hypothesis import given
from hypothesis import strategies as st

from course_lib import cost
from course_lib.cost import (
    PriceTable,
    RequestCost,
    UnknownModelError,
    count_message_tokens,
    count_tokens,
    estimate_request_cost,
    known_models,
    load_prices,
    monthly_projection,
    price_of,
    request_cost,
)
from course_lib.providers.base import ChatResult, Choice, Usage
from course_lib.tokens import TIKTOKEN_DIR

# --------------------------------------------------------------------------- token counts


@pytest.fixture
def tiktoken_for_model(monkeypatch):
    """tiktoken's own model→encoder lookup, reading the package's offline BPE files."""
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", TIKTOKEN_DIR)
    import tiktoken

    return tiktoken.encoding_for_model


# (text, tokens for gpt-4o / o200k_base, tokens for gpt-4 / cl100k_base)
PINNED = [
    ("Hello, world!", 4, 4),
    ("The quick brown fox jumps over the lazy dog.", 10, 10),
    ("Tokenization: 9.11 vs 9.8", 12, 12),
    ("Привет, как дела?", 6, 8),
    ("こんにちは世界", 2, 4),
]


@pytest.mark.parametrize(("text", "n_4o", "n_4"), PINNED)
def test_token_counts_match_tiktoken_encoders(tiktoken_for_model, text, n_4o, n_4):
    assert tiktoken_for_model("gpt-4o").name == "o200k_base"
    assert tiktoken_for_model("gpt-4").name == "cl100k_base"
    assert len(tiktoken_for_model("gpt-4o").encode(text)) == n_4o
    assert len(tiktoken_for_model("gpt-4").encode(text)) == n_4
    assert cost.count_tokens(text, "gpt-4o") == n_4o
    assert cost.count_tokens(text, "gpt-4") == n_4
    assert cost.count_tokens(text, "gpt-4o-2024-08-06") == n_4o
    assert cost.count_tokens(text, "gpt-3.5-turbo") == n_4


def test_cost_reexports_token_counting_without_copying_it():
    from course_lib import tokens

    assert cost.count_tokens is tokens.count_tokens
    assert cost.count_message_tokens is tokens.count_message_tokens
    assert cost.estimate_tokens_by_chars is tokens.estimate_tokens_by_chars


def test_chat_message_formula_on_a_hand_computed_example(tiktoken_for_model):
    messages = [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "Hello!"},
    ]
    enc = tiktoken_for_model("gpt-4")
    # Pieces, checked against the encoder: "system" 1, "You are a helpful assistant." 6
    # (You| are| a| helpful| assistant|.), "user" 1, "Hello!" 2 (Hello|!).
    assert [len(enc.encode(s)) for s in ("system", messages[0]["content"], "user", "Hello!")] == [1, 6, 1, 2]
    # 3 framing tokens per message + role + content, then 3 tokens priming the reply.
    expected = (3 + 1 + 6) + (3 + 1 + 2) + 3
    assert expected == 19
    assert count_message_tokens(messages, "gpt-4") == 19
    assert count_message_tokens(messages, "gpt-4o") == 19


def test_a_name_field_adds_one_token():
    plain = [{"role": "user", "content": "Hello!"}]
    named = [{"role": "user", "content": "Hello!", "name": "alice"}]
    # "alice" is one token in o200k_base, plus one for having a name at all.
    assert count_tokens("alice") == 1
    assert count_message_tokens(named) - count_message_tokens(plain) == 2


# --------------------------------------------------------------------------- the price table


def test_price_table_has_the_required_models_with_source_and_date():
    table = load_prices()
    required = {
        "gpt-4",
        "gpt-4-turbo",
        "gpt-3.5-turbo",
        "gpt-4o",
        "gpt-4o-mini",
        "text-embedding-3-small",
    }
    assert required <= set(table.models)
    assert any(m.startswith("claude-") for m in table.models)
    assert table.as_of == "2026-11"
    assert "litellm" in table.source
    for name, p in table.models.items():
        assert p.as_of == "2026-11", name
        paid = p.input > 0 or p.output > 0
        assert p.source.startswith("https://") or not paid, name  # a paid model's price cites its page
        assert p.context_window > 0, name


def test_price_figures_are_per_million_tokens():
    # litellm stores 3e-05 USD per token for gpt-4 input: 30 USD per million.
    assert price_of("gpt-4").input == 30.0
    assert price_of("gpt-4").output == 60.0
    assert price_of("gpt-4o").cached_input == 1.25
    assert price_of("gpt-4o-mini").input == 0.15
    assert price_of("gpt-4").context_window == 8192


def test_price_table_is_loaded_once():
    assert load_prices() is load_prices()


def test_price_json_is_valid_for_the_pydantic_model():
    raw = json.loads((resources.files("course_lib") / "data" / "models.json").read_text())
    assert PriceTable.model_validate(raw).models.keys() == load_prices().models.keys()


def test_cached_price_above_input_is_rejected():
    with pytest.raises(ValueError, match="cached_input"):
        load_prices().with_price("gpt-4o", cached_input=99.0)


def test_unknown_model_error_lists_known_models():
    with pytest.raises(UnknownModelError) as info:
        request_cost(Usage(prompt_tokens=1), "gpt-99")
    message = str(info.value)
    assert "gpt-99" in message
    for name in known_models():
        assert name in message


def test_dated_model_names_resolve_to_their_base_but_other_models_do_not():
    assert load_prices().resolve("gpt-4o-2024-08-06") == "gpt-4o"
    assert load_prices().resolve("gpt-4-0613") == "gpt-4"
    assert load_prices().resolve("gpt-4o-mini-2024-07-18") == "gpt-4o-mini"
    with pytest.raises(UnknownModelError):
        load_prices().resolve("gpt-4.1")


# --------------------------------------------------------------------------- request cost


def test_a_typical_request_on_gpt4():
    # 1,210 prompt and 400 completion tokens at 30 / 60 USD per million.
    c = request_cost(Usage(prompt_tokens=1210, completion_tokens=400), "gpt-4")
    assert c.input_cost == pytest.approx(0.0363)
    assert c.output_cost == pytest.approx(0.024)
    assert c.total == pytest.approx(0.0603)


def test_cached_tokens_are_priced_at_the_cached_rate():
    usage = Usage(prompt_tokens=1500, completion_tokens=100, cached_tokens=1024)
    c = request_cost(usage, "gpt-4o")
    assert c.input_cost == pytest.approx(476 * 2.5 / 1e6)
    assert c.cached_input_cost == pytest.approx(1024 * 1.25 / 1e6)
    assert c.output_cost == pytest.approx(100 * 10 / 1e6)


def test_without_a_cached_rate_cached_tokens_bill_at_the_input_rate():
    cached = request_cost(Usage(prompt_tokens=1000, cached_tokens=800), "gpt-4")
    uncached = request_cost(Usage(prompt_tokens=1000), "gpt-4")
    assert cached.total == pytest.approx(uncached.total) == pytest.approx(0.03)


def test_request_cost_accepts_a_chat_result_and_openai_usage_dicts():
    result = ChatResult(choices=[Choice(text="hi")], usage=Usage(prompt_tokens=10, completion_tokens=5))
    assert request_cost(result, "gpt-4").total == pytest.approx((10 * 30 + 5 * 60) / 1e6)
    openai_shape = {
        "prompt_tokens": 2000,
        "completion_tokens": 0,
        "prompt_tokens_details": {"cached_tokens": 2000},
    }
    assert request_cost(openai_shape, "gpt-4o-mini").total == pytest.approx(2000 * 0.075 / 1e6)


def test_reasoning_tokens_are_shown_apart_and_billed_once_inside_the_completion():
    usage = Usage(prompt_tokens=100, completion_tokens=1000, reasoning_tokens=800)
    c = request_cost(usage, "gpt-4o-mini")
    assert c.reasoning_tokens == 800
    assert c.visible_completion_tokens == 200
    assert c.output_cost == pytest.approx(1000 * 0.6 / 1e6)
    assert c.reasoning_cost == pytest.approx(800 * 0.6 / 1e6)
    # Billed once: the total is the same as for 1,000 plain completion tokens.
    plain = request_cost(Usage(prompt_tokens=100, completion_tokens=1000), "gpt-4o-mini")
    assert c.total == pytest.approx(plain.total) == pytest.approx((100 * 0.15 + 1000 * 0.6) / 1e6)
    assert plain.reasoning_tokens == 0 and plain.reasoning_cost == 0.0
    assert request_cost(Usage(prompt_tokens=5), "gpt-4o-mini").reasoning_cost == 0.0


def test_reasoning_tokens_are_read_from_openai_usage_details():
    openai_shape = {
        "prompt_tokens": 50,
        "completion_tokens": 600,
        "completion_tokens_details": {"reasoning_tokens": 512},
    }
    c = request_cost(openai_shape, "gpt-4o-mini")
    assert (c.reasoning_tokens, c.visible_completion_tokens) == (512, 88)
    flat = request_cost({"prompt_tokens": 50, "completion_tokens": 600, "reasoning_tokens": 7}, "gpt-4o-mini")
    assert flat.reasoning_tokens == 7


def test_reasoning_beyond_the_completion_is_rejected():
    with pytest.raises(ValueError, match="reasoning_tokens"):
        request_cost(Usage(prompt_tokens=1, completion_tokens=10, reasoning_tokens=11), "gpt-4o-mini")
    with pytest.raises(ValueError, match="negative"):
        request_cost(Usage(completion_tokens=1, reasoning_tokens=-1), "gpt-4o-mini")


def test_usage_sums_reasoning_tokens():
    total = Usage(completion_tokens=10, reasoning_tokens=4) + Usage(completion_tokens=5, reasoning_tokens=3)
    assert (total.completion_tokens, total.reasoning_tokens) == (15, 7)


def test_batch_pricing_uses_batch_rates_or_says_there_are_none():
    c = request_cost(Usage(prompt_tokens=1000, completion_tokens=1000), "gpt-4o", batch=True)
    assert c.total == pytest.approx((1000 * 1.25 + 1000 * 5.0) / 1e6)
    with pytest.raises(ValueError, match="no batch"):
        request_cost(Usage(prompt_tokens=1), "gpt-4", batch=True)


def test_impossible_usage_is_rejected():
    with pytest.raises(ValueError, match="cached_tokens"):
        request_cost(Usage(prompt_tokens=10, cached_tokens=11), "gpt-4o")
    with pytest.raises(TypeError):
        request_cost(42, "gpt-4o")  # type: ignore[arg-type]


def test_estimate_counts_the_prompt_and_bounds_the_output():
    messages = [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "Hello!"},
    ]
    est = estimate_request_cost(messages, "gpt-4", max_tokens=100, n=2)
    assert isinstance(est, RequestCost)
    assert est.prompt_tokens == 19
    assert est.completion_tokens == 200
    assert est.total == pytest.approx((19 * 30 + 200 * 60) / 1e6)


def test_monthly_projection_from_requests_per_day():
    p = monthly_projection(0.06, 100_000 / 30)
    assert p.per_month == pytest.approx(6000.0)
    assert p.per_day == pytest.approx(200.0)
    assert p.per_year == pytest.approx(72_000.0)
    with pytest.raises(ValueError):
        monthly_projection(-1.0, 10)


token_counts = st.integers(min_value=0, max_value=2_000_000)


@given(
    model=st.sampled_from(sorted(load_prices().models)),
    prompt=token_counts,
    completion=token_counts,
    extra_prompt=st.integers(0, 10_000),
    extra_completion=st.integers(0, 10_000),
    cached_share=st.floats(0, 1),
)
def test_cost_is_monotone_in_tokens(model, prompt, completion, extra_prompt, extra_completion, cached_share):
    cached = int(prompt * cached_share)
    base = request_cost(
        Usage(prompt_tokens=prompt, completion_tokens=completion, cached_tokens=cached), model
    )
    more = request_cost(
        Usage(
            prompt_tokens=prompt + extra_prompt,
            completion_tokens=completion + extra_completion,
            cached_tokens=cached,
        ),
        model,
    )
    assert more.total >= base.total >= 0
    # Serving more of the same prompt from the cache never costs more.
    all_cached = request_cost(
        Usage(prompt_tokens=prompt, completion_tokens=completion, cached_tokens=prompt), model
    )
    assert all_cached.total <= base.total + 1e-12
