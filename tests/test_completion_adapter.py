"""The raw-completion adapter, against a mocked ``/v1/completions`` server (no network)."""

from __future__ import annotations

import asyncio
import json

import httpx2
import openai
import pytest

from course_lib.providers.base import (
    BadRequestError,
    ProviderTimeout,
    RateLimitError,
    ServerError,
)
from course_lib.providers.completion_adapter import CompletionProvider, translate_openai_error
from course_lib.providers.templates import get_template

BASE = "http://test.invalid/v1"
CONVO = [
    {"role": "system", "content": "You are a JSON parser."},
    {"role": "user", "content": "Extract: John Smith"},
]
LLAMA3_PROMPT = (
    "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are a JSON parser.<|eot_id|>"
    "<|start_header_id|>user<|end_header_id|>\n\nExtract: John Smith<|eot_id|>"
    "<|start_header_id|>assistant<|end_header_id|>\n\n"
)


def completion_body(text: str = '{"name": "John Smith"}', **extra) -> dict:
    body = {
        "id": "cmpl-1",
        "object": "text_completion",
        "created": 1700000000,
        "model": "llama-3-8b-instruct.Q4",
        "choices": [{"text": text, "index": 0, "logprobs": None, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 31, "completion_tokens": 7, "total_tokens": 38},
    }
    body.update(extra)
    return body


class Server:
    """A fake completion server: records each request body and answers with ``reply(body)``."""

    def __init__(self, reply=None):
        self.requests: list[dict] = []
        self.paths: list[str] = []
        self.reply = reply or (lambda body: httpx2.Response(200, json=completion_body()))

    def handler(self, request: httpx2.Request) -> httpx2.Response:
        self.paths.append(request.url.path)
        body = json.loads(request.content)
        self.requests.append(body)
        return self.reply(body)

    async def ahandler(self, request: httpx2.Request) -> httpx2.Response:
        return self.handler(request)

    def provider(self, template="llama3", **options) -> CompletionProvider:
        client = openai.OpenAI(
            api_key="x",
            base_url=BASE,
            max_retries=0,
            http_client=httpx2.Client(transport=httpx2.MockTransport(self.handler)),
        )
        aclient = openai.AsyncOpenAI(
            api_key="x",
            base_url=BASE,
            max_retries=0,
            http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(self.ahandler)),
        )
        return CompletionProvider(client, template, "llama-3-8b-instruct", async_client=aclient, **options)


def test_sends_the_exact_llama3_prompt_and_parses_the_answer() -> None:
    server = Server()
    result = server.provider().complete(CONVO, temperature=0.0, max_tokens=64)
    assert server.paths == ["/v1/completions"]
    sent = server.requests[0]
    assert sent["prompt"] == LLAMA3_PROMPT
    assert sent["model"] == "llama-3-8b-instruct"
    assert sent["stop"] == ["<|eot_id|>", "<|end_of_text|>"]
    assert sent["temperature"] == 0.0
    assert sent["max_tokens"] == 64
    assert "messages" not in sent
    assert result.text == '{"name": "John Smith"}'
    assert result.finish_reason == "stop"
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (31, 7)
    assert result.usage.computed is False
    assert result.model == "llama-3-8b-instruct.Q4"
    assert result.provider == "completion"
    assert result.source == "live"


@pytest.mark.parametrize(
    ("template", "prompt", "stop"),
    [
        (
            "chatml",
            "<|im_start|>system\nYou are a JSON parser.<|im_end|>\n<|im_start|>user\nExtract: John Smith"
            "<|im_end|>\n<|im_start|>assistant\n",
            ["<|im_end|>"],
        ),
        (
            "llama2",
            "<s>[INST] <<SYS>>\nYou are a JSON parser.\n<</SYS>>\n\nExtract: John Smith [/INST]",
            ["</s>"],
        ),
        ("mistral", "<s> [INST] You are a JSON parser.\n\nExtract: John Smith [/INST]", ["</s>"]),
    ],
)
def test_each_template_reaches_the_server_verbatim(template, prompt, stop) -> None:
    server = Server()
    server.provider(template).complete(CONVO)
    assert server.requests[0]["prompt"] == prompt
    assert server.requests[0]["stop"] == stop


def test_user_stop_sequences_are_added_to_the_templates() -> None:
    server = Server()
    server.provider().complete(CONVO, stop="\n\n")
    server.provider().complete(CONVO, stop=["END", "<|eot_id|>"])
    assert server.requests[0]["stop"] == ["<|eot_id|>", "<|end_of_text|>", "\n\n"]
    assert server.requests[1]["stop"] == ["<|eot_id|>", "<|end_of_text|>", "END"]


def test_template_options_reach_the_render_function() -> None:
    server = Server()
    provider = server.provider(template_options={"bos_token": ""})
    provider.complete(CONVO)
    assert server.requests[0]["prompt"] == LLAMA3_PROMPT.removeprefix("<|begin_of_text|>")
    assert provider.render(CONVO) == server.requests[0]["prompt"]


def test_n_choices_and_length_finish() -> None:
    def reply(body):
        choices = [
            {"text": f"answer {i}", "index": i, "logprobs": None, "finish_reason": "length"}
            for i in reversed(range(body["n"]))
        ]
        return httpx2.Response(200, json=completion_body(choices=choices))

    server = Server(reply)
    result = server.provider().complete(CONVO, n=3)
    assert server.requests[0]["n"] == 3
    assert result.texts == ["answer 0", "answer 1", "answer 2"]
    assert result.finish_reason == "length"


def test_missing_usage_is_counted_and_marked_computed() -> None:
    server = Server(lambda body: httpx2.Response(200, json=completion_body(text="four", usage=None)))
    result = server.provider().complete(CONVO)
    assert result.usage.computed is True
    assert result.usage.prompt_tokens > 20
    assert result.usage.completion_tokens == 1


def test_legacy_logprobs_are_parsed() -> None:
    logprobs = {
        "tokens": ["4", "."],
        "token_logprobs": [-0.1, -0.5],
        "top_logprobs": [{"4": -0.1, "5": -2.3}, {".": -0.5}],
        "text_offset": [0, 1],
    }
    choice = {"text": "4.", "index": 0, "logprobs": logprobs, "finish_reason": "stop"}
    server = Server(lambda body: httpx2.Response(200, json=completion_body(choices=[choice])))
    result = server.provider().complete(CONVO, logprobs=True, top_logprobs=2)
    assert server.requests[0]["logprobs"] == 2
    assert "top_logprobs" not in server.requests[0]
    lps = result.choices[0].logprobs
    assert [t.token for t in lps] == ["4", "."]
    assert lps[0].logprob == -0.1
    assert lps[0].top == {"4": -0.1, "5": -2.3}


def test_chat_shaped_logprobs_from_llama_cpp_are_parsed() -> None:
    content = [{"token": "4", "logprob": -0.2, "top_logprobs": [{"token": "4", "logprob": -0.2}]}]
    choice = {"text": "4", "index": 0, "logprobs": {"content": content}, "finish_reason": "stop"}
    server = Server(lambda body: httpx2.Response(200, json=completion_body(choices=[choice])))
    lps = server.provider().complete(CONVO, logprobs=True).choices[0].logprobs
    assert server.requests[0]["logprobs"] == 1
    assert [(t.token, t.logprob, t.top) for t in lps] == [("4", -0.2, {"4": -0.2})]


@pytest.mark.parametrize("param", ["response_format", "tools", "tool_choice"])
def test_unsupported_parameters_fail_before_any_request(param) -> None:
    server = Server()
    with pytest.raises(ValueError, match=param):
        server.provider().complete(CONVO, **{param: {"type": "json_object"}})
    assert server.requests == []


def test_template_errors_fail_before_any_request() -> None:
    server = Server()
    with pytest.raises(ValueError, match="alternate"):
        server.provider("mistral").complete([{"role": "assistant", "content": "hi"}])
    assert server.requests == []


def test_unknown_parameter_is_rejected() -> None:
    with pytest.raises(TypeError, match="unknown parameter"):
        Server().provider().complete(CONVO, temprature=0.2)


@pytest.mark.parametrize(
    ("status", "headers", "error", "retry_after"),
    [
        (429, {"retry-after": "7"}, RateLimitError, 7.0),
        (503, {}, ServerError, None),
        (500, {}, ServerError, None),
        (400, {}, BadRequestError, None),
        (404, {}, BadRequestError, None),
    ],
)
def test_http_errors_map_to_provider_errors(status, headers, error, retry_after) -> None:
    server = Server(lambda body: httpx2.Response(status, headers=headers, json={"error": {"message": "no"}}))
    with pytest.raises(error) as info:
        server.provider().complete(CONVO)
    assert info.value.status == status
    assert info.value.retry_after == retry_after
    assert info.value.retryable is (status >= 429 and status != 404 and status != 400)


def test_timeouts_and_connection_failures_map_to_retryable_errors() -> None:
    def timeout(body):
        raise httpx2.ReadTimeout("slow")

    def refused(body):
        raise httpx2.ConnectError("refused")

    with pytest.raises(ProviderTimeout):
        Server(timeout).provider().complete(CONVO)
    with pytest.raises(ServerError, match="could not reach") as info:
        Server(refused).provider().complete(CONVO)
    assert info.value.retryable


def test_translate_passes_other_exceptions_through() -> None:
    err = KeyError("x")
    assert translate_openai_error(err) is err


def test_acomplete_uses_the_async_client_concurrently() -> None:
    server = Server()
    provider = server.provider()

    async def main():
        return await asyncio.gather(*(provider.acomplete(CONVO) for _ in range(3)))

    results = asyncio.run(main())
    assert [r.text for r in results] == ['{"name": "John Smith"}'] * 3
    assert [r["prompt"] for r in server.requests] == [LLAMA3_PROMPT] * 3


def test_acomplete_without_async_client_falls_back_to_a_thread() -> None:
    server = Server()
    provider = server.provider()
    provider.async_client = None
    assert asyncio.run(provider.acomplete(CONVO)).text == '{"name": "John Smith"}'
    assert len(server.requests) == 1


def sse(events: list[dict]) -> httpx2.Response:
    text = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
    return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=text.encode())


def test_stream_yields_deltas_then_the_whole_result() -> None:
    def chunk(text, finish=None):
        return {
            "id": "cmpl-1",
            "object": "text_completion",
            "created": 1,
            "model": "llama-3",
            "choices": [{"text": text, "index": 0, "logprobs": None, "finish_reason": finish}],
        }

    usage = {"prompt_tokens": 31, "completion_tokens": 3, "total_tokens": 34}
    tail = {"id": "cmpl-1", "object": "text_completion", "created": 1, "model": "llama-3", "choices": []}
    events = [chunk("Hel"), chunk("lo"), chunk("!", "stop"), {**tail, "usage": usage}]
    server = Server(lambda body: sse(events))
    chunks = list(server.provider().stream(CONVO))
    assert server.requests[0]["stream"] is True
    assert server.requests[0]["prompt"] == LLAMA3_PROMPT
    assert [c.delta for c in chunks[:-1]] == ["Hel", "lo", "!"]
    last = chunks[-1]
    assert last.done and last.result.text == "Hello!"
    assert last.result.finish_reason == "stop"
    assert last.result.usage.completion_tokens == 3
    assert not last.result.usage.computed


def test_stream_refuses_n_greater_than_one() -> None:
    with pytest.raises(ValueError, match="one answer"):
        list(Server().provider().stream(CONVO, n=2))


def test_from_base_url_builds_working_clients() -> None:
    server = Server()
    provider = CompletionProvider.from_base_url(
        BASE,
        get_template("chatml"),
        "m",
        transport=httpx2.MockTransport(server.handler),
        async_transport=httpx2.MockTransport(server.ahandler),
    )
    assert provider.complete(CONVO).text == '{"name": "John Smith"}'
    assert asyncio.run(provider.acomplete(CONVO)).usage.prompt_tokens == 31
    assert server.paths == ["/v1/completions"] * 2
    assert repr(provider) == "CompletionProvider(template='chatml', model='m')"


@pytest.mark.local
def test_chatml_prompt_matches_the_real_servers_own_chat_rendering(local_server) -> None:
    """SmolLM2 speaks ChatML: completing our rendered prompt must equal the server's chat answer."""
    msgs = [
        {"role": "system", "content": "You are a terse assistant."},
        {"role": "user", "content": "Name three colors."},
    ]
    client = openai.OpenAI(api_key="x", base_url=local_server.url, max_retries=0)
    provider = CompletionProvider(client, "chatml", "local")
    ours = provider.complete(msgs, max_tokens=24, temperature=0)
    chat = client.chat.completions.create(model="local", messages=msgs, max_tokens=24, temperature=0)
    assert ours.text == chat.choices[0].message.content
    assert ours.usage.prompt_tokens == chat.usage.prompt_tokens  # the same tokens reached the model
    assert ours.finish_reason in ("stop", "length")
    streamed = list(provider.stream(msgs, max_tokens=24, temperature=0))
    assert streamed[-1].result.text == ours.text
