"""Checks of exercise 08, token economics (lesson 08).

8.1 prices a request with cached tokens, 8.2 averages the cost of a routing mix (property-based),
8.3 is an hourly budget breaker driven by a manual clock and a runaway agent loop.
"""

from __future__ import annotations

import math
from typing import Any

from ...guards.base import ManualClock
from ...providers.base import ChatResult, Choice, Usage
from . import (
    CheckFailed,
    call,
    expect_close,
    expect_raises,
    expect_type,
    is_close,
    property_check,
    question,
    scripted_provider,
    show,
)

__all__ = ["check_blended_cost", "check_hourly_budget", "check_request_cost_usd"]

GPT4 = {"input": 30.0, "cached_input": None, "output": 60.0}
GPT4_WHAT_IF = {"input": 30.0, "cached_input": 3.0, "output": 60.0}
GPT4O = {"input": 2.5, "cached_input": 1.25, "output": 10.0}


def _expected_cost(prompt: int, completion: int, cached: int, rates: dict[str, Any]) -> float:
    cached_rate = rates.get("cached_input")
    cached_rate = rates["input"] if cached_rate is None else cached_rate
    return ((prompt - cached) * rates["input"] + cached * cached_rate + completion * rates["output"]) / 1e6


def _cost_hint(got: float, prompt: int, completion: int, cached: int, rates: dict[str, Any]) -> str:
    """Name the likely mistake behind a wrong price."""
    cached_rate = rates.get("cached_input")
    cached_rate = rates["input"] if cached_rate is None else cached_rate
    full = (prompt * rates["input"] + completion * rates["output"]) / 1e6
    double = full + cached * cached_rate / 1e6
    per_thousand = _expected_cost(prompt, completion, cached, rates) * 1000
    if cached and is_close(got, full):
        return "cached tokens were billed at the full input rate: bill them at rates['cached_input']"
    if cached and is_close(got, double):
        return (
            "cached tokens were counted twice: they are part of prompt_tokens, so only "
            "prompt_tokens - cached_tokens bill at the input rate"
        )
    if is_close(got, per_thousand):
        return "rates are USD per *million* tokens, not per thousand"
    return "cost = (prompt - cached) × input + cached × cached_input + completion × output, over 1,000,000"


@question("8.1", points=2, title="request cost with cached tokens", target="request_cost_usd")
def check_request_cost_usd(request_cost_usd: Any) -> None:
    """Cached tokens at the cached rate (or the input rate when there is none), never counted twice."""
    cases = [
        (1000, 250, 0, GPT4),  # a $0.045 support-chat call
        (550, 0, 500, GPT4_WHAT_IF),  # the lesson's cached request: $0.003
        (1200, 200, 1024, GPT4O),
        (1200, 200, 1024, GPT4),  # no cached rate: cached tokens bill at the input rate
        (2048, 100, 2048, GPT4O),  # the whole prompt cached
        (0, 0, 0, GPT4O),
    ]
    for prompt, completion, cached, rates in cases:
        what = f"request_cost_usd({prompt}, {completion}, {cached}, {rates})"
        got = call(request_cost_usd, prompt, completion, cached, dict(rates))
        expect_type(got, (int, float), what)
        expected = _expected_cost(prompt, completion, cached, rates)
        if not is_close(got, expected, rel=1e-9, abs_tol=1e-12):
            raise CheckFailed(
                f"{what} returned {show(got)}; expected {expected:.6f} ({_cost_hint(got, prompt, completion, cached, rates)})"
            )
    no_key = {"input": 0.5, "output": 1.5}  # gpt-3.5-turbo: no cached_input at all
    expect_close(
        call(request_cost_usd, 1000, 100, 600, dict(no_key)),
        _expected_cost(1000, 100, 600, no_key),
        f"request_cost_usd(1000, 100, 600, {no_key})",
        rel=1e-9,
        hint="a missing 'cached_input' means cached tokens bill at the input rate",
    )
    for args, why in (
        (
            (100, 10, 101, GPT4O),
            "cached_tokens cannot exceed prompt_tokens: cached tokens are part of the prompt",
        ),
        ((-1, 10, 0, GPT4O), "token counts cannot be negative"),
        ((100, -5, 0, GPT4O), "token counts cannot be negative"),
        ((100, 10, -1, GPT4O), "token counts cannot be negative, cached ones included"),
    ):
        expect_raises(ValueError, request_cost_usd, *args[:3], dict(args[3]), why=why)

    from hypothesis import strategies as st

    rate = st.floats(min_value=0, max_value=100, allow_nan=False)

    def agrees(
        prompt: int, completion: int, share: float, r_in: float, r_out: float, discount: float
    ) -> None:
        cached = int(prompt * share)
        rates = {"input": r_in, "cached_input": r_in * discount, "output": r_out}
        got = request_cost_usd(prompt, completion, cached, dict(rates))
        expected = _expected_cost(prompt, completion, cached, rates)
        if not is_close(got, expected, rel=1e-9, abs_tol=1e-12):
            raise CheckFailed(
                f"request_cost_usd({prompt}, {completion}, {cached}, {show(rates)}) returned {show(got)}; "
                f"expected {expected!r} ({_cost_hint(got, prompt, completion, cached, rates)})"
            )

    property_check(
        agrees,
        prompt=st.integers(0, 200_000),
        completion=st.integers(0, 20_000),
        share=st.floats(0, 1),
        r_in=rate,
        r_out=rate,
        discount=st.floats(0, 1),
        max_examples=60,
    )


# --------------------------------------------------------------------------- 8.2


def _blend(weights: dict[str, float], costs: dict[str, float]) -> float:
    total = sum(weights.values())
    return sum(w / total * costs[m] for m, w in weights.items())


@question("8.2", points=2, title="routing-mix average cost", target="blended_cost")
def check_blended_cost(blended_cost: Any) -> None:
    """Weights are normalised to shares that sum to 1; the blend lies between the cheapest and dearest model."""
    costs = {"gpt-3.5-turbo": 0.000875, "gpt-4-turbo": 0.0175, "gpt-4": 0.045}
    cases = [
        ({"gpt-3.5-turbo": 0.6, "gpt-4-turbo": 0.3, "gpt-4": 0.1}, "shares that already sum to 1"),
        ({"gpt-3.5-turbo": 60, "gpt-4-turbo": 30, "gpt-4": 10}, "percentages"),
        ({"gpt-3.5-turbo": 3, "gpt-4": 1}, "request counts, one model of the table unused"),
        ({"gpt-4": 5}, "one model only"),
        ({"gpt-3.5-turbo": 0, "gpt-4": 2}, "a model with weight 0"),
    ]
    for weights, kind in cases:
        what = f"blended_cost({weights}, <costs of {len(costs)} models>)"
        got = call(blended_cost, dict(weights), dict(costs))
        expect_type(got, (int, float), what)
        expected = _blend(weights, costs)
        if not is_close(got, expected, rel=1e-9):
            total = sum(weights.values())
            unnormalised = sum(w * costs[m] for m, w in weights.items())
            hint = (
                f"the weights sum to {total:g}: divide each by their total so the shares sum to 1"
                if is_close(got, unnormalised, rel=1e-9) and not math.isclose(total, 1)
                else "average the per-request costs, each weighted by its model's share of the traffic"
            )
            raise CheckFailed(f"{what} ({kind}) returned {show(got)}; expected {expected:.6f} ({hint})")

    for weights, why in (
        ({"gpt-4": -0.1, "gpt-3.5-turbo": 1.1}, "a negative weight is not a share of traffic"),
        ({"gpt-4": 0, "gpt-3.5-turbo": 0}, "weights that sum to 0 send no traffic anywhere"),
        ({}, "an empty mix sends no traffic anywhere"),
    ):
        expect_raises(ValueError, blended_cost, dict(weights), dict(costs), why=why)
    expect_raises(
        (KeyError, ValueError),
        blended_cost,
        {"gpt-4o": 1.0},
        dict(costs),
        why="a model in the mix has no cost: say so instead of guessing",
    )

    from hypothesis import strategies as st

    models = ["a", "b", "c", "d"]

    def between(weights: list[float], prices: list[float], scale: float) -> None:
        mix = {m: w for m, w in zip(models, weights, strict=False) if w > 0} or {"a": 1.0}
        table = dict(zip(models, prices, strict=True))
        got = blended_cost(dict(mix), dict(table))
        used = [table[m] for m in mix]
        if not (min(used) * (1 - 1e-9) - 1e-15 <= got <= max(used) * (1 + 1e-9) + 1e-15):
            raise CheckFailed(
                f"blended_cost({show(mix)}, {show(table)}) returned {show(got)}, outside the range "
                f"[{min(used)}, {max(used)}] of the models it mixes: normalise the weights to shares that sum to 1"
            )
        scaled = blended_cost({m: w * scale for m, w in mix.items()}, dict(table))
        if not is_close(scaled, got, rel=1e-9, abs_tol=1e-15):
            raise CheckFailed(
                f"scaling every weight by {scale:g} changed the blend from {show(got)} to {show(scaled)}; "
                "only the proportions of the traffic matter"
            )

    weight = st.one_of(st.just(0.0), st.floats(min_value=0.01, max_value=1000))
    price = st.floats(min_value=0, max_value=1, allow_nan=False)
    property_check(
        between,
        weights=st.lists(weight, min_size=1, max_size=4),
        prices=st.lists(price, min_size=4, max_size=4),
        scale=st.sampled_from([0.01, 3.0, 100.0]),
        max_examples=60,
    )


# --------------------------------------------------------------------------- 8.3


_BEFORE = "Check *before* the call, with its estimate: spent + estimated_cost must stay within the cap"


def _budget(HourlyBudget: Any, cap: float, clock: ManualClock, **kwargs: Any) -> Any:
    return call(HourlyBudget, cap, clock=clock, **kwargs)


def _allow(budget: Any, estimate: float) -> bool:
    got = call(budget.allow, estimate)
    if not isinstance(got, bool):
        raise CheckFailed(
            f"allow({estimate}) returned {show(got)}, a {type(got).__name__}; expected True or False"
        )
    return got


def _spent(budget: Any) -> float:
    got = call(budget.spent)
    expect_type(got, (int, float), "spent()")
    return float(got)


@question("8.3", points=3, title="an hourly budget breaker on a fake clock", target="HourlyBudget")
def check_hourly_budget(HourlyBudget: Any) -> None:
    """Checks estimate + spend before each call, never counts refusals, and resets exactly on the hour."""
    clock = ManualClock(3 * 3600)  # 3:00 am
    budget = _budget(HourlyBudget, 1.0, clock)
    if _spent(budget) != 0:
        raise CheckFailed(f"a new budget reports spent() = {show(_spent(budget))}; expected 0")
    if not _allow(budget, 1.0):
        raise CheckFailed(
            "with nothing spent, allow(1.0) under a $1.00 cap returned False; a call that ends exactly at the cap fits"
        )
    if _allow(budget, 1.01):
        raise CheckFailed(
            "with nothing spent, allow(1.01) under a $1.00 cap returned True: that call could end at $1.01. "
            f"{_BEFORE}"
        )
    if _spent(budget) != 0:
        raise CheckFailed(
            "allow() changed spent(): only record() adds spend (a refused or unmade call costs nothing)"
        )
    call(budget.record, 0.6)
    if not is_close(_spent(budget), 0.6):
        raise CheckFailed(f"after record(0.6), spent() is {show(_spent(budget))}; expected 0.6")
    if _allow(budget, 0.5):
        raise CheckFailed(
            f"$0.60 spent of a $1.00 cap, and allow(0.5) returned True: that call could end at $1.10. {_BEFORE}"
        )
    if not _allow(budget, 0.4):
        raise CheckFailed(
            "$0.60 spent of a $1.00 cap, and allow(0.4) returned False; $1.00 is within the cap"
        )
    if not is_close(_spent(budget), 0.6):
        raise CheckFailed("allow() changed spent(): only record() adds spend")

    # The window is the clock hour: from 3:00:00 up to (not including) 4:00:00.
    clock.advance(3600 - 0.5)
    call(budget.record, 0.3)
    if not is_close(_spent(budget), 0.9):
        raise CheckFailed(
            f"at 3:59:59.5 spent() is {show(_spent(budget))}; expected 0.9 (0.6 at 3:00 + 0.3 now, the same hour)"
        )
    clock.advance(0.5)  # exactly 4:00:00
    if not is_close(_spent(budget), 0.0) or not _allow(budget, 1.0):
        raise CheckFailed(
            f"at exactly 4:00:00 spent() is {show(_spent(budget))} and allow(1.0) is {show(_allow(budget, 1.0))}; "
            "a new hour starts exactly on the hour: the window holding t is [k × window_s, (k + 1) × window_s)"
        )

    # Windows are aligned to the clock, not to when the budget was made.
    clock.advance(1800)  # 4:30
    late = _budget(HourlyBudget, 1.0, clock)
    call(late.record, 0.5)
    clock.advance(1800)  # 5:00
    if not is_close(_spent(late), 0.0):
        raise CheckFailed(
            f"a budget made at 4:30 records $0.50, and at 5:00 its spent() is {show(_spent(late))}; expected 0: "
            "windows follow the clock hour (4:00–5:00), not the time the budget was made or first used"
        )

    # Another window length.
    minute = _budget(HourlyBudget, 0.2, clock, window_s=60)
    call(minute.record, 0.15)
    if _allow(minute, 0.1):
        raise CheckFailed("HourlyBudget(0.2, window_s=60): $0.15 spent, allow(0.1) returned True")
    clock.advance(60)
    if not _allow(minute, 0.2):
        raise CheckFailed(
            "HourlyBudget(0.2, window_s=60): a minute later, allow(0.2) returned False; use window_s"
        )

    _runaway(HourlyBudget)


def _runaway(HourlyBudget: Any) -> None:
    """Drive the budget with the stuck agent loop: spend must stop at the cap, not one call after it."""
    per_call = 0.18018
    reply = ChatResult(choices=[Choice(text="Thought: still checking…", finish_reason="length")],
                       usage=Usage(prompt_tokens=2006, completion_tokens=2000))  # fmt: skip
    model = scripted_provider(lambda messages, params: reply)
    clock = ManualClock(3 * 3600)
    budget = _budget(HourlyBudget, 5.0, clock)
    total = 0.0
    for _ in range(1000):
        if not _allow(budget, per_call):
            break
        model.complete([{"role": "user", "content": "continue"}], max_tokens=2000)
        total += per_call
        call(budget.record, per_call)
        clock.advance(0.6)
    calls = len(model.calls)
    if total > 5.0 + 1e-9 or calls != 27:
        raise CheckFailed(
            f"a runaway loop making $0.18018 calls under a $5.00 cap made {calls} call(s) and spent ${total:.5f}; "
            "expected 27 calls and $4.86486: refuse the call whose estimate would pass the cap"
        )
