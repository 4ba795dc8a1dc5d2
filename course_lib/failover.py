"""Vendor failover with an optional circuit breaker (lesson 09).

``FailoverProvider([primary, backup, ...])`` sends each request to the first provider in priority
order; on a timeout, rate limit or server error it moves on to the next one. A ``BadRequestError``
is not failed over: the request itself is wrong, and the next vendor would reject it too. Every
attempt (provider, error type, latency) is recorded, so a lesson can show where each answer came
from and what it cost to get it.

With ``breaker_threshold=k`` a provider that failed ``k`` requests in a row is skipped for
``breaker_cooldown_s`` seconds (injected clock), then given one trial request ("half-open").
That stops every request paying the primary's timeout during an outage.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .providers.base import BaseProvider, ChatResult, Message, ProviderError, provider_label
from .retry import Attempt, RetryPolicy, acall_with_retry, call_with_retry, is_retryable

__all__ = [
    "AllProvidersFailedError",
    "CircuitBreaker",
    "FailoverAttempt",
    "FailoverOutcome",
    "FailoverProvider",
    "should_fail_over",
]


def should_fail_over(error: BaseException) -> bool:
    """True for errors another vendor might not have: 429, timeouts, 5xx (lesson 09)."""
    return is_retryable(error) or isinstance(error, TimeoutError)


class CircuitBreaker:
    """Skips a provider after ``threshold`` failures in a row, for ``cooldown_s`` seconds (lesson 09).

    States: ``closed`` (normal), ``open`` (skip), ``half_open`` (cooldown
    over: the next call is a trial; success closes the breaker, failure reopens it).
    """

    def __init__(
        self, threshold: int = 3, cooldown_s: float = 30.0, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if threshold < 1:
            raise ValueError(f"threshold must be at least 1 consecutive failure (got {threshold})")
        self.threshold = threshold
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._lock = threading.Lock()
        self.consecutive_failures = 0
        self.open_until: float | None = None

    @property
    def state(self) -> str:
        """``closed``, ``open`` or ``half_open``."""
        with self._lock:
            if self.open_until is None:
                return "closed"
            return "open" if self._clock() < self.open_until else "half_open"

    def allow(self) -> bool:
        """Whether a call may go to this provider now."""
        return self.state != "open"

    def record_success(self) -> None:
        """A call succeeded: close the breaker."""
        with self._lock:
            self.consecutive_failures = 0
            self.open_until = None

    def record_failure(self) -> None:
        """A call failed: count it, and open (or reopen) the breaker at the threshold."""
        with self._lock:
            self.consecutive_failures += 1
            if self.consecutive_failures >= self.threshold:
                self.open_until = self._clock() + self.cooldown_s


@dataclass(frozen=True)
class FailoverAttempt:
    """One try at one provider: who, which retry, the error type (None if it answered), latency (lesson 09)."""

    provider: str
    try_number: int = 1
    error_type: str | None = None
    error: str | None = None
    latency_s: float = 0.0
    skipped: bool = False
    """True when the circuit breaker skipped the provider without calling it."""

    @property
    def ok(self) -> bool:
        """True when this attempt produced the answer."""
        return self.error_type is None and not self.skipped


@dataclass(frozen=True)
class FailoverOutcome:
    """One request through a :class:`FailoverProvider`: the answer, who gave it, every attempt (lesson 09)."""

    result: ChatResult | None
    answered_by: str | None
    attempts: list[FailoverAttempt] = field(default_factory=list)
    error: str | None = None


class AllProvidersFailedError(ProviderError):
    """Every provider failed or was skipped; ``attempts`` lists what happened at each (lesson 09)."""

    def __init__(self, attempts: list[FailoverAttempt]) -> None:
        tried = "; ".join(
            f"{a.provider}: {'skipped (circuit open)' if a.skipped else a.error_type}" for a in attempts
        )
        super().__init__(
            f"all providers failed ({tried}). Add another provider, allow retries per provider, "
            "or wait for the outage to pass"
        )
        self.attempts = attempts


def _named(providers: Sequence[Any] | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(providers, Mapping):
        named = dict(providers)
    else:
        named = {}
        for p in providers:
            base, label, i = provider_label(p), provider_label(p), 1
            while label in named:
                i += 1
                label = f"{base}#{i}"
            named[label] = p
    if not named:
        raise ValueError("FailoverProvider needs at least one provider, in priority order")
    return named


def _tries(name: str, attempts: list[Attempt]) -> list[FailoverAttempt]:
    return [FailoverAttempt(name, a.number, a.error_type, a.error, a.latency_s) for a in attempts]


class FailoverProvider(BaseProvider):
    """Tries providers in priority order, moving on at 429s, timeouts and 5xx errors (lesson 09).

    ``providers`` is a list (labelled ``name:model``) or a ``{label: provider}`` mapping.
    ``retry_policy`` retries each provider before moving on (default: one try each).
    ``breaker_threshold`` enables a :class:`CircuitBreaker` per provider. ``outcomes`` keeps one
    :class:`FailoverOutcome` per request; :meth:`summary` counts answers and errors per provider.
    """

    name = "failover"

    def __init__(
        self,
        providers: Sequence[Any] | Mapping[str, Any],
        *,
        retry_policy: RetryPolicy | None = None,
        breaker_threshold: int | None = None,
        breaker_cooldown_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Any] = time.sleep,
        async_sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.providers = _named(providers)
        self.model = getattr(next(iter(self.providers.values())), "model", "")
        self.retry_policy = retry_policy or RetryPolicy(max_attempts=1, jitter=False)
        self.breakers = {
            name: CircuitBreaker(breaker_threshold, breaker_cooldown_s, clock=clock)
            for name in self.providers
            if breaker_threshold is not None
        }
        self._sleep = sleep
        self._async_sleep = async_sleep
        self._lock = threading.Lock()
        self.outcomes: list[FailoverOutcome] = []

    # ------------------------------------------------------------------ shared steps

    def _skipped(self, name: str) -> FailoverAttempt | None:
        breaker = self.breakers.get(name)
        if breaker is None or breaker.allow():
            return None
        why = f"skipped after {breaker.consecutive_failures} consecutive failures"
        return FailoverAttempt(name, 0, "CircuitOpen", why, 0.0, skipped=True)

    def _failed(self, name: str, error: Exception, log: list[FailoverAttempt]) -> bool:
        """Log a failed provider; True to move on, False when the caller must re-raise ``error``."""
        log.extend(_tries(name, getattr(error, "attempts", [])))
        if not should_fail_over(error):
            self._keep(FailoverOutcome(None, None, log, f"{type(error).__name__}: {error}"))
            error.attempts = log  # type: ignore[attr-defined]
            return False
        if name in self.breakers:
            self.breakers[name].record_failure()
        return True

    def _answered(
        self, name: str, result: ChatResult, tries: list[Attempt], log: list[FailoverAttempt]
    ) -> FailoverOutcome:
        log.extend(_tries(name, tries))
        if name in self.breakers:
            self.breakers[name].record_success()
        outcome = FailoverOutcome(result, name, log)
        self._keep(outcome)
        return outcome

    def _exhausted(self, log: list[FailoverAttempt]) -> AllProvidersFailedError:
        error = AllProvidersFailedError(log)
        self._keep(FailoverOutcome(None, None, log, str(error)))
        return error

    def _keep(self, outcome: FailoverOutcome) -> None:
        with self._lock:
            self.outcomes.append(outcome)

    # ------------------------------------------------------------------ calls

    def complete_with_attempts(self, messages: Sequence[Message], **params: Any) -> FailoverOutcome:
        """Like :meth:`complete` but returns the :class:`FailoverOutcome` with every attempt."""
        log: list[FailoverAttempt] = []
        for name, provider in self.providers.items():
            skip = self._skipped(name)
            if skip is not None:
                log.append(skip)
                continue
            try:
                result, tries = call_with_retry(
                    lambda p=provider: p.complete(messages, **params), self.retry_policy, sleep=self._sleep
                )
            except Exception as error:
                if not self._failed(name, error, log):
                    raise
                continue
            return self._answered(name, result, tries, log)
        raise self._exhausted(log)

    async def acomplete_with_attempts(self, messages: Sequence[Message], **params: Any) -> FailoverOutcome:
        """Async form of :meth:`complete_with_attempts`."""
        log: list[FailoverAttempt] = []
        for name, provider in self.providers.items():
            skip = self._skipped(name)
            if skip is not None:
                log.append(skip)
                continue
            try:
                result, tries = await acall_with_retry(
                    lambda p=provider: p.acomplete(messages, **params),
                    self.retry_policy,
                    sleep=self._async_sleep,
                )
            except Exception as error:
                if not self._failed(name, error, log):
                    raise
                continue
            return self._answered(name, result, tries, log)
        raise self._exhausted(log)

    def complete(self, messages: Sequence[Message], **params: Any) -> ChatResult:
        """Answer from the first provider that succeeds; raise :class:`AllProvidersFailedError` if none does."""
        outcome = self.complete_with_attempts(messages, **params)
        assert outcome.result is not None
        return outcome.result

    async def acomplete(self, messages: Sequence[Message], **params: Any) -> ChatResult:
        """Async form of :meth:`complete`."""
        outcome = await self.acomplete_with_attempts(messages, **params)
        assert outcome.result is not None
        return outcome.result

    def summary(self) -> dict[str, dict[str, Any]]:
        """Per provider: requests answered, calls made, skips, and errors by type (plain data for a table)."""
        with self._lock:
            outcomes = list(self.outcomes)
        table: dict[str, dict[str, Any]] = {
            name: {"answered": 0, "calls": 0, "skipped": 0, "errors": Counter()} for name in self.providers
        }
        for outcome in outcomes:
            if outcome.answered_by is not None:
                table[outcome.answered_by]["answered"] += 1
            for a in outcome.attempts:
                row = table[a.provider]
                if a.skipped:
                    row["skipped"] += 1
                    continue
                row["calls"] += 1
                if a.error_type is not None:
                    row["errors"][a.error_type] += 1
        for row in table.values():
            row["errors"] = dict(sorted(row["errors"].items()))
        return table
