"""Tests for course_lib.gateway: cache, quotas, tiers, failover and metrics composed; simulated traffic."""

from __future__ import annotations

import asyncio
import math

import pytest

from course_lib.cache import PromptCache
from course_lib.gateway import Gateway, TrafficRequest, run_traffic, simulated_vendor, synthetic_traffic
from course_lib.guards import ManualClock, QuotaExceededError, TenantQuotas
from course_lib.providers.base import ProviderTimeout, RateLimitError, ServerError
from course_lib.providers.faulty import FaultyProvider
from course_lib.providers.scripted import ScriptedProvider

MSG = [{"role": "user", "content": "How do I reset my password?"}]


def vendor(name: str, model: str = "gpt-4o-mini", replies=None) -> ScriptedProvider:
    p = ScriptedProvider(replies or (lambda messages, params: f"{name} says hi"), model=model)
    p.name = name
    return p


def gateway(clock: ManualClock, **kw) -> Gateway:
    tiers = kw.pop("tiers", None) or {"fast": [vendor("a"), vendor("b")], "smart": vendor("s", "gpt-4o")}
    quotas = kw.pop("quotas", None) or TenantQuotas({"team-eng": 100_000}, default_limit=1_000, clock=clock)
    return Gateway(tiers, quotas=quotas, cache=PromptCache(ttl_s=60, clock=clock), clock=clock, **kw)


def test_a_repeat_is_answered_from_the_cache_without_quota_or_vendor():
    clock = ManualClock()
    gw = gateway(clock)
    first = gw.complete(MSG, tenant="team-eng", tier="fast", max_tokens=50)
    used = gw.quotas.used("team-eng")
    second = gw.complete(MSG, tenant="team-eng", tier="fast", max_tokens=50)
    assert first.text == second.text == "a says hi"
    assert second.provider == "cache" and second.usage.total_tokens == 0
    assert gw.quotas.used("team-eng") == used > 0
    assert gw.vendor_report()["fast"]["a:gpt-4o-mini"]["calls"] == 1
    assert [rate for _, rate in gw.hit_rate_series()] == [0.0, 0.5]
    assert gw.metrics.summary("team-eng")["requests"] == 2
    assert gw.upstream.summary("fast")["requests"] == 1
    # The cache expires with its TTL.
    clock.advance(61)
    assert gw.complete(MSG, tenant="team-eng", tier="fast", max_tokens=50).provider == "a"


def test_tiers_keep_separate_cache_entries_and_vendors():
    clock = ManualClock()
    gw = gateway(clock)
    fast = gw.complete(MSG, tenant="team-eng", tier="fast")
    smart = gw.complete(MSG, tenant="team-eng", tier="smart")
    assert (fast.text, smart.text) == ("a says hi", "s says hi")
    assert gw.complete(MSG, tenant="team-eng").text == "a says hi"  # default tier is the first
    with pytest.raises(ValueError, match="unknown tier"):
        gw.complete(MSG, tenant="team-eng", tier="turbo")
    with pytest.raises(ValueError, match="default_tier"):
        Gateway({"fast": vendor("a")}, quotas=TenantQuotas({}), default_tier="smart")
    with pytest.raises(ValueError, match="at least one tier"):
        Gateway({}, quotas=TenantQuotas({}))


def test_quotas_are_per_tenant_and_refuse_before_the_vendor_is_called():
    clock = ManualClock()
    a = vendor("a", replies=lambda messages, params: "word " * 150)  # about 150 tokens an answer
    gw = gateway(clock, tiers={"fast": a})
    questions = [[{"role": "user", "content": f"question {i}"}] for i in range(8)]
    # team-intern is unlisted: the default 1,000 tokens; each call holds its prompt + 300 tokens while it runs.
    with pytest.raises(QuotaExceededError, match="team-intern"):
        gw.complete(questions[0], tenant="team-intern", max_tokens=2_000)
    served = 0
    for m in questions:
        try:
            gw.complete(m, tenant="team-intern", max_tokens=300)
        except QuotaExceededError:
            break
        served += 1
    assert served == 5  # 5 x ~160 tokens used; the sixth call's 300-token bound no longer fits
    assert len(a.calls) == 5  # refused calls never reach the vendor
    assert 700 < gw.quotas.used("team-intern") <= 1_000
    # Another team is not affected, and a cached answer is still served to the exhausted team.
    assert gw.complete(questions[5], tenant="team-eng", max_tokens=300).provider == "a"
    assert gw.complete(questions[0], tenant="team-intern", max_tokens=300).provider == "cache"
    report = {row["tenant"]: row for row in gw.tenant_report()}
    assert report["team-intern"]["errors"] == {"QuotaExceededError": 2}
    assert report["team-intern"]["quota"] == 1_000 and report["team-eng"]["quota"] == 100_000
    assert report["team-intern"]["tokens_used"] == gw.quotas.used("team-intern")
    assert report["team-intern"]["spend"] == pytest.approx(gw.spend("team-intern"))
    assert gw.spend("team-intern") > 0
    assert gw.spend() == pytest.approx(gw.spend("team-intern") + gw.spend("team-eng"))
    # A new day resets the window.
    clock.advance(86_400)
    assert gw.complete(questions[6], tenant="team-intern", max_tokens=300).provider == "a"


def test_vendors_fail_over_in_priority_order():
    clock = ManualClock()
    primary = FaultyProvider(vendor("a"), ["rate_limit", "server_error", "ok"])
    primary.name = "a"
    gw = gateway(clock, tiers={"fast": [primary, vendor("b")]})
    answers = [gw.complete([{"role": "user", "content": f"q{i}"}], tenant="team-eng").text for i in range(3)]
    assert answers == ["b says hi", "b says hi", "a says hi"]
    report = gw.vendor_report()["fast"]
    assert report["a:gpt-4o-mini"]["errors"] == {"RateLimitError": 1, "ServerError": 1}
    assert report["b:gpt-4o-mini"]["answered"] == 2


def test_all_vendors_down_is_recorded_at_both_levels():
    clock = ManualClock()
    down = vendor("a", replies=[ServerError("down", status=503)] * 2)
    gw = gateway(clock, tiers={"fast": down})
    with pytest.raises(Exception, match="all providers failed"):
        gw.complete(MSG, tenant="team-eng")
    assert gw.metrics.summary()["errors"] == 1 and gw.upstream.summary()["errors"] == 1
    # The failed call held quota while running and released it afterwards.
    assert gw.quotas.used("team-eng") == 0 and gw.quotas.remaining("team-eng") == 100_000


def test_async_requests_share_the_chain():
    clock = ManualClock()
    gw = gateway(clock)

    async def main():
        return await asyncio.gather(*(gw.acomplete(MSG, tenant="team-eng") for _ in range(3)))

    results = asyncio.run(main())
    assert {r.text for r in results} == {"a says hi"}
    assert gw.metrics.summary()["requests"] == 3


def test_simulated_vendor_latency_is_seeded_and_times_out():
    clock = ManualClock()
    v = simulated_vendor(clock, name="v", median_s=1.0, spread=0.0, seed=1)
    v.complete(MSG)
    assert clock() == pytest.approx(1.0)  # no spread: exactly the median
    slow = simulated_vendor(clock, name="slow", median_s=5.0, spread=0.0, timeout_s=2.0)
    with pytest.raises(ProviderTimeout):
        slow.complete(MSG)
    assert clock() == pytest.approx(3.0)

    def latencies(seed):
        c = ManualClock()
        p = simulated_vendor(c, median_s=0.8, spread=0.5, seed=seed)
        out = []
        for _ in range(50):
            before = c()
            p.complete(MSG)
            out.append(c() - before)
        return out

    first, again, other = latencies(3), latencies(3), latencies(4)
    assert first == again and first != other
    median = sorted(first)[25]
    assert 0.4 < median < 1.6
    with pytest.raises(ValueError):
        simulated_vendor(clock, median_s=0)


def test_synthetic_traffic_is_seeded_popular_and_mixed():
    questions = [f"q{k}" for k in range(20)]
    traffic = synthetic_traffic(2000, questions, tenants={"x": 0.75, "y": 0.25}, rate_per_s=2.0, seed=7)
    assert traffic == synthetic_traffic(
        2000, questions, tenants={"x": 0.75, "y": 0.25}, rate_per_s=2.0, seed=7
    )
    times = [r.t for r in traffic]
    assert times == sorted(times) and times[0] > 0
    assert 2000 / times[-1] == pytest.approx(2.0, rel=0.1)
    counts = {q: sum(r.question == q for r in traffic) for q in questions}
    assert counts["q0"] > counts["q5"] > counts["q19"]
    assert sum(r.tenant == "x" for r in traffic) / 2000 == pytest.approx(0.75, abs=0.05)
    assert {r.tier for r in traffic} == {"default"}
    with pytest.raises(ValueError):
        synthetic_traffic(5, [])


def test_run_traffic_waits_for_arrivals_and_records_errors():
    clock = ManualClock()
    flaky = vendor("v", replies=["one", RateLimitError("slow down", retry_after=1), "three"])
    traffic = [TrafficRequest(t, "team", "default", f"q{t}") for t in (1.0, 2.0, 3.0)]
    outcomes = run_traffic(flaky, traffic, clock, system="Be brief.")
    assert [o.ok for o in outcomes] == [True, False, True]
    assert outcomes[1].error_type == "RateLimitError"
    assert [o.started for o in outcomes] == [1.0, 2.0, 3.0]
    assert flaky.calls[0].messages[0] == {"role": "system", "content": "Be brief."}
    # A slow call delays the next request instead of overlapping with it.
    clock2 = ManualClock()
    slow = simulated_vendor(clock2, median_s=5.0, spread=0.0)
    outs = run_traffic(slow, traffic, clock2)
    assert [o.started for o in outs] == pytest.approx([1.0, 6.0, 11.0]) and outs[-1].ended == pytest.approx(
        16.0
    )


def test_a_simulated_day_through_the_gateway_is_reproducible():
    def day():
        clock = ManualClock()
        primary = FaultyProvider(simulated_vendor(clock, name="a", seed=1), [], sleep=clock.advance)
        tiers = {"fast": [primary, simulated_vendor(clock, name="b", seed=2)]}
        gw = gateway(clock, tiers=tiers)
        questions = [f"How do I export report {k}?" for k in range(30)]
        traffic = synthetic_traffic(300, questions, tenants={"team-eng": 1.0}, tiers={"fast": 1.0}, seed=3)
        outcomes = run_traffic(gw, traffic, clock, max_tokens=100)
        return [(o.answered_by, round(o.ended, 9)) for o in outcomes], gw

    first, gw = day()
    again, _ = day()
    assert first == again
    hits = sum(by == "cache" for by, _ in first)
    assert gw.cache.stats.hits == hits and hits > 150
    series = gw.hit_rate_series()
    assert len(series) == 300 and math.isclose(series[-1][1], hits / 300)
