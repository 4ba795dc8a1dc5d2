"""Tests for course_lib.retry: backoff policy, the retry loop, its async form and the wrapper."""

from __future__ import annotations

import asyncio
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from course_lib.providers.base import (
    BadRequestError,
    ProviderError,
    ProviderTimeout,
    RateLimitError,
    ServerError,
)
from course_lib.providers.faulty import FaultyProvider
from course_lib.providers.scripted import ScriptedProvider
from course_lib.retry import (
    Attempt,
    RetryingProvider,
    RetryPolicy,
    acall_with_retry,
    call_with_retry,
    is_retryable,
)

MSG = [{"role": "user", "content": "hello"}]


def flaky(errors):
    """A function that raises each error in turn, then returns 'done'; counts its calls."""
    queue = list(errors)
    calls = []

    def fn():
        calls.append(1)
        if queue:
            raise queue.pop(0)
        return "done"

    fn.calls = calls
    return fn


def test_delay_without_jitter_doubles_up_to_the_cap():
    policy = RetryPolicy(base_delay=0.5, max_delay=3.0, jitter=False)
    assert [policy.delay(k) for k in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_retry_after_wins_only_when_larger():
    policy = RetryPolicy(base_delay=1.0, jitter=False)
    assert policy.delay(1, retry_after=5.0) == 5.0
    assert policy.delay(3, retry_after=0.5) == 4.0


def test_same_seed_same_delays_and_different_seed_differs():
    a = [RetryPolicy(seed=7).delay(k) for k in range(1, 5)]
    b = [RetryPolicy(seed=7).delay(k) for k in range(1, 5)]
    c = [RetryPolicy(seed=8).delay(k) for k in range(1, 5)]
    assert a == b
    assert a != c


def test_injected_rng_is_used():
    rng = random.Random(3)
    expected = random.Random(3).uniform(0.0, 0.5)
    assert RetryPolicy(rng=rng).delay(1) == pytest.approx(expected)


@given(
    attempt=st.integers(min_value=1, max_value=2000),
    base=st.floats(min_value=0.0, max_value=10.0),
    cap=st.floats(min_value=0.0, max_value=100.0),
    seed=st.integers(min_value=0, max_value=10**6),
    retry_after=st.none() | st.floats(min_value=0.0, max_value=1000.0),
)
def test_full_jitter_stays_within_bounds(attempt, base, cap, seed, retry_after):
    policy = RetryPolicy(base_delay=base, max_delay=cap, seed=seed)
    wait = policy.delay(attempt, retry_after)
    upper = min(cap, base * 2.0 ** min(attempt - 1, 64))
    if retry_after is not None:
        assert wait >= retry_after
        assert wait <= max(upper, retry_after)
    else:
        assert 0.0 <= wait <= upper


def test_invalid_policies_are_rejected():
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError, match="attempt numbers start at 1"):
        RetryPolicy().delay(0)


def test_is_retryable_by_error_class():
    assert is_retryable(RateLimitError("429"))
    assert is_retryable(ProviderTimeout("slow"))
    assert is_retryable(ServerError("500"))
    assert not is_retryable(BadRequestError("400"))
    assert not is_retryable(ValueError("bug"))


def test_retries_until_success_and_logs_each_attempt():
    fn = flaky([RateLimitError("429", retry_after=2.0), ServerError("500")])
    slept = []
    policy = RetryPolicy(base_delay=0.5, jitter=False)
    value, attempts = call_with_retry(fn, policy, sleep=slept.append)
    assert value == "done"
    assert len(fn.calls) == 3
    assert slept == [2.0, 1.0]  # retry-after honoured, then the 2nd backoff step
    assert [a.error_type for a in attempts] == ["RateLimitError", "ServerError", None]
    assert [a.number for a in attempts] == [1, 2, 3]
    assert [a.delay_s for a in attempts] == [2.0, 1.0, 0.0]
    assert attempts[-1].ok and not attempts[0].ok


def test_bad_request_is_never_retried():
    fn = flaky([BadRequestError("400 bad field")])
    slept = []
    with pytest.raises(BadRequestError) as info:
        call_with_retry(fn, RetryPolicy(), sleep=slept.append)
    assert len(fn.calls) == 1
    assert slept == []
    assert [a.error_type for a in info.value.attempts] == ["BadRequestError"]


def test_other_exceptions_are_not_retried():
    fn = flaky([KeyError("bug")])
    with pytest.raises(KeyError):
        call_with_retry(fn, RetryPolicy(), sleep=lambda s: None)
    assert len(fn.calls) == 1


def test_gives_up_after_max_attempts_with_the_last_error_and_log():
    fn = flaky([ProviderTimeout(f"t{i}") for i in range(10)])
    slept = []
    with pytest.raises(ProviderTimeout, match="t2") as info:
        call_with_retry(fn, RetryPolicy(max_attempts=3, jitter=False, base_delay=1), sleep=slept.append)
    assert len(fn.calls) == 3
    assert slept == [1.0, 2.0]  # no pause after the last attempt
    assert len(info.value.attempts) == 3
    assert info.value.attempts[-1].delay_s == 0.0


def test_original_cause_is_kept_when_reraised():
    cause = OSError("socket closed")
    err = ServerError("502")
    err.__cause__ = cause
    with pytest.raises(ServerError) as info:
        call_with_retry(flaky([err]), RetryPolicy(max_attempts=1), sleep=lambda s: None)
    assert info.value.__cause__ is cause


def test_latency_uses_injected_clock():
    ticks = iter([0.0, 1.5, 10.0, 10.25])
    fn = flaky([ServerError("500")])
    _, attempts = call_with_retry(
        fn, RetryPolicy(jitter=False), sleep=lambda s: None, clock=lambda: next(ticks)
    )
    assert [a.latency_s for a in attempts] == [1.5, 0.25]


def test_async_form_retries_and_awaits_sleep():
    errors = [RateLimitError("429", retry_after=3.0)]
    slept = []

    async def fn():
        if errors:
            raise errors.pop()
        return 42

    async def fake_sleep(s):
        slept.append(s)

    value, attempts = asyncio.run(acall_with_retry(fn, RetryPolicy(jitter=False), sleep=fake_sleep))
    assert value == 42
    assert slept == [3.0]
    assert [a.ok for a in attempts] == [False, True]


def test_async_form_does_not_retry_bad_request():
    calls = []

    async def fn():
        calls.append(1)
        raise BadRequestError("400")

    async def fake_sleep(s):  # pragma: no cover - must not be called
        raise AssertionError("slept")

    with pytest.raises(BadRequestError):
        asyncio.run(acall_with_retry(fn, RetryPolicy(), sleep=fake_sleep))
    assert calls == [1]


def test_retrying_provider_over_faulty_provider():
    inner = ScriptedProvider(lambda m, p: "pong")
    faulty = FaultyProvider(inner, ["rate_limit", "timeout", "ok"], retry_after=1.0)
    slept = []
    provider = RetryingProvider(faulty, RetryPolicy(jitter=False, base_delay=0.25), sleep=slept.append)
    result = provider.complete(MSG)
    assert result.text == "pong"
    assert faulty.calls == 3
    assert len(inner.calls) == 1
    assert slept == [1.0, 0.5]
    assert [a.error_type for a in provider.log[0]] == ["RateLimitError", "ProviderTimeout", None]


def test_retrying_provider_async_and_failure_log():
    inner = ScriptedProvider(lambda m, p: "pong")
    faulty = FaultyProvider(inner, ["server_error"] * 5)

    async def no_sleep(s):
        return None

    provider = RetryingProvider(faulty, RetryPolicy(max_attempts=2), async_sleep=no_sleep)
    with pytest.raises(ProviderError):
        asyncio.run(provider.acomplete(MSG))
    assert faulty.calls == 2
    assert len(provider.log) == 1
    assert all(isinstance(a, Attempt) and not a.ok for a in provider.log[0])
