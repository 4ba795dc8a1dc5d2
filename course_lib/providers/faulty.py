"""Fault injection: a provider and an HTTP transport that fail on a seeded schedule (lessons 06 and 09).

Production LLM calls fail in a handful of ways: rate limits (429, often with ``retry-after``),
timeouts, server errors (5xx), malformed output and slow answers. These fakes reproduce them on a
schedule that is either explicit (``["rate_limit", "ok"]``) or drawn from a seeded RNG, so a test
of retries, failover or budget guards is repeatable.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .base import (
    BadRequestError,
    BaseProvider,
    ChatResult,
    Message,
    ProviderTimeout,
    RateLimitError,
    ServerError,
)

__all__ = [
    "FAULTS",
    "FaultSchedule",
    "FaultyProvider",
    "faulty_handler",
]

FAULTS = ("ok", "rate_limit", "timeout", "server_error", "bad_request", "malformed", "slow")


class FaultSchedule:
    """Which fault the next call gets: an explicit list first, then seeded random draws by ``rates``."""

    def __init__(
        self,
        faults: Sequence[str | None] = (),
        *,
        rates: Mapping[str, float] | None = None,
        seed: int = 0,
        then: str = "ok",
    ) -> None:
        for f in [*faults, *(rates or {}), then]:
            if f is not None and f not in FAULTS:
                raise ValueError(f"unknown fault {f!r}; choose from {FAULTS}")
        if rates and sum(rates.values()) > 1:
            raise ValueError(f"fault rates add up to {sum(rates.values()):.2f}; they must be at most 1")
        self._explicit = [f or "ok" for f in faults]
        self._rates = dict(rates or {})
        self._rng = random.Random(seed)
        self._then = then
        self._lock = threading.Lock()
        self.drawn: list[str] = []

    def next(self) -> str:
        """The fault for the next call (``"ok"`` for none)."""
        with self._lock:
            i = len(self.drawn)
            if i < len(self._explicit):
                fault = self._explicit[i]
            elif self._rates:
                x, acc, fault = self._rng.random(), 0.0, "ok"
                for name, rate in self._rates.items():
                    acc += rate
                    if x < acc:
                        fault = name
                        break
            else:
                fault = self._then
            self.drawn.append(fault)
            return fault


def _malform(text: str) -> str:
    """Damage an answer the way models do: wrap it in prose and cut off the end."""
    cut = max(1, len(text) * 2 // 3)
    return f"Sure! Here is the answer you asked for:\n{text[:cut]}"


class FaultyProvider(BaseProvider):
    """Wraps a provider and injects faults from a :class:`FaultSchedule` before (or instead of) calling it."""

    name = "faulty"

    def __init__(
        self,
        inner: BaseProvider,
        schedule: FaultSchedule | Sequence[str | None],
        *,
        retry_after: float | None = 1.0,
        slow_s: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.inner = inner
        self.model = inner.model
        self.schedule = schedule if isinstance(schedule, FaultSchedule) else FaultSchedule(schedule)
        self.retry_after = retry_after
        self.slow_s = slow_s
        self._sleep = sleep
        self.calls = 0

    def complete(self, messages: Sequence[Message], **params: Any) -> ChatResult:
        """Call the inner provider unless the schedule says this call fails."""
        self.calls += 1
        fault = self.schedule.next()
        if fault == "rate_limit":
            raise RateLimitError("429 Too Many Requests (injected)", retry_after=self.retry_after, status=429)
        if fault == "timeout":
            raise ProviderTimeout("request timed out (injected)")
        if fault == "server_error":
            raise ServerError("500 Internal Server Error (injected)", status=500)
        if fault == "bad_request":
            raise BadRequestError("400 Bad Request (injected)", status=400)
        if fault == "slow":
            self._sleep(self.slow_s)
        result = self.inner.complete(messages, **params)
        if fault == "malformed":
            choices = [c.model_copy(update={"text": _malform(c.text)}) for c in result.choices]
            result = result.model_copy(update={"choices": choices})
        return result


def faulty_handler(
    inner: Callable[[Any], Any],
    schedule: FaultSchedule | Sequence[str | None],
    *,
    retry_after: float | None = 1.0,
) -> Callable[[Any], Any]:
    """Wrap an ``httpx2.MockTransport`` handler so it answers 429 / 5xx / 400 / timeouts on a schedule.

    Used to drive the OpenAI adapter's retry logic through the real SDK (lesson 09).
    """
    import httpx2

    sched = schedule if isinstance(schedule, FaultSchedule) else FaultSchedule(schedule)

    def error(status: int, message: str, headers: dict[str, str] | None = None) -> Any:
        body = {"error": {"message": message, "type": "injected", "code": str(status)}}
        return httpx2.Response(status, headers=headers or {}, content=json.dumps(body).encode())

    def handler(request: Any) -> Any:
        fault = sched.next()
        if fault == "rate_limit":
            headers = {"content-type": "application/json"}
            if retry_after is not None:
                headers["retry-after"] = f"{retry_after:g}"
            return error(429, "Rate limit reached (injected)", headers)
        if fault == "server_error":
            return error(500, "The server had an error (injected)", {"content-type": "application/json"})
        if fault == "bad_request":
            return error(400, "Invalid request (injected)", {"content-type": "application/json"})
        if fault == "timeout":
            raise httpx2.ReadTimeout("injected timeout", request=request)
        return inner(request)

    handler.schedule = sched  # type: ignore[attr-defined]
    return handler
