"""The OpenAI adapter: the official ``openai`` SDK behind the provider interface (lesson 02).

Works with OpenAI itself, any OpenAI-compatible server (``base_url``: Ollama, vLLM, llama.cpp) and the
replay transport. The SDK's own retries are switched off; this adapter retries provider errors
(429, 408, 409, 5xx, timeouts, dropped connections, malformed bodies) with exponential backoff and
jitter, honouring ``retry-after`` up to the policy's ceiling (:mod:`course_lib.retry`), and never
retries another 4xx. Streams are retried the same way until their first piece reaches the caller;
after that a failure is raised at once. A stream that ends without its finish reason is an error,
never a short answer. Every failure a caller meets is a :class:`~course_lib.providers.base.ProviderError`
whose message ends with how many attempts were made and why there was no other.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import weakref
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from .base import (
    BadRequestError,
    BaseProvider,
    ChatResult,
    Choice,
    ConflictError,
    ConnectionDroppedError,
    IncompleteStreamError,
    MalformedResponseError,
    Message,
    ProviderError,
    ProviderTimeout,
    RateLimitError,
    RetryAfterTooLongError,
    ServerError,
    StreamChunk,
    TokenLogprob,
    Usage,
    check_params,
    validate_messages,
)

if TYPE_CHECKING:  # pragma: no cover
    import openai

    from ..retry import RetryPolicy


__all__ = [
    "OpenAIProvider",
    "translate_error",
]


def _retry_after(headers: Any) -> float | None:
    from ..retry import parse_retry_after

    return parse_retry_after(headers)


def _transport_error(exc: BaseException) -> BaseException | None:
    """The httpx2 transport error behind ``exc`` (itself, or its cause), if any."""
    import httpx2

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, httpx2.TransportError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def translate_error(exc: Exception, base_url: str = "") -> Exception:
    """Map an SDK, transport or parsing failure to the course's provider errors (lesson 06); others pass through.

    Shared by every adapter built on the ``openai`` SDK (chat and raw completions): 429 is a
    :class:`RateLimitError` (with ``retry-after`` read in both forms), 408 a timeout, 409 a
    :class:`ConflictError`, 5xx a :class:`ServerError`, any other 4xx a :class:`BadRequestError`; a
    connection that never opened is a :class:`ServerError`, one dropped after the request was sent a
    :class:`ConnectionDroppedError`, and a 200 whose body is not a valid response a
    :class:`MalformedResponseError`.
    """
    import httpx2
    import openai
    import pydantic

    where = f" {base_url}" if base_url else ""
    if isinstance(exc, ProviderError):
        return exc
    if isinstance(exc, openai.RateLimitError):
        after = _retry_after(exc.response.headers)
        return RateLimitError(f"rate limited (429): {exc}", retry_after=after, status=429)
    if isinstance(exc, (openai.APITimeoutError, httpx2.TimeoutException)):
        return ProviderTimeout(f"the server{where} did not answer in time: {exc or type(exc).__name__}")
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        after = _retry_after(exc.response.headers)
        if status == 408:
            return ProviderTimeout(
                f"the server timed out reading the request (408): {exc}", status=408, sent=False
            )
        if status == 409:
            return ConflictError(f"conflict (409), try again: {exc}", retry_after=after, status=409)
        if status >= 500:
            return ServerError(f"server error {status}: {exc}", retry_after=after, status=status)
        return BadRequestError(f"request rejected ({status}): {exc}", status=status)
    if isinstance(exc, openai.APIConnectionError | httpx2.TransportError):
        cause = _transport_error(exc)
        if isinstance(cause, httpx2.TimeoutException):
            return ProviderTimeout(
                f"the server{where} did not answer in time: {cause or type(cause).__name__}"
            )
        if cause is None or isinstance(cause, httpx2.ConnectError):
            return ServerError(f"could not reach the server{where}: {exc}; is it running?", sent=False)
        return ConnectionDroppedError(
            f"the connection to{where or ' the server'} closed before the whole answer arrived "
            f"({type(cause).__name__}: {cause})"
        )
    if isinstance(exc, openai.APIResponseValidationError | json.JSONDecodeError | pydantic.ValidationError):
        return MalformedResponseError(
            f"the server{where} answered 200 with a body that is not a valid response ({type(exc).__name__}: "
            f"{str(exc)[:200]})"
        )
    if isinstance(exc, openai.APIError):  # an error event inside a stream
        return ServerError(f"the server{where} reported an error: {exc}", sent=True)
    return exc


def _check_completion(parsed: Any) -> Any:
    """The parsed body if it is a chat completion with choices; :class:`MalformedResponseError` otherwise."""
    choices = getattr(parsed, "choices", None)
    if (
        not isinstance(choices, list)
        or not choices
        or any(getattr(c, "message", None) is None for c in choices)
    ):
        shown = parsed if isinstance(parsed, str) else type(parsed).__name__
        raise MalformedResponseError(
            f"the server answered 200 with a body that is not a chat completion (no choices): {str(shown)[:200]!r}"
        )
    return parsed


def _logprobs(choice: Any) -> list[TokenLogprob] | None:
    lp = getattr(choice, "logprobs", None)
    content = getattr(lp, "content", None) if lp is not None else None
    if not content:
        return None
    return [
        TokenLogprob(
            token=t.token,
            logprob=t.logprob,
            top={x.token: x.logprob for x in (getattr(t, "top_logprobs", None) or [])},
        )
        for t in content
    ]


def _usage(usage: Any, headers: Any = None) -> Usage:
    computed = headers is not None and headers.get("x-course-usage") == "computed"
    if usage is None:
        return Usage()
    details = getattr(usage, "prompt_tokens_details", None)
    cached = getattr(details, "cached_tokens", 0) if details is not None else 0
    # Reasoning models report their hidden reasoning inside completion_tokens, broken out here.
    out_details = getattr(usage, "completion_tokens_details", None)
    reasoning = getattr(out_details, "reasoning_tokens", 0) if out_details is not None else 0
    return Usage(
        prompt_tokens=usage.prompt_tokens or 0,
        completion_tokens=usage.completion_tokens or 0,
        cached_tokens=cached or 0,
        reasoning_tokens=reasoning or 0,
        computed=computed,
    )


class OpenAIProvider(BaseProvider):
    """Chat completions through the official SDK, with retries, usage, logprobs and streaming (lesson 02)."""

    def __init__(
        self,
        client: openai.OpenAI,
        *,
        model: str,
        async_client: openai.AsyncOpenAI | Callable[[], openai.AsyncOpenAI] | None = None,
        name: str = "openai",
        retry: RetryPolicy | None = None,
        timeout: float | None = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        token_counter: Callable[[list[dict[str, Any]], list[str], str], Usage | None] | None = None,
    ) -> None:
        from ..retry import RetryPolicy

        self.client = client
        # An async client's connections belong to the event loop that opened them; given a factory,
        # each event loop (each asyncio.run) gets its own client.
        self._async_factory = (
            async_client if callable(async_client) and not hasattr(async_client, "chat") else None
        )
        self._async_clients: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
        self.async_client = self._async_factory() if self._async_factory is not None else async_client
        self._first_loop_client = self.async_client
        self.token_counter = token_counter
        """Counts usage when a stream carries none (e.g. the serving model's own tokenizer), marked computed."""
        self.model = model
        self.name = name
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self._sleep = sleep
        self.attempts: list[dict[str, Any]] = []
        """Every failed attempt: error type, status and the delay waited before the next one."""

    # ----------------------------------------------------------------- helpers

    def _request(self, messages: Sequence[Message], params: dict[str, Any]) -> dict[str, Any]:
        msgs = validate_messages(messages)
        params = check_params(params)
        timeout = params.pop("timeout", self.timeout)
        model = params.pop("model", None) or self.model
        return {"model": model, "messages": msgs, "timeout": timeout, **params}

    def _result(self, raw: Any, headers: Any, latency: float) -> ChatResult:
        choices = [
            Choice(
                text=c.message.content or "",
                finish_reason=c.finish_reason,
                logprobs=_logprobs(c),
                tool_calls=[t.model_dump() for t in c.message.tool_calls] if c.message.tool_calls else None,
            )
            for c in raw.choices
        ]
        return ChatResult(
            choices=choices,
            usage=_usage(raw.usage, headers),
            model=raw.model or "",
            latency_s=latency,
            provider=self.name,
            source=(headers.get("x-course-source") if headers is not None else None) or "live",
            raw=raw,
        )

    def _base_url(self) -> str:
        return str(getattr(self.client, "base_url", "") or "")

    def _next_delay(self, exc: Exception, attempt: int, elapsed: float, *, started: bool = False) -> float:
        """The pause before the next attempt after ``exc``; raises the caller-facing error when there is none."""
        err = translate_error(exc, self._base_url())
        if not isinstance(err, ProviderError):
            raise exc
        cause = None if err is exc else exc
        if started:
            raise err.gave_up(
                attempt, "part of the answer had already reached the caller, so it was not retried"
            ) from cause
        if not err.retryable:
            why = f"a {err.status} is not retried" if err.status else "this error is not retried"
            raise err.gave_up(attempt, f"{why}; fix the request") from cause
        if attempt >= self.retry.max_attempts:
            raise err.gave_up(
                attempt, f"no attempts left (max_attempts={self.retry.max_attempts})"
            ) from cause
        try:
            delay = self.retry.plan_wait(attempt, err.retry_after, elapsed=elapsed)
        except RetryAfterTooLongError as too_long:
            raise too_long.gave_up(attempt, f"after {type(err).__name__}: {err}") from err
        self.attempts.append(
            {"attempt": attempt, "error": type(err).__name__, "status": err.status, "delay_s": delay}
        )
        return delay

    def _should_retry(self, err: Exception, attempt: int) -> float | None:
        """The pause before the next attempt, or None when ``err`` ends the call (kept for subclasses)."""
        try:
            return self._next_delay(err, attempt, 0.0)
        except Exception:
            return None

    async def _asleep(self, delay: float) -> None:
        if self._sleep is time.sleep:
            await asyncio.sleep(delay)
        else:
            result = self._sleep(delay)
            if asyncio.iscoroutine(result):
                await result

    def _aclient(self) -> Any:
        """The async SDK client for the running event loop."""
        if self._async_factory is None:
            return self.async_client
        loop = asyncio.get_running_loop()
        client = self._async_clients.get(loop)
        if client is None:
            if self._first_loop_client is not None:
                client, self._first_loop_client = self._first_loop_client, None
            else:
                client = self._async_factory()
            self._async_clients[loop] = client
        return client

    # ----------------------------------------------------------------- interface

    def complete(self, messages: Sequence[Message], **params: Any) -> ChatResult:
        """Send the chat request; retry retryable provider errors; return a :class:`ChatResult`."""
        request = self._request(messages, params)
        began = time.perf_counter()
        attempt = 1
        while True:
            start = time.perf_counter()
            try:
                raw = self.client.chat.completions.with_raw_response.create(**request)
                parsed = _check_completion(raw.parse())
                return self._result(parsed, raw.headers, time.perf_counter() - start)
            except Exception as exc:
                delay = self._next_delay(exc, attempt, time.perf_counter() - began)
            self._sleep(delay)
            attempt += 1

    async def acomplete(self, messages: Sequence[Message], **params: Any) -> ChatResult:
        """Async form of :meth:`complete` (uses the async SDK client when one was given)."""
        if self.async_client is None:
            return await super().acomplete(messages, **params)
        request = self._request(messages, params)
        began = time.perf_counter()
        attempt = 1
        while True:
            start = time.perf_counter()
            try:
                raw = await self._aclient().chat.completions.with_raw_response.create(**request)
                parsed = _check_completion(raw.parse())
                return self._result(parsed, raw.headers, time.perf_counter() - start)
            except Exception as exc:
                delay = self._next_delay(exc, attempt, time.perf_counter() - began)
            await self._asleep(delay)
            attempt += 1

    def _stream_request(self, messages: Sequence[Message], params: dict[str, Any]) -> dict[str, Any]:
        request = self._request(messages, params)
        request["stream"] = True
        request["stream_options"] = {"include_usage": True}
        return request

    def stream(self, messages: Sequence[Message], **params: Any) -> Iterator[StreamChunk]:
        """Stream the answer piece by piece; the last chunk carries the assembled result and usage.

        Retried like :meth:`complete` until the first piece reaches the caller; a failure after that,
        or a stream that ends without its finish reason, raises a :class:`ProviderError` at once.
        """
        request = self._stream_request(messages, params)
        began = time.perf_counter()
        attempt, started = 1, False
        while True:
            start = time.perf_counter()
            events: Any = None
            try:
                raw = self.client.chat.completions.with_raw_response.create(**request)
                events = raw.parse()
                assembler = _StreamAssembler(self.name, raw.headers, start, request, self)
                for event in events:
                    for chunk in assembler.feed(event):
                        started = True
                        yield chunk
                final = assembler.finish()
            except Exception as exc:
                delay = self._next_delay(exc, attempt, time.perf_counter() - began, started=started)
            else:
                yield final
                return
            finally:
                _close(events)
            self._sleep(delay)
            attempt += 1

    async def astream(self, messages: Sequence[Message], **params: Any) -> AsyncIterator[StreamChunk]:
        """Async streaming (uses the async SDK client when one was given); retried like :meth:`stream`."""
        if self.async_client is None:
            async for chunk in super().astream(messages, **params):
                yield chunk
            return
        request = self._stream_request(messages, params)
        began = time.perf_counter()
        attempt, started = 1, False
        while True:
            start = time.perf_counter()
            events: Any = None
            try:
                raw = await self._aclient().chat.completions.with_raw_response.create(**request)
                events = raw.parse()
                assembler = _StreamAssembler(self.name, raw.headers, start, request, self)
                async for event in events:
                    for chunk in assembler.feed(event):
                        started = True
                        yield chunk
                final = assembler.finish()
            except Exception as exc:
                delay = self._next_delay(exc, attempt, time.perf_counter() - began, started=started)
            else:
                yield final
                return
            finally:
                await _aclose(events)
            await self._asleep(delay)
            attempt += 1


def _close(events: Any) -> None:
    close = getattr(events, "close", None)
    if close is not None:
        # Closing a broken connection can fail again; the first error is the one that matters.
        with contextlib.suppress(Exception):
            close()


async def _aclose(events: Any) -> None:
    close = getattr(events, "close", None)
    if close is not None:
        with contextlib.suppress(Exception):
            await close()


class _StreamAssembler:
    """Turns ``chat.completion.chunk`` events into stream chunks and, at the end, one ChatResult."""

    def __init__(
        self,
        name: str,
        headers: Any,
        start: float,
        request: dict[str, Any] | None = None,
        provider: OpenAIProvider | None = None,
    ) -> None:
        self.name, self.headers, self.start = name, headers, start
        self.request = request or {}
        self.provider = provider
        self.events = 0
        self.texts: dict[int, list[str]] = {}
        self.finish_reasons: dict[int, str | None] = {}
        self.logprobs: dict[int, list[TokenLogprob]] = {}
        self.usage: Any = None
        self.model = ""

    def feed(self, event: Any) -> list[StreamChunk]:
        """Absorb one event; return the text pieces it carried."""
        out: list[StreamChunk] = []
        if not hasattr(event, "choices") or not isinstance(event.choices, list):
            raise MalformedResponseError(
                f"the stream sent an event that is not a completion chunk: {str(event)[:200]!r}"
            )
        self.events += 1
        self.model = event.model or self.model
        if event.usage is not None:
            self.usage = event.usage
        for c in event.choices:
            self.texts.setdefault(c.index, [])
            if c.finish_reason:
                self.finish_reasons[c.index] = c.finish_reason
            lps = _logprobs(c)
            if lps:
                self.logprobs.setdefault(c.index, []).extend(lps)
            piece = c.delta.content if c.delta is not None else None
            if piece:
                self.texts[c.index].append(piece)
                out.append(StreamChunk(delta=piece, elapsed_s=time.perf_counter() - self.start))
        return out

    def finish(self) -> StreamChunk:
        """The final chunk, carrying the assembled result; :class:`IncompleteStreamError` if the stream was cut."""
        if not self.texts:
            raise IncompleteStreamError(
                f"the stream ended after {self.events} event(s) without any answer: the server sent no choices"
            )
        unfinished = [i for i in sorted(self.texts) if not self.finish_reasons.get(i)]
        if unfinished:
            partial = "".join(self.texts[unfinished[0]])
            raise IncompleteStreamError(
                f"the stream ended without a finish reason for choice {unfinished[0]} after {len(partial)} "
                "characters: the answer is cut short, so it is not returned as a success",
                partial=partial,
            )
        choices = [
            Choice(
                text="".join(self.texts[i]),
                finish_reason=self.finish_reasons.get(i),
                logprobs=self.logprobs.get(i),
            )
            for i in sorted(self.texts)
        ] or [Choice(text="")]
        source = (self.headers.get("x-course-source") if self.headers is not None else None) or "live"
        usage = _usage(self.usage, self.headers)
        counter = self.provider.token_counter if self.provider is not None else None
        if self.usage is None and self.request.get("messages") and counter is not None:
            # The serving model's own tokenizer, when the provider knows how to reach it.
            try:
                counted_usage = counter(self.request["messages"], [c.text for c in choices], self.model)
            except Exception:  # counting must never fail the answer; tiktoken below is the fallback
                counted_usage = None
            if counted_usage is not None:
                usage = counted_usage.model_copy(update={"computed": True})
        if self.usage is None and self.request.get("messages") and not usage.computed:
            # Some servers (llama.cpp) send no usage in streams: count it with tiktoken, marked computed.
            from course_lib.providers.replay.responses import computed_usage

            counted = computed_usage(
                {"choices": [{"message": {"content": c.text}} for c in choices]},
                model=self.model or str(self.request.get("model", "")),
                messages=self.request["messages"],
            )
            usage = Usage(
                prompt_tokens=counted["prompt_tokens"],
                completion_tokens=counted["completion_tokens"],
                computed=True,
            )
        result = ChatResult(
            choices=choices,
            usage=usage,
            model=self.model,
            latency_s=time.perf_counter() - self.start,
            provider=self.name,
            source=source,
        )
        return StreamChunk(done=True, result=result, elapsed_s=result.latency_s)
