"""The OpenAI adapter: the official ``openai`` SDK behind the provider interface (lesson 02).

Works with OpenAI itself, any OpenAI-compatible server (``base_url``: Ollama, vLLM, llama.cpp) and the
replay transport. The SDK's own retries are switched off; this adapter retries provider errors
(429, 5xx, timeouts, connection errors) with exponential backoff and jitter, honouring ``retry-after``,
and never retries a 400.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from .base import (
    BadRequestError,
    BaseProvider,
    ChatResult,
    Choice,
    Message,
    ProviderError,
    ProviderTimeout,
    RateLimitError,
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
    if headers is None:
        return None
    for name in ("retry-after-ms", "retry-after"):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value)
        except ValueError:
            return None
        return seconds / 1000 if name.endswith("ms") else seconds
    return None


def translate_error(exc: Exception, base_url: str = "") -> Exception:
    """Map an ``openai`` SDK exception to the course's provider errors (lesson 06); others pass through.

    Shared by every adapter built on the ``openai`` SDK (chat and raw completions).
    """
    import openai

    if isinstance(exc, openai.RateLimitError):
        after = _retry_after(exc.response.headers)
        return RateLimitError(f"rate limited (429): {exc}", retry_after=after, status=429)
    if isinstance(exc, openai.APITimeoutError):
        return ProviderTimeout(f"the server did not answer in time: {exc}")
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        if status >= 500:
            return ServerError(
                f"server error {status}: {exc}", retry_after=_retry_after(exc.response.headers), status=status
            )
        return BadRequestError(f"request rejected ({status}): {exc}", status=status)
    if isinstance(exc, openai.APIConnectionError):
        where = f" {base_url}" if base_url else ""
        return ServerError(f"could not reach the server{where}: {exc}; is it running?")
    return exc


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
        async_client: openai.AsyncOpenAI | None = None,
        name: str = "openai",
        retry: RetryPolicy | None = None,
        timeout: float | None = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        from ..retry import RetryPolicy

        self.client = client
        self.async_client = async_client
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

    def _should_retry(self, err: Exception, attempt: int) -> float | None:
        if not isinstance(err, ProviderError) or not err.retryable or attempt >= self.retry.max_attempts:
            return None
        delay = self.retry.delay(attempt, retry_after=err.retry_after)
        self.attempts.append(
            {"attempt": attempt, "error": type(err).__name__, "status": err.status, "delay_s": delay}
        )
        return delay

    # ----------------------------------------------------------------- interface

    def complete(self, messages: Sequence[Message], **params: Any) -> ChatResult:
        """Send the chat request; retry retryable provider errors; return a :class:`ChatResult`."""
        request = self._request(messages, params)
        attempt = 1
        while True:
            start = time.perf_counter()
            try:
                raw = self.client.chat.completions.with_raw_response.create(**request)
                return self._result(raw.parse(), raw.headers, time.perf_counter() - start)
            except Exception as exc:
                err = translate_error(exc)
                delay = self._should_retry(err, attempt)
                if delay is None:
                    if err is exc:
                        raise
                    raise err from exc
            self._sleep(delay)
            attempt += 1

    async def acomplete(self, messages: Sequence[Message], **params: Any) -> ChatResult:
        """Async form of :meth:`complete` (uses the async SDK client when one was given)."""
        if self.async_client is None:
            return await super().acomplete(messages, **params)
        import asyncio

        request = self._request(messages, params)
        attempt = 1
        while True:
            start = time.perf_counter()
            try:
                raw = await self.async_client.chat.completions.with_raw_response.create(**request)
                return self._result(raw.parse(), raw.headers, time.perf_counter() - start)
            except Exception as exc:
                err = translate_error(exc)
                delay = self._should_retry(err, attempt)
                if delay is None:
                    if err is exc:
                        raise
                    raise err from exc
            await asyncio.sleep(delay) if self._sleep is time.sleep else self._sleep(delay)
            attempt += 1

    def stream(self, messages: Sequence[Message], **params: Any) -> Iterator[StreamChunk]:
        """Stream the answer piece by piece; the last chunk carries the assembled result and usage."""
        request = self._request(messages, params)
        request["stream"] = True
        request["stream_options"] = {"include_usage": True}
        start = time.perf_counter()
        try:
            raw = self.client.chat.completions.with_raw_response.create(**request)
            events = raw.parse()
        except Exception as exc:
            err = translate_error(exc)
            if err is exc:
                raise
            raise err from exc
        yield from self._assemble(events, raw.headers, start, request)

    def _assemble(
        self, events: Any, headers: Any, start: float, request: dict[str, Any]
    ) -> Iterator[StreamChunk]:
        assembler = _StreamAssembler(self.name, headers, start, request)
        for event in events:
            yield from assembler.feed(event)
        yield assembler.finish()

    async def astream(self, messages: Sequence[Message], **params: Any) -> AsyncIterator[StreamChunk]:
        """Async streaming (uses the async SDK client when one was given)."""
        if self.async_client is None:
            async for chunk in super().astream(messages, **params):
                yield chunk
            return
        request = self._request(messages, params)
        request["stream"] = True
        request["stream_options"] = {"include_usage": True}
        start = time.perf_counter()
        raw = await self.async_client.chat.completions.with_raw_response.create(**request)
        events = await raw.parse()
        assembler = _StreamAssembler(self.name, raw.headers, start, request)
        async for event in events:
            for chunk in assembler.feed(event):
                yield chunk
        yield assembler.finish()


class _StreamAssembler:
    """Turns ``chat.completion.chunk`` events into stream chunks and, at the end, one ChatResult."""

    def __init__(self, name: str, headers: Any, start: float, request: dict[str, Any] | None = None) -> None:
        self.name, self.headers, self.start = name, headers, start
        self.request = request or {}
        self.texts: dict[int, list[str]] = {}
        self.finish_reasons: dict[int, str | None] = {}
        self.logprobs: dict[int, list[TokenLogprob]] = {}
        self.usage: Any = None
        self.model = ""

    def feed(self, event: Any) -> list[StreamChunk]:
        """Absorb one event; return the text pieces it carried."""
        out: list[StreamChunk] = []
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
        """The final chunk, carrying the assembled result."""
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
        if self.usage is None and self.request.get("messages"):
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
