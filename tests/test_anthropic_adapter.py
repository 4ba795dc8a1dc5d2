"""The Anthropic adapter against a mocked Messages API (no network), and the adapter pattern end to end."""

from __future__ import annotations

import asyncio
import itertools
import json
import sys

import anthropic
import httpx2
import openai
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.providers.anthropic_adapter import (
    AnthropicProvider,
    MissingDependencyError,
    to_anthropic_messages,
    translate_anthropic_error,
)
from course_lib.providers.base import (
    BadRequestError,
    ChatResult,
    ConfigurationError,
    ProviderTimeout,
    RateLimitError,
    ServerError,
)
from course_lib.providers.completion_adapter import CompletionProvider
from course_lib.providers.scripted import ScriptedProvider

MODEL = "claude-test-1"
CONVO = [
    {"role": "system", "content": "You are a JSON parser."},
    {"role": "user", "content": "Extract: John Smith"},
]


def message_body(text: str = '{"name": "John Smith"}', **extra) -> dict:
    body = {
        "id": "msg_01",
        "type": "message",
        "role": "assistant",
        "model": MODEL,
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {
            "input_tokens": 20,
            "output_tokens": 9,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        },
    }
    body.update(extra)
    return body


def sse(events: list[dict]) -> httpx2.Response:
    text = "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events)
    return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=text.encode())


class Server:
    """A fake Messages API: records each request (path, headers, body) and answers with ``reply(body)``."""

    def __init__(self, reply=None):
        self.requests: list[dict] = []
        self.paths: list[str] = []
        self.headers: list[httpx2.Headers] = []
        self.reply = reply or (lambda body: httpx2.Response(200, json=message_body()))

    def handler(self, request: httpx2.Request) -> httpx2.Response:
        self.paths.append(request.url.path)
        self.headers.append(request.headers)
        body = json.loads(request.content)
        self.requests.append(body)
        return self.reply(body)

    async def ahandler(self, request: httpx2.Request) -> httpx2.Response:
        await asyncio.sleep(0)
        return self.handler(request)

    def clients(self):
        kw = {"api_key": "test", "base_url": "http://test.invalid", "max_retries": 0}
        sync = anthropic.Anthropic(
            **kw, http_client=httpx2.Client(transport=httpx2.MockTransport(self.handler))
        )
        transport = httpx2.MockTransport(self.ahandler)
        aclient = anthropic.AsyncAnthropic(**kw, http_client=httpx2.AsyncClient(transport=transport))
        return sync, aclient

    def provider(self, **kw) -> AnthropicProvider:
        sync, aclient = self.clients()
        return AnthropicProvider(sync, model=MODEL, async_client=aclient, **kw)


# ------------------------------------------------------------------------------ request body


def test_system_is_split_out_and_max_tokens_defaults() -> None:
    server = Server()
    server.provider().complete(CONVO, temperature=0.2, stop="###", seed=7)
    assert server.paths == ["/v1/messages"]
    assert "anthropic-version" in server.headers[0]
    assert server.requests[0] == {
        "model": MODEL,
        "system": "You are a JSON parser.",
        "messages": [{"role": "user", "content": "Extract: John Smith"}],
        "max_tokens": 1024,
        "temperature": 0.2,
        "stop_sequences": ["###"],
    }


def test_consecutive_roles_merge_and_every_system_message_is_collected() -> None:
    convo = [
        {"role": "system", "content": "Rule one."},
        {"role": "user", "content": "Part A"},
        {"role": "user", "content": "Part B"},
        {"role": "system", "content": "Rule two."},
        {"role": "assistant", "content": "ok"},
        {"role": "assistant", "content": ""},
        {"role": "user", "content": "Go"},
    ]
    server = Server()
    server.provider(max_tokens=50).complete(convo, max_tokens=200, top_p=0.9)
    sent = server.requests[0]
    assert sent["system"] == "Rule one.\n\nRule two."
    assert sent["messages"] == [
        {"role": "user", "content": "Part A\n\nPart B"},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": "Go"},
    ]
    assert sent["max_tokens"] == 200
    assert sent["top_p"] == 0.9


def test_sampling_parameters_can_be_left_out_for_models_that_refuse_them() -> None:
    server = Server()
    server.provider(send_sampling_params=False).complete(CONVO, temperature=0.0, top_p=0.5)
    assert "temperature" not in server.requests[0]
    assert "top_p" not in server.requests[0]


def test_no_system_message_means_no_system_field() -> None:
    server = Server()
    server.provider(max_tokens=50).complete([{"role": "user", "content": "hi"}])
    assert "system" not in server.requests[0]
    assert server.requests[0]["max_tokens"] == 50


def test_text_parts_are_accepted_and_other_content_is_refused() -> None:
    system, turns = to_anthropic_messages([{"role": "user", "content": [{"type": "text", "text": "a"}]}])
    assert (system, turns) == (None, [{"role": "user", "content": "a"}])
    with pytest.raises(ValueError, match="only text"):
        to_anthropic_messages([{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}])
    with pytest.raises(ValueError, match="tool"):
        to_anthropic_messages([{"role": "user", "content": "a"}, {"role": "tool", "content": "42"}])
    with pytest.raises(ValueError, match="no user or assistant"):
        to_anthropic_messages([{"role": "system", "content": "only rules"}])


MESSAGE = st.fixed_dictionaries(
    {"role": st.sampled_from(["system", "user", "assistant"]), "content": st.text(max_size=12)}
)


@settings(max_examples=200, deadline=None)
@given(st.lists(MESSAGE, min_size=1, max_size=8))
def test_conversion_properties(messages) -> None:
    non_system = [m for m in messages if m["role"] != "system" and m["content"].strip()]
    if not any(m["content"].strip() for m in messages) or not non_system:
        with pytest.raises(ValueError):
            to_anthropic_messages(messages)
        return
    system, turns = to_anthropic_messages(messages)
    roles = [t["role"] for t in turns]
    assert all(a != b for a, b in itertools.pairwise(roles))  # strictly alternating
    assert all(t["content"].strip() for t in turns)  # nothing empty is sent
    assert "\n\n".join(t["content"] for t in turns) == "\n\n".join(m["content"] for m in non_system)
    sys_texts = [m["content"] for m in messages if m["role"] == "system" and m["content"].strip()]
    assert system == ("\n\n".join(sys_texts) or None)


@pytest.mark.parametrize("param", ["logprobs", "response_format", "presence_penalty"])
def test_unsupported_parameters_fail_before_any_request(param) -> None:
    server = Server()
    with pytest.raises(ValueError, match=param):
        server.provider().complete(CONVO, **{param: True})
    assert server.requests == []


# ------------------------------------------------------------------------------ responses


def test_response_text_usage_and_model_are_mapped() -> None:
    usage = {
        "input_tokens": 12,
        "output_tokens": 9,
        "cache_creation_input_tokens": 100,
        "cache_read_input_tokens": 1000,
    }
    content = [{"type": "text", "text": "Hello, "}, {"type": "text", "text": "world"}]
    server = Server(lambda body: httpx2.Response(200, json=message_body(content=content, usage=usage)))
    result = server.provider().complete(CONVO)
    assert result.text == "Hello, world"
    assert result.finish_reason == "stop"
    assert result.model == MODEL
    assert result.provider == "anthropic"
    # Anthropic's input_tokens leaves out cache reads and writes; our prompt_tokens includes them.
    assert (result.usage.prompt_tokens, result.usage.cached_tokens) == (1112, 1000)
    assert result.usage.completion_tokens == 9
    assert result.raw.id == "msg_01"


@pytest.mark.parametrize(
    ("stop_reason", "finish"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("tool_use", "tool_calls"),
        ("refusal", "content_filter"),
        ("pause_turn", "pause_turn"),
    ],
)
def test_stop_reasons_map_to_finish_reasons(stop_reason, finish) -> None:
    server = Server(lambda body: httpx2.Response(200, json=message_body(stop_reason=stop_reason)))
    assert server.provider().complete(CONVO).finish_reason == finish


def test_tool_use_blocks_become_tool_calls() -> None:
    content = [
        {"type": "text", "text": "Let me compute."},
        {"type": "tool_use", "id": "toolu_1", "name": "calc", "input": {"expr": "2+2"}},
    ]
    body = message_body(content=content, stop_reason="tool_use")
    result = Server(lambda b: httpx2.Response(200, json=body)).provider().complete(CONVO)
    assert result.text == "Let me compute."
    assert result.choices[0].tool_calls == [
        {"id": "toolu_1", "type": "function", "function": {"name": "calc", "arguments": '{"expr": "2+2"}'}}
    ]


def test_n_makes_n_calls_and_sums_usage() -> None:
    server = Server()
    result = server.provider().complete(CONVO, n=3)
    assert len(server.requests) == 3
    assert "n" not in server.requests[0]
    assert len(result.choices) == 3
    assert result.usage.completion_tokens == 27


# ------------------------------------------------------------------------------ errors


def error_body(kind: str) -> dict:
    return {"type": "error", "error": {"type": kind, "message": "nope"}}


@pytest.mark.parametrize(
    ("status", "kind", "headers", "error", "retry_after"),
    [
        (429, "rate_limit_error", {"retry-after": "12"}, RateLimitError, 12.0),
        (500, "api_error", {}, ServerError, None),
        (529, "overloaded_error", {}, ServerError, None),
        (400, "invalid_request_error", {}, BadRequestError, None),
        (401, "authentication_error", {}, BadRequestError, None),
    ],
)
def test_http_errors_map_to_provider_errors(status, kind, headers, error, retry_after) -> None:
    server = Server(lambda body: httpx2.Response(status, headers=headers, json=error_body(kind)))
    with pytest.raises(error) as info:
        server.provider().complete(CONVO)
    assert info.value.status == status
    assert info.value.retry_after == retry_after
    assert info.value.retryable is (status in (429, 500, 529))


def test_timeouts_and_connection_failures() -> None:
    def timeout(body):
        raise httpx2.ReadTimeout("slow")

    def refused(body):
        raise httpx2.ConnectError("refused")

    with pytest.raises(ProviderTimeout):
        Server(timeout).provider().complete(CONVO)
    with pytest.raises(ServerError, match="could not reach"):
        Server(refused).provider().complete(CONVO)


def test_translate_passes_other_exceptions_through() -> None:
    err = KeyError("x")
    assert translate_anthropic_error(err) is err


# ------------------------------------------------------------------------------ streaming


def stream_events(usage_in_delta: dict | None = None) -> list[dict]:
    start_usage = {"input_tokens": 25, "output_tokens": 1, "cache_read_input_tokens": 5}
    return [
        {
            "type": "message_start",
            "message": {
                "id": "msg_02",
                "type": "message",
                "role": "assistant",
                "model": MODEL,
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": start_usage,
            },
        },
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "ping"},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hel"}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "lo!"}},
        {"type": "content_block_stop", "index": 0},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "max_tokens", "stop_sequence": None},
            "usage": usage_in_delta or {"output_tokens": 15},
        },
        {"type": "message_stop"},
    ]


def test_stream_parses_sse_events() -> None:
    server = Server(lambda body: sse(stream_events()))
    chunks = list(server.provider().stream(CONVO))
    assert server.requests[0]["stream"] is True
    assert server.requests[0]["system"] == "You are a JSON parser."
    assert [c.delta for c in chunks[:-1]] == ["Hel", "lo!"]
    result = chunks[-1].result
    assert chunks[-1].done and result.text == "Hello!"
    assert result.finish_reason == "length"
    assert (result.usage.prompt_tokens, result.usage.cached_tokens) == (30, 5)
    assert result.usage.completion_tokens == 15
    assert result.model == MODEL


def test_stream_takes_input_tokens_from_message_delta_when_sent_there() -> None:
    events = stream_events({"input_tokens": 40, "output_tokens": 15})
    result = list(Server(lambda body: sse(events)).provider().stream(CONVO))[-1].result
    assert result.usage.prompt_tokens == 45


def test_error_event_mid_stream_is_a_server_error() -> None:
    events = [
        *stream_events()[:4],
        {"type": "error", "error": {"type": "overloaded_error", "message": "busy"}},
    ]
    provider = Server(lambda body: sse(events)).provider()
    received = []
    with pytest.raises(ServerError, match="overloaded"):
        for chunk in provider.stream(CONVO):
            received.append(chunk.delta)
    assert received == ["Hel"]


def test_stream_refuses_n() -> None:
    with pytest.raises(ValueError, match="one answer"):
        list(Server().provider().stream(CONVO, n=2))


# ------------------------------------------------------------------------------ async


def test_acomplete_runs_n_calls_concurrently_on_the_async_client() -> None:
    server = Server()
    result = asyncio.run(server.provider().acomplete(CONVO, n=2))
    assert len(server.requests) == 2
    assert result.texts == ['{"name": "John Smith"}'] * 2


def test_astream_on_the_async_client() -> None:
    server = Server(lambda body: sse(stream_events()))
    provider = server.provider()

    async def collect():
        return [c async for c in provider.astream(CONVO)]

    chunks = asyncio.run(collect())
    assert [c.delta for c in chunks[:-1]] == ["Hel", "lo!"]
    assert chunks[-1].result.usage.completion_tokens == 15


def test_async_errors_are_translated() -> None:
    server = Server(lambda body: httpx2.Response(429, json=error_body("rate_limit_error")))
    with pytest.raises(RateLimitError):
        asyncio.run(server.provider().acomplete(CONVO))


def test_without_async_client_acomplete_and_astream_use_a_thread() -> None:
    server = Server(
        lambda body: sse(stream_events()) if body.get("stream") else httpx2.Response(200, json=message_body())
    )
    sync, _ = server.clients()
    provider = AnthropicProvider(sync, model=MODEL)

    async def both():
        result = await provider.acomplete(CONVO)
        chunks = [c async for c in provider.astream(CONVO)]
        return result, chunks

    result, chunks = asyncio.run(both())
    assert result.text == '{"name": "John Smith"}'
    assert chunks[-1].result.text == "Hello!"
    assert [r.get("stream", False) for r in server.requests] == [False, True]


def test_async_only_provider_refuses_sync_calls_clearly() -> None:
    _, aclient = Server().clients()
    provider = AnthropicProvider(model=MODEL, async_client=aclient)
    with pytest.raises(ConfigurationError, match="acomplete"):
        provider.complete(CONVO)
    with pytest.raises(ConfigurationError, match="acomplete"):
        list(provider.stream(CONVO))


# ------------------------------------------------------------------------------ configuration


def test_missing_package_says_what_to_install(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "anthropic", None)
    with pytest.raises(MissingDependencyError, match=r"pip install -e \.") as info:
        AnthropicProvider(model=MODEL)
    assert isinstance(info.value, ImportError)
    assert isinstance(info.value, ConfigurationError)


def test_missing_key_says_what_to_set(monkeypatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="ANTHROPIC_API_KEY"):
        AnthropicProvider(model=MODEL)


def test_key_from_environment_builds_both_clients(monkeypatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    provider = AnthropicProvider(model=MODEL)
    assert isinstance(provider.client, anthropic.Anthropic)
    assert isinstance(provider.async_client, anthropic.AsyncAnthropic)
    assert repr(provider) == f"AnthropicProvider(model='{MODEL}')"


def test_importing_the_adapter_does_not_import_the_sdk() -> None:
    import subprocess

    code = (
        "import sys; import course_lib.providers.anthropic_adapter, course_lib.providers.completion_adapter; "
        "print('anthropic' in sys.modules, 'openai' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


# ------------------------------------------------------------------------------ the adapter pattern


def summarise_ticket(provider, text: str) -> str:
    """Business logic: knows messages and the provider interface, nothing about any vendor."""
    result: ChatResult = provider.complete(
        [
            {"role": "system", "content": "Summarise the support ticket in one sentence."},
            {"role": "user", "content": text},
        ],
        temperature=0.0,
        max_tokens=60,
    )
    return result.text.strip()


TICKET = "Customer cannot log in since the password reset; error 403 on /login."
SUMMARY = "Login fails with 403 after a password reset."


def test_same_business_function_runs_unchanged_on_every_adapter() -> None:
    # Raw-completion server (e.g. llama.cpp) behind a Llama-3 template.
    completions: list[dict] = []

    def completion_server(request: httpx2.Request) -> httpx2.Response:
        completions.append(json.loads(request.content))
        body = {
            "id": "cmpl-1",
            "object": "text_completion",
            "created": 1,
            "model": "llama-3",
            "choices": [{"text": " " + SUMMARY, "index": 0, "logprobs": None, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 40, "completion_tokens": 11, "total_tokens": 51},
        }
        return httpx2.Response(200, json=body)

    oai = openai.OpenAI(
        api_key="x",
        base_url="http://test.invalid/v1",
        max_retries=0,
        http_client=httpx2.Client(transport=httpx2.MockTransport(completion_server)),
    )
    llama = CompletionProvider(oai, "llama3", "llama-3-8b-instruct")

    # Anthropic's Messages API.
    claude_server = Server(lambda body: httpx2.Response(200, json=message_body(text=SUMMARY)))
    claude = claude_server.provider()

    # And the scripted fake the tests use.
    fake = ScriptedProvider([SUMMARY])

    assert {summarise_ticket(p, TICKET) for p in (llama, claude, fake)} == {SUMMARY}
    # Each adapter spoke its own wire format.
    assert completions[0]["prompt"].startswith(
        "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
    )
    assert completions[0]["prompt"].endswith(
        f"{TICKET}<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"
    )
    assert claude_server.requests[0]["system"] == "Summarise the support ticket in one sentence."
    assert claude_server.requests[0]["messages"] == [{"role": "user", "content": TICKET}]
    assert fake.calls[0].last_user == TICKET
