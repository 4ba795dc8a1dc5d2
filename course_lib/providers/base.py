"""The provider interface every model call in the course goes through (lesson 02).

A provider turns a list of chat messages plus sampling parameters into a :class:`ChatResult`.
Components never build providers themselves: they receive one (dependency injection), so a
lesson can pass the replay provider, a test a scripted one, and production a real one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ANSWER_PARAMS",
    "KNOWN_PARAMS",
    "BadRequestError",
    "BaseProvider",
    "ChatResult",
    "Choice",
    "ConfigurationError",
    "ConflictError",
    "ConnectionDroppedError",
    "IncompleteStreamError",
    "MalformedResponseError",
    "Message",
    "ProviderError",
    "ProviderTimeout",
    "RateLimitError",
    "RetryAfterTooLongError",
    "Role",
    "ServerError",
    "StreamChunk",
    "TokenLogprob",
    "Usage",
    "check_params",
    "provider_label",
    "validate_messages",
]

Role = Literal["system", "user", "assistant", "tool", "developer"]
Message = Mapping[str, Any]
"""A chat message: at least ``role`` and ``content`` (OpenAI's shape)."""

#: Request parameters that change the answer: the one list that request keys (replay, the prompt cache)
#: are built from.
ANSWER_PARAMS: tuple[str, ...] = (
    "temperature",
    "top_p",
    "max_tokens",
    "n",
    "stop",
    "seed",
    "response_format",
    "tools",
    "tool_choice",
    "logprobs",
    "top_logprobs",
    "presence_penalty",
    "frequency_penalty",
)

#: Parameters a provider understands (the answer-changing ones and ``timeout``); anything else is
#: rejected with a clear error.
KNOWN_PARAMS = frozenset((*ANSWER_PARAMS, "timeout"))


class Usage(BaseModel):
    """Token usage of one call: prompt, completion, cached prompt and reasoning tokens (lesson 02)."""

    model_config = ConfigDict(frozen=True)

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    """Hidden reasoning a reasoning model generated: already part of ``completion_tokens`` (lesson 04)."""
    computed: bool = False
    """True when the server sent no usage and the numbers were counted with tiktoken."""

    @property
    def total_tokens(self) -> int:
        """Prompt plus completion tokens."""
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            cached_tokens=self.cached_tokens + other.cached_tokens,
            reasoning_tokens=self.reasoning_tokens + other.reasoning_tokens,
            computed=self.computed or other.computed,
        )


class TokenLogprob(BaseModel):
    """One generated token with its log-probability (lesson 05)."""

    model_config = ConfigDict(frozen=True)

    token: str
    logprob: float
    top: dict[str, float] = Field(default_factory=dict)


class Choice(BaseModel):
    """One of the ``n`` completions a call returned (lesson 05)."""

    model_config = ConfigDict(frozen=True)

    text: str
    finish_reason: str | None = None
    logprobs: list[TokenLogprob] | None = None
    tool_calls: list[dict[str, Any]] | None = None


class ChatResult(BaseModel):
    """What a provider returns: the text, usage, model, finish reason, latency and raw response (lesson 02)."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    choices: list[Choice]
    usage: Usage = Field(default_factory=Usage)
    model: str = ""
    latency_s: float = 0.0
    provider: str = ""
    source: str = "live"
    """Where the answer came from: ``live``, ``recorded`` (replayed from a real model) or ``scripted``."""
    raw: Any = Field(default=None, repr=False, exclude=True)

    @property
    def text(self) -> str:
        """The first choice's text."""
        return self.choices[0].text if self.choices else ""

    @property
    def texts(self) -> list[str]:
        """Every choice's text, in order."""
        return [c.text for c in self.choices]

    @property
    def finish_reason(self) -> str | None:
        """The first choice's finish reason (``stop``, ``length``, ``tool_calls`` …)."""
        return self.choices[0].finish_reason if self.choices else None


class StreamChunk(BaseModel):
    """One piece of a streamed answer; the last chunk has ``done=True`` and the full ``result`` (lesson 04)."""

    model_config = ConfigDict(frozen=True)

    delta: str = ""
    done: bool = False
    result: ChatResult | None = None
    elapsed_s: float = 0.0


# --------------------------------------------------------------------------- errors


class ProviderError(Exception):
    """A model call failed for a reason outside the prompt: network, quota, server (lesson 06).

    ``retryable`` says whether trying again can help; ``attempts_made`` how many attempts the call made
    before this error was raised (1 means it was not retried), and :attr:`retried` says so in words.
    ``sent`` is True when the request reached the server, which may have generated (and billed) the
    answer before the failure: budget guards charge such calls their reserved estimate (lesson 08).
    """

    retryable: bool = False
    sent: bool = False

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        status: int | None = None,
        sent: bool | None = None,
    ):
        super().__init__(message)
        self.retry_after = retry_after
        self.status = status
        self.attempts_made = 1
        if sent is not None:
            self.sent = sent

    @property
    def retried(self) -> bool:
        """True when the call was tried more than once before this error was raised."""
        return self.attempts_made > 1

    def gave_up(self, attempts: int, why: str) -> ProviderError:
        """Note how many attempts were made and why there was no further one; return ``self``.

        The reason is appended to the message, so a caller reading only ``str(error)`` learns
        whether the call was retried.
        """
        self.attempts_made = attempts
        tries = "1 attempt, not retried" if attempts == 1 else f"{attempts} attempts"
        self.args = (f"{self.args[0] if self.args else ''} [{tries}: {why}]",)
        return self


class RateLimitError(ProviderError):
    """HTTP 429: slow down, honour ``retry_after`` when the server sent it."""

    retryable = True


class ProviderTimeout(ProviderError):
    """The call took longer than its timeout (or the server answered 408)."""

    retryable = True
    sent = True


class ServerError(ProviderError):
    """HTTP 5xx from the model server, or the server could not be reached."""

    retryable = True


class ConflictError(ProviderError):
    """HTTP 409: the server was busy with a conflicting request; trying again can help."""

    retryable = True


class ConnectionDroppedError(ServerError):
    """The connection closed after the request was sent, before the whole answer arrived."""

    sent = True


class MalformedResponseError(ProviderError):
    """The server answered 200 with a body that is not a valid response (broken JSON, missing fields)."""

    retryable = True
    sent = True


class IncompleteStreamError(ProviderError):
    """A streamed answer ended without its finish reason or ``[DONE]``, or carried no events at all.

    Retried only while nothing has reached the caller; after the first piece it is raised at once,
    and ``partial`` holds the text that did arrive.
    """

    retryable = True
    sent = True

    def __init__(self, message: str, *, partial: str = "", **kw: Any) -> None:
        super().__init__(message, **kw)
        self.partial = partial


class RetryAfterTooLongError(ProviderError):
    """The server asked to wait longer than the retry ceiling or the call's deadline allows (lesson 09).

    Raised at once instead of sleeping; ``retry_after`` is what the server asked for.
    """


class BadRequestError(ProviderError):
    """HTTP 4xx other than 408, 409 and 429: the request itself is wrong; retrying cannot help."""


class ConfigurationError(ValueError):
    """The provider cannot be built from the configuration given; the message says what to set."""


# --------------------------------------------------------------------------- base class


def validate_messages(messages: Sequence[Message]) -> list[dict[str, Any]]:
    """Check a message list and return it as plain dicts; raise ``ValueError`` saying what is wrong."""
    if isinstance(messages, str):
        raise ValueError("messages must be a list of {'role': ..., 'content': ...} dicts, not a string")
    out = [dict(m) for m in messages]
    if not out:
        raise ValueError("messages is empty: pass at least one {'role': 'user', 'content': ...} message")
    for i, m in enumerate(out):
        if "role" not in m:
            raise ValueError(f"message {i} has no 'role' (expected system, user, assistant or tool)")
        if m["role"] not in ("system", "user", "assistant", "tool", "developer"):
            raise ValueError(f"message {i} has unknown role {m['role']!r}")
        if m.get("content") is None and not m.get("tool_calls"):
            raise ValueError(f"message {i} ({m['role']}) has no content")
    if not any(str(m.get("content") or "").strip() for m in out):
        raise ValueError("every message is empty: the prompt has nothing for the model to answer")
    return out


def provider_label(provider: Any) -> str:
    """``name:model`` of a provider (or its class name), for logs, metrics and failover reports."""
    name = getattr(provider, "name", type(provider).__name__)
    model = getattr(provider, "model", "")
    return f"{name}:{model}" if model else str(name)


def check_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Reject unknown sampling parameters with a message that lists the known ones."""
    unknown = sorted(set(params) - KNOWN_PARAMS)
    if unknown:
        raise TypeError(f"unknown parameter(s) {unknown}; known: {sorted(KNOWN_PARAMS)}")
    return {k: v for k, v in params.items() if v is not None}


class BaseProvider:
    """Shared behaviour: the async and streaming forms fall back on ``complete`` (lesson 02)."""

    name: str = "base"
    model: str = ""

    def complete(self, messages: Sequence[Message], **params: Any) -> ChatResult:
        """Send ``messages`` and return the model's answer."""
        raise NotImplementedError

    async def acomplete(self, messages: Sequence[Message], **params: Any) -> ChatResult:
        """Async form of :meth:`complete` (runs it in a worker thread unless overridden)."""
        return await asyncio.to_thread(self.complete, messages, **params)

    def stream(self, messages: Sequence[Message], **params: Any) -> Iterator[StreamChunk]:
        """Yield the answer in pieces; the last chunk carries the whole :class:`ChatResult`."""
        start = time.perf_counter()
        result = self.complete(messages, **params)
        yield StreamChunk(delta=result.text, elapsed_s=time.perf_counter() - start)
        yield StreamChunk(done=True, result=result, elapsed_s=time.perf_counter() - start)

    async def astream(self, messages: Sequence[Message], **params: Any) -> AsyncIterator[StreamChunk]:
        """Async form of :meth:`stream`."""
        for chunk in await asyncio.to_thread(lambda: list(self.stream(messages, **params))):
            yield chunk

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={self.model!r})"
