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

**The retry-after rule.** The server's ``retry-after`` (seconds, or an HTTP date; ``retry-after-ms`` in
milliseconds) wins over the backoff, even past ``max_delay``: waiting less only earns another 429. But
a wait is never longer than ``max_retry_after`` (default 60 s), and never runs past the call's
``deadline`` (default none): if the server asks for more, the call fails at once with
:class:`~course_lib.providers.base.RetryAfterTooLongError` instead of sleeping.

    >>> policy.plan_wait(1, retry_after=86400)
    Traceback (most recent call last):
    ...
    course_lib.providers.base.RetryAfterTooLongError: the server asked to wait 86400 s before retrying, more than max_retry_after=60 s: failing now instead of sleeping; try again later, or raise max_retry_after
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, NamedTuple, TypeVar

from .providers.base import BaseProvider, ChatResult, Message, ProviderError, RetryAfterTooLongError

__all__ = [
    "Attempt",
    "RetryPolicy",
    "RetryResult",
    "RetryingProvider",
    "acall_with_retry",
    "call_with_retry",
    "is_retryable",
    "parse_retry_after",
]

T = TypeVar("T")


def is_retryable(error: BaseException) -> bool:
    """True for a :class:`ProviderError` whose ``retryable`` flag is set (429, timeout, 5xx) (lesson 09)."""
    return isinstance(error, ProviderError) and bool(error.retryable)


def parse_retry_after(headers: Mapping[str, str] | Any, *, now: float | None = None) -> float | None:
    """Seconds the server asked to wait, from ``retry-after-ms`` or ``retry-after`` (lesson 09).

    ``retry-after`` is either seconds (``"7"``, ``"1.5"``) or an HTTP date (``"Wed, 21 Oct 2026 07:28:00
    GMT"``, counted from ``now``, default the current time); ``retry-after-ms`` is milliseconds and wins
    when both are sent. A date in the past means 0; a value that is neither form is ignored (None).

    >>> parse_retry_after({"retry-after": "7"})
    7.0
    >>> parse_retry_after({"retry-after-ms": "250", "retry-after": "7"})
    0.25
    >>> parse_retry_after({"retry-after": "Thu, 01 Jan 1970 00:01:40 GMT"}, now=40.0)
    60.0
    """
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms is not None:
        try:
            value = float(ms) / 1000
        except ValueError:
            value = -1.0
        if value >= 0 and value == value:  # not negative, not NaN
            return value
    text = headers.get("retry-after")
    if text is None:
        return None
    text = str(text).strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:  # pragma: no cover - older Pythons returned None for junk
            return None
        return max(0.0, when.timestamp() - (time.time() if now is None else now))
    return seconds if seconds >= 0 and seconds == seconds else None


@dataclass
class RetryPolicy:
    """How often and how long to wait between attempts: exponential backoff, full jitter (lesson 09).

    ``max_attempts`` counts the first call too (4 = one call plus up to three retries). The pause
    after failed attempt *k* (1-based) is drawn uniformly from ``[0, min(max_delay, base_delay·2^(k-1))]``
    ("full jitter"), or is exactly that cap when ``jitter=False``. If the server sent a larger
    ``retry_after``, that wins: waiting less than the server asked only earns another 429.
    ``seed`` makes the jitter repeatable; pass ``rng`` to share a :class:`random.Random`.

    Two limits keep a ``retry_after`` from stalling a call: ``max_retry_after`` (seconds, default 60) is
    the absolute ceiling on one wait, and ``deadline`` (seconds from the call's start, default None: no
    deadline) bounds the whole call. :meth:`plan_wait` applies both: a server asking for more fails
    the call at once with :class:`~course_lib.providers.base.RetryAfterTooLongError`.
    """

    max_attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 20.0
    jitter: bool = True
    seed: int | None = None
    rng: random.Random | None = field(default=None, repr=False, compare=False)
    max_retry_after: float = 60.0
    deadline: float | None = None

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1 (got {self.max_attempts}); 1 means no retries")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("base_delay and max_delay must be zero or positive seconds")
        if self.max_retry_after < 0 or (self.deadline is not None and self.deadline <= 0):
            raise ValueError("max_retry_after must be >= 0 seconds and deadline, if given, > 0 seconds")
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

    def plan_wait(
        self,
        attempt: int,
        retry_after: float | None = None,
        *,
        elapsed: float = 0.0,
        deadline: float | None = None,
    ) -> float:
        """The pause after failed attempt ``attempt``, or :class:`RetryAfterTooLongError` if it is too long.

        The pause is :meth:`delay` (``retry_after`` wins over the backoff and ``max_delay``). It fails at
        once when ``retry_after`` exceeds ``max_retry_after``, or when the pause would end after the
        call's deadline (``deadline``, else the policy's; ``elapsed`` is the time the call has taken).
        """
        limit = self.deadline if deadline is None else deadline
        if retry_after is not None and retry_after > self.max_retry_after:
            raise RetryAfterTooLongError(
                f"the server asked to wait {retry_after:g} s before retrying, more than "
                f"max_retry_after={self.max_retry_after:g} s: failing now instead of sleeping; try again "
                "later, or raise max_retry_after",
                retry_after=retry_after,
            )
        wait = self.delay(attempt, retry_after)
        if limit is not None and elapsed + wait > limit:
            asked = (
                f"the server asked to wait {retry_after:g} s"
                if retry_after is not None
                else f"a {wait:.2f} s backoff"
            )
            raise RetryAfterTooLongError(
                f"{asked} but the call's deadline of {limit:g} s leaves {max(limit - elapsed, 0.0):.2f} s: "
                "failing now instead of sleeping; try again later, or give the call a longer deadline",
                retry_after=retry_after,
            )
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


def _next_wait(
    policy: RetryPolicy, error: Exception, number: int, attempts: list[Attempt], latency: float
) -> float:
    """The pause before the next attempt; raises (with the log attached) when there is none."""
    elapsed = latency + sum(a.latency_s + a.delay_s for a in attempts)
    if not policy.should_retry(error, number):
        attempts.append(_failed(number, error, latency, 0.0))
        _attach(error, attempts)
        if isinstance(error, ProviderError):
            error.attempts_made = number
        raise error
    try:
        wait = policy.plan_wait(number, getattr(error, "retry_after", None), elapsed=elapsed)
    except RetryAfterTooLongError as too_long:
        attempts.append(_failed(number, error, latency, 0.0))
        too_long.attempts_made = number
        _attach(too_long, attempts)
        raise too_long from error
    attempts.append(_failed(number, error, latency, wait))
    return wait


def call_with_retry(
    fn: Callable[[], T],
    policy: RetryPolicy | None = None,
    *,
    sleep: Callable[[float], Any] = time.sleep,
    clock: Callable[[], float] = time.perf_counter,
) -> RetryResult:
    """Call ``fn()`` until it succeeds, retrying retryable provider errors per ``policy`` (lesson 09).

    Returns ``RetryResult(value, attempts)``. A non-retryable error (``BadRequestError``, any other
    exception) is raised at once; when the attempts run out the last error is raised. A wait the
    server asks for beyond ``policy.max_retry_after`` or the policy's ``deadline`` raises
    :class:`~course_lib.providers.base.RetryAfterTooLongError` at once. The raised error carries the log
    as ``error.attempts``.
    """
    policy = policy or RetryPolicy()
    attempts: list[Attempt] = []
    for number in range(1, policy.max_attempts + 1):
        start = clock()
        try:
            value = fn()
        except Exception as error:
            latency = clock() - start
            wait = _next_wait(policy, error, number, attempts, latency)
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
            wait = _next_wait(policy, error, number, attempts, latency)
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
