"""Offline back ends for the adapters that do not speak OpenAI chat: raw completions and Anthropic (lesson 02).

Lesson 02 runs one business function unchanged through three adapters. The OpenAI adapter replays
through :func:`~course_lib.providers.registry.get_provider`; the other two need a server of their own
shape, and here they are, both on ``httpx2.MockTransport`` so the official SDKs parse every answer:

* :func:`replay_completion_provider` — a :class:`CompletionProvider` (chat template → ``/completions``)
  answered from a recordings file, e.g. SmolLM2's real answers; each result carries the recording's
  provenance (``recorded`` or ``scripted``) in ``source``.
* :class:`ScriptedAnthropicServer` — a stand-in for Anthropic's Messages API that answers with text
  written by the course, in Anthropic's JSON shape. Every answer it gives is labelled ``scripted``.
"""

from __future__ import annotations

import contextvars
import json
from collections.abc import Callable, Mapping, Sequence
from os import PathLike
from typing import Any

import httpx2

from ..tokens import count_tokens
from .anthropic_adapter import AnthropicProvider
from .base import ChatResult, Message
from .completion_adapter import CompletionProvider
from .templates import ChatTemplate

__all__ = [
    "ReplayCompletionProvider",
    "ScriptedAnthropicProvider",
    "ScriptedAnthropicServer",
    "replay_completion_provider",
]

ANTHROPIC_BASE_URL = "http://anthropic.scripted.invalid"
_SOURCE: contextvars.ContextVar[str | None] = contextvars.ContextVar("course_replay_source", default=None)


# --------------------------------------------------------------------------- raw completions on replay


class ReplayCompletionProvider(CompletionProvider):
    """A raw-completion provider answered from recordings; ``source`` says recorded or scripted (lesson 02)."""

    transport: Any = None
    """The :class:`~course_lib.providers.replay.transport.ReplayTransport` behind this provider."""

    def complete(self, messages: Sequence[Message], **params: Any) -> ChatResult:
        """Render, complete from the recordings, and label the answer with its provenance."""
        token = _SOURCE.set(None)
        try:
            return self._labelled(super().complete(messages, **params))
        finally:
            _SOURCE.reset(token)

    async def acomplete(self, messages: Sequence[Message], **params: Any) -> ChatResult:
        """Async form of :meth:`complete`."""
        token = _SOURCE.set(None)
        try:
            return self._labelled(await super().acomplete(messages, **params))
        finally:
            _SOURCE.reset(token)

    @staticmethod
    def _labelled(result: ChatResult) -> ChatResult:
        return result.model_copy(update={"source": _SOURCE.get() or result.source})


def replay_completion_provider(
    recordings: str | PathLike[str] | Sequence[str | PathLike[str]] | None,
    template: str | ChatTemplate,
    model: str,
    **options: Any,
) -> ReplayCompletionProvider:
    """A :class:`CompletionProvider` whose ``/completions`` calls are served from ``recordings`` (lesson 02).

    ``recordings`` is a lesson name (``"02_api_request"``), a path, or a list of them; ``template`` the
    chat template name (``chatml``, ``llama3`` …); ``options`` go to :class:`CompletionProvider`.
    """
    from course_lib.providers.replay.transport import REPLAY_BASE_URL, ReplayTransport

    replay = ReplayTransport(recordings)

    def handle(request: httpx2.Request) -> httpx2.Response:
        response = replay.handle(request)
        _SOURCE.set(response.headers.get("x-course-source"))
        return response

    async def ahandle(request: httpx2.Request) -> httpx2.Response:
        response = await replay.ahandle(request)
        _SOURCE.set(response.headers.get("x-course-source"))
        return response

    provider = ReplayCompletionProvider.from_base_url(
        REPLAY_BASE_URL,
        template,
        model,
        api_key="replay",
        transport=httpx2.MockTransport(handle),
        async_transport=httpx2.MockTransport(ahandle),
        **options,
    )
    assert isinstance(provider, ReplayCompletionProvider)
    provider.transport = replay
    return provider


# --------------------------------------------------------------------------- a scripted Anthropic server


class ScriptedAnthropicProvider(AnthropicProvider):
    """The real Anthropic adapter wired to a :class:`ScriptedAnthropicServer`; answers say ``scripted`` (lesson 02)."""

    def complete(self, messages: Sequence[Message], **params: Any) -> ChatResult:
        """As :meth:`AnthropicProvider.complete`, labelled ``scripted``."""
        return super().complete(messages, **params).model_copy(update={"source": "scripted"})

    async def acomplete(self, messages: Sequence[Message], **params: Any) -> ChatResult:
        """As :meth:`AnthropicProvider.acomplete`, labelled ``scripted``."""
        result = await super().acomplete(messages, **params)
        return result.model_copy(update={"source": "scripted"})


Replies = Mapping[str, str] | Callable[[dict[str, Any]], str]


def _last_user_text(body: Mapping[str, Any]) -> str:
    for message in reversed(body.get("messages") or []):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            return "".join(p.get("text", "") for p in content or [] if isinstance(p, dict))
    return ""


def _error(status: int, kind: str, message: str) -> httpx2.Response:
    body = {"type": "error", "error": {"type": kind, "message": message}}
    return httpx2.Response(status, json=body)


class ScriptedAnthropicServer:
    """Anthropic's Messages API, offline: answers written by the course, in Anthropic's wire format (lesson 02).

    ``replies`` maps the last user message's text to the answer, or is a function of the request body
    that returns the answer. Requests are kept in :attr:`requests` so a lesson can show what the
    adapter sent. Usage is an estimate counted with tiktoken (Claude's own tokenizer differs).
    """

    def __init__(self, replies: Replies, *, model: str = "claude-sonnet-5-5") -> None:
        self.replies = replies
        self.model = model
        self.requests: list[dict[str, Any]] = []
        """Every request body received, in order."""

    def reply_for(self, body: Mapping[str, Any]) -> str | None:
        """The scripted answer for a request body, or None when there is none."""
        if callable(self.replies):
            return self.replies(dict(body))
        return self.replies.get(_last_user_text(body))

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        """Synchronous handler for ``httpx2.MockTransport``."""
        if not request.url.path.rstrip("/").endswith("/messages"):
            return _error(
                404, "not_found_error", f"the scripted server answers /v1/messages, not {request.url.path}"
            )
        body = json.loads(request.content or b"{}")
        self.requests.append(body)
        if body.get("stream"):
            return _error(
                400, "invalid_request_error", "the scripted server answers non-streamed requests only"
            )
        text = self.reply_for(body)
        if text is None:
            question = _last_user_text(body)
            return _error(
                404,
                "not_found_error",
                f"no scripted reply for the user message {question[:80]!r}; add it to the server's replies",
            )
        system = body.get("system") or ""
        system_text = system if isinstance(system, str) else " ".join(p.get("text", "") for p in system)
        prompt = system_text + "".join(str(m.get("content", "")) for m in body.get("messages") or [])
        message = {
            "id": f"msg_scripted_{len(self.requests):04d}",
            "type": "message",
            "role": "assistant",
            "model": body.get("model") or self.model,
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {
                "input_tokens": count_tokens(prompt),
                "output_tokens": count_tokens(text),
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
            },
        }
        return httpx2.Response(200, json=message, headers={"x-course-source": "scripted"})

    async def ahandle(self, request: httpx2.Request) -> httpx2.Response:
        """Asynchronous handler for ``httpx2.MockTransport`` under ``httpx2.AsyncClient``."""
        return self.handle(request)

    def clients(self) -> tuple[Any, Any]:
        """The official ``anthropic.Anthropic`` and ``AsyncAnthropic`` clients, wired to this server."""
        from .anthropic_adapter import _anthropic

        anthropic = _anthropic()
        kw = {"api_key": "scripted", "base_url": ANTHROPIC_BASE_URL, "max_retries": 0}
        sync = anthropic.Anthropic(
            **kw, http_client=httpx2.Client(transport=httpx2.MockTransport(self.handle))
        )
        aclient = anthropic.AsyncAnthropic(
            **kw, http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(self.ahandle))
        )
        return sync, aclient

    def provider(self, **options: Any) -> ScriptedAnthropicProvider:
        """The course's Anthropic adapter on this server; ``options`` go to :class:`AnthropicProvider`."""
        sync, aclient = self.clients()
        return ScriptedAnthropicProvider(
            sync, async_client=aclient, model=options.pop("model", self.model), **options
        )
