"""Checks of exercise 09, role deep dives (exercises).

9.1 retries a provider call with exponential backoff that honours ``retry_after`` up to a ceiling and
the call's deadline (driven by faulty providers, a fake sleep and a fake clock); 9.2 estimates serving memory from parameters, bits, KV cache and overhead
(property-based); 9.3 keeps a token quota per tenant in fixed windows on a fake clock (property-based,
against a reference model).
"""

from __future__ import annotations

import math
from typing import Any

from ...guards import ManualClock
from ...providers.base import (
    BadRequestError,
    ChatResult,
    ProviderError,
    ProviderTimeout,
    RateLimitError,
    RetryAfterTooLongError,
    ServerError,
)
from . import (
    CheckFailed,
    call,
    expect_raises,
    expect_type,
    faulty_provider,
    property_check,
    question,
    scripted_provider,
    show,
)

__all__ = ["check_quota_manager", "check_retry_call", "check_vram_gb"]

_MESSAGES = [{"role": "user", "content": "Is the refund service up?"}]
_LIMIT_S = 5.0

# ---------------------------------------------------------------- 9.1


class _FakeTime:
    """A clock and a sleep for the learner's retry loop: sleeping moves the clock; every wait is kept."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if isinstance(seconds, (int, float)) and not isinstance(seconds, bool) and seconds > 0:
            self.now += float(seconds)


def _run(retry_call: Any, provider: Any, **kwargs: Any) -> tuple[Any, list[float]]:
    """Call the learner's retry_call; return (result or the error it let through, the waits it asked for)."""
    fake = _FakeTime()
    try:
        result = call(
            retry_call, provider, _MESSAGES, sleep=fake.sleep, clock=fake.clock, timeout=_LIMIT_S, **kwargs
        )
    except CheckFailed as exc:
        cause = exc.__cause__
        if isinstance(cause, (ProviderError, ValueError)):
            return cause, fake.sleeps
        if "did not return within" in str(exc):
            raise CheckFailed(
                f"{exc}. Wait with the `sleep` function passed in (the check passes a fake one), never "
                "time.sleep, and stop after max_attempts"
            ) from None
        raise
    return result, fake.sleeps


def _waits_ok(sleeps: list[float]) -> bool:
    return all(isinstance(s, (int, float)) and not isinstance(s, bool) and s >= 0 for s in sleeps)


def _calls(provider: Any) -> int:
    return provider.calls if isinstance(provider.calls, int) else len(provider.calls)


def _rate_limited(retry_after: float, then: str = "up") -> Any:
    return scripted_provider(
        [RateLimitError("429 Too Many Requests", retry_after=retry_after, status=429), then]
    )


def _expect_refused(retry_call: Any, provider: Any, what: str, why: str, **kwargs: Any) -> None:
    got, sleeps = _run(retry_call, provider, **kwargs)
    if not isinstance(got, RetryAfterTooLongError) or sleeps or _calls(provider) != 1:
        raise CheckFailed(
            f"{what}: retry_call made {_calls(provider)} call(s), waited {show(sleeps)} and ended with "
            f"{show(got)}; expected RetryAfterTooLongError at once, without sleeping ({why})"
        )


@question("9.1", points=2, title="retry with backoff that honours retry-after", target="retry_call")
def check_retry_call(retry_call: Any) -> None:
    """429/5xx/timeouts retried with doubling waits, at least retry_after up to a ceiling; others raised."""
    # A 429 that says "retry after 3 s", then an answer.
    provider = faulty_provider(["rate_limit"], reply="up", retry_after=3.0)
    got, sleeps = _run(retry_call, provider, base_delay=0.5)
    what = "with a 429 (retry_after=3.0) and then an answer, retry_call(base_delay=0.5)"
    if isinstance(got, BaseException):
        raise CheckFailed(
            f"{what} raised {type(got).__name__} after {_calls(provider)} call(s); a 429 is transient: wait, "
            "then try again"
        )
    expect_type(got, ChatResult, what)
    if got.text != "up" or _calls(provider) != 2:
        raise CheckFailed(
            f"{what} made {_calls(provider)} call(s) and returned {show(got.text)}; expected 2 and 'up'"
        )
    if not sleeps:
        raise CheckFailed(
            f"{what} retried without calling the `sleep` function passed in; wait with it (the check passes a "
            "fake one to read the waits), not with time.sleep"
        )
    if len(sleeps) != 1 or not _waits_ok(sleeps):
        raise CheckFailed(
            f"{what} called sleep with {show(sleeps)}; expected one wait in seconds, before the retry"
        )
    if sleeps[0] < 3.0:
        raise CheckFailed(
            f"{what} waited {show(sleeps[0])} s; the server said retry_after=3.0: wait at least that long "
            "(read error.retry_after; waiting less only earns another 429)"
        )
    if sleeps[0] > 3.0 + 1e-9:
        raise CheckFailed(f"{what} waited {show(sleeps[0])} s; expected max(backoff, retry_after) = 3.0 s")

    # A retry_after below the backoff: the backoff wins.
    provider = faulty_provider(["server_error", "rate_limit"], reply="up", retry_after=0.25)
    got, sleeps = _run(retry_call, provider, base_delay=0.5)
    if [round(s, 6) for s in sleeps if isinstance(s, (int, float))] != [0.5, 1.0]:
        raise CheckFailed(
            f"with a 500 and a 429 whose retry_after (0.25 s) is below the backoff, retry_call(base_delay=0.5) "
            f"waited {show(sleeps)}; expected [0.5, 1.0]: the wait is max(backoff, retry_after)"
        )

    # 5xx and timeouts without retry_after: the backoff doubles.
    provider = faulty_provider(["server_error", "timeout", "server_error"], reply="up", retry_after=None)
    got, sleeps = _run(retry_call, provider, max_attempts=4, base_delay=0.5)
    what = "with a 500, a timeout and a 500, then an answer, retry_call(max_attempts=4, base_delay=0.5)"
    if isinstance(got, BaseException) or _calls(provider) != 4:
        raise CheckFailed(
            f"{what} made {_calls(provider)} call(s) and ended with {show(got)}; 5xx errors and timeouts are "
            "transient too: 4 calls, the last one answers"
        )
    if not _waits_ok(sleeps) or [round(s, 6) for s in sleeps] != [0.5, 1.0, 2.0]:
        raise CheckFailed(
            f"{what} waited {show(sleeps)}; expected [0.5, 1.0, 2.0]: base_delay × 2^(k-1) after failed attempt k"
        )

    # The defaults: max_attempts=4, base_delay=0.5.
    provider = faulty_provider(["server_error"] * 5, reply="up", retry_after=None)
    got, sleeps = _run(retry_call, provider)
    if _calls(provider) != 4 or [round(s, 6) for s in sleeps if isinstance(s, (int, float))] != [
        0.5,
        1.0,
        2.0,
    ]:
        raise CheckFailed(
            f"with the defaults and a provider that keeps failing, retry_call made {_calls(provider)} call(s) and "
            f"waited {show(sleeps)}; expected 4 calls and [0.5, 1.0, 2.0] (max_attempts=4, base_delay=0.5)"
        )

    # A 400 is the caller's mistake: raised at once.
    provider = faulty_provider(["bad_request"], reply="up")
    got, sleeps = _run(retry_call, provider)
    if not isinstance(got, BadRequestError) or _calls(provider) != 1 or sleeps:
        raise CheckFailed(
            f"with a 400 Bad Request, retry_call made {_calls(provider)} call(s), waited {show(sleeps)} and ended "
            f"with {show(got)}; a bad request fails the same way every time: raise it at once, without waiting "
            "(retry only errors whose .retryable is True)"
        )

    # A bug in the caller's code (not a provider error) is not retried either.
    def broken_reply(messages: Any, params: Any) -> Any:
        return ValueError("no such field")

    broken = scripted_provider(broken_reply)
    got, sleeps = _run(retry_call, broken)
    if len(broken.calls) != 1 or sleeps:
        raise CheckFailed(
            f"when provider.complete raised ValueError (a bug, not a provider error), retry_call made "
            f"{len(broken.calls)} call(s) and waited {show(sleeps)}; only transient ProviderErrors are retried: "
            "let any other exception through at once, without waiting"
        )
    if not isinstance(got, ValueError):
        raise CheckFailed(
            f"when provider.complete raised ValueError, retry_call ended with {show(got)}; let that ValueError "
            "through unchanged"
        )

    # The attempts are bounded and no one waits after the last.
    provider = faulty_provider(["timeout"] * 10, reply="up")
    got, sleeps = _run(retry_call, provider, max_attempts=3, base_delay=0.5)
    if not isinstance(got, ProviderTimeout) or _calls(provider) != 3:
        raise CheckFailed(
            f"with a provider that always times out, retry_call(max_attempts=3) made {_calls(provider)} call(s) "
            f"and ended with {show(got)}; expected 3 calls (max_attempts counts the first), then the last error raised"
        )
    if [round(s, 6) for s in sleeps] != [0.5, 1.0]:
        raise CheckFailed(
            f"with 3 failed attempts retry_call waited {show(sleeps)}; expected [0.5, 1.0]: wait between attempts, "
            "not after the last one (nobody is going to retry it)"
        )
    provider = faulty_provider(["server_error"], reply="up")
    got, sleeps = _run(retry_call, provider, max_attempts=1)
    if not isinstance(got, ServerError) or _calls(provider) != 1 or sleeps:
        raise CheckFailed(f"retry_call(max_attempts=1) made {_calls(provider)} call(s); 1 means no retries")

    # max_delay caps the backoff, but not the server's retry_after …
    provider = faulty_provider(["server_error"] * 6, reply="up", retry_after=None)
    got, sleeps = _run(retry_call, provider, max_attempts=7, base_delay=1.0, max_delay=4.0)
    if [round(s, 6) for s in sleeps] != [1.0, 2.0, 4.0, 4.0, 4.0, 4.0]:
        raise CheckFailed(
            f"with six 500s, retry_call(max_attempts=7, base_delay=1.0, max_delay=4.0) waited {show(sleeps)}; "
            "expected [1.0, 2.0, 4.0, 4.0, 4.0, 4.0]: the backoff doubles up to max_delay"
        )
    provider = faulty_provider(["server_error"] * 5, reply="up", retry_after=None)
    got, sleeps = _run(retry_call, provider, max_attempts=6, base_delay=1.0)
    if [round(s, 6) for s in sleeps if isinstance(s, (int, float))] != [1.0, 2.0, 4.0, 8.0, 8.0]:
        raise CheckFailed(
            f"with five 500s, retry_call(max_attempts=6, base_delay=1.0) waited {show(sleeps)}; expected "
            "[1.0, 2.0, 4.0, 8.0, 8.0]: max_delay is 8.0 s unless the caller says otherwise"
        )
    slow_down = _rate_limited(30.0)
    got, sleeps = _run(retry_call, slow_down, max_delay=4.0)
    if len(sleeps) != 1 or not _waits_ok(sleeps) or sleeps[0] < 30.0:
        raise CheckFailed(
            f"after a 429 with retry_after=30.0, retry_call(max_delay=4.0) waited {show(sleeps)}; the server's "
            "retry_after wins over max_delay (max_delay caps your own backoff)"
        )
    # … up to an absolute ceiling, and never past the call's deadline.
    _expect_refused(
        retry_call, _rate_limited(61.0), "after a 429 with retry_after=61 and the default max_retry_after (60 s)",
        "a wait above max_retry_after fails the call now instead of sleeping",
    )  # fmt: skip
    got, sleeps = _run(retry_call, _rate_limited(60.0))
    if sleeps != [60.0]:
        raise CheckFailed(
            f"after a 429 with retry_after=60 (exactly max_retry_after), retry_call waited {show(sleeps)}; "
            "expected [60.0]: the ceiling itself is still allowed"
        )
    _expect_refused(
        retry_call, _rate_limited(10.0), "after a 429 with retry_after=10, retry_call(max_retry_after=5.0)",
        "the ceiling is the caller's max_retry_after", max_retry_after=5.0,
    )  # fmt: skip
    _expect_refused(
        retry_call, _rate_limited(10.0), "after a 429 with retry_after=10, retry_call(deadline=5.0)",
        "waiting 10 s would end past the call's deadline of 5 s from its start", deadline=5.0,
    )  # fmt: skip
    got, sleeps = _run(retry_call, _rate_limited(5.0), deadline=5.0)
    if sleeps != [5.0] or isinstance(got, BaseException):
        raise CheckFailed(
            f"after a 429 with retry_after=5, retry_call(deadline=5.0) waited {show(sleeps)} and ended with "
            f"{show(got)}; a wait that ends exactly at the deadline is allowed (refuse only waits that go past it)"
        )
    got, sleeps = _run(retry_call, _rate_limited(4.0), deadline=5.0)
    if sleeps != [4.0] or isinstance(got, BaseException):
        raise CheckFailed(
            f"after a 429 with retry_after=4, retry_call(deadline=5.0) waited {show(sleeps)} and ended with "
            f"{show(got)}; a wait that ends before the deadline is fine: wait 4.0 s, then retry"
        )
    provider = faulty_provider(["server_error"] * 4, reply="up", retry_after=None)
    got, sleeps = _run(retry_call, provider, max_attempts=5, base_delay=1.0, deadline=5.0)
    if not isinstance(got, RetryAfterTooLongError) or [round(s, 6) for s in sleeps] != [1.0, 2.0]:
        raise CheckFailed(
            f"with 500s, retry_call(base_delay=1.0, deadline=5.0) waited {show(sleeps)} and ended with {show(got)}; "
            "expected waits [1.0, 2.0], then RetryAfterTooLongError: after 3 s the next 4 s wait would pass the "
            "deadline (measure the time with the `clock` passed in)"
        )

    # Success first: no wait; messages and parameters passed through unchanged.
    provider = faulty_provider([], reply="up")
    got, sleeps = _run(retry_call, provider, temperature=0, max_tokens=5)
    if not isinstance(got, ChatResult) or _calls(provider) != 1 or sleeps:
        raise CheckFailed("retry_call waited, retried or failed although the first call succeeded")
    sent = provider.inner.calls[0]
    if sent.messages != _MESSAGES or sent.params != {"temperature": 0, "max_tokens": 5}:
        raise CheckFailed(
            f"retry_call sent messages {show(sent.messages)} and parameters {show(sent.params)}; pass the messages "
            "and the extra keyword arguments (temperature=0, max_tokens=5) to provider.complete unchanged"
        )


# ---------------------------------------------------------------- 9.2


def _reference_vram(params_billion: float, bits: float, layers: int = 0, kv_heads: int = 0, head_dim: int = 0,
                    context_tokens: int = 0, batch: int = 1, kv_bits: float = 16, overhead: float = 0.10) -> float:  # fmt: skip
    weights = params_billion * 1e9 * bits / 8
    kv = 2 * layers * kv_heads * head_dim * context_tokens * batch * kv_bits / 8
    return (weights + kv) * (1 + overhead) / 1e9


def _vram_hint(got: float, expected: float, kv_only: bool) -> str:
    if math.isclose(got, expected * 8, rel_tol=1e-6):
        return "it is 8 times too large: bits are not bytes; a weight of 16 bits takes 16 / 8 = 2 bytes"
    if math.isclose(got, expected / 8, rel_tol=1e-6):
        return "it is 8 times too small: bytes = bits / 8, not bits / 64"
    if math.isclose(got, expected / 2**30 * 1e9, rel_tol=1e-6):
        return "this is GiB (2^30 bytes); the question asks for GB: 1 GB = 10^9 bytes"
    if kv_only and math.isclose(got, expected / 2, rel_tol=1e-6):
        return "the KV cache is half what it should be: every token keeps a key AND a value (the factor 2)"
    return "total = (weights + KV cache) × (1 + overhead), in GB of 10^9 bytes"


@question("9.2", points=2, title="VRAM calculator", target="vram_gb")
def check_vram_gb(vram_gb: Any) -> None:
    """Weights by bits, the KV cache with its factor 2, overhead on both, in decimal GB; bad input refused."""
    cases = [
        ((7, 16), {"overhead": 0.0}, 14.0, False),
        ((70, 4), {"overhead": 0.0}, 35.0, False),
        ((70, 32), {"overhead": 0.0}, 280.0, False),
        ((13, 8), {}, 14.3, False),
        ((8, 1), {"overhead": 0.0}, 1.0, False),
        ((0, 16), {"layers": 32, "kv_heads": 32, "head_dim": 128, "context_tokens": 4096, "overhead": 0.0},
         2 * 32 * 32 * 128 * 4096 * 2 / 1e9, True),
        ((70.554, 16), {"layers": 80, "kv_heads": 8, "head_dim": 128, "context_tokens": 8192},
         (141.108 + 2 * 80 * 8 * 128 * 8192 * 2 / 1e9) * 1.1, False),
        ((8.03, 4), {"layers": 32, "kv_heads": 8, "head_dim": 128, "context_tokens": 8192, "batch": 16,
                     "kv_bits": 8, "overhead": 0.2},
         (8.03 * 0.5 + 2 * 32 * 8 * 128 * 8192 * 16 / 1e9) * 1.2, True),
    ]  # fmt: skip
    for args, kwargs, expected, kv_only in cases:
        what = f"vram_gb({', '.join(map(str, args))}, {', '.join(f'{k}={v}' for k, v in kwargs.items())})"
        got = call(vram_gb, *args, timeout=_LIMIT_S, **kwargs)
        if isinstance(got, bool) or not isinstance(got, (int, float)):
            raise CheckFailed(f"{what} returned {show(got)}; expected a number of GB")
        if not math.isclose(got, expected, rel_tol=1e-6, abs_tol=1e-9):
            raise CheckFailed(
                f"{what} returned {got:.4f}; expected {expected:.4f}: {_vram_hint(got, expected, kv_only)}"
            )
    for bad in ((7, 0), (7, -4), (-1, 16)):
        expect_raises(ValueError, vram_gb, *bad, why="bits must be positive and parameters not negative")

    from hypothesis import strategies as st

    def agrees(
        params: float, bits: float, layers: int, kv_heads: int, context: int, batch: int, overhead: float
    ) -> None:
        kwargs = {"layers": layers, "kv_heads": kv_heads, "head_dim": 128, "context_tokens": context,
                  "batch": batch, "overhead": overhead}  # fmt: skip
        got = vram_gb(params, bits, **kwargs)
        expected = _reference_vram(params, bits, **kwargs)
        if not math.isclose(got, expected, rel_tol=1e-6, abs_tol=1e-9):
            raise CheckFailed(
                f"returned {got!r}, expected {expected!r}: {_vram_hint(got, expected, params == 0)}"
            )

    property_check(
        agrees,
        params=st.floats(min_value=0, max_value=1000, allow_nan=False),
        bits=st.sampled_from([2, 3, 4, 4.5, 8, 16, 32]),
        layers=st.integers(min_value=0, max_value=128),
        kv_heads=st.integers(min_value=0, max_value=64),
        context=st.integers(min_value=0, max_value=200_000),
        batch=st.integers(min_value=1, max_value=64),
        overhead=st.floats(min_value=0, max_value=0.5, allow_nan=False),
        max_examples=60,
    )


# ---------------------------------------------------------------- 9.3


class _ReferenceQuotas:
    """The behaviour 9.3 asks for, to compare against."""

    def __init__(
        self, limits: dict[str, int], default_limit: int, window_s: float, clock: ManualClock
    ) -> None:
        self.limits, self.default_limit, self.window_s, self.clock = limits, default_limit, window_s, clock
        self.used: dict[tuple[str, int], int] = {}

    def key(self, tenant: str) -> tuple[str, int]:
        return tenant, int(self.clock() // self.window_s)

    def remaining(self, tenant: str) -> int:
        return self.limits.get(tenant, self.default_limit) - self.used.get(self.key(tenant), 0)

    def try_consume(self, tenant: str, tokens: int) -> bool:
        if tokens > self.remaining(tenant):
            return False
        self.used[self.key(tenant)] = self.used.get(self.key(tenant), 0) + tokens
        return True


def _make(QuotaManager: Any, limits: dict[str, int], clock: ManualClock, **kw: Any) -> Any:
    return call(QuotaManager, dict(limits), timeout=_LIMIT_S, clock=clock, **kw)


def _expect(value: Any, expected: Any, what: str, hint: str) -> None:
    if value != expected or isinstance(value, bool) != isinstance(expected, bool):
        raise CheckFailed(f"{what} returned {show(value)}; expected {show(expected)} ({hint})")


@question("9.3", points=2, title="per-tenant quota manager", target="QuotaManager")
def check_quota_manager(QuotaManager: Any) -> None:
    """Separate budgets per tenant, a default for unknown ones, all-or-nothing requests, windows that reset."""
    clock = ManualClock(100.0)
    limits = {"team-eng": 1_000, "team-marketing": 300}
    q = _make(QuotaManager, limits, clock, default_limit=50, window_s=3600)
    _expect(call(q.remaining, "team-eng"), 1_000, "remaining('team-eng') on a new manager", "its limit")
    _expect(
        call(q.remaining, "team-new"),
        50,
        "remaining('team-new')",
        "a tenant not in limits gets default_limit",
    )
    _expect(call(q.try_consume, "team-eng", 600), True, "try_consume('team-eng', 600)", "600 of 1,000 fits")
    _expect(call(q.remaining, "team-eng"), 400, "after using 600, remaining('team-eng')", "1,000 - 600")
    _expect(call(q.remaining, "team-marketing"), 300, "after team-eng used 600, remaining('team-marketing')",
            "each tenant has its own budget: one team's use must not touch another's")  # fmt: skip
    _expect(call(q.try_consume, "team-marketing", 300), True, "try_consume('team-marketing', 300)",
            "exactly the remaining quota still fits: compare with >, not >=")  # fmt: skip
    _expect(call(q.try_consume, "team-marketing", 1), False, "try_consume('team-marketing', 1) with 0 left",
            "nothing left")  # fmt: skip
    _expect(call(q.try_consume, "team-eng", 500), False, "try_consume('team-eng', 500) with 400 left",
            "a request that does not fit is refused whole")  # fmt: skip
    _expect(call(q.remaining, "team-eng"), 400, "after a refused request of 500, remaining('team-eng')",
            "a refused request consumes nothing")  # fmt: skip
    expect_raises(ValueError, q.try_consume, "team-eng", 0, why="a request needs at least one token")
    expect_raises(ValueError, q.try_consume, "team-eng", -5, why="negative tokens would add quota")

    clock.advance(3_499.9)  # t = 3599.9: still the first hour
    _expect(call(q.remaining, "team-eng"), 400, "at t=3599.9 s, remaining('team-eng')",
            "windows are aligned to multiples of window_s on the clock: [0, 3600) is one window")  # fmt: skip
    clock.advance(0.1)  # t = 3600: a new window
    _expect(call(q.remaining, "team-eng"), 1_000, "at t=3600 s (a new window), remaining('team-eng')",
            "the quota resets when the window turns over at a multiple of window_s on the clock, not "
            "window_s after the first request: key the usage by int(clock() // window_s)")  # fmt: skip
    _expect(call(q.try_consume, "team-marketing", 300), True, "in the new window, try_consume('team-marketing', 300)",
            "the new window starts from zero")  # fmt: skip

    other = _make(QuotaManager, limits, ManualClock(), default_limit=50, window_s=3600)
    _expect(call(other.remaining, "team-eng"), 1_000, "remaining('team-eng') on a second, new manager",
            "keep usage in the instance (self), not in a class attribute shared by all managers")  # fmt: skip

    from hypothesis import strategies as st

    ops = st.lists(
        st.tuples(st.sampled_from(["a", "b", "c"]), st.integers(min_value=1, max_value=400),
                  st.sampled_from([0.0, 0.0, 1.0, 250.0, 999.0, 1000.0])),
        max_size=40,
    )  # fmt: skip

    def agrees(steps: list[tuple[str, int, float]]) -> None:
        clock = ManualClock()
        theirs = QuotaManager({"a": 700, "b": 300}, default_limit=200, window_s=1000, clock=clock)
        ours = _ReferenceQuotas({"a": 700, "b": 300}, 200, 1000, clock)
        for i, (tenant, tokens, wait) in enumerate(steps):
            clock.advance(wait)
            got, expected = theirs.try_consume(tenant, tokens), ours.try_consume(tenant, tokens)
            if got != expected or theirs.remaining(tenant) != ours.remaining(tenant):
                raise CheckFailed(
                    f"step {i + 1} (t={clock():g} s): try_consume({tenant!r}, {tokens}) gave {got!r} and left "
                    f"{theirs.remaining(tenant)!r}; expected {expected!r} and {ours.remaining(tenant)!r}"
                )

    property_check(agrees, steps=ops, max_examples=60)
