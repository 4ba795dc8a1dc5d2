"""The retry-after rule: both header forms, the ceiling and the call's deadline (lesson 09)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from course_lib.providers.base import (
    BadRequestError,
    ProviderError,
    RateLimitError,
    RetryAfterTooLongError,
    ServerError,
)
from course_lib.retry import RetryPolicy, acall_with_retry, call_with_retry, parse_retry_after

NOW = 1_800_000_000.0


def http_date(ts: float) -> str:
    return format_datetime(datetime.fromtimestamp(ts, UTC), usegmt=True)


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry-after": "7"}, 7.0),
        ({"retry-after": "1.5"}, 1.5),
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),
        ({"retry-after": http_date(NOW + 30)}, 30.0),
        ({"retry-after": http_date(NOW - 30)}, 0.0),
        ({"retry-after": "soon"}, None),
        ({"retry-after": "-3"}, None),
        ({}, None),
    ],
)
def test_both_retry_after_forms_are_read(headers, seconds):
    assert parse_retry_after(headers, now=NOW) == seconds


def failing(*errors):
    queue = list(errors)

    def fn():
        if queue:
            raise queue.pop(0)
        return "ok"

    return fn


def test_retry_after_beats_max_delay_below_the_ceiling():
    sleeps: list[float] = []
    policy = RetryPolicy(base_delay=0.5, max_delay=4.0, jitter=False)
    value, _ = call_with_retry(failing(RateLimitError("429", retry_after=30.0)), policy, sleep=sleeps.append)
    assert value == "ok" and sleeps == [30.0]


@pytest.mark.parametrize("asked", [86400.0, 600.0, 60.5])
def test_retry_after_above_the_ceiling_fails_at_once_without_sleeping(asked):
    sleeps: list[float] = []
    with pytest.raises(RetryAfterTooLongError) as info:
        call_with_retry(failing(RateLimitError("429", retry_after=asked)), RetryPolicy(), sleep=sleeps.append)
    assert sleeps == []
    assert info.value.retry_after == asked
    assert "max_retry_after=60" in str(info.value) and "instead of sleeping" in str(info.value)
    assert isinstance(info.value.__cause__, RateLimitError)
    assert isinstance(info.value, ProviderError) and not info.value.retried


def test_the_ceiling_is_configurable():
    sleeps: list[float] = []
    policy = RetryPolicy(max_retry_after=600.0, jitter=False)
    call_with_retry(failing(RateLimitError("429", retry_after=300.0)), policy, sleep=sleeps.append)
    assert sleeps == [300.0]


def test_a_wait_past_the_deadline_fails_at_once():
    sleeps: list[float] = []
    policy = RetryPolicy(deadline=5.0, jitter=False)
    with pytest.raises(RetryAfterTooLongError, match="deadline of 5 s"):
        call_with_retry(failing(RateLimitError("429", retry_after=10.0)), policy, sleep=sleeps.append)
    assert sleeps == []
    assert policy.plan_wait(1, 4.0) == 4.0  # inside the deadline: honoured


def test_async_loop_applies_the_same_ceiling():
    import asyncio

    slept: list[float] = []

    async def sleep(s: float) -> None:
        slept.append(s)

    async def fn():
        raise RateLimitError("429", retry_after=3600.0)

    with pytest.raises(RetryAfterTooLongError):
        asyncio.run(acall_with_retry(fn, RetryPolicy(), sleep=sleep))
    assert slept == []


def test_final_errors_say_how_many_attempts_were_made():
    policy = RetryPolicy(max_attempts=3, jitter=False, base_delay=0)
    with pytest.raises(ServerError) as info:
        call_with_retry(failing(*(ServerError("500") for _ in range(5))), policy, sleep=lambda s: None)
    assert info.value.attempts_made == 3 and info.value.retried
    with pytest.raises(BadRequestError) as bad:
        call_with_retry(failing(BadRequestError("400")), policy, sleep=lambda s: None)
    assert bad.value.attempts_made == 1 and not bad.value.retried
