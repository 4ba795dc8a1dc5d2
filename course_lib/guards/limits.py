"""Request-count guards: a per-user sliding-window rate limiter, a spike detector, a kill switch (lesson 08)."""

from __future__ import annotations

import bisect
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass

from .base import CallInfo, Clock, KillSwitchError, RateLimitedError

__all__ = [
    "Alert",
    "AnomalyDetector",
    "KillSwitch",
    "SlidingWindowRateLimiter",
]


class SlidingWindowRateLimiter:
    """At most ``limit`` requests per user in any ``window_s`` seconds (lesson 08).

    A request made at time *t* counts until *t + window_s*; at that instant its slot is free again.
    """

    name = "rate limit"

    def __init__(self, limit: int, window_s: float = 60.0, *, clock: Clock = time.time) -> None:
        if limit < 1 or window_s <= 0:
            raise ValueError("limit must be >= 1 and window_s > 0")
        self.limit, self.window_s, self.clock = limit, float(window_s), clock
        self._hits: dict[str, deque[float]] = defaultdict(deque)

    def _live(self, user: str, now: float) -> deque[float]:
        hits = self._hits[user]
        while hits and hits[0] + self.window_s <= now:
            hits.popleft()
        return hits

    def remaining(self, user: str = "default") -> int:
        """Requests ``user`` may still make right now."""
        return self.limit - len(self._live(user, self.clock()))

    def retry_after(self, user: str = "default") -> float:
        """Seconds until ``user`` gets a free slot (0 if one is free now)."""
        now = self.clock()
        hits = self._live(user, now)
        return 0.0 if len(hits) < self.limit else hits[0] + self.window_s - now

    def allow(self, user: str = "default") -> bool:
        """Take a slot for ``user`` if one is free; False otherwise (the usual rate-limiter interface)."""
        now = self.clock()
        hits = self._live(user, now)
        if len(hits) >= self.limit:
            return False
        hits.append(now)
        return True

    def check(self, call: CallInfo) -> None:
        """Refuse the call if ``call.user`` has used every slot in the window."""
        wait = self.retry_after(call.user)
        if wait > 0:
            raise RateLimitedError(
                f"rate limit: user {call.user!r} made {self.limit} requests in the last "
                f"{self.window_s:g} s; retry in {wait:.1f} s, or raise the limit if this traffic is expected",
                guard=self.name,
                retry_after=wait,
            )

    def admit(self, call: CallInfo) -> None:
        """Count the call against ``call.user``."""
        now = self.clock()
        self._live(call.user, now).append(now)

    def settle(self, call: CallInfo, cost: float, tokens: int) -> None:
        """A slot stays used whatever the call cost."""


@dataclass(frozen=True)
class Alert:
    """An anomaly alert: when, the recent and baseline rates (requests/s) and their ratio (lesson 08)."""

    time: float
    recent_rate: float
    baseline_rate: float
    ratio: float


class AnomalyDetector:
    """Fires when the request rate of the last ``window_s`` reaches ``threshold`` × the baseline (lesson 08).

    The baseline is ``baseline_rate`` if given, else the rate measured over up to ``baseline_window_s``
    of history before the recent window, never below ``min_baseline_rate`` (the quietest rate you
    call normal). Until the detector has seen one ``window_s`` of history it judges against
    ``min_baseline_rate`` alone, so set it near your normal traffic. With a one-minute window, a spike of *s* × fires a *k* × detector after about
    (k − 1) / (s − 1) of a minute: 5 × on a 10 × spike takes some 27 s. It alerts once per episode
    (``alerts``, ``on_alert``); with ``block=True`` it also refuses calls while firing.
    """

    name = "anomaly"

    def __init__(
        self,
        *,
        threshold: float = 5.0,
        window_s: float = 60.0,
        baseline_window_s: float = 3600.0,
        baseline_rate: float | None = None,
        min_baseline_rate: float = 1 / 60,
        min_requests: int = 10,
        block: bool = False,
        clock: Clock = time.time,
        on_alert: Callable[[Alert], None] | None = None,
    ) -> None:
        if threshold <= 1 or window_s <= 0 or baseline_window_s <= 0:
            raise ValueError("threshold must be > 1 and both windows > 0 s")
        self.threshold, self.window_s, self.baseline_window_s = threshold, window_s, baseline_window_s
        self.baseline_rate, self.min_baseline_rate = baseline_rate, min_baseline_rate
        self.min_requests, self.block, self.clock, self.on_alert = min_requests, block, clock, on_alert
        self._times: list[float] = []  # admitted request times, in order
        self._started = clock()
        self.alerts: list[Alert] = []
        self.firing = False

    def rates(self, extra: int = 0) -> tuple[float, float]:
        """(recent, baseline) request rates per second now, counting ``extra`` requests about to start."""
        now = self.clock()
        times = self._times
        del times[: bisect.bisect_right(times, now - self.window_s - self.baseline_window_s)]
        history_end = now - self.window_s
        split = bisect.bisect_right(times, history_end)
        recent = len(times) - split + extra
        span = min(self.baseline_window_s, history_end - self._started)
        if self.baseline_rate is not None:
            base = self.baseline_rate
        elif span < self.window_s:  # warming up: too little history to measure a baseline
            base = self.min_baseline_rate
        else:
            before = split - bisect.bisect_right(times, history_end - span)
            base = max(before / span, self.min_baseline_rate)
        return recent / self.window_s, base

    def observe(self) -> Alert | None:
        """Evaluate the rates (counting one request about to start); alert on a new spike."""
        recent, base = self.rates(extra=1)
        spiking = recent * self.window_s >= self.min_requests and recent >= self.threshold * base
        alert = None
        if spiking and not self.firing:
            alert = Alert(self.clock(), recent, base, recent / base)
            self.alerts.append(alert)
            if self.on_alert is not None:
                self.on_alert(alert)
        self.firing = spiking
        return alert

    def check(self, call: CallInfo) -> None:
        """Note a spike; with ``block=True`` refuse calls while the rate stays anomalous."""
        self.observe()
        if self.firing and self.block:
            recent, base = self.rates(extra=1)
            raise RateLimitedError(
                f"anomaly: {recent * 60:.0f} requests/min is {recent / base:.1f}x the baseline "
                f"{base * 60:.1f}/min (threshold {self.threshold:g}x); calls are held back. Look for a loop "
                "or a traffic surge; engage the kill switch if it is a runaway.",
                guard=self.name,
                retry_after=self.window_s,
            )

    def admit(self, call: CallInfo) -> None:
        """Count the request."""
        self._times.append(self.clock())

    def settle(self, call: CallInfo, cost: float, tokens: int) -> None:
        """The detector watches request rate, not cost."""


class KillSwitch:
    """A manual emergency stop: while engaged, every call is refused (lesson 08)."""

    name = "kill switch"

    def __init__(self, *, clock: Clock = time.time) -> None:
        self.clock = clock
        self.engaged_at: float | None = None
        self.reason = ""

    @property
    def engaged(self) -> bool:
        """True while calls are blocked."""
        return self.engaged_at is not None

    def engage(self, reason: str = "manual emergency stop") -> None:
        """Block every call from now on, until :meth:`release`."""
        self.engaged_at, self.reason = self.clock(), reason

    def release(self) -> None:
        """Let calls through again (once the cause is fixed)."""
        self.engaged_at, self.reason = None, ""

    def check(self, call: CallInfo) -> None:
        """Refuse every call while engaged."""
        if self.engaged_at is not None:
            raise KillSwitchError(
                f"kill switch engaged at t={self.engaged_at:g} ({self.reason}): every model call is "
                "blocked. Fix the cause, then call release().",
                guard=self.name,
            )

    def admit(self, call: CallInfo) -> None:
        """Nothing to count."""

    def settle(self, call: CallInfo, cost: float, tokens: int) -> None:
        """Nothing to record."""
