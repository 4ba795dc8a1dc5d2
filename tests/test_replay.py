"""The replay transport under the real openai SDK: every response shape, sample order, misses, faults."""

from __future__ import annotations

import asyncio
import json
import random
import time

import openai
import pytest

from course_lib.providers.base import BadRequestError, ConfigurationError, RateLimitError
from course_lib.providers.faulty import FaultSchedule, faulty_handler
from course_lib.providers.openai_adapter import OpenAIProvider
from course_lib.providers.registry import get_provider, provider_config
from course_lib.providers.replay.recordings import (
    RecordingStore,
    SecretInRecordingError,
    canonical_request,
    request_key,
)
from course_lib.providers.replay.responses import embedding_sample
from course_lib.providers.replay.scope import sample_scope
from course_lib.providers.replay.transport import (
    REPLAY_BASE_URL,
    LatencyModel,
    ReplayExhaustedError,
    ReplayMissError,
    ReplayTransport,
)
from course_lib.retry import RetryPolicy

Q = [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "Pick a colour."}]
COLOURS = ["red", "green", "blue", "amber", "violet", "teal", "grey"]
LOGPROB_SAMPLE = {
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Yes"},
            "finish_reason": "stop",
            "logprobs": {
                "content": [
                    {
                        "token": "Yes",
                        "logprob": -0.105,
                        "bytes": [89, 101, 115],
                        "top_logprobs": [
                            {"token": "Yes", "logprob": -0.105, "bytes": [89, 101, 115]},
                            {"token": "No", "logprob": -2.3, "bytes": [78, 111]},
                        ],
                    }
                ]
            },
        }
    ]
}


@pytest.fixture
def recordings(tmp_path):
    store = RecordingStore(tmp_path / "demo.jsonl")
    store.add_scripted(messages=Q, responses=COLOURS, params={"temperature": 0.9}, note="seven colours")
    store.add_scripted(messages=Q, responses=["red"], params={"temperature": 0}, note="greedy")
    store.add_scripted(
        messages=Q, responses=["cyan"], params={"temperature": 0.9, "n": 3}, note="three choices in one call"
    )
    store.add_scripted(
        messages=[{"role": "user", "content": "Is 2 even?"}],
        responses=[LOGPROB_SAMPLE],
        params={"logprobs": True, "top_logprobs": 2},
        note="logprobs",
    )
    store.add_scripted(
        messages=[{"role": "user", "content": "Return JSON."}],
        responses=['{"ok": true}'],
        params={"response_format": {"type": "json_object"}},
        note="json mode",
    )
    texts = ["alpha", "beta"]
    sample = embedding_sample(
        [[0.25, -0.5, 1.0], [0.0, 0.125, -1.5]], model="text-embedding-3-small", inputs=texts
    )
    canon = canonical_request("embeddings", {"model": "text-embedding-3-small", "input": texts})
    from course_lib.providers.replay.recordings import Entry, Provenance

    store.put(
        Entry(
            key=request_key(canon),
            request=canon,
            samples=[sample],
            provenance=Provenance(source="scripted", note="embeddings"),
        )
    )
    store.save()
    return store.path


def test_sync_chat_parses_with_the_sdk(recordings):
    client = ReplayTransport(recordings).openai_client()
    response = client.chat.completions.create(model="gpt-4o-mini", messages=Q, temperature=0)
    assert isinstance(response, openai.types.chat.ChatCompletion)
    assert response.choices[0].message.content == "red"
    assert response.usage.completion_tokens == 1
    assert response.usage.prompt_tokens > 10


def test_async_chat_parses_with_the_sdk(recordings):
    client = ReplayTransport(recordings).async_openai_client()

    async def go():
        return await client.chat.completions.create(model="gpt-4o-mini", messages=Q, temperature=0)

    assert asyncio.run(go()).choices[0].message.content == "red"


def test_stream_with_usage_parses_with_the_sdk(recordings):
    client = ReplayTransport(recordings).openai_client()
    chunks = list(
        client.chat.completions.create(
            model="gpt-4o-mini",
            messages=Q,
            temperature=0.9,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "red"
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == 1
    assert chunks[-2].choices[0].finish_reason == "stop"


def test_n_choices_in_one_response(recordings):
    client = ReplayTransport(recordings).openai_client()
    response = client.chat.completions.create(model="gpt-4o-mini", messages=Q, temperature=0.9, n=3)
    assert [c.index for c in response.choices] == [0, 1, 2]
    assert {c.message.content for c in response.choices} == {"cyan"}


def test_logprobs_reach_the_chat_result(recordings):
    provider = get_provider("replay", recordings=recordings, env={})
    result = provider.complete([{"role": "user", "content": "Is 2 even?"}], logprobs=True, top_logprobs=2)
    lp = result.choices[0].logprobs
    assert lp is not None and lp[0].token == "Yes"
    assert lp[0].logprob == pytest.approx(-0.105)
    assert lp[0].top == {"Yes": -0.105, "No": -2.3}


def test_json_mode_is_part_of_the_key(recordings):
    provider = get_provider("replay", recordings=recordings, env={})
    result = provider.complete(
        [{"role": "user", "content": "Return JSON."}], response_format={"type": "json_object"}
    )
    assert json.loads(result.text) == {"ok": True}
    with pytest.raises(ReplayMissError):
        provider.complete([{"role": "user", "content": "Return JSON."}])


@pytest.mark.parametrize("encoding_format", [None, "float", "base64"])
def test_embeddings_parse_in_every_encoding(recordings, encoding_format):
    client = ReplayTransport(recordings).openai_client()
    kwargs = {"encoding_format": encoding_format} if encoding_format else {}
    response = client.embeddings.create(model="text-embedding-3-small", input=["alpha", "beta"], **kwargs)
    vectors = [d.embedding for d in response.data]
    if encoding_format == "base64":  # asked for explicitly, the SDK hands back the packed float32 string
        import base64
        import struct

        vectors = [list(struct.unpack("<3f", base64.b64decode(v))) for v in vectors]
    assert vectors[0] == pytest.approx([0.25, -0.5, 1.0])
    assert vectors[1] == pytest.approx([0.0, 0.125, -1.5])


def test_repeated_requests_get_successive_samples_then_raise(recordings):
    provider = get_provider("replay", recordings=recordings, env={})
    got = [provider.complete(Q, temperature=0.9).text for _ in COLOURS]
    assert got == COLOURS
    with pytest.raises(ReplayExhaustedError, match="7 recorded sample"):
        provider.complete(Q, temperature=0.9)


def test_gather_with_sample_scopes_is_deterministic_whatever_the_finish_order(recordings):
    provider = get_provider("replay", recordings=recordings, env={})

    async def one(i: int, delay: float) -> str:
        with sample_scope(i):
            await asyncio.sleep(delay)
            return (await provider.acomplete(Q, temperature=0.9)).text

    async def fan_out(seed: int) -> list[str]:
        rng = random.Random(seed)
        return await asyncio.gather(*[one(i, rng.random() / 50) for i in range(7)])

    runs = [asyncio.run(fan_out(seed)) for seed in range(3)]
    assert runs == [COLOURS] * 3


def test_samples_are_numbered_at_entry_under_gather(recordings):
    provider = get_provider("replay", recordings=recordings, env={}, latency=LatencyModel(ttft_s=0.0))

    async def fan_out():
        return await asyncio.gather(*[provider.acomplete(Q, temperature=0.9) for _ in range(7)])

    assert [r.text for r in asyncio.run(fan_out())] == COLOURS


def test_a_miss_names_file_key_nearest_diff_and_command(recordings):
    provider = get_provider("replay", recordings=recordings, env={})
    with pytest.raises(ReplayMissError) as info:
        provider.complete(Q, temperature=0.7)
    message = str(info.value)
    assert isinstance(info.value, openai.OpenAIError)
    assert "demo.jsonl" in message
    key = request_key(
        canonical_request("chat.completions", {"model": "gpt-4o-mini", "messages": Q, "temperature": 0.7})
    )
    assert key[:16] in message
    assert "temperature: requested 0.7 | recorded 0.9" in message
    assert "course record --into demo" in message


def test_volatile_fields_do_not_change_the_key():
    base = {"model": "m", "messages": Q, "temperature": 0.5}
    key = request_key(canonical_request("chat.completions", base))
    noisy = {**base, "stream": True, "stream_options": {"include_usage": True}, "user": "u1", "n": 1}
    assert request_key(canonical_request("chat.completions", noisy)) == key
    assert request_key(canonical_request("chat.completions", {**base, "seed": 3})) != key
    extra_field = [{**Q[0], "extra": "x"}, Q[1]]
    assert request_key(canonical_request("chat.completions", {**base, "messages": extra_field})) == key


def test_store_refuses_keys_and_auth_headers(tmp_path):
    store = RecordingStore(tmp_path / "s.jsonl")
    with pytest.raises(SecretInRecordingError):
        store.add_scripted(messages=Q, responses=["use sk-" + "abcdefghijklmnopqrstuvwx"], note="leak")
    with pytest.raises(SecretInRecordingError):
        store.add_scripted(
            messages=[{"role": "user", "content": "Bearer abcdefghijkl"}], responses=["x"], note="x"
        )


def test_packaged_recordings_hold_no_secrets_and_valid_provenance():
    from course_lib.providers.replay.recordings import RECORDINGS_DIR, SECRET_PATTERNS

    for path in RECORDINGS_DIR.glob("*.jsonl"):
        text = path.read_text(encoding="utf-8")
        for pattern in SECRET_PATTERNS:
            assert not pattern.search(text), f"{path.name} matches {pattern.pattern}"
        store = RecordingStore(path)  # validates every line and key
        for entry in store.entries.values():
            if entry.provenance.source == "recorded":
                assert entry.provenance.model and entry.provenance.server and entry.provenance.date, path.name


def _provider_with_faults(recordings, schedule, sleeps):
    transport = ReplayTransport(recordings)
    import httpx2

    handler = faulty_handler(transport.handle, FaultSchedule(schedule), retry_after=3)
    client = openai.OpenAI(
        api_key="replay",
        base_url=REPLAY_BASE_URL,
        max_retries=0,
        http_client=httpx2.Client(transport=httpx2.MockTransport(handler)),
    )
    policy = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05, seed=1)
    return OpenAIProvider(client, model="gpt-4o-mini", retry=policy, sleep=sleeps.append), handler


def test_429_with_retry_after_is_honoured(recordings):
    sleeps: list[float] = []
    provider, handler = _provider_with_faults(recordings, ["rate_limit", "server_error"], sleeps)
    assert provider.complete(Q, temperature=0).text == "red"
    assert handler.schedule.drawn == ["rate_limit", "server_error", "ok"]
    assert sleeps[0] >= 3  # the server asked for 3 s; backoff alone would wait <= 0.05 s
    assert sleeps[1] <= 0.05
    assert [a["error"] for a in provider.attempts] == ["RateLimitError", "ServerError"]


def test_400_is_not_retried(recordings):
    sleeps: list[float] = []
    provider, handler = _provider_with_faults(recordings, ["bad_request"], sleeps)
    with pytest.raises(BadRequestError):
        provider.complete(Q, temperature=0)
    assert sleeps == [] and handler.schedule.drawn == ["bad_request"]


def test_retries_stop_at_max_attempts(recordings):
    sleeps: list[float] = []
    provider, handler = _provider_with_faults(recordings, ["rate_limit"] * 10, sleeps)
    with pytest.raises(RateLimitError):
        provider.complete(Q, temperature=0)
    assert len(handler.schedule.drawn) == 4 and len(sleeps) == 3


def test_simulated_latency_shapes_the_stream(recordings):
    latency = LatencyModel(ttft_s=0.15, per_token_s=0.0)
    provider = get_provider("replay", recordings=recordings, env={}, latency=latency)
    start = time.perf_counter()
    chunks = list(provider.stream(Q, temperature=0))
    assert chunks[0].elapsed_s >= 0.14
    assert chunks[-1].done and chunks[-1].result.text == "red"
    assert time.perf_counter() - start < 2


def test_chat_result_reports_provenance_and_computed_usage(recordings):
    result = get_provider("replay", recordings=recordings, env={}).complete(Q, temperature=0)
    assert result.source == "scripted"
    assert result.usage.computed is True


def test_registry_errors_say_what_to_set():
    with pytest.raises(ConfigurationError, match="choose one of"):
        get_provider("bogus", env={})
    with pytest.raises(ConfigurationError, match="OPENAI_API_KEY"):
        get_provider("openai", env={})
    with pytest.raises(ConfigurationError, match="COURSE_BASE_URL"):
        get_provider(env={"COURSE_PROVIDER": "openai-compatible"})
    with pytest.raises(ConfigurationError, match="COURSE_RECORD_TO"):
        get_provider(env={"COURSE_PROVIDER": "record"})


def test_course_model_overrides_the_code():
    assert provider_config("replay", model="a", env={"COURSE_MODEL": "b"})["model"] == "b"
    assert provider_config("replay", model="a", env={})["model"] == "a"
    assert provider_config(env={})["provider"] == "replay"


def test_nothing_fails_at_import_with_a_bad_environment():
    import subprocess
    import sys

    code = "import course_lib, course_lib.providers.registry; print('ok')"
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={"COURSE_PROVIDER": "nonsense", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_empty_prompt_is_a_clear_error(recordings):
    provider = get_provider("replay", recordings=recordings, env={})
    with pytest.raises(ValueError, match="messages is empty"):
        provider.complete([])
    with pytest.raises(ValueError, match="nothing for the model"):
        provider.complete([{"role": "user", "content": "  "}])


def test_raw_completions_replay_through_the_completion_adapter(tmp_path):
    from course_lib.providers.completion_adapter import CompletionProvider
    from course_lib.providers.replay.recordings import Entry, Provenance
    from course_lib.providers.templates import render_chatml

    prompt = render_chatml(Q, add_generation_prompt=True)
    canon = canonical_request(
        "completions",
        {"model": "SmolLM2-135M-Instruct", "prompt": prompt, "temperature": 0, "stop": ["<|im_end|>"]},
    )
    sample = {
        "model": "SmolLM2-135M-Instruct",
        "choices": [{"index": 0, "text": "Blue.", "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 20, "completion_tokens": 2, "total_tokens": 22},
    }
    store = RecordingStore(tmp_path / "raw.jsonl")
    store.put(
        Entry(
            key=request_key(canon), request=canon, samples=[sample], provenance=Provenance(source="scripted")
        )
    )
    store.save()
    transport = ReplayTransport(store.path)
    import httpx2

    provider = CompletionProvider.from_base_url(
        REPLAY_BASE_URL,
        "chatml",
        "SmolLM2-135M-Instruct",
        transport=httpx2.MockTransport(transport.handle),
        async_transport=httpx2.MockTransport(transport.ahandle),
    )
    sent = provider.render(Q)
    assert sent == prompt
    try:
        result = provider.complete(Q, temperature=0)
    except ReplayMissError as err:  # the adapter may send other stop tokens: show what it sent
        pytest.fail(str(err))
    assert result.text == "Blue." and result.usage.completion_tokens == 2


def test_completion_adapter_reports_replay_provenance(tmp_path):
    import httpx2

    from course_lib.providers.completion_adapter import CompletionProvider
    from course_lib.providers.replay.recordings import Entry, Provenance
    from course_lib.providers.templates import render_chatml

    prompt = render_chatml(Q, add_generation_prompt=True)
    canon = canonical_request(
        "completions", {"model": "m", "prompt": prompt, "temperature": 0, "stop": ["<|im_end|>"]}
    )
    sample = {"model": "m", "choices": [{"index": 0, "text": "Teal.", "finish_reason": "stop"}], "usage": {}}
    store = RecordingStore(tmp_path / "p.jsonl")
    prov = Provenance(source="recorded", model="m", server="s", date="2026-11-25")
    store.put(Entry(key=request_key(canon), request=canon, samples=[sample], provenance=prov))
    store.save()
    transport = ReplayTransport(store.path)
    provider = CompletionProvider.from_base_url(
        REPLAY_BASE_URL, "chatml", "m", transport=httpx2.MockTransport(transport.handle)
    )
    assert provider.complete(Q, temperature=0).source == "recorded"


def test_a_request_two_files_answer_differently_is_ambiguous(tmp_path):
    from course_lib.providers.replay.transport import ReplayAmbiguousError

    for name, text in (("a", "red"), ("b", "blue"), ("c", "red")):
        store = RecordingStore(tmp_path / f"{name}.jsonl")
        store.add_scripted(messages=Q, responses=[text], params={"temperature": 0}, note=name)
        store.save()
    same = ReplayTransport([tmp_path / "a.jsonl", tmp_path / "c.jsonl"])
    assert not same.conflicts  # identical samples in two files are not a conflict
    both = ReplayTransport([tmp_path / "a.jsonl", tmp_path / "b.jsonl"])
    provider = OpenAIProvider(both.openai_client(), model="gpt-4o-mini")
    with pytest.raises(ReplayAmbiguousError, match="recordings='a'"):
        provider.complete(Q, temperature=0)


def test_each_lesson_replays_from_its_own_file_without_ambiguity():
    """Lessons name their recordings file; within one file every key is unique by construction."""
    from course_lib.providers.replay.recordings import RECORDINGS_DIR

    for path in sorted(RECORDINGS_DIR.glob("*.jsonl")):
        assert not ReplayTransport(path).conflicts, path.name
