"""Retries with exponential backoff and full jitter, honouring ``retry-after`` (lesson 09).

A model call fails for reasons outside the prompt: 429 rate limits, timeouts, 5xx errors. Those
are worth retrying after a pause that grows exponentially, with random jitter so a fleet of clients
that failed together does not retry together. A 400 is the caller's mistake and is never retried.

The policy is pure (the delay for attempt *k* is a function of *k*, the server's ``retry_after`` and
a seeded RNG); the loop takes an injected ``sleep`` so tests run instantly and can read the delays.

    >>> policy = RetryPolicy(max_attempts=3, base_delay=0.5, jitter=False)
    >>> [policy.delay(k) for k in (1, 2, 3)]
    [0.5, 1.0, 2.0]
    >>> policy.delay(1, retry_after=4.0)
    4.0
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar

from .providers.base import BaseProvider, ChatResult, Message, ProviderError

__all__ = [
    "Attempt",
    "RetryPolicy",
    "RetryResult",
    "RetryingProvider",
    "acall_with_retry",
    "call_with_retry",
    "is_retryable",
]

T = TypeVar("T")


def is_retryable(error: BaseException) -> bool:
    """True for a :class:`ProviderError` whose ``retryable`` flag is set (429, timeout, 5xx) (lesson 09)."""
    return isinstance(error, ProviderError) and bool(error.retryable)


@dataclass
class RetryPolicy:
    """How often and how long to wait between attempts: exponential backoff, full jitter (lesson 09).

    ``max_attempts`` counts the first call too (4 = one call plus up to three retries). The pause
    after failed attempt *k* (1-based) is drawn uniformly from ``[0, min(max_delay, base_delay·2^(k-1))]``
    ("full jitter"), or is exactly that cap when ``jitter=False``. If the server sent a larger
    ``retry_after``, that wins: waiting less than the server asked only earns another 429.
    ``seed`` makes the jitter repeatable; pass ``rng`` to share a :class:`random.Random`.
    """

    max_attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 20.0
    jitter: bool = True
    seed: int | None = None
    rng: random.Random | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1 (got {self.max_attempts}); 1 means no retries")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("base_delay and max_delay must be zero or positive seconds")
        if self.rng is None:
            self.rng = random.Random(self.seed)
        self._lock = threading.Lock()

    def backoff_cap(self, attempt: int) -> float:
        """The upper bound of the pause after failed attempt ``attempt`` (1-based), before jitter."""
        if attempt < 1:
            raise ValueError(f"attempt numbers start at 1 (got {attempt})")
        # min() before the power would overflow: 2**1100 is fine for ints, not for floats.
        exponent = min(attempt - 1, 64)
        return min(self.max_delay, self.base_delay * (2.0**exponent))

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed attempt ``attempt`` (1-based); at least ``retry_after`` if given."""
        cap = self.backoff_cap(attempt)
        if self.jitter:
            with self._lock:
                wait = self.rng.uniform(0.0, cap)  # type: ignore[union-attr]
        else:
            wait = cap
        if retry_after is not None and retry_after > wait:
            return float(retry_after)
        return wait

    def should_retry(self, error: BaseException, attempt: int) -> bool:
        """Whether to try again after ``error`` ended attempt ``attempt`` (1-based)."""
        return is_retryable(error) and attempt < self.max_attempts


@dataclass(frozen=True)
class Attempt:
    """One try in a retry loop: its number, outcome, how long it took and the pause after it (lesson 09)."""

    number: int
    error_type: str | None = None
    error: str | None = None
    latency_s: float = 0.0
    delay_s: float = 0.0
    """The pause taken after this attempt (0 for the last one)."""

    @property
    def ok(self) -> bool:
        """True when this attempt succeeded."""
        return self.error_type is None


class RetryResult(NamedTuple):
    """The value a retried call returned and the log of every attempt (lesson 09)."""

    value: Any
    attempts: list[Attempt]


def _failed(number: int, error: BaseException, latency: float, delay: float) -> Attempt:
    return Attempt(number, type(error).__name__, str(error), latency, delay)


def _attach(error: BaseException, attempts: list[Attempt]) -> None:
    """Attach the attempt log to the error about to be re-raised (its type is kept for callers)."""
    error.attempts = attempts  # type: ignore[attr-defined]


def call_with_retry(
    fn: Callable[[], T],
    policy: RetryPolicy | None = None,
    *,
    sleep: Callable[[float], Any] = time.sleep,
    clock: Callable[[], float] = time.perf_counter,
) -> RetryResult:
    """Call ``fn()`` until it succeeds, retrying retryable provider errors per ``policy`` (lesson 09).

    Returns ``RetryResult(value, attempts)``. A non-retryable error (``BadRequestError``, any other
    exception) is raised at once; when the attempts run out the last error is raised. Either way the
    raised error carries the log as ``error.attempts``.
    """
    policy = policy or RetryPolicy()
    attempts: list[Attempt] = []
    for number in range(1, policy.max_attempts + 1):
        start = clock()
        try:
            value = fn()
        except Exception as error:
            latency = clock() - start
            if not policy.should_retry(error, number):
                attempts.append(_failed(number, error, latency, 0.0))
                _attach(error, attempts)
                raise
            wait = policy.delay(number, getattr(error, "retry_after", None))
            attempts.append(_failed(number, error, latency, wait))
            sleep(wait)
            continue
        attempts.append(Attempt(number, latency_s=clock() - start))
        return RetryResult(value, attempts)
    raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover


async def acall_with_retry(
    fn: Callable[[], Awaitable[T]],
    policy: RetryPolicy | None = None,
    *,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    clock: Callable[[], float] = time.perf_counter,
) -> RetryResult:
    """Async form of :func:`call_with_retry`: ``fn`` returns an awaitable (lesson 09)."""
    policy = policy or RetryPolicy()
    attempts: list[Attempt] = []
    for number in range(1, policy.max_attempts + 1):
        start = clock()
        try:
            value = await fn()
        except Exception as error:
            latency = clock() - start
            if not policy.should_retry(error, number):
                attempts.append(_failed(number, error, latency, 0.0))
                _attach(error, attempts)
                raise
            wait = policy.delay(number, getattr(error, "retry_after", None))
            attempts.append(_failed(number, error, latency, wait))
            await sleep(wait)
            continue
        attempts.append(Attempt(number, latency_s=clock() - start))
        return RetryResult(value, attempts)
    raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover


class RetryingProvider(BaseProvider):
    """Wraps a provider so every call is retried per a :class:`RetryPolicy` (lesson 09).

    ``log`` holds one list of :class:`Attempt` per call, in call order.
    """

    def __init__(
        self,
        inner: Any,
        policy: RetryPolicy | None = None,
        *,
        sleep: Callable[[float], Any] = time.sleep,
        async_sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.inner = inner
        self.policy = policy or RetryPolicy()
        self.name = f"retrying({getattr(inner, 'name', type(inner).__name__)})"
        self.model = getattr(inner, "model", "")
        self._sleep = sleep
        self._async_sleep = async_sleep
        self._lock = threading.Lock()
        self.log: list[list[Attempt]] = []

    def _keep(self, attempts: list[Attempt]) -> None:
        with self._lock:
            self.log.append(attempts)

    def complete(self, messages: Sequence[Message], **params: Any) -> ChatResult:
        """Call the inner provider, retrying 429s, timeouts and 5xx errors."""
        try:
            value, attempts = call_with_retry(
                lambda: self.inner.complete(messages, **params), self.policy, sleep=self._sleep
            )
        except Exception as error:
            self._keep(getattr(error, "attempts", []))
            raise
        self._keep(attempts)
        return value

    async def acomplete(self, messages: Sequence[Message], **params: Any) -> ChatResult:
        """Async form of :meth:`complete`."""
        try:
            value, attempts = await acall_with_retry(
                lambda: self.inner.acomplete(messages, **params), self.policy, sleep=self._async_sleep
            )
        except Exception as error:
            self._keep(getattr(error, "attempts", []))
            raise
        self._keep(attempts)
        return value
