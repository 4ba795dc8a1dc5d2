"""Fault injection over real HTTP: a proxy on 127.0.0.1 between the OpenAI adapter and an upstream.

The proxy (``tests/fault_proxy.py``) injects 429s with every ``retry-after`` form, 5xx, 4xx, dropped
connections, hangs past the timeout, truncated and empty streams and malformed 200 bodies, for
``complete``, ``acomplete``, ``stream`` and ``astream``. Against a fast fake upstream: a few hundred
requests, each checked — nothing lost, nothing partial returned as a success, every failure a
``ProviderError`` that says whether it was retried, ``retry-after`` honoured up to its ceiling, and no
4xx retried but 408, 409 and 429. The ``local`` test does a few dozen against the real model server.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx2
import openai
import pytest
from fault_proxy import FakeUpstream, FaultProxy, echo_answer

from course_lib.providers.base import (
    BadRequestError,
    ConnectionDroppedError,
    IncompleteStreamError,
    MalformedResponseError,
    ProviderError,
    RetryAfterTooLongError,
    ServerError,
)
from course_lib.providers.openai_adapter import OpenAIProvider
from course_lib.providers.registry import get_provider
from course_lib.retry import RetryPolicy

TIMEOUT_S = 0.5
METHODS = ("complete", "acomplete", "stream", "astream")


@dataclass(frozen=True)
class Ok:
    attempts: int


@dataclass(frozen=True)
class Fails:
    error: type[ProviderError]
    attempts: int


# name: (plan, expected for complete/acomplete, expected for stream/astream)
CASES: dict[str, tuple[list[str], Ok | Fails, Ok | Fails]] = {
    "ok": ([], Ok(1), Ok(1)),
    "429s": (["429s"], Ok(2), Ok(2)),
    "429date": (["429date"], Ok(2), Ok(2)),
    "429ms": (["429ms"], Ok(2), Ok(2)),
    "429long": (["429long"], Fails(RetryAfterTooLongError, 1), Fails(RetryAfterTooLongError, 1)),
    "500": (["500"], Ok(2), Ok(2)),
    "503x2": (["503", "503"], Ok(3), Ok(3)),
    "500x4": (["500"] * 4, Fails(ServerError, 4), Fails(ServerError, 4)),
    "400": (["400"], Fails(BadRequestError, 1), Fails(BadRequestError, 1)),
    "404": (["404"], Fails(BadRequestError, 1), Fails(BadRequestError, 1)),
    "422": (["422"], Fails(BadRequestError, 1), Fails(BadRequestError, 1)),
    "408": (["408"], Ok(2), Ok(2)),
    "409": (["409"], Ok(2), Ok(2)),
    "drop": (["drop"], Ok(2), Ok(2)),
    # After the first piece of text reached the caller, a stream is not retried.
    "dropmid": (["dropmid"], Ok(2), Fails(ConnectionDroppedError, 1)),
    "hang": (["hang"], Ok(2), Ok(2)),
    "truncated": (["truncated"], Ok(2), Fails(IncompleteStreamError, 1)),
    "empty": (["empty"], Ok(2), Ok(2)),
    "malformed": (["malformed"], Ok(2), Ok(2)),
    "notchat": (["notchat"], Ok(2), Ok(2)),
    "malformedx4": (["malformed"] * 4, Fails(MalformedResponseError, 4), Fails(MalformedResponseError, 4)),
    "mixed": (["429ms", "503", "drop"], Ok(4), Ok(4)),
}
#: The least wait each retry-after form asks for.
# An HTTP date has whole seconds: "now + 2 s" written as a date leaves between 1 and 2 s, less the
# time the answer took to reach the client, when it is read.
RETRY_AFTER_AT_LEAST = {"429s": 1.0, "429date": 0.8, "429ms": 0.15}


def make_provider(base_url: str, sleeps: list[float], *, sync_http=None, async_http=None) -> OpenAIProvider:
    return OpenAIProvider(
        openai.OpenAI(api_key="test", base_url=base_url, max_retries=0, http_client=sync_http),
        async_client=(
            openai.AsyncOpenAI(api_key="test", base_url=base_url, max_retries=0, http_client=async_http)
            if async_http is not None
            else None
        ),
        model="fake-model",
        name="fake",
        retry=RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05, seed=1),
        # Reading the answer times out after TIMEOUT_S; connecting may take longer on a busy machine.
        timeout=httpx2.Timeout(TIMEOUT_S, connect=5.0, pool=5.0),
        sleep=sleeps.append,  # record the waits instead of taking them
    )


@dataclass
class Outcome:
    case: str
    method: str
    prompt: str
    value: object  # the ChatResult, or the exception raised
    pieces: list[str]
    sleeps: list[float]
    log: list[dict] | None = None  # the provider's failed attempts, for the failure message


def run_sync(provider: OpenAIProvider, method: str, prompt: str) -> tuple[object, list[str]]:
    messages = [{"role": "user", "content": prompt}]
    pieces: list[str] = []
    try:
        if method == "complete":
            return provider.complete(messages, max_tokens=32), pieces
        final = None
        for chunk in provider.stream(messages, max_tokens=32):
            if chunk.done:
                final = chunk.result
            else:
                pieces.append(chunk.delta)
        return final, pieces
    except Exception as exc:  # every outcome is kept and judged below
        return exc, pieces


async def run_async(provider: OpenAIProvider, method: str, prompt: str) -> tuple[object, list[str]]:
    messages = [{"role": "user", "content": prompt}]
    pieces: list[str] = []
    try:
        if method == "acomplete":
            return await provider.acomplete(messages, max_tokens=32), pieces
        final = None
        async for chunk in provider.astream(messages, max_tokens=32):
            if chunk.done:
                final = chunk.result
            else:
                pieces.append(chunk.delta)
        return final, pieces
    except Exception as exc:
        return exc, pieces


def judge(outcome: Outcome, proxy: FaultProxy, case_id: str, expected_text: str | None = None) -> list[str]:
    """Everything wrong with one outcome (empty when it is right)."""
    _plan, on_complete, on_stream = CASES[outcome.case]
    expected = on_stream if "stream" in outcome.method else on_complete
    where = f"{outcome.case}/{outcome.method} {outcome.log or ''}"
    problems: list[str] = []
    made = proxy.attempts[case_id]
    value = outcome.value
    if isinstance(expected, Ok):
        want = expected_text if expected_text is not None else echo_answer(outcome.prompt)
        if isinstance(value, BaseException):
            return [f"{where}: expected an answer, got {type(value).__name__}: {value}"]
        if value is None or getattr(value, "text", None) != want:
            problems.append(f"{where}: returned {getattr(value, 'text', value)!r}, expected {want!r}")
        elif value.finish_reason not in ("stop", "length"):
            problems.append(f"{where}: success without a finish reason ({value.finish_reason!r})")
        if "stream" in outcome.method and "".join(outcome.pieces) != want:
            problems.append(f"{where}: the streamed pieces {outcome.pieces!r} do not make up the answer")
    else:
        if not isinstance(value, expected.error):
            return [f"{where}: expected {expected.error.__name__}, got {type(value).__name__}: {value}"]
        if value.attempts_made != expected.attempts or "attempt" not in str(value):
            problems.append(
                f"{where}: error says {value.attempts_made} attempts ({value}); expected {expected.attempts}"
            )
    if made != expected.attempts:
        problems.append(
            f"{where}: the server saw {made} attempts, expected {expected.attempts} ({proxy.faults[case_id]})"
        )
    least = RETRY_AFTER_AT_LEAST.get(outcome.case)
    if least is not None and (not outcome.sleeps or not least <= outcome.sleeps[0] <= 60.0):
        problems.append(f"{where}: waited {outcome.sleeps} after a 429 asking for at least {least} s")
    if outcome.case == "429long" and outcome.sleeps:
        problems.append(f"{where}: slept {outcome.sleeps} instead of failing at once")
    if any(s > 60.0 for s in outcome.sleeps):
        problems.append(f"{where}: a wait of {max(outcome.sleeps)} s passed the 60 s ceiling")
    return problems


def test_a_few_hundred_faulty_requests_through_a_real_proxy():
    repeats = 3
    outcomes: list[tuple[Outcome, str]] = []
    issued = 0
    with FakeUpstream() as upstream, FaultProxy(upstream.url, hang_s=2 * TIMEOUT_S) as proxy:
        jobs = []
        for rep in range(repeats):
            for case, (plan, _, _) in CASES.items():
                for method in METHODS:
                    case_id = f"{case}-{method}-{rep}"
                    proxy.plan(case_id, plan)
                    jobs.append(
                        (case, method, case_id, f"[case {case_id}] What is the status of order {rep}?")
                    )
        issued = len(jobs)
        sync_http = httpx2.Client(timeout=TIMEOUT_S)

        def one_sync(job):
            case, method, case_id, prompt = job
            sleeps: list[float] = []
            provider = make_provider(proxy.url, sleeps, sync_http=sync_http)
            value, pieces = run_sync(provider, method, prompt)
            return Outcome(case, method, prompt, value, pieces, sleeps, provider.attempts), case_id

        with ThreadPoolExecutor(max_workers=8) as pool:
            outcomes += list(pool.map(one_sync, [j for j in jobs if not j[1].startswith("a")]))

        async def all_async():
            gate = asyncio.Semaphore(16)  # fewer in flight than the client's connection pool holds
            async with httpx2.AsyncClient(timeout=TIMEOUT_S) as async_http:

                async def one(job):
                    case, method, case_id, prompt = job
                    async with gate:
                        return await one_gated(job, case, method, case_id, prompt)

                async def one_gated(job, case, method, case_id, prompt):
                    sleeps: list[float] = []
                    provider = make_provider(proxy.url, sleeps, sync_http=sync_http, async_http=async_http)
                    value, pieces = await run_async(provider, method, prompt)
                    return Outcome(case, method, prompt, value, pieces, sleeps, provider.attempts), case_id

                return await asyncio.gather(*(one(j) for j in jobs if j[1].startswith("a")))

        outcomes += asyncio.run(all_async())
        sync_http.close()
        problems = [p for outcome, case_id in outcomes for p in judge(outcome, proxy, case_id)]
        total_attempts = sum(proxy.attempts.values())
    assert issued >= 250 and total_attempts > issued
    assert len(outcomes) == issued, "a request was lost: it neither returned nor raised"
    assert not problems, f"{len(problems)} of {issued} requests went wrong:\n" + "\n".join(problems[:40])


def test_errors_name_what_happened_and_that_they_were_not_retried():
    with FakeUpstream() as upstream, FaultProxy(upstream.url) as proxy:
        proxy.plan("bad", ["400"])
        proxy.plan("cut", ["dropmid"])
        sleeps: list[float] = []
        provider = make_provider(proxy.url, sleeps)
        with pytest.raises(BadRequestError, match=r"request rejected \(400\).*1 attempt, not retried"):
            provider.complete([{"role": "user", "content": "[case bad] hi"}])
        chunks = provider.stream([{"role": "user", "content": "[case cut] hi"}])
        first = next(chunks)
        assert first.delta  # a piece of the answer reached the caller ...
        with pytest.raises(ConnectionDroppedError, match="already reached the caller"):
            list(chunks)  # ... so the drop after it is raised, not retried


def test_a_provider_serves_two_event_loops_over_real_http():
    with FakeUpstream() as upstream:
        env = {"COURSE_BASE_URL": upstream.url, "COURSE_MODEL": "fake-model"}
        provider = get_provider("openai-compatible", env=env)
        ask = [{"role": "user", "content": "first loop"}]
        assert asyncio.run(provider.acomplete(ask)).text == echo_answer("first loop")
        ask = [{"role": "user", "content": "second loop"}]
        assert asyncio.run(provider.acomplete(ask)).text == echo_answer("second loop")

        async def streamed() -> str:
            return "".join([c.delta async for c in provider.astream(ask) if not c.done])

        assert asyncio.run(streamed()) == echo_answer("second loop")


def test_astream_works_on_replay():
    provider = get_provider("replay")
    entry = next(
        e
        for e in provider.transport.entries.values()
        if e.endpoint == "chat.completions"
        and set(e.request) <= {"endpoint", "model", "messages", "max_tokens", "temperature"}
    )
    params = {k: v for k, v in entry.request.items() if k in ("max_tokens", "temperature")}
    provider.model = entry.request["model"]

    async def collect():
        return [c async for c in provider.astream(entry.request["messages"], **params)]

    chunks = asyncio.run(collect())
    assert chunks[-1].done
    assert "".join(c.delta for c in chunks[:-1]) == chunks[-1].result.text
    assert chunks[-1].result.text == entry.samples[0]["choices"][0]["message"]["content"]


@pytest.mark.local
@pytest.mark.slow
def test_a_few_dozen_faults_against_the_real_local_model(local_server):
    sleeps_by_case: dict[str, list[float]] = {}
    local_cases = [  # each case, twice, for complete and stream: 48 requests
        "ok",
        "429s",
        "429ms",
        "500",
        "503x2",
        "400",
        "409",
        "drop",
        "dropmid",
        "truncated",
        "malformed",
        "empty",
    ]
    problems: list[str] = []
    count = 0
    with FaultProxy(local_server.url, hang_s=1.0) as proxy:
        for method in ("complete", "stream"):
            for case in local_cases:
                for rep in range(2):
                    case_id = f"{case}-{method}-{rep}"
                    prompt = f"[case {case_id}] Name one colour."
                    proxy.plan(case_id, CASES[case][0])
                    sleeps: list[float] = []
                    provider = make_provider(proxy.url, sleeps)
                    provider.timeout = 30.0
                    messages = [{"role": "user", "content": prompt}]
                    pieces: list[str] = []
                    try:
                        if method == "complete":
                            value: object = provider.complete(messages, max_tokens=8, temperature=0)
                        else:
                            value = None
                            for chunk in provider.stream(messages, max_tokens=8, temperature=0):
                                if chunk.done:
                                    value = chunk.result
                                else:
                                    pieces.append(chunk.delta)
                    except Exception as exc:
                        value = exc
                    sleeps_by_case[case_id] = sleeps
                    outcome = Outcome(case, method, prompt, value, pieces, sleeps)
                    # A success must return exactly the whole answer the server sent.
                    problems += judge(
                        outcome, proxy, case_id, expected_text=proxy.answers.get(case_id, "<none>")
                    )
                    count += 1
    assert count >= 40
    assert not problems, "\n".join(problems)


@pytest.mark.local
def test_streamed_usage_is_counted_with_the_serving_models_tokenizer(local_server):
    provider = get_provider("local", env={"COURSE_LOCAL_URL": local_server.url})
    ask = [{"role": "user", "content": "Name three colors."}]
    reported = provider.complete(ask, max_tokens=16, temperature=0)
    final = list(provider.stream(ask, max_tokens=16, temperature=0))[-1].result
    assert final.usage.computed  # the server sent no usage in the stream
    assert final.usage.prompt_tokens == reported.usage.prompt_tokens  # 34, where tiktoken counted 11
    if final.text == reported.text:
        assert abs(final.usage.completion_tokens - reported.usage.completion_tokens) <= 1


def test_streamed_usage_counter_is_used_when_the_stream_has_none():
    from course_lib.providers.base import Usage

    seen = []

    def counter(messages, texts, model):
        seen.append((messages, texts))
        return Usage(prompt_tokens=34, completion_tokens=7)

    with FakeUpstream() as upstream:
        provider = make_provider(upstream.url, [])
        provider.token_counter = counter
        ask = [{"role": "user", "content": "hello"}]
        with_usage = list(provider.stream(ask))[-1].result.usage  # the fake sends usage when asked
        assert not with_usage.computed and seen == []
        request = provider._stream_request(ask, {})
        assert request["stream_options"] == {"include_usage": True}
    from course_lib.providers.openai_adapter import _StreamAssembler

    assembler = _StreamAssembler("fake", None, 0.0, {"messages": ask, "model": "m"}, provider)
    event = openai.types.chat.ChatCompletionChunk.model_validate(
        {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m",
         "choices": [{"index": 0, "delta": {"content": "hi there"}, "finish_reason": "stop"}]}
    )  # fmt: skip
    assembler.feed(event)
    usage = assembler.finish().result.usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.computed) == (34, 7, True)
    assert seen == [(ask, ["hi there"])]
