"""The Anthropic adapter: the official ``anthropic`` SDK behind the provider interface (lesson 02).

Anthropic's Messages API differs from OpenAI's chat format in ways business code should never see: the
system prompt is a separate ``system=`` field, turns must alternate, ``max_tokens`` is required, usage
counts cached prompt tokens separately, the stop reasons have other names, and tools are declared with
an ``input_schema`` and called in ``tool_use`` blocks answered by ``tool_result`` blocks in a user turn.
This adapter does each translation in one place. The SDK is a core dependency, imported only when an :class:`AnthropicProvider` is built.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from types import SimpleNamespace
from typing import Any

from .base import (
    BadRequestError,
    BaseProvider,
    ChatResult,
    Choice,
    ConfigurationError,
    Message,
    ProviderTimeout,
    RateLimitError,
    ServerError,
    StreamChunk,
    Usage,
    check_params,
    validate_messages,
)

__all__ = [
    "FINISH_REASONS",
    "AnthropicProvider",
    "MissingDependencyError",
    "to_anthropic_messages",
    "to_anthropic_tool_choice",
    "to_anthropic_tools",
    "translate_anthropic_error",
]

#: Anthropic ``stop_reason`` → the OpenAI-style ``finish_reason`` every provider reports.
FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}
#: Parameters with no Anthropic equivalent that would change the answer: refused, never dropped silently.
UNSUPPORTED = (
    "frequency_penalty",
    "logprobs",
    "presence_penalty",
    "response_format",
    "top_logprobs",
)


class MissingDependencyError(ConfigurationError, ImportError):
    """An optional package is not installed; the message gives the ``pip install`` command (lesson 02)."""


def _anthropic() -> Any:
    try:
        import anthropic
    except ImportError as exc:
        raise MissingDependencyError(
            "the Anthropic adapter needs the 'anthropic' package, a dependency of the course: pip install -e ."
        ) from exc
    return anthropic


def _text(content: Any, index: int) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(isinstance(p, dict) and p.get("type") == "text" for p in content):
        return "".join(p.get("text", "") for p in content)
    raise ValueError(f"message {index}: only text content can be sent to Anthropic by this adapter")


def _blocks(content: Any) -> list[dict[str, Any]]:
    return [{"type": "text", "text": content}] if isinstance(content, str) else list(content)


def _tool_use(call: dict[str, Any], index: int) -> dict[str, Any]:
    function = call.get("function") or {}
    try:
        arguments = json.loads(function.get("arguments") or "{}")
    except ValueError:
        raise ValueError(
            f"message {index}: tool call {call.get('id')!r} has arguments that are not JSON"
        ) from None
    return {"type": "tool_use", "id": call.get("id"), "name": function.get("name"), "input": arguments}


def _turn(m: dict[str, Any], i: int, known_calls: set[str]) -> tuple[str, Any] | None:
    """One OpenAI-style message as an Anthropic (role, content), or None when there is nothing to send."""
    role = m["role"]
    if role == "tool":
        call_id = m.get("tool_call_id")
        if call_id not in known_calls:
            raise ValueError(
                f"message {i} is a tool result for {call_id!r}, but no earlier tool call has that id"
            )
        block = {"type": "tool_result", "tool_use_id": call_id, "content": _text(m.get("content") or "", i)}
        return "user", [block]
    if role not in ("user", "assistant"):
        raise ValueError(f"message {i} has role {role!r}: this adapter sends only user/assistant turns")
    text = _text(m.get("content") or "", i)
    if role == "assistant" and m.get("tool_calls"):
        uses = [_tool_use(c, i) for c in m["tool_calls"]]
        known_calls.update(str(u["id"]) for u in uses)
        return role, ([{"type": "text", "text": text}] if text.strip() else []) + uses
    return (role, text) if text.strip() else None


def to_anthropic_messages(messages: Sequence[Message]) -> tuple[str | None, list[dict[str, Any]]]:
    """Split chat messages into Anthropic's ``system`` text and alternating turns (lesson 02).

    Every system (or developer) message, wherever it stands, joins the system text in order; empty
    messages are dropped; consecutive messages of the same role are merged, separated by a blank line.
    An assistant message's ``tool_calls`` become ``tool_use`` blocks and each ``tool`` message a
    ``tool_result`` block in the next user turn (lesson 06).
    """
    system: list[str] = []
    turns: list[dict[str, Any]] = []
    known_calls: set[str] = set()
    for i, m in enumerate(validate_messages(messages)):
        if m["role"] in ("system", "developer"):
            text = _text(m.get("content") or "", i)
            if text.strip():
                system.append(text)
            continue
        turn = _turn(m, i, known_calls)
        if turn is None:
            continue
        role, content = turn
        if turns and turns[-1]["role"] == role:
            previous = turns[-1]["content"]
            if isinstance(previous, str) and isinstance(content, str):
                turns[-1]["content"] = previous + "\n\n" + content
            else:
                turns[-1]["content"] = _blocks(previous) + _blocks(content)
        else:
            turns.append({"role": role, "content": content})
    if not turns:
        raise ValueError("there is no user or assistant message to send: Anthropic needs at least one")
    return ("\n\n".join(system) or None), turns


def to_anthropic_tools(tools: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """OpenAI-style ``tools`` (``{"type": "function", "function": {...}}``) as Anthropic tools (lesson 06)."""
    out = []
    for i, tool in enumerate(tools):
        function = tool.get("function") if tool.get("type") == "function" else None
        if not isinstance(function, dict) or not function.get("name"):
            raise ValueError(
                f"tools[{i}] is not a function tool: expected {{'type': 'function', 'function': {{...}}}}"
            )
        entry = {
            "name": function["name"],
            "input_schema": function.get("parameters") or {"type": "object", "properties": {}},
        }
        if function.get("description"):
            entry["description"] = function["description"]
        out.append(entry)
    return out


def to_anthropic_tool_choice(choice: Any) -> dict[str, Any]:
    """OpenAI's ``tool_choice`` (``auto``, ``required``, ``none`` or a named function) in Anthropic's form (lesson 06)."""
    if choice in ("auto", "none"):
        return {"type": choice}
    if choice == "required":
        return {"type": "any"}
    if isinstance(choice, dict) and (choice.get("function") or {}).get("name"):
        return {"type": "tool", "name": choice["function"]["name"]}
    raise ValueError(
        f"tool_choice {choice!r} is not one of 'auto', 'required', 'none' or "
        "{'type': 'function', 'function': {'name': ...}}"
    )


def _retry_after(exc: Any) -> float | None:
    response = getattr(exc, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def translate_anthropic_error(exc: Exception) -> Exception:
    """Map an ``anthropic`` SDK exception to the course's provider errors (lesson 06); others pass through."""
    anthropic = _anthropic()
    if isinstance(exc, anthropic.APITimeoutError):
        return ProviderTimeout(f"Anthropic did not answer in time: {exc}")
    if isinstance(exc, anthropic.APIConnectionError):
        return ServerError(f"could not reach Anthropic: {exc}")
    if not isinstance(exc, anthropic.APIStatusError):
        return exc
    status = exc.status_code
    body = exc.body if isinstance(exc.body, dict) else {}
    kind = (body.get("error") or {}).get("type") if isinstance(body.get("error"), dict) else None
    if status == 429 or kind == "rate_limit_error":
        return RateLimitError(f"rate limited: {exc}", retry_after=_retry_after(exc), status=429)
    if status >= 500 or kind in ("overloaded_error", "api_error"):
        return ServerError(f"Anthropic server error: {exc}", retry_after=_retry_after(exc), status=status)
    return BadRequestError(f"Anthropic rejected the request ({status}): {exc}", status=status)


def _usage(usage: Any) -> Usage:
    read = getattr(usage, "cache_read_input_tokens", None) or 0
    created = getattr(usage, "cache_creation_input_tokens", None) or 0
    return Usage(
        prompt_tokens=(usage.input_tokens or 0) + read + created,
        completion_tokens=usage.output_tokens or 0,
        cached_tokens=read,
    )


class AnthropicProvider(BaseProvider):
    """Claude through the official ``anthropic`` SDK, with the provider interface (lesson 02).

    Pass ``client`` (an ``anthropic.Anthropic``) and optionally ``async_client``; with neither, both are
    built from ``ANTHROPIC_API_KEY``. ``n`` > 1 makes n calls (concurrently in :meth:`acomplete`), since
    the API returns one answer per call; ``seed`` is accepted and ignored (the API has none).
    ``temperature`` and ``top_p`` are sent in the request body; recent Claude models refuse sampling
    parameters, so pass ``send_sampling_params=False`` to leave them out for those.
    """

    name = "anthropic"

    def __init__(
        self,
        client: Any = None,
        *,
        model: str,
        async_client: Any = None,
        max_tokens: int = 1024,
        send_sampling_params: bool = True,
    ) -> None:
        anthropic = _anthropic()
        if client is None and async_client is None:
            if not os.environ.get("ANTHROPIC_API_KEY"):
                raise ConfigurationError(
                    "AnthropicProvider needs an API key: set ANTHROPIC_API_KEY, "
                    "or pass client=anthropic.Anthropic(...)"
                )
            client, async_client = anthropic.Anthropic(), anthropic.AsyncAnthropic()
        self._sdk_error = anthropic.AnthropicError
        self.client = client
        self.async_client = async_client
        self.model = model
        self.max_tokens = max_tokens
        self.send_sampling_params = send_sampling_params

    def request(self, messages: Sequence[Message], **params: Any) -> dict[str, Any]:
        """The keyword arguments this provider passes to ``client.messages.create`` (minus ``n``)."""
        params = check_params(params)
        refused = [k for k in UNSUPPORTED if k in params]
        if refused:
            raise ValueError(
                f"AnthropicProvider does not support {refused}: remove them or use another provider"
            )
        system, turns = to_anthropic_messages(messages)
        req: dict[str, Any] = {
            "model": self.model,
            "messages": turns,
            "max_tokens": params.get("max_tokens") or self.max_tokens,
        }
        if system is not None:
            req["system"] = system
        if "timeout" in params:
            req["timeout"] = params["timeout"]
        sampling = {k: params[k] for k in ("temperature", "top_p") if k in params}
        if sampling and self.send_sampling_params:
            # anthropic>=1 dropped these keywords from create(); the API still takes them in the body.
            req["extra_body"] = sampling
        if params.get("stop"):
            stop = params["stop"]
            req["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
        if params.get("tools"):
            req["tools"] = to_anthropic_tools(params["tools"])
        if "tool_choice" in params:
            if not params.get("tools"):
                raise ValueError("tool_choice needs tools: pass the tools the model may call")
            req["tool_choice"] = to_anthropic_tool_choice(params["tool_choice"])
        return req

    def _choice(self, msg: Any) -> Choice:
        text = "".join(b.text for b in msg.content if b.type == "text")
        calls = [
            {"id": b.id, "type": "function", "function": {"name": b.name, "arguments": json.dumps(b.input)}}
            for b in msg.content
            if b.type == "tool_use"
        ]
        reason = FINISH_REASONS.get(msg.stop_reason, msg.stop_reason)
        return Choice(text=text, finish_reason=reason, tool_calls=calls or None)

    def _result(self, msgs: list[Any], start: float) -> ChatResult:
        usage = Usage()
        for m in msgs:
            usage = usage + _usage(m.usage)
        return ChatResult(
            choices=[self._choice(m) for m in msgs],
            usage=usage,
            model=msgs[0].model or self.model,
            latency_s=time.perf_counter() - start,
            provider=self.name,
            raw=msgs[0] if len(msgs) == 1 else msgs,
        )

    def _sync_client(self) -> Any:
        if self.client is None:
            raise ConfigurationError("AnthropicProvider was built with async_client only: use acomplete()")
        return self.client

    def complete(self, messages: Sequence[Message], **params: Any) -> ChatResult:
        """Send the conversation to Claude and return its answer as a :class:`ChatResult`."""
        n = int(params.pop("n", None) or 1)
        req = self.request(messages, **params)
        client = self._sync_client()
        start = time.perf_counter()
        try:
            msgs = [client.messages.create(**req) for _ in range(n)]
        except self._sdk_error as exc:
            raise translate_anthropic_error(exc) from exc
        return self._result(msgs, start)

    async def acomplete(self, messages: Sequence[Message], **params: Any) -> ChatResult:
        """Async form of :meth:`complete`; ``n`` calls run concurrently."""
        if self.async_client is None:
            return await super().acomplete(messages, **params)
        n = int(params.pop("n", None) or 1)
        req = self.request(messages, **params)
        start = time.perf_counter()
        try:
            msgs = await asyncio.gather(*(self.async_client.messages.create(**req) for _ in range(n)))
        except self._sdk_error as exc:
            raise translate_anthropic_error(exc) from exc
        return self._result(list(msgs), start)

    def _fold(self, event: Any, state: dict[str, Any]) -> str:
        """Update the stream state with one server-sent event; return any new text.

        ``message_start`` carries the prompt's usage; ``message_delta`` the stop reason and cumulative
        usage, whose non-empty fields win (some gateways send the real input count only there).
        """
        kind = event.type
        if kind == "message_start":
            state["model"] = event.message.model or state["model"]
            self._count(event.message.usage, state["usage"])
        elif kind == "content_block_delta" and event.delta.type == "text_delta":
            return event.delta.text
        elif kind == "message_delta":
            state["stop_reason"] = event.delta.stop_reason
            self._count(event.usage, state["usage"])
        return ""

    @staticmethod
    def _count(usage: Any, counts: dict[str, int]) -> None:
        for key in counts:
            value = getattr(usage, key, None)
            if value:
                counts[key] = value

    def _final(self, text: list[str], state: dict[str, Any], start: float) -> StreamChunk:
        reason = FINISH_REASONS.get(state["stop_reason"], state["stop_reason"])
        result = ChatResult(
            choices=[Choice(text="".join(text), finish_reason=reason)],
            usage=_usage(SimpleNamespace(**state["usage"])),
            model=state["model"],
            latency_s=time.perf_counter() - start,
            provider=self.name,
        )
        return StreamChunk(done=True, result=result, elapsed_s=result.latency_s)

    def _new_state(self) -> dict[str, Any]:
        keys = ("input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")
        return {"model": self.model, "stop_reason": None, "usage": dict.fromkeys(keys, 0)}

    def _stream_request(self, messages: Sequence[Message], params: dict[str, Any]) -> dict[str, Any]:
        if int(params.pop("n", None) or 1) != 1:
            raise ValueError("stream() returns one answer: call it without n, or use complete(n=...)")
        return {**self.request(messages, **params), "stream": True}

    def stream(self, messages: Sequence[Message], **params: Any) -> Iterator[StreamChunk]:
        """Yield text as Claude writes it (SSE events); the last chunk carries the whole result."""
        req = self._stream_request(messages, params)
        client = self._sync_client()
        start, text = time.perf_counter(), []
        state = self._new_state()
        try:
            for event in client.messages.create(**req):
                if delta := self._fold(event, state):
                    text.append(delta)
                    yield StreamChunk(delta=delta, elapsed_s=time.perf_counter() - start)
        except self._sdk_error as exc:
            raise translate_anthropic_error(exc) from exc
        yield self._final(text, state, start)

    async def astream(self, messages: Sequence[Message], **params: Any) -> AsyncIterator[StreamChunk]:
        """Async form of :meth:`stream`, on ``async_client`` when one was given."""
        if self.async_client is None:
            async for chunk in super().astream(messages, **params):
                yield chunk
            return
        req = self._stream_request(messages, params)
        start, text = time.perf_counter(), []
        state = self._new_state()
        try:
            async for event in await self.async_client.messages.create(**req):
                if delta := self._fold(event, state):
                    text.append(delta)
                    yield StreamChunk(delta=delta, elapsed_s=time.perf_counter() - start)
        except self._sdk_error as exc:
            raise translate_anthropic_error(exc) from exc
        yield self._final(text, state, start)
