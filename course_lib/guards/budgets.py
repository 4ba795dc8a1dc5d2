"""Spend and token guards: hourly/daily budget circuit breaker and per-tenant token quotas (lessons 08, 09).

Both count fixed windows aligned to multiples of their length on the clock (with ``time.time``
that is the UTC hour and day), so they reset when the window turns over.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .base import BudgetExceededError, CallInfo, Clock, QuotaExceededError

__all__ = [
    "BudgetCircuitBreaker",
    "TenantQuotas",
]


@dataclass(frozen=True)
class _Window:
    name: str
    cap: float
    length: float


class BudgetCircuitBreaker:
    """Hourly and daily spend caps that trip *before* a call could pass them (lesson 08).

    A call is refused when spend so far, plus the estimates of calls still running, plus its own
    estimate would exceed a cap. Once tripped, the breaker stays open until that window resets,
    so a runaway cannot trickle on with smaller calls. ``on_trip(window, message)`` is called once
    per trip (page someone, or engage the kill switch).
    """

    name = "budget"

    def __init__(
        self,
        *,
        hourly_cap: float | None = None,
        daily_cap: float | None = None,
        clock: Clock = time.time,
        on_trip: Callable[[str, str], None] | None = None,
    ) -> None:
        self.windows = [
            _Window(name, float(cap), length)
            for name, cap, length in (("hourly", hourly_cap, 3600.0), ("daily", daily_cap, 86400.0))
            if cap is not None
        ]
        if not self.windows or any(w.cap < 0 for w in self.windows):
            raise ValueError("give an hourly_cap and/or a daily_cap, each >= 0 USD")
        self.clock, self.on_trip = clock, on_trip
        self._spent: dict[tuple[str, int], float] = defaultdict(float)
        self._reserved: dict[tuple[str, int], float] = defaultdict(float)
        self._holds: dict[int, list[tuple[tuple[str, int], float]]] = {}
        self._tripped: set[tuple[str, int]] = set()
        self.trips: list[tuple[float, str, str]] = []
        """(time, window, message) of every trip."""

    def _key(self, w: _Window, now: float) -> tuple[str, int]:
        return (w.name, int(now // w.length))

    def spent(self, window: str = "hourly") -> float:
        """USD recorded in the current ``hourly`` or ``daily`` window."""
        now = self.clock()
        w = next((w for w in self.windows if w.name == window), None)
        if w is None:
            raise ValueError(f"no {window!r} window; this breaker has {[w.name for w in self.windows]}")
        return self._spent.get(self._key(w, now), 0.0)

    def is_open(self) -> bool:
        """True while a tripped window blocks calls."""
        now = self.clock()
        return any(self._key(w, now) in self._tripped for w in self.windows)

    def check(self, call: CallInfo) -> None:
        """Refuse (and trip) if this call's estimate could take a window's spend past its cap."""
        now = self.clock()
        for w in self.windows:
            key = self._key(w, now)
            spent, held = self._spent.get(key, 0.0), self._reserved.get(key, 0.0)
            reset_in = (key[1] + 1) * w.length - now
            if key in self._tripped:
                raise BudgetExceededError(
                    f"budget: the {w.name} breaker is open (${spent:.2f} of ${w.cap:.2f} spent); calls "
                    f"resume when the window resets in {reset_in:.0f} s. Find the runaway before raising the cap.",
                    guard=self.name,
                    retry_after=reset_in,
                )
            if spent + held + call.estimated_cost > w.cap:
                message = (
                    f"budget: {w.name} cap ${w.cap:.2f} would be passed: ${spent:.4f} spent + "
                    f"${held:.4f} in flight + up to ${call.estimated_cost:.4f} for this call. The breaker is now "
                    f"open for {reset_in:.0f} s, until the {w.name} window resets; check for a runaway loop."
                )
                self._tripped.add(key)
                self.trips.append((now, w.name, message))
                if self.on_trip is not None:
                    self.on_trip(w.name, message)
                raise BudgetExceededError(message, guard=self.name, retry_after=reset_in)

    def admit(self, call: CallInfo) -> None:
        """Reserve the call's estimated cost until it settles."""
        now = self.clock()
        holds = [(self._key(w, now), call.estimated_cost) for w in self.windows]
        for key, amount in holds:
            self._reserved[key] += amount
        self._holds[call.id] = holds

    def settle(self, call: CallInfo, cost: float, tokens: int) -> None:
        """Replace the call's reservation by what it really cost (in the window it started in)."""
        for key, amount in self._holds.pop(call.id, []):
            self._reserved[key] -= amount
            self._spent[key] += cost

    def record(self, cost: float) -> None:
        """Record spend that did not go through :meth:`admit` (e.g. a call made elsewhere)."""
        now = self.clock()
        for w in self.windows:
            self._spent[self._key(w, now)] += cost


class TenantQuotas:
    """A token quota per tenant per window (default: a day), with a default for unlisted tenants (lesson 09)."""

    name = "quota"

    def __init__(
        self,
        limits: Mapping[str, int],
        *,
        default_limit: int = 10_000,
        window_s: float = 86400.0,
        clock: Clock = time.time,
    ) -> None:
        if default_limit < 0 or any(v < 0 for v in limits.values()) or window_s <= 0:
            raise ValueError("quotas must be >= 0 tokens and window_s > 0")
        self.limits, self.default_limit = dict(limits), default_limit
        self.window_s, self.clock = float(window_s), clock
        self._used: dict[tuple[str, int], int] = defaultdict(int)
        self._held: dict[tuple[str, int], int] = defaultdict(int)
        self._holds: dict[int, tuple[tuple[str, int], int]] = {}

    def limit(self, tenant: str) -> int:
        """The tenant's quota in tokens per window."""
        return self.limits.get(tenant, self.default_limit)

    def _key(self, tenant: str) -> tuple[str, int]:
        return (tenant, int(self.clock() // self.window_s))

    def used(self, tenant: str) -> int:
        """Tokens the tenant used in the current window."""
        return self._used.get(self._key(tenant), 0)

    def remaining(self, tenant: str) -> int:
        """Tokens the tenant may still use in this window (in-flight calls held back)."""
        key = self._key(tenant)
        return self.limit(tenant) - self._used.get(key, 0) - self._held.get(key, 0)

    def check(self, call: CallInfo) -> None:
        """Refuse the call if its token bound does not fit in the tenant's remaining quota."""
        left = self.remaining(call.tenant)
        if call.estimated_tokens > left:
            reset_in = (self._key(call.tenant)[1] + 1) * self.window_s - self.clock()
            raise QuotaExceededError(
                f"quota: tenant {call.tenant!r} has {max(left, 0)} of its {self.limit(call.tenant)} tokens left "
                f"in this window and the call may need {call.estimated_tokens}; lower max_tokens, wait "
                f"{reset_in:.0f} s for the window to reset, or ask for a larger quota.",
                guard=self.name,
                retry_after=reset_in,
            )

    def admit(self, call: CallInfo) -> None:
        """Hold the call's token bound against the tenant."""
        key = self._key(call.tenant)
        self._held[key] += call.estimated_tokens
        self._holds[call.id] = (key, call.estimated_tokens)

    def settle(self, call: CallInfo, cost: float, tokens: int) -> None:
        """Replace the hold by the tokens really used."""
        key, amount = self._holds.pop(call.id, (self._key(call.tenant), 0))
        self._held[key] -= amount
        self._used[key] += tokens
