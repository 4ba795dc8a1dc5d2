"""Tests for course_lib.metrics: percentiles, the recorder's golden signals, the metered wrapper."""

from __future__ import annotations

import asyncio
import math
import threading

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from course_lib.metrics import MeteredProvider, MetricsRecorder, percentile
from course_lib.providers.base import ChatResult, Choice, ProviderTimeout, RateLimitError, Usage
from course_lib.providers.faulty import FaultyProvider
from course_lib.providers.scripted import ScriptedProvider

MSG = [{"role": "user", "content": "hi"}]


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def flat_cost(usage: Usage, model: str) -> float:
    per_token = {"small": 0.001, "large": 0.01}[model]
    return usage.total_tokens * per_token


@given(
    st.lists(st.floats(min_value=-1e6, max_value=1e6), min_size=1, max_size=50),
    st.floats(min_value=0, max_value=100),
)
def test_percentile_matches_numpy(values, q):
    assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)), rel=1e-9, abs=1e-6)


def test_percentile_edge_cases():
    assert math.isnan(percentile([], 50))
    assert percentile([3.0], 99) == 3.0
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_summary_golden_signals_from_known_records():
    clock = FakeClock()
    rec = MetricsRecorder(cost=flat_cost, clock=clock)
    for i in range(1, 11):  # latencies 0.1 … 1.0 s, ending at t = 1 … 10
        clock.t = float(i)
        rec.record(
            latency_s=i / 10, label="large", model="large", usage=Usage(prompt_tokens=10, completion_tokens=5)
        )
    clock.t = 11.0
    rec.record(latency_s=2.0, label="large", model="large", error=ProviderTimeout("t"))
    clock.t = 12.0
    rec.record(latency_s=0.05, label="large", model="large", error="RateLimitError")

    s = rec.summary("large")
    assert s["requests"] == 12
    assert s["ok"] == 10 and s["errors"] == 2
    assert s["error_rate"] == pytest.approx(2 / 12)
    assert s["errors_by_type"] == {"ProviderTimeout": 1, "RateLimitError": 1}
    lat = [i / 10 for i in range(1, 11)] + [2.0, 0.05]
    assert s["latency_p50"] == pytest.approx(float(np.percentile(lat, 50)))
    assert s["latency_p95"] == pytest.approx(float(np.percentile(lat, 95)))
    assert s["latency_p99"] == pytest.approx(float(np.percentile(lat, 99)))
    assert s["latency_max"] == 2.0
    assert s["prompt_tokens"] == 100 and s["completion_tokens"] == 50 and s["total_tokens"] == 150
    assert s["cost"] == pytest.approx(150 * 0.01)  # errors cost nothing
    assert s["window_s"] == pytest.approx(12.0 - 0.9)  # first call started at 1 - 0.1
    assert s["requests_per_s"] == pytest.approx(12 / 11.1)
    assert s["rate_limited_share"] == pytest.approx(1 / 12)


def test_labels_table_and_timeline():
    clock = FakeClock()
    rec = MetricsRecorder(cost=flat_cost, clock=clock)
    clock.t = 0.2
    rec.record(latency_s=0.1, label="small", model="small", usage=Usage(prompt_tokens=100))
    clock.t = 1.5
    rec.record(latency_s=1.0, label="large", model="large", usage=Usage(completion_tokens=10))
    clock.t = 3.3
    rec.record(latency_s=1.0, label="large", model="large", error="ServerError")

    assert rec.labels() == ["small", "large"]
    table = rec.table()
    assert [row["label"] for row in table] == ["small", "large", "all"]
    assert table[0]["cost"] == pytest.approx(0.1) and table[1]["cost"] == pytest.approx(0.1)
    assert table[2]["cost"] == pytest.approx(table[0]["cost"] + table[1]["cost"])
    assert table[2]["requests"] == table[0]["requests"] + table[1]["requests"] == 3

    timeline = rec.timeline(bucket_s=1.0)
    assert [b["requests"] for b in timeline] == [1, 1, 0, 1]
    assert [b["errors"] for b in timeline] == [0, 0, 0, 1]
    assert timeline[0]["t"] == pytest.approx(0.2)
    assert rec.timeline(label="missing") == []
    with pytest.raises(ValueError):
        rec.timeline(bucket_s=0)
    assert len(rec.rows()) == 3 and rec.rows()[0]["label"] == "small"


def test_empty_summary_is_well_defined():
    s = MetricsRecorder().summary()
    assert s["requests"] == 0 and s["error_rate"] == 0.0
    assert math.isnan(s["latency_p95"])


def test_metered_provider_records_successes_and_errors():
    clock = FakeClock()

    def answer(messages, params):
        clock.t += 0.5
        return "ok"

    inner = ScriptedProvider(answer, model="small")
    faulty = FaultyProvider(inner, ["ok", "rate_limit", "ok"])
    rec = MetricsRecorder(cost=flat_cost)
    metered = MeteredProvider(faulty, rec, label="tier:small", clock=clock)
    metered.complete(MSG)
    with pytest.raises(RateLimitError):
        metered.complete(MSG)
    metered.complete(MSG)

    recs = rec.records
    assert [r.error_type for r in recs] == [None, "RateLimitError", None]
    assert [r.latency_s for r in recs] == [0.5, 0.0, 0.5]
    assert recs[0].prompt_tokens > 0 and recs[0].model == "small"
    expected = sum(
        flat_cost(Usage(prompt_tokens=r.prompt_tokens, completion_tokens=r.completion_tokens), "small")
        for r in recs
        if r.ok
    )
    assert rec.summary("tier:small")["cost"] == pytest.approx(expected)
    assert rec.summary()["peak_in_flight"] == 1


def test_metered_provider_async_peak_in_flight():
    gate = threading.Barrier(3, timeout=5)

    def answer(messages, params):
        gate.wait()  # three calls are in flight together
        return ChatResult(choices=[Choice(text="x")], usage=Usage(prompt_tokens=1), model="small")

    rec = MetricsRecorder()
    metered = MeteredProvider(ScriptedProvider(answer, model="small"), rec)

    async def run():
        await asyncio.gather(*(metered.acomplete(MSG) for _ in range(3)))

    asyncio.run(run())
    assert rec.summary()["peak_in_flight"] == 3
    assert rec.summary(metered.label)["requests"] == 3
    assert metered.label == "scripted:small"
