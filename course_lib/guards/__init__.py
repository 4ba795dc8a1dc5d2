"""Guards that stop a cost runaway: rate limits, budgets, anomaly detection, a kill switch, quotas (lesson 08).

Every guard takes an injected clock (a callable returning seconds) so a test or a lesson can replay
"3 am, an agent loop stuck in a cycle" in milliseconds. :class:`GuardedProvider` wraps any provider
and drives each guard through one small protocol around every call:

``check(call)``
    raise a :class:`GuardError` to refuse the call (a guard may note the refusal, e.g. trip);
``admit(call)``
    every guard said yes and the call is about to run (count it, reserve its estimated cost);
``settle(call, cost, tokens)``
    the call ended; ``cost`` and ``tokens`` are what it really used (0 if it failed).

    >>> clock = ManualClock()
    >>> limiter = SlidingWindowRateLimiter(limit=2, window_s=60, clock=clock)
    >>> [limiter.allow("alice") for _ in range(3)]
    [True, True, False]
    >>> _ = clock.advance(60)
    >>> limiter.allow("alice")
    True

Modules: ``base`` (protocol, errors, clock), ``limits`` (rate limiter, anomaly detector, kill
switch), ``budgets`` (budget circuit breaker, tenant quotas), ``provider`` (the wrapper, spend log),
``spend_cap`` (the per-process cap paid providers run under), ``secrets`` (key-shaped text found
before a request is sent).
"""

from .base import (
    BudgetExceededError,
    CallInfo,
    Clock,
    Guard,
    GuardError,
    KillSwitchError,
    ManualClock,
    QuotaExceededError,
    RateLimitedError,
)
from .budgets import BudgetCircuitBreaker, TenantQuotas
from .limits import Alert, AnomalyDetector, KillSwitch, SlidingWindowRateLimiter
from .provider import BlockedCall, GuardedProvider, SpendLog, SpendRecord
from .spend_cap import SpendCap

__all__ = [
    "Alert",
    "AnomalyDetector",
    "BlockedCall",
    "BudgetCircuitBreaker",
    "BudgetExceededError",
    "CallInfo",
    "Clock",
    "Guard",
    "GuardError",
    "GuardedProvider",
    "KillSwitch",
    "KillSwitchError",
    "ManualClock",
    "QuotaExceededError",
    "RateLimitedError",
    "SlidingWindowRateLimiter",
    "SpendCap",
    "SpendLog",
    "SpendRecord",
    "TenantQuotas",
]
