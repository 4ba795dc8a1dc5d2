"""Tests for course_lib.cache: exact keys, TTL with a fake clock, LRU eviction, metrics, the wrapper."""

from __future__ import annotations

import asyncio
import hashlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from course_lib.cache import CachedProvider, PromptCache, cache_key
from course_lib.providers.base import ChatResult, Choice, ServerError, Usage
from course_lib.providers.scripted import ScriptedProvider

MSGS = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Routing number?"}]


class FakeClock:
    def __init__(self, t: float = 0.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def result(text: str, prompt: int = 10, completion: int = 5) -> ChatResult:
    return ChatResult(
        choices=[Choice(text=text)],
        usage=Usage(prompt_tokens=prompt, completion_tokens=completion),
        model="m",
        latency_s=1.0,
        provider="scripted",
    )


def test_key_is_sha256_of_sorted_canonical_json():
    body = {"messages": MSGS, "model": "gpt-4o", "params": {"temperature": 0}}
    expected = hashlib.sha256(
        json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    ).hexdigest()
    assert cache_key("gpt-4o", MSGS, {"temperature": 0}) == expected


def test_key_ignores_dict_order_and_timeout_but_not_answer_params():
    reordered = [{"content": m["content"], "role": m["role"]} for m in MSGS]
    base = cache_key("gpt-4o", MSGS, {"temperature": 0, "max_tokens": 50})
    assert cache_key("gpt-4o", reordered, {"max_tokens": 50, "temperature": 0, "timeout": 3}) == base
    assert cache_key("gpt-4o", MSGS, {"temperature": 0.7, "max_tokens": 50}) != base
    assert cache_key("gpt-4o", MSGS, {"temperature": 0, "max_tokens": 51}) != base
    assert cache_key("gpt-4o-mini", MSGS, {"temperature": 0, "max_tokens": 50}) != base
    assert cache_key("gpt-4o", MSGS[1:], {"temperature": 0, "max_tokens": 50}) != base


def test_separator_collision_of_naive_keys_does_not_happen():
    a = [{"role": "system", "content": "a|b"}, {"role": "user", "content": "c"}]
    b = [{"role": "system", "content": "a"}, {"role": "user", "content": "b|c"}]
    assert cache_key("m", a) != cache_key("m", b)


def test_pydantic_response_format_is_keyed_by_schema():
    class A(BaseModel):
        x: int

    class B(BaseModel):
        y: str

    assert cache_key("m", MSGS, {"response_format": A}) != cache_key("m", MSGS, {"response_format": B})

    def same_schema() -> type[BaseModel]:
        class A(BaseModel):  # another class object, the same schema: the same request
            x: int

        return A

    assert cache_key("m", MSGS, {"response_format": A}) == cache_key(
        "m", MSGS, {"response_format": same_schema()}
    )


def test_unencodable_param_has_a_clear_error():
    with pytest.raises(TypeError, match="cannot build a cache key from a object"):
        cache_key("m", MSGS, {"stop": object()})


@given(st.lists(st.text(max_size=20), min_size=1, max_size=4), st.text(max_size=20))
def test_different_user_text_gives_different_keys(prefix, text):
    msgs = [{"role": "user", "content": p} for p in prefix]
    other = [*msgs[:-1], {"role": "user", "content": msgs[-1]["content"] + text + "!"}]
    assert cache_key("m", msgs) != cache_key("m", other)


def test_hit_miss_counts_and_hit_rate():
    cache = PromptCache(max_size=10, ttl_s=None)
    assert cache.get("k") is None
    cache.put("k", result("v"))
    assert cache.get("k").text == "v"
    assert cache.get("k").text == "v"
    stats = cache.stats
    assert (stats.hits, stats.misses, stats.size) == (2, 1, 1)
    assert stats.hit_rate == pytest.approx(2 / 3)
    assert stats.tokens_saved == 30


def test_ttl_expiry_with_fake_clock():
    clock = FakeClock()
    cache = PromptCache(ttl_s=60, clock=clock)
    cache.put("k", "v")
    clock.t = 59.9
    assert cache.get("k") == "v"
    clock.t = 60.0
    assert "k" not in cache
    assert cache.get("k") is None
    assert cache.stats.expirations == 1
    assert len(cache) == 0


def test_lru_eviction_drops_least_recently_used():
    cache = PromptCache(max_size=2, ttl_s=None)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # a is now the most recent
    cache.put("c", 3)  # evicts b
    assert "b" not in cache
    assert "a" in cache and "c" in cache
    assert cache.stats.evictions == 1


def test_hit_rate_series_cumulative_and_windowed():
    clock = FakeClock()
    cache = PromptCache(ttl_s=None, clock=clock)
    cache.put("k", 1)
    for t, key in enumerate(["x", "k", "k", "x"]):
        clock.t = float(t)
        cache.get(key)
    assert cache.hit_rate_series() == [(0.0, 0.0), (1.0, 0.5), (2.0, 2 / 3), (3.0, 0.5)]
    assert [r for _, r in cache.hit_rate_series(window=2)] == [0.0, 0.5, 1.0, 0.5]
    with pytest.raises(ValueError):
        cache.hit_rate_series(window=0)


def test_invalid_cache_settings():
    with pytest.raises(ValueError, match="max_size"):
        PromptCache(max_size=0)
    with pytest.raises(ValueError, match="ttl_s"):
        PromptCache(ttl_s=0)


def test_cached_provider_calls_inner_once_per_distinct_request():
    inner = ScriptedProvider(lambda m, p: f"answer to {m[-1]['content']}")
    provider = CachedProvider(inner, PromptCache(ttl_s=None))
    first = provider.complete(MSGS, temperature=0)
    second = provider.complete(MSGS, temperature=0)
    third = provider.complete(MSGS, temperature=1)
    assert len(inner.calls) == 2
    assert first.text == second.text == third.text == "answer to Routing number?"
    assert first.usage.total_tokens > 0
    assert second.usage.total_tokens == 0 and second.provider == "cache" and second.latency_s == 0.0
    assert (provider.hits, provider.misses) == (1, 2)
    assert provider.cache.stats.tokens_saved == first.usage.total_tokens


def test_cached_provider_does_not_cache_errors():
    inner = ScriptedProvider([ServerError("500"), "ok"])
    provider = CachedProvider(inner, PromptCache())
    with pytest.raises(ServerError):
        provider.complete(MSGS)
    assert provider.complete(MSGS).text == "ok"
    assert len(inner.calls) == 2


def test_cached_provider_async_and_ttl():
    clock = FakeClock()
    inner = ScriptedProvider(lambda m, p: "v")
    provider = CachedProvider(inner, PromptCache(ttl_s=10, clock=clock))

    async def run():
        await provider.acomplete(MSGS)
        await provider.acomplete(MSGS)
        clock.t = 11
        await provider.acomplete(MSGS)

    asyncio.run(run())
    assert len(inner.calls) == 2
    assert provider.cache.stats.expirations == 1


def test_cached_provider_validates_before_lookup():
    provider = CachedProvider(ScriptedProvider(["x"]))
    with pytest.raises(ValueError, match="messages is empty"):
        provider.complete([])
    with pytest.raises(TypeError, match="unknown parameter"):
        provider.complete(MSGS, temprature=0)
