"""Tests for course_lib.guards and course_lib.guarded: the runaway, spikes, kill switch, quotas, windows."""

from __future__ import annotations

import asyncio

import pytest

from course_lib.cost import UnknownModelError, count_message_tokens
from course_lib.guards import (
    AnomalyDetector,
    BudgetCircuitBreaker,
    BudgetExceededError,
    CallInfo,
    GuardedProvider,
    KillSwitch,
    KillSwitchError,
    ManualClock,
    QuotaExceededError,
    RateLimitedError,
    SlidingWindowRateLimiter,
    SpendLog,
    TenantQuotas,
)
from course_lib.providers.base import ChatResult, Choice, ProviderError, ServerError, Usage
from course_lib.providers.scripted import ScriptedProvider

LONG_CONTEXT = "Order history and policy excerpt. " * 500  # about 3,500 tokens


def call(i: int = 1, *, t: float = 0.0, cost: float = 0.0, tokens: int = 0, user="u", tenant="t") -> CallInfo:
    return CallInfo(
        id=i, time=t, model="gpt-4o", estimated_cost=cost, estimated_tokens=tokens, user=user, tenant=tenant
    )


def stuck_agent(messages, params):
    """An agent that never finishes: every step asks to continue."""
    return "Thought: I still need more information.\nAction: continue"


# --------------------------------------------------------------------------- the runaway


def test_runaway_agent_loop_is_stopped_under_the_hourly_cap():
    clock = ManualClock(start=3 * 3600)  # 3:00 am
    breaker = BudgetCircuitBreaker(hourly_cap=2.0, daily_cap=20.0, clock=clock)
    detector = AnomalyDetector(clock=clock)
    inner = ScriptedProvider(stuck_agent, model="gpt-4o")
    llm = GuardedProvider(inner, breaker, detector, model="gpt-4o", clock=clock)
    messages = [
        {"role": "system", "content": "You are a support agent."},
        {"role": "user", "content": LONG_CONTEXT},
    ]

    steps = 0
    with pytest.raises(BudgetExceededError) as info:
        while steps < 10_000:  # the bug: no exit condition an agent would ever reach
            reply = llm.complete(messages, max_tokens=300)
            messages = [
                *messages[:2],
                {"role": "assistant", "content": reply.text},
                {"role": "user", "content": "continue"},
            ]
            steps += 1
            clock.advance(0.05)  # about 1,200 requests a minute

    assert 100 < steps < 10_000
    assert len(inner.calls) == steps  # the blocked call never reached the model
    assert llm.spend_log.total <= 2.0
    assert llm.spend_log.total > 1.9  # it ran until the cap, not stopped early by mistake
    assert "hourly" in str(info.value) and "runaway" in str(info.value)
    assert breaker.is_open()
    assert detector.alerts and detector.alerts[0].time < 3 * 3600 + 60
    assert llm.blocked[-1].guard == "budget"
    # Every later call in the same hour is refused, even a tiny one.
    with pytest.raises(BudgetExceededError, match="open"):
        llm.complete([{"role": "user", "content": "hi"}], max_tokens=1)


def test_breaker_trips_before_spend_would_pass_the_cap_and_resets_with_the_window():
    clock = ManualClock(start=0)
    breaker = BudgetCircuitBreaker(hourly_cap=1.0, clock=clock)
    breaker.check(call(1, cost=0.6))
    breaker.admit(call(1, cost=0.6))
    breaker.settle(call(1, cost=0.6), 0.6, 100)
    assert breaker.spent("hourly") == pytest.approx(0.6)
    # 0.6 spent: a call that could cost 0.5 would end at 1.1 > 1.0, so it is refused before it runs.
    with pytest.raises(BudgetExceededError, match="would be passed"):
        breaker.check(call(2, cost=0.5))
    # Tripped: even a call that would fit stays blocked for the rest of the hour.
    with pytest.raises(BudgetExceededError):
        breaker.check(call(3, cost=0.01))
    clock.advance(3599.9)
    with pytest.raises(BudgetExceededError):
        breaker.check(call(4, cost=0.01))
    clock.advance(0.1)  # t = 3600: a new hourly window
    breaker.check(call(5, cost=0.5))
    assert breaker.spent("hourly") == 0


def test_breaker_counts_calls_still_in_flight():
    breaker = BudgetCircuitBreaker(hourly_cap=1.0, clock=ManualClock())
    breaker.check(call(1, cost=0.7))
    breaker.admit(call(1, cost=0.7))  # running, not settled
    with pytest.raises(BudgetExceededError, match="in flight"):
        breaker.check(call(2, cost=0.7))


def test_daily_cap_trip_can_engage_the_kill_switch():
    clock = ManualClock()
    kill = KillSwitch(clock=clock)
    breaker = BudgetCircuitBreaker(
        hourly_cap=10.0, daily_cap=1.0, clock=clock,
        on_trip=lambda window, msg: kill.engage(msg) if window == "daily" else None,
    )  # fmt: skip
    with pytest.raises(BudgetExceededError, match="daily"):
        breaker.check(call(1, cost=2.0))
    assert kill.engaged
    assert breaker.trips[0][1] == "daily"


# --------------------------------------------------------------------------- anomaly detection


def test_anomaly_detector_fires_within_the_first_minute_of_a_10x_spike():
    clock = ManualClock(start=0)
    # Normal traffic is about 10 requests/min; until there is history, judge against 8/min.
    detector = AnomalyDetector(
        threshold=5.0, window_s=60, baseline_window_s=3600, min_baseline_rate=8 / 60, clock=clock
    )

    def request(i: int) -> None:
        detector.check(call(i, t=clock()))
        detector.admit(call(i, t=clock()))

    i = 0
    for _ in range(2 * 600):  # two hours at the baseline: 10 requests/min
        request(i := i + 1)
        clock.advance(6.0)
    assert detector.alerts == []  # steady traffic never alerts

    spike_start = clock()
    while clock() < spike_start + 60 and not detector.alerts:  # 10x: 100 requests/min
        request(i := i + 1)
        clock.advance(0.6)
    assert detector.alerts, "no alert in the first minute of a 10x spike"
    alert = detector.alerts[0]
    assert spike_start < alert.time < spike_start + 60
    assert alert.ratio >= 5.0
    assert alert.baseline_rate == pytest.approx(10 / 60, rel=0.05)


def test_anomaly_detector_can_block_and_alerts_once_per_episode():
    clock = ManualClock()
    seen = []
    detector = AnomalyDetector(
        baseline_rate=1 / 60, threshold=5, block=True, clock=clock, on_alert=seen.append
    )
    blocked = 0
    for i in range(30):
        try:
            detector.check(call(i, t=clock()))
            detector.admit(call(i, t=clock()))
        except RateLimitedError as exc:
            blocked += 1
            assert "anomaly" in str(exc) and exc.retry_after == 60
        clock.advance(1.0)
    assert blocked > 0
    assert len(seen) == 1 == len(detector.alerts)


# --------------------------------------------------------------------------- kill switch


def test_kill_switch_blocks_every_later_call_until_released():
    clock = ManualClock()
    kill = KillSwitch(clock=clock)
    inner = ScriptedProvider(lambda m, p: "ok", model="gpt-4o")
    llm = GuardedProvider(inner, kill, model="gpt-4o", clock=clock)
    assert llm.complete([{"role": "user", "content": "before"}]).text == "ok"
    kill.engage("runaway agent in checkout-service")
    for _ in range(5):
        with pytest.raises(KillSwitchError, match="runaway agent in checkout-service"):
            llm.complete([{"role": "user", "content": "after"}])
        with pytest.raises(KillSwitchError):
            asyncio.run(llm.acomplete([{"role": "user", "content": "after"}]))
        with pytest.raises(KillSwitchError):
            list(llm.stream([{"role": "user", "content": "after"}]))
        with pytest.raises(KillSwitchError):
            llm.as_user("someone-else").complete([{"role": "user", "content": "after"}])
        clock.advance(3600)
    assert len(inner.calls) == 1
    kill.release()
    assert llm.complete([{"role": "user", "content": "again"}]).text == "ok"
    assert len(inner.calls) == 2


# --------------------------------------------------------------------------- tenants and users


def test_tenant_quotas_isolate_tenants():
    clock = ManualClock()
    quotas = TenantQuotas({"team-eng": 2_000, "team-marketing": 500}, default_limit=100, clock=clock)
    inner = ScriptedProvider(lambda m, p: "fine", model="gpt-4o")
    base = GuardedProvider(inner, quotas, model="gpt-4o", clock=clock)
    marketing, eng = base.as_user(tenant="team-marketing"), base.as_user(tenant="team-eng")
    msg = [{"role": "user", "content": "Summarize this article."}]

    used = 0
    with pytest.raises(QuotaExceededError, match="team-marketing"):
        for _ in range(100):
            marketing.complete(msg, max_tokens=50)
            used += 1
    assert 0 < used < 100
    assert quotas.used("team-marketing") <= 500
    # Marketing's exhaustion does not touch engineering's quota.
    assert quotas.used("team-eng") == 0
    assert eng.complete(msg, max_tokens=50).text == "fine"
    assert quotas.remaining("team-eng") == 2_000 - quotas.used("team-eng")
    # An unlisted tenant gets the default quota.
    with pytest.raises(QuotaExceededError):
        base.as_user(tenant="team-new").complete(msg, max_tokens=200)
    # A new day resets the window.
    clock.advance(86_400)
    assert marketing.complete(msg, max_tokens=50).text == "fine"


def test_quota_records_actual_tokens_not_the_bound():
    quotas = TenantQuotas({"a": 10_000}, clock=ManualClock())
    inner = ScriptedProvider(lambda m, p: "four tokens here ok", model="gpt-4o")
    llm = GuardedProvider(inner, quotas, model="gpt-4o", tenant="a")
    msg = [{"role": "user", "content": "Hello!"}]
    result = llm.complete(msg, max_tokens=1000)
    assert quotas.used("a") == result.usage.total_tokens < 1000


def test_sliding_window_frees_capacity_exactly_when_old_requests_expire():
    clock = ManualClock(start=100.0)
    limiter = SlidingWindowRateLimiter(limit=3, window_s=60, clock=clock)
    for _ in range(3):
        assert limiter.allow("alice")
        clock.advance(10)  # requests at 100, 110, 120
    assert not limiter.allow("alice")  # t = 130
    assert limiter.allow("bob")  # users are independent
    clock.now = 159.999
    assert not limiter.allow("alice")
    assert limiter.retry_after("alice") == pytest.approx(0.001)
    clock.now = 160.0  # the request at 100 expires now
    assert limiter.remaining("alice") == 1
    assert limiter.allow("alice")
    assert not limiter.allow("alice")
    clock.now = 170.0  # the one at 110 expires
    assert limiter.allow("alice")


def test_rate_limiter_in_the_guarded_provider_says_when_to_retry():
    clock = ManualClock()
    limiter = SlidingWindowRateLimiter(limit=2, window_s=60, clock=clock)
    llm = GuardedProvider(
        ScriptedProvider(lambda m, p: "ok", model="gpt-4o"), limiter, model="gpt-4o", clock=clock
    )
    alice = llm.as_user("alice")
    alice.complete([{"role": "user", "content": "1"}])
    clock.advance(15)
    alice.complete([{"role": "user", "content": "2"}])
    with pytest.raises(RateLimitedError, match="alice") as info:
        alice.complete([{"role": "user", "content": "3"}])
    assert info.value.retry_after == pytest.approx(45)
    assert info.value.retryable
    llm.as_user("bob").complete([{"role": "user", "content": "1"}])


# --------------------------------------------------------------------------- the wrapper


def test_guarded_provider_estimates_with_counted_prompt_and_max_tokens():
    seen = []

    class Spy:
        name = "spy"

        def check(self, c):
            seen.append(c)

        def admit(self, c):
            pass

        def settle(self, c, cost, tokens):
            seen.append((cost, tokens))

    inner = ScriptedProvider(lambda m, p: "ok", model="gpt-4o")
    llm = GuardedProvider(inner, Spy(), model="gpt-4o", default_max_tokens=256)
    msgs = [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "Hello!"},
    ]
    result = llm.complete(msgs)
    est = seen[0]
    assert est.estimated_tokens == 19 + 256  # counted prompt + the injected max_tokens
    assert est.estimated_cost == pytest.approx((19 * 2.5 + 256 * 10) / 1e6)
    assert inner.calls[0].params["max_tokens"] == 256
    actual_cost, actual_tokens = seen[1]
    assert actual_tokens == result.usage.total_tokens
    assert actual_cost == pytest.approx(
        (result.usage.prompt_tokens * 2.5 + result.usage.completion_tokens * 10) / 1e6
    )
    assert llm.spend_log.total == pytest.approx(actual_cost)


def test_spend_log_is_a_burn_down_with_cached_tokens_priced_lower():
    clock = ManualClock()
    replies = [
        ChatResult(choices=[Choice(text="a")], usage=Usage(prompt_tokens=1000, completion_tokens=100)),
        ChatResult(
            choices=[Choice(text="b")],
            usage=Usage(prompt_tokens=1000, completion_tokens=100, cached_tokens=1000),
        ),
    ]
    llm = GuardedProvider(ScriptedProvider(replies, model="gpt-4o"), model="gpt-4o", clock=clock)
    llm.complete([{"role": "user", "content": "q"}])
    clock.advance(10)
    llm.complete([{"role": "user", "content": "q"}])
    first, second = 1000 * 2.5e-6 + 100 * 1e-5, 1000 * 1.25e-6 + 100 * 1e-5
    assert llm.spend_log.times == [0.0, 10.0]
    assert llm.spend_log.cumulative == pytest.approx([first, first + second])
    assert llm.spend_log.burn_down(1.0)[-1][1] == pytest.approx(1.0 - first - second)
    assert llm.spend_log.as_records()[1]["cached_tokens"] == 1000


def test_failed_call_releases_its_reservation():
    clock = ManualClock()
    breaker = BudgetCircuitBreaker(hourly_cap=1.0, clock=clock)
    llm = GuardedProvider(
        ScriptedProvider([ServerError("boom"), "ok"], model="gpt-4o"), breaker, model="gpt-4o"
    )
    with pytest.raises(ProviderError):
        llm.complete([{"role": "user", "content": "hi"}])
    assert breaker.spent("hourly") == 0
    assert breaker._reserved[("hourly", 0)] == 0
    assert llm.complete([{"role": "user", "content": "hi"}]).text == "ok"


def test_usage_missing_from_the_server_is_counted_not_free():
    reply = ChatResult(choices=[Choice(text="Hello there")])  # no usage at all
    llm = GuardedProvider(ScriptedProvider([reply], model="gpt-4o"), model="gpt-4o")
    msgs = [{"role": "user", "content": "Hello!"}]
    llm.complete(msgs)
    expected = (count_message_tokens(msgs, "gpt-4o") * 2.5 + 2 * 10) / 1e6  # "Hello there": 2 tokens
    assert llm.spend_log.total == pytest.approx(expected)


def test_unknown_pricing_model_fails_at_construction():
    with pytest.raises(UnknownModelError, match="known models"):
        GuardedProvider(ScriptedProvider(["x"]), BudgetCircuitBreaker(hourly_cap=1))


def test_invalid_guard_settings_are_rejected():
    with pytest.raises(ValueError):
        BudgetCircuitBreaker()
    with pytest.raises(ValueError):
        SlidingWindowRateLimiter(limit=0)
    with pytest.raises(ValueError):
        AnomalyDetector(threshold=1.0)
    with pytest.raises(ValueError):
        ManualClock().advance(-1)


def test_concurrent_calls_cannot_overspend_because_estimates_are_reserved():
    clock = ManualClock()
    msgs = [{"role": "user", "content": "Hello!"}]
    one = (count_message_tokens(msgs, "gpt-4o") * 2.5 + 100 * 10) / 1e6  # the estimate of one call
    breaker = BudgetCircuitBreaker(hourly_cap=3.5 * one, clock=clock)
    llm = GuardedProvider(
        ScriptedProvider(lambda m, p: "ok", model="gpt-4o"), breaker, model="gpt-4o", clock=clock
    )

    async def fan_out():
        return await asyncio.gather(
            *(llm.acomplete(msgs, max_tokens=100) for _ in range(10)), return_exceptions=True
        )

    results = asyncio.run(fan_out())
    ok = [r for r in results if isinstance(r, ChatResult)]
    refused = [r for r in results if isinstance(r, BudgetExceededError)]
    assert len(ok) == 3 and len(refused) == 7
    assert llm.spend_log.total <= 3.5 * one


def test_stream_records_the_final_usage_and_charges_an_abandoned_stream_its_estimate():
    clock = ManualClock()
    llm = GuardedProvider(
        ScriptedProvider(lambda m, p: "streamed answer", model="gpt-4o"), model="gpt-4o", clock=clock
    )
    msgs = [{"role": "user", "content": "Hello!"}]
    chunks = list(llm.stream(msgs, max_tokens=50))
    final = chunks[-1].result
    assert final is not None and final.text == "streamed answer"
    assert llm.spend_log.records[-1].completion_tokens == final.usage.completion_tokens

    stream = llm.stream(msgs, max_tokens=50)
    next(stream)
    stream.close()  # the consumer walked away mid-answer
    last = llm.spend_log.records[-1]
    assert last.cost == pytest.approx(last.estimated_cost)
    assert last.estimated_cost == pytest.approx((count_message_tokens(msgs, "gpt-4o") * 2.5 + 50 * 10) / 1e6)


def test_views_for_other_users_share_guards_and_the_spend_log():
    llm = GuardedProvider(ScriptedProvider(lambda m, p: "ok", model="gpt-4o"), model="gpt-4o", user="a")
    bob = llm.as_user("bob", tenant="team-b")
    bob.complete([{"role": "user", "content": "hi"}])
    llm.complete([{"role": "user", "content": "hi"}])
    assert [(r.user, r.tenant) for r in llm.spend_log.records] == [("bob", "team-b"), ("a", "default")]
    assert bob.spend_log is llm.spend_log


def test_spend_log_cache_hit_rate_aggregates_every_call_and_windows_cost():
    log = SpendLog()
    common = {"estimated_cost": 0.0, "completion_tokens": 0, "user": "u", "tenant": "t"}
    log.add(time=0.0, cost=1.0, prompt_tokens=1000, cached_tokens=900, **common)
    log.add(time=50.0, cost=2.0, prompt_tokens=1000, cached_tokens=0, **common)
    # 900 of 2,000 prompt tokens came from the cache (the last call alone would say 0 %).
    assert log.cache_hit_rate == pytest.approx(0.45)
    assert log.cost_between(0, 50) == 1.0
    assert log.cost_between(0, 51) == 3.0
    assert log.total == 3.0
    assert SpendLog().cache_hit_rate == 0.0
