"""Reasoning tokens: the OpenAI adapter reads ``completion_tokens_details.reasoning_tokens`` (lesson 04)."""

from __future__ import annotations

import asyncio

import pytest

from course_lib.cost import request_cost
from course_lib.providers.registry import get_provider
from course_lib.providers.replay.recordings import RecordingStore

ASK = [{"role": "user", "content": "Is 9.11 larger than 9.8?"}]
REASONED = {
    "content": "No: 9.8 is larger.",
    "usage": {
        "prompt_tokens": 16,
        "completion_tokens": 200,
        "total_tokens": 216,
        "completion_tokens_details": {"reasoning_tokens": 192},
    },
}


@pytest.fixture
def provider(tmp_path):
    store = RecordingStore(tmp_path / "reasoning.jsonl")
    store.add_scripted(messages=ASK, responses=[REASONED] * 3, model="o4-mini", note="a reasoning model")
    store.add_scripted(messages=ASK, responses=["No."], model="gpt-4o-mini", note="no details reported")
    store.save()
    return lambda model: get_provider("replay", recordings=store.path, model=model)


def test_the_adapter_reads_reasoning_tokens(provider):
    usage = provider("o4-mini").complete(ASK).usage
    assert (usage.completion_tokens, usage.reasoning_tokens) == (200, 192)


def test_reasoning_tokens_survive_streaming_and_async(provider):
    p = provider("o4-mini")
    last = list(p.stream(ASK))[-1]
    assert last.done and last.result.usage.reasoning_tokens == 192
    assert asyncio.run(p.acomplete(ASK)).usage.reasoning_tokens == 192


def test_no_details_means_no_reasoning_tokens(provider):
    result = provider("gpt-4o-mini").complete(ASK)
    assert result.usage.completion_tokens > 0 and result.usage.reasoning_tokens == 0


def test_the_cost_of_a_reasoned_answer_bills_its_reasoning_once(provider):
    c = request_cost(provider("o4-mini").complete(ASK), "gpt-4o-mini")
    assert c.visible_completion_tokens == 8
    assert c.total == pytest.approx((16 * 0.15 + 200 * 0.6) / 1e6)
    assert c.reasoning_cost == pytest.approx(192 * 0.6 / 1e6)


def test_a_recording_keeps_reasoning_and_cached_token_details():
    from course_lib.providers.replay.recorder import sample_from_body

    usage = {
        "prompt_tokens": 40,
        "completion_tokens": 300,
        "total_tokens": 340,
        "prompt_tokens_details": {"cached_tokens": 32},
        "completion_tokens_details": {"reasoning_tokens": 256},
    }
    body = {
        "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "42"}, "finish_reason": "stop"}],
        "usage": usage,
    }
    sample, computed = sample_from_body("chat.completions", body, {"messages": []})
    assert not computed
    assert sample["usage"] == usage
