"""Fault injection: a provider and an HTTP transport that fail on a seeded schedule (lessons 06 and 09).

Production LLM calls fail in a handful of ways: rate limits (429, often with ``retry-after``),
timeouts, server errors (5xx), malformed output and slow answers; and some fail *during* the answer:
a connection dropped mid-response, a stream cut short, a 200 whose body is not JSON, a server that
hangs past the timeout. These fakes reproduce them on a schedule that is either explicit
(``["rate_limit", "ok"]``) or drawn from a seeded RNG, so a test of retries, failover or budget
guards is repeatable.

The faults (:data:`FAULTS`): ``ok``; ``rate_limit`` (429 with ``retry_after``), ``rate_limit_long`` (429
asking for a day); ``timeout`` (fails at once), ``hang`` (waits ``hang_s``, then times out);
``server_error`` (500), ``unavailable`` (503), ``conflict`` (409), ``bad_request`` (400); ``drop`` (the
connection closes mid-answer: a stream yields its first piece first), ``truncated`` (the answer is
cut short: a stream ends without its finish reason), ``malformed_body`` (a 200 that is not a valid
response); ``malformed`` (the model's text wrapped in prose and cut off) and ``slow``.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from email.utils import formatdate
from typing import Any

from .base import (
    BadRequestError,
    BaseProvider,
    ChatResult,
    ConflictError,
    ConnectionDroppedError,
    IncompleteStreamError,
    MalformedResponseError,
    Message,
    ProviderTimeout,
    RateLimitError,
    ServerError,
    StreamChunk,
)

__all__ = [
    "FAULTS",
    "LONG_RETRY_AFTER",
    "FaultSchedule",
    "FaultyProvider",
    "faulty_handler",
]

FAULTS = (
    "ok",
    "rate_limit",
    "rate_limit_long",
    "timeout",
    "hang",
    "server_error",
    "unavailable",
    "conflict",
    "bad_request",
    "drop",
    "truncated",
    "malformed_body",
    "malformed",
    "slow",
)
#: The ``retry-after`` a ``rate_limit_long`` fault asks for: a day, far above any retry ceiling.
LONG_RETRY_AFTER = 86400.0


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

    def peek(self) -> str:
        """The fault the next call will get, without drawing it (an explicit entry, else ``"?"``)."""
        with self._lock:
            i = len(self.drawn)
            return self._explicit[i] if i < len(self._explicit) else ("?" if self._rates else self._then)

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
        hang_s: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.inner = inner
        self.hang_s = hang_s
        self.model = inner.model
        self.schedule = schedule if isinstance(schedule, FaultSchedule) else FaultSchedule(schedule)
        self.retry_after = retry_after
        self.slow_s = slow_s
        self._sleep = sleep
        self.calls = 0

    def _raise_before(self, fault: str) -> None:
        """Raise the error of a fault that fails the call before any answer arrives."""
        if fault == "rate_limit":
            raise RateLimitError("429 Too Many Requests (injected)", retry_after=self.retry_after, status=429)
        if fault == "rate_limit_long":
            raise RateLimitError("429 Too Many Requests (injected)", retry_after=LONG_RETRY_AFTER, status=429)
        if fault == "timeout":
            raise ProviderTimeout("request timed out (injected)")
        if fault == "hang":
            self._sleep(self.hang_s)
            raise ProviderTimeout(f"no answer within {self.hang_s:g} s: the server hung (injected)")
        if fault == "server_error":
            raise ServerError("500 Internal Server Error (injected)", status=500)
        if fault == "unavailable":
            raise ServerError("503 Service Unavailable (injected)", retry_after=self.retry_after, status=503)
        if fault == "conflict":
            raise ConflictError("409 Conflict (injected)", status=409)
        if fault == "bad_request":
            raise BadRequestError("400 Bad Request (injected)", status=400)
        if fault == "malformed_body":
            raise MalformedResponseError("the server answered 200 with a body that is not JSON (injected)")
        if fault == "slow":
            self._sleep(self.slow_s)

    def complete(self, messages: Sequence[Message], **params: Any) -> ChatResult:
        """Call the inner provider unless the schedule says this call fails."""
        self.calls += 1
        fault = self.schedule.next()
        self._raise_before(fault)
        if fault == "drop":
            raise ConnectionDroppedError("the connection closed before the whole answer arrived (injected)")
        if fault == "truncated":
            raise MalformedResponseError("the answer's body was cut short (injected)")
        result = self.inner.complete(messages, **params)
        if fault == "malformed":
            choices = [c.model_copy(update={"text": _malform(c.text)}) for c in result.choices]
            result = result.model_copy(update={"choices": choices})
        return result

    def stream(self, messages: Sequence[Message], **params: Any) -> Iterator[StreamChunk]:
        """Stream the inner provider's answer; ``drop`` and ``truncated`` fail after the first piece."""
        if self.schedule.peek() not in ("drop", "truncated"):
            yield from super().stream(messages, **params)
            return
        self.calls += 1
        fault = self.schedule.next()
        start = time.perf_counter()
        text = self.inner.complete(messages, **params).text
        piece = text[: max(1, len(text) // 2)]
        yield StreamChunk(delta=piece, elapsed_s=time.perf_counter() - start)
        if fault == "drop":
            raise ConnectionDroppedError(
                "the connection closed after part of the answer had reached the caller (injected)"
            )
        raise IncompleteStreamError(
            "the stream ended without a finish reason: the answer is cut short (injected)", partial=piece
        )


def faulty_handler(
    inner: Callable[[Any], Any],
    schedule: FaultSchedule | Sequence[str | None],
    *,
    retry_after: float | None = 1.0,
    retry_after_form: str = "seconds",
) -> Callable[[Any], Any]:
    """Wrap an ``httpx2.MockTransport`` handler so it injects the faults of :data:`FAULTS` on a schedule.

    429s carry ``retry_after`` as ``retry-after`` seconds, an HTTP date (``retry_after_form="date"``) or
    ``retry-after-ms`` (``"ms"``); ``drop`` breaks the body mid-way (a stream after its first event),
    ``truncated`` ends it early and cleanly (a stream without its finish reason and ``[DONE]``).
    Used to drive the OpenAI adapter's retry logic through the real SDK (lesson 09).
    """
    if retry_after_form not in ("seconds", "date", "ms"):
        raise ValueError(f"retry_after_form must be 'seconds', 'date' or 'ms', not {retry_after_form!r}")
    import httpx2

    sched = schedule if isinstance(schedule, FaultSchedule) else FaultSchedule(schedule)

    def error(status: int, message: str, headers: dict[str, str] | None = None) -> Any:
        body = {"error": {"message": message, "type": "injected", "code": str(status)}}
        return httpx2.Response(status, headers=headers or {}, content=json.dumps(body).encode())

    def handler(request: Any) -> Any:
        fault = sched.next()
        json_headers = {"content-type": "application/json"}
        if fault in ("rate_limit", "rate_limit_long"):
            headers = dict(json_headers)
            if fault == "rate_limit_long":
                headers["retry-after"] = f"{LONG_RETRY_AFTER:g}"
            elif retry_after is not None and retry_after_form == "ms":
                headers["retry-after-ms"] = f"{retry_after * 1000:g}"
            elif retry_after is not None and retry_after_form == "date":
                headers["retry-after"] = formatdate(time.time() + retry_after, usegmt=True)
            elif retry_after is not None:
                headers["retry-after"] = f"{retry_after:g}"
            return error(429, "Rate limit reached (injected)", headers)
        if fault == "server_error":
            return error(500, "The server had an error (injected)", json_headers)
        if fault == "unavailable":
            return error(503, "The server is overloaded (injected)", json_headers)
        if fault == "conflict":
            return error(409, "Conflict (injected)", json_headers)
        if fault == "bad_request":
            return error(400, "Invalid request (injected)", json_headers)
        if fault in ("timeout", "hang"):
            raise httpx2.ReadTimeout("injected timeout", request=request)
        if fault == "malformed_body":
            return httpx2.Response(
                200, headers=json_headers, content=b'{"id": "chatcmpl-x", "choices": [{"ind'
            )
        if fault in ("drop", "truncated"):
            return _cut(inner(request), request, drop=fault == "drop")
        return inner(request)

    handler.schedule = sched  # type: ignore[attr-defined]
    return handler


def _cut(response: Any, request: Any, *, drop: bool) -> Any:
    """The response with its body cut: broken mid-way (``drop``) or ended early and cleanly."""
    import httpx2

    body = response.read()
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        events = [e + b"\n\n" for e in body.split(b"\n\n") if e.strip()]
        first_text = next(
            (i for i, e in enumerate(events) if b'"content": "' in e and b'"content": ""' not in e), 0
        )
        kept = events[: first_text + 1]
    else:
        kept = [body[: max(1, len(body) // 2)]]

    def pieces() -> Iterator[bytes]:
        yield from kept
        if drop:
            raise httpx2.RemoteProtocolError(
                "peer closed connection without sending complete message body (injected)"
            )

    headers = {
        k: v for k, v in response.headers.items() if k.lower() not in ("content-length", "content-encoding")
    }
    return httpx2.Response(response.status_code, headers=headers, content=pieces(), request=request)
