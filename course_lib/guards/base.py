"""The guard protocol, the call record guards see, their errors and a manual clock (lesson 08)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from ..providers.base import ProviderError

__all__ = [
    "BudgetExceededError",
    "CallInfo",
    "Clock",
    "Guard",
    "GuardError",
    "KillSwitchError",
    "ManualClock",
    "QuotaExceededError",
    "RateLimitedError",
]

Clock = Callable[[], float]
"""A function returning the current time in seconds (lesson 08)."""


class ManualClock:
    """A clock that moves only when told to, for tests and replayed incidents (lesson 08)."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = float(start)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        """Move forward by ``seconds`` and return the new time."""
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        self.now += seconds
        return self.now


@dataclass(frozen=True)
class CallInfo:
    """What the guards know about a call before it runs (lesson 08)."""

    id: int
    time: float
    model: str
    estimated_cost: float
    """Upper bound in USD: counted prompt tokens plus ``max_tokens`` of output."""
    estimated_tokens: int
    user: str = "default"
    tenant: str = "default"


class Guard(Protocol):
    """What :class:`GuardedProvider` needs from a guard (lesson 08)."""

    name: str

    def check(self, call: CallInfo) -> None: ...

    def admit(self, call: CallInfo) -> None: ...

    def settle(self, call: CallInfo, cost: float, tokens: int) -> None: ...


# --------------------------------------------------------------------------- errors


class GuardError(ProviderError):
    """A guard refused a model call; the message says which guard and what to do (lesson 08)."""

    def __init__(self, message: str, *, guard: str, retry_after: float | None = None) -> None:
        super().__init__(message, retry_after=retry_after)
        self.guard = guard


class RateLimitedError(GuardError):
    """Too many requests for this user, or a request spike; retry after ``retry_after`` s (lesson 08)."""

    retryable = True


class BudgetExceededError(GuardError):
    """The call could take spend past an hourly or daily cap (lesson 08)."""


class KillSwitchError(GuardError):
    """The kill switch is engaged: every call is blocked until it is released (lesson 08)."""


class QuotaExceededError(GuardError):
    """A tenant has no token quota left in this window (lesson 09)."""
