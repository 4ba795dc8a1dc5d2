"""Tests of the offline back ends of lesson 02: raw completions on replay, a scripted Anthropic server."""

from __future__ import annotations

import asyncio

import pytest

from course_lib.providers.base import BadRequestError
from course_lib.providers.offline_adapters import (
    ScriptedAnthropicServer,
    replay_completion_provider,
)
from course_lib.providers.replay.recordings import (
    Entry,
    Provenance,
    RecordingStore,
    canonical_request,
    request_key,
)
from course_lib.providers.templates import render_chatml

MODEL = "SmolLM2-135M-Instruct"
ASK = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Name a colour."}]
OTHER = [{"role": "user", "content": "Name a fruit."}]


def _entry(messages, text: str, source: str) -> Entry:
    canon = canonical_request(
        "completions",
        {"model": MODEL, "prompt": render_chatml(messages), "temperature": 0, "stop": ["<|im_end|>"]},
    )
    sample = {
        "model": MODEL,
        "choices": [{"index": 0, "text": text, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 11, "completion_tokens": 2, "total_tokens": 13},
    }
    provenance = Provenance(source=source, model=MODEL, server="test", date="2026-01-02")
    return Entry(key=request_key(canon), request=canon, samples=[sample, sample], provenance=provenance)


@pytest.fixture
def recordings(tmp_path):
    store = RecordingStore(tmp_path / "raw.jsonl")
    store.put(_entry(ASK, "Blue.", "recorded"))
    store.put(_entry(OTHER, "Apple.", "scripted"))
    return store.save()


def test_replayed_completions_carry_their_provenance(recordings) -> None:
    provider = replay_completion_provider(recordings, "chatml", MODEL)
    first = provider.complete(ASK, temperature=0)
    assert (first.text, first.source, first.usage.prompt_tokens) == ("Blue.", "recorded", 11)
    assert provider.complete(OTHER, temperature=0).source == "scripted"
    assert provider.transport.requests[0]["sample"] == 0


def test_async_replayed_completions_carry_their_provenance(recordings) -> None:
    provider = replay_completion_provider(recordings, "chatml", MODEL)

    async def both():
        return await asyncio.gather(
            provider.acomplete(ASK, temperature=0), provider.acomplete(OTHER, temperature=0)
        )

    colour, fruit = asyncio.run(both())
    assert (colour.text, colour.source) == ("Blue.", "recorded")
    assert (fruit.text, fruit.source) == ("Apple.", "scripted")


def test_a_miss_names_the_recordings(recordings) -> None:
    provider = replay_completion_provider(recordings, "chatml", MODEL)
    with pytest.raises(Exception, match="no recording for this request"):
        provider.complete([{"role": "user", "content": "Something else"}], temperature=0)


def test_scripted_anthropic_answers_in_anthropic_shape() -> None:
    server = ScriptedAnthropicServer({"Name a colour.": "Blue."}, model="claude-test")
    provider = server.provider()
    result = provider.complete(ASK, temperature=0, max_tokens=20)
    assert (result.text, result.source, result.finish_reason, result.model) == (
        "Blue.",
        "scripted",
        "stop",
        "claude-test",
    )
    assert result.usage.prompt_tokens > 0 and result.usage.completion_tokens == 2
    body = server.requests[0]
    assert body["system"] == "Be brief."
    assert body["messages"] == [{"role": "user", "content": "Name a colour."}]
    assert body["max_tokens"] == 20


def test_scripted_anthropic_replies_from_a_function_and_async() -> None:
    server = ScriptedAnthropicServer(lambda body: f"{len(body['messages'])} turn(s)")
    result = asyncio.run(server.provider().acomplete(OTHER))
    assert (result.text, result.source) == ("1 turn(s)", "scripted")


def test_scripted_anthropic_without_a_reply_says_what_to_add() -> None:
    provider = ScriptedAnthropicServer({}).provider()
    with pytest.raises(BadRequestError, match=r"no scripted reply for the user message 'Name a fruit\.'"):
        provider.complete(OTHER)


def test_scripted_anthropic_refuses_streams_clearly() -> None:
    provider = ScriptedAnthropicServer({"Name a fruit.": "Apple."}).provider()
    with pytest.raises(Exception, match="non-streamed requests only"):
        list(provider.stream(OTHER))
