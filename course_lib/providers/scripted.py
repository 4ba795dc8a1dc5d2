"""A scripted fake provider: answers from a queue or a function, and remembers every call (lesson 00).

Tests and graders inject it to check behaviour ("does the loop re-ask with the error?") without a
model. Its answers are marked ``source="scripted"``: they are ours, not a model's.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..tokens import count_message_tokens, count_tokens
from .base import BaseProvider, ChatResult, Choice, Message, Usage, check_params, validate_messages

__all__ = [
    "Call",
    "Reply",
    "Responder",
    "ScriptExhaustedError",
    "ScriptedProvider",
]

Reply = str | ChatResult | BaseException
Responder = Callable[[list[dict[str, Any]], dict[str, Any]], Reply]


@dataclass(frozen=True)
class Call:
    """One request a fake provider received."""

    messages: list[dict[str, Any]]
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def last_user(self) -> str:
        """Content of the last user message (handy in assertions)."""
        for m in reversed(self.messages):
            if m.get("role") == "user":
                return str(m.get("content") or "")
        return ""


class ScriptExhaustedError(RuntimeError):
    """A scripted provider was called more times than it has replies."""


class ScriptedProvider(BaseProvider):
    """Answers from a list of replies (str, ChatResult or an exception to raise) or a function of the request.

    ``ScriptedProvider(["first", "second"])`` answers two calls in order;
    ``ScriptedProvider(lambda messages, params: "ok")`` answers every call from the function.
    A reply that is an exception instance is raised instead of answered (to script failures).
    """

    name = "scripted"

    def __init__(
        self,
        replies: Iterable[Reply] | Responder,
        *,
        model: str = "scripted-model",
        repeat_last: bool = False,
    ) -> None:
        self.model = model
        self._lock = threading.Lock()
        if callable(replies):
            self._responder: Responder | None = replies
            self._queue: deque[Reply] = deque()
        else:
            self._responder = None
            self._queue = deque(replies)
        self._repeat_last = repeat_last
        self._last: Reply | None = None
        self.calls: list[Call] = []

    @property
    def remaining(self) -> int:
        """How many queued replies are left."""
        return len(self._queue)

    def _next_reply(self, messages: list[dict[str, Any]], params: dict[str, Any]) -> Reply:
        if self._responder is not None:
            return self._responder(messages, params)
        with self._lock:
            if self._queue:
                self._last = self._queue.popleft()
                return self._last
            if self._repeat_last and self._last is not None:
                return self._last
        raise ScriptExhaustedError(
            f"ScriptedProvider ran out of replies after {len(self.calls) - 1} call(s); "
            "give it more replies, a function, or repeat_last=True"
        )

    def complete(self, messages: Sequence[Message], **params: Any) -> ChatResult:
        """Record the call and return the next scripted reply (or raise it, if it is an exception)."""
        msgs = validate_messages(messages)
        params = check_params(params)
        start = time.perf_counter()
        with self._lock:
            self.calls.append(Call(msgs, dict(params)))
        reply = self._next_reply(msgs, params)
        if isinstance(reply, BaseException):
            raise reply
        if isinstance(reply, ChatResult):
            return reply
        text = str(reply)
        n = int(params.get("n", 1) or 1)
        usage = Usage(
            prompt_tokens=count_message_tokens(msgs, "gpt-4o"),
            completion_tokens=count_tokens(text) * n,
            computed=True,
        )
        return ChatResult(
            choices=[Choice(text=text, finish_reason="stop") for _ in range(n)],
            usage=usage,
            model=self.model,
            latency_s=time.perf_counter() - start,
            provider=self.name,
            source="scripted",
        )
