"""The raw-completion adapter: chat messages → a chat template → ``/v1/completions`` (lesson 02).

Some servers (llama.cpp, vLLM, TGI, older hosted models) offer a plain text-completion endpoint: one
prompt string in, a continuation out. The model was trained on one exact chat format, so the adapter
renders the conversation with that model's template (:mod:`course_lib.providers.templates`), sends the
string through the official ``openai`` SDK's ``client.completions.create(prompt=...)``, stops at the
template's end-of-turn tokens and returns a :class:`ChatResult` like every other provider. Business code
keeps speaking in messages; only this adapter knows about ``<|eot_id|>``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from ..tokens import count_tokens
from .base import (
    BaseProvider,
    ChatResult,
    Choice,
    Message,
    StreamChunk,
    TokenLogprob,
    Usage,
    check_params,
    validate_messages,
)
from .openai_adapter import translate_error
from .templates import ChatTemplate, get_template

if TYPE_CHECKING:  # pragma: no cover
    import openai

__all__ = ["CompletionProvider", "translate_openai_error"]

#: Parameters the completions endpoint cannot honour, with what to do instead.
UNSUPPORTED = {
    "response_format": "raw completion has no JSON mode: ask for JSON in the prompt and validate it",
    "tools": "raw completion has no tool calling: describe the tools in the prompt, or use a chat endpoint",
    "tool_choice": "raw completion has no tool calling: use a chat endpoint",
}


#: The error mapping every ``openai``-SDK adapter shares (kept under this name for callers of this module).
translate_openai_error = translate_error


def _logprobs(raw: Any) -> list[TokenLogprob] | None:
    """Read logprobs in the legacy completions shape (parallel lists) or the chat shape (``content``)."""
    if raw is None:
        return None
    content = getattr(raw, "content", None) or (raw.get("content") if isinstance(raw, dict) else None)
    if content:
        return [
            TokenLogprob(
                token=t["token"],
                logprob=t["logprob"],
                top={x["token"]: x["logprob"] for x in t.get("top_logprobs") or []},
            )
            for t in content
        ]
    tokens = getattr(raw, "tokens", None)
    if not tokens:
        return None
    values = raw.token_logprobs or []
    tops = raw.top_logprobs or [None] * len(tokens)
    return [
        TokenLogprob(token=t, logprob=lp if lp is not None else float("nan"), top=dict(top or {}))
        for t, lp, top in zip(tokens, values, tops, strict=False)
    ]


class CompletionProvider(BaseProvider):
    """A provider for raw-completion servers: renders the chat with a template, then completes (lesson 02).

    ``client`` is an ``openai.OpenAI`` pointed at the server's ``/v1``; ``async_client`` an optional
    ``openai.AsyncOpenAI`` for :meth:`acomplete` (without it, the sync call runs in a thread).
    ``template`` is a :class:`ChatTemplate` or its name (``llama3``, ``llama2``, ``mistral``, ``chatml``);
    ``template_options`` go to its render function (e.g. ``{"bos_token": ""}`` for a server that adds
    the BOS token itself).
    """

    name = "completion"

    def __init__(
        self,
        client: openai.OpenAI,
        template: str | ChatTemplate,
        model: str,
        *,
        async_client: openai.AsyncOpenAI | None = None,
        template_options: dict[str, Any] | None = None,
        add_generation_prompt: bool = True,
    ) -> None:
        self.client = client
        self.async_client = async_client
        self.template = get_template(template)
        self.model = model
        self.template_options = dict(template_options or {})
        self.add_generation_prompt = add_generation_prompt

    @classmethod
    def from_base_url(
        cls,
        base_url: str,
        template: str | ChatTemplate,
        model: str,
        *,
        api_key: str = "not-needed",
        transport: Any = None,
        async_transport: Any = None,
        **options: Any,
    ) -> CompletionProvider:
        """Build the SDK clients for ``base_url`` (e.g. ``http://127.0.0.1:8080/v1``), optionally on a transport."""
        import httpx2
        import openai

        kw: dict[str, Any] = {"api_key": api_key, "base_url": base_url, "max_retries": 0}
        client = openai.OpenAI(**kw, http_client=httpx2.Client(transport=transport) if transport else None)
        aclient = openai.AsyncOpenAI(
            **kw, http_client=httpx2.AsyncClient(transport=async_transport) if async_transport else None
        )
        return cls(client, template, model, async_client=aclient, **options)

    # ------------------------------------------------------------------ request and response

    def render(self, messages: Sequence[Message]) -> str:
        """The exact prompt string this provider sends for ``messages``."""
        fn = self.template.render_fn
        return fn(messages, add_generation_prompt=self.add_generation_prompt, **self.template_options)

    def _request(self, messages: Sequence[Message], params: dict[str, Any]) -> dict[str, Any]:
        msgs = validate_messages(messages)
        params = check_params(params)
        for key, advice in UNSUPPORTED.items():
            if key in params:
                raise ValueError(f"{type(self).__name__} does not support {key!r}: {advice}")
        user_stop = params.pop("stop", None) or []
        user_stop = [user_stop] if isinstance(user_stop, str) else list(user_stop)
        stop = list(dict.fromkeys([*self.template.stop, *user_stop]))
        logprobs = params.pop("logprobs", None)
        top = params.pop("top_logprobs", None)
        if logprobs:
            params["logprobs"] = int(top or 1)
        return {"model": self.model, "prompt": self.render(msgs), "stop": stop, **params}

    def _result(self, resp: Any, prompt: str, latency: float, headers: Any = None) -> ChatResult:
        choices = [
            Choice(text=c.text or "", finish_reason=c.finish_reason, logprobs=_logprobs(c.logprobs))
            for c in sorted(resp.choices, key=lambda c: c.index or 0)
        ]
        return ChatResult(
            choices=choices,
            usage=self._usage(resp.usage, prompt, choices),
            model=resp.model or self.model,
            latency_s=latency,
            provider=self.name,
            source=(headers.get("x-course-source") if headers is not None else None) or "live",
            raw=resp,
        )

    def _usage(self, usage: Any, prompt: str, choices: Sequence[Choice]) -> Usage:
        if usage is None:  # the server sent none: count with tiktoken and say so
            return Usage(
                prompt_tokens=count_tokens(prompt),
                completion_tokens=sum(count_tokens(c.text) for c in choices),
                computed=True,
            )
        details = getattr(usage, "prompt_tokens_details", None)
        return Usage(
            prompt_tokens=usage.prompt_tokens or 0,
            completion_tokens=usage.completion_tokens or 0,
            cached_tokens=(getattr(details, "cached_tokens", 0) or 0) if details is not None else 0,
        )

    def _base_url(self) -> str:
        return str(getattr(self.client, "base_url", ""))

    # ------------------------------------------------------------------ the provider interface

    def complete(self, messages: Sequence[Message], **params: Any) -> ChatResult:
        """Render ``messages`` with the template, complete the prompt and return the answer."""
        import openai

        request = self._request(messages, params)
        start = time.perf_counter()
        try:
            raw = self.client.completions.with_raw_response.create(**request)
        except openai.OpenAIError as exc:
            err = translate_openai_error(exc, self._base_url())
            if err is exc:
                raise
            raise err from exc
        return self._result(raw.parse(), request["prompt"], time.perf_counter() - start, raw.headers)

    async def acomplete(self, messages: Sequence[Message], **params: Any) -> ChatResult:
        """Async form of :meth:`complete`, on ``async_client`` when one was given."""
        if self.async_client is None:
            return await super().acomplete(messages, **params)
        import openai

        request = self._request(messages, params)
        start = time.perf_counter()
        try:
            raw = await self.async_client.completions.with_raw_response.create(**request)
        except openai.OpenAIError as exc:
            err = translate_openai_error(exc, self._base_url())
            if err is exc:
                raise
            raise err from exc
        return self._result(raw.parse(), request["prompt"], time.perf_counter() - start, raw.headers)

    def stream(self, messages: Sequence[Message], **params: Any) -> Iterator[StreamChunk]:
        """Yield the answer as the server streams it; the last chunk carries the whole result."""
        import openai

        request = self._request(messages, params)
        if int(request.get("n", 1) or 1) != 1:
            raise ValueError("stream() returns one answer: call it without n, or use complete(n=...)")
        start = time.perf_counter()
        text, finish, usage, model = [], None, None, self.model
        try:
            events = self.client.completions.create(
                **request, stream=True, stream_options={"include_usage": True}
            )
            for event in events:
                model = event.model or model
                usage = event.usage or usage
                for c in event.choices:
                    finish = c.finish_reason or finish
                    if c.text:
                        text.append(c.text)
                        yield StreamChunk(delta=c.text, elapsed_s=time.perf_counter() - start)
        except openai.OpenAIError as exc:
            raise translate_openai_error(exc, self._base_url()) from exc
        choice = Choice(text="".join(text), finish_reason=finish)
        result = ChatResult(
            choices=[choice],
            usage=self._usage(usage, request["prompt"], [choice]),
            model=model,
            latency_s=time.perf_counter() - start,
            provider=self.name,
        )
        yield StreamChunk(done=True, result=result, elapsed_s=result.latency_s)

    def __repr__(self) -> str:
        return f"CompletionProvider(template={self.template.name!r}, model={self.model!r})"
