"""Tests for course_lib.failover: priority order, no failover on 400, attempt logs, circuit breaker."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from course_lib.failover import (
    AllProvidersFailedError,
    CircuitBreaker,
    FailoverProvider,
    should_fail_over,
)
from course_lib.providers.base import (
    BadRequestError,
    ProviderTimeout,
    RateLimitError,
    ServerError,
)
from course_lib.providers.faulty import FaultSchedule, FaultyProvider
from course_lib.providers.scripted import ScriptedProvider
from course_lib.retry import RetryPolicy


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def ask(i: int) -> list[dict[str, str]]:
    return [{"role": "user", "content": f"question {i}"}]


def echo(prefix: str) -> ScriptedProvider:
    return ScriptedProvider(lambda m, p: f"{prefix}: {m[-1]['content']}", model=f"{prefix}-model")


def always_failing(seed: int = 0) -> tuple[FaultyProvider, ScriptedProvider]:
    inner = echo("primary")
    schedule = FaultSchedule(rates={"timeout": 0.5, "rate_limit": 0.5}, seed=seed)
    return FaultyProvider(inner, schedule), inner


def test_should_fail_over_classification():
    assert should_fail_over(RateLimitError("429"))
    assert should_fail_over(ProviderTimeout("t"))
    assert should_fail_over(ServerError("503"))
    assert should_fail_over(TimeoutError())
    assert not should_fail_over(BadRequestError("400"))
    assert not should_fail_over(ValueError("bug"))


def test_primary_answers_when_healthy():
    primary, backup = echo("primary"), echo("backup")
    provider = FailoverProvider({"primary": primary, "backup": backup})
    outcome = provider.complete_with_attempts(ask(1))
    assert outcome.answered_by == "primary"
    assert outcome.result.text == "primary: question 1"
    assert len(backup.calls) == 0
    assert [(a.provider, a.ok) for a in outcome.attempts] == [("primary", True)]


def test_batch_of_50_all_answered_once_by_the_backup():
    faulty, primary_inner = always_failing()
    backup = echo("backup")
    provider = FailoverProvider([faulty, backup])
    answers = [provider.complete(ask(i)).text for i in range(50)]

    assert answers == [f"backup: question {i}" for i in range(50)]
    # the backup saw every question exactly once; the failing primary never reached its model
    assert Counter(c.last_user for c in backup.calls) == {f"question {i}": 1 for i in range(50)}
    assert len(primary_inner.calls) == 0
    assert faulty.calls == 50

    errors = Counter(o.attempts[0].error_type for o in provider.outcomes)
    assert set(errors) == {"ProviderTimeout", "RateLimitError"}
    assert sum(errors.values()) == 50
    assert all(o.answered_by == "scripted:backup-model" for o in provider.outcomes)
    assert all(len(o.attempts) == 2 and o.attempts[1].ok for o in provider.outcomes)

    table = provider.summary()
    assert table["faulty:primary-model"]["answered"] == 0
    assert table["faulty:primary-model"]["calls"] == 50
    assert sum(table["faulty:primary-model"]["errors"].values()) == 50
    assert table["scripted:backup-model"] == {"answered": 50, "calls": 50, "skipped": 0, "errors": {}}


def test_bad_request_is_not_failed_over():
    primary = ScriptedProvider([BadRequestError("400: unknown field 'foo'")])
    backup = echo("backup")
    provider = FailoverProvider({"primary": primary, "backup": backup})
    with pytest.raises(BadRequestError) as info:
        provider.complete(ask(1))
    assert len(backup.calls) == 0
    assert [a.error_type for a in info.value.attempts] == ["BadRequestError"]
    assert provider.outcomes[-1].answered_by is None


def test_all_failing_raises_with_every_attempt():
    provider = FailoverProvider(
        {
            "a": ScriptedProvider([ServerError("500")]),
            "b": ScriptedProvider([RateLimitError("429")]),
        }
    )
    with pytest.raises(AllProvidersFailedError, match=r"a: ServerError; b: RateLimitError") as info:
        provider.complete(ask(1))
    assert [a.provider for a in info.value.attempts] == ["a", "b"]


def test_retries_per_provider_before_failing_over():
    primary_inner = echo("primary")
    primary = FaultyProvider(primary_inner, ["rate_limit", "rate_limit", "ok"], retry_after=2.0)
    backup = echo("backup")
    slept: list[float] = []
    provider = FailoverProvider(
        {"primary": primary, "backup": backup},
        retry_policy=RetryPolicy(max_attempts=2, jitter=False),
        sleep=slept.append,
    )
    first = provider.complete_with_attempts(ask(1))
    assert first.answered_by == "backup"
    assert [(a.provider, a.try_number, a.error_type) for a in first.attempts] == [
        ("primary", 1, "RateLimitError"),
        ("primary", 2, "RateLimitError"),
        ("backup", 1, None),
    ]
    assert slept == [2.0]  # retry-after honoured between the two tries at the primary
    second = provider.complete_with_attempts(ask(2))
    assert second.answered_by == "primary"


def test_circuit_breaker_skips_the_primary_then_retries_after_cooldown():
    clock = FakeClock()
    primary_inner = echo("primary")
    primary = FaultyProvider(primary_inner, ["timeout"] * 3 + ["ok"] * 10)
    backup = echo("backup")
    provider = FailoverProvider(
        {"primary": primary, "backup": backup}, breaker_threshold=3, breaker_cooldown_s=60, clock=clock
    )
    for i in range(6):
        assert provider.complete(ask(i)).text == f"backup: question {i}"
    assert primary.calls == 3  # the last three requests skipped it
    assert provider.breakers["primary"].state == "open"
    skipped = [o.attempts[0] for o in provider.outcomes[3:]]
    assert all(a.skipped and a.error_type == "CircuitOpen" for a in skipped)
    assert provider.summary()["primary"]["skipped"] == 3

    clock.t = 61  # cooldown over: a trial request reaches the (now healthy) primary
    assert provider.breakers["primary"].state == "half_open"
    assert provider.complete(ask(99)).text == "primary: question 99"
    assert provider.breakers["primary"].state == "closed"
    assert len(backup.calls) == 6


def test_circuit_breaker_unit():
    clock = FakeClock()
    breaker = CircuitBreaker(threshold=2, cooldown_s=10, clock=clock)
    breaker.record_failure()
    assert breaker.allow()
    breaker.record_failure()
    assert not breaker.allow()
    clock.t = 10
    assert breaker.state == "half_open" and breaker.allow()
    breaker.record_failure()  # the trial failed: open again
    assert breaker.state == "open"
    clock.t = 25
    breaker.record_success()
    assert breaker.state == "closed" and breaker.consecutive_failures == 0
    with pytest.raises(ValueError):
        CircuitBreaker(threshold=0)


def test_async_failover_with_gather_loses_nothing():
    faulty, primary_inner = always_failing(seed=3)
    backup = echo("backup")
    provider = FailoverProvider([faulty, backup])

    async def run():
        return await asyncio.gather(*(provider.acomplete(ask(i)) for i in range(20)))

    results = asyncio.run(run())
    assert [r.text for r in results] == [f"backup: question {i}" for i in range(20)]
    assert sorted(c.last_user for c in backup.calls) == sorted(f"question {i}" for i in range(20))
    assert len(primary_inner.calls) == 0
    assert len(provider.outcomes) == 20


def test_duplicate_labels_are_made_unique_and_empty_list_rejected():
    provider = FailoverProvider([echo("x"), echo("x")])
    assert list(provider.providers) == ["scripted:x-model", "scripted:x-model#2"]
    with pytest.raises(ValueError, match="at least one provider"):
        FailoverProvider([])
