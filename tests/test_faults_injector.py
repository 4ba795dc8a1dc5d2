"""The course's fault injector produces the faults real servers do: mid-answer drops, cut streams, bad bodies."""

from __future__ import annotations

import httpx2
import openai
import pytest

from course_lib.providers.base import (
    ConflictError,
    ConnectionDroppedError,
    IncompleteStreamError,
    MalformedResponseError,
    ProviderError,
    ProviderTimeout,
    RetryAfterTooLongError,
    ServerError,
)
from course_lib.providers.faulty import FAULTS, FaultyProvider, faulty_handler
from course_lib.providers.openai_adapter import OpenAIProvider
from course_lib.providers.scripted import ScriptedProvider
from course_lib.retry import RetryingProvider, RetryPolicy

ASK = [{"role": "user", "content": "Is the refund service up?"}]


def faulty(schedule, **kw):
    return FaultyProvider(ScriptedProvider(["yes, it is up and answering"] * 10), schedule, **kw)


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("rate_limit_long", RetryAfterTooLongError),
        ("unavailable", None),
        ("conflict", None),
        ("drop", None),
        ("truncated", None),
        ("malformed_body", None),
        ("hang", None),
    ],
)
def test_new_faults_are_retried_or_refused_like_real_ones(fault, error):
    slept: list[float] = []
    provider = RetryingProvider(
        faulty([fault], sleep=slept.append, hang_s=30.0), RetryPolicy(jitter=False), sleep=slept.append
    )
    if error is None:
        assert provider.complete(ASK).text == "yes, it is up and answering"
    else:
        with pytest.raises(error):
            provider.complete(ASK)
        assert slept == []  # refused at once, no day-long sleep
    if fault == "hang":
        assert 30.0 in slept  # the hang itself took its time before timing out


def test_each_fault_raises_its_own_provider_error():
    expected = {
        "unavailable": ServerError,
        "conflict": ConflictError,
        "drop": ConnectionDroppedError,
        "truncated": MalformedResponseError,
        "malformed_body": MalformedResponseError,
        "hang": ProviderTimeout,
    }
    for fault, error in expected.items():
        with pytest.raises(error) as info:
            faulty([fault], sleep=lambda s: None).complete(ASK)
        assert isinstance(info.value, ProviderError) and info.value.retryable


@pytest.mark.parametrize(
    ("fault", "error"), [("drop", ConnectionDroppedError), ("truncated", IncompleteStreamError)]
)
def test_stream_faults_fail_after_the_first_piece(fault, error):
    chunks = faulty([fault]).stream(ASK)
    first = next(chunks)
    assert first.delta and not first.done and "yes, it is up and answering".startswith(first.delta)
    with pytest.raises(error):
        next(chunks)


ANSWER = "The refund service answered in 40 ms."


def answer(request: httpx2.Request) -> httpx2.Response:
    """A well-behaved server: the same whole answer every time, as JSON or as an event stream."""
    import json

    body = json.loads(request.content)
    base = {"id": "c1", "created": 0, "model": body["model"]}
    if not body.get("stream"):
        data = {
            **base,
            "object": "chat.completion",
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": ANSWER}, "finish_reason": "stop"}
            ],
        }
        return httpx2.Response(
            200, headers={"content-type": "application/json"}, content=json.dumps(data).encode()
        )
    pieces = [ANSWER[:10], ANSWER[10:20], ANSWER[20:]]
    events = [
        {**base, "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": p}}]}
        for p in pieces
    ]
    events.append(
        {
            **base,
            "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
        }
    )
    text = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
    return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=text.encode())


def through_sdk(schedule, **kw) -> tuple[OpenAIProvider, list[float]]:
    """The OpenAI adapter over the real SDK, behind the fault handler."""
    handler = faulty_handler(answer, schedule, **kw)
    client = openai.OpenAI(
        api_key="test", base_url="http://faulty.invalid/v1", max_retries=0,
        http_client=httpx2.Client(transport=httpx2.MockTransport(handler)),
    )  # fmt: skip
    sleeps: list[float] = []
    provider = OpenAIProvider(
        client, model="fake-model", retry=RetryPolicy(jitter=False), sleep=sleeps.append
    )
    return provider, sleeps


def ask(provider, stream=False):
    if stream:
        return list(provider.stream(ASK))
    return provider.complete(ASK)


@pytest.mark.parametrize(("form", "least"), [("seconds", 2.0), ("date", 1.0), ("ms", 2.0)])
def test_handler_sends_every_retry_after_form(form, least):
    provider, sleeps = through_sdk(["rate_limit"], retry_after=2.0, retry_after_form=form)
    assert ask(provider).text
    assert least <= sleeps[0] <= 2.0


@pytest.mark.parametrize("fault", ["drop", "truncated", "malformed_body", "unavailable", "conflict", "hang"])
def test_handler_faults_before_any_text_are_retried_to_a_whole_answer(fault):
    provider, _ = through_sdk([fault])
    assert ask(provider).text == ANSWER
    assert len(provider.attempts) == 1
    if fault in ("drop", "truncated"):
        return  # a stream gets these after its first piece of text: see the next test
    streamed, _ = through_sdk([fault])
    chunks = ask(streamed, stream=True)
    assert "".join(c.delta for c in chunks[:-1]) == chunks[-1].result.text == ANSWER


@pytest.mark.parametrize(
    ("fault", "error"), [("drop", ConnectionDroppedError), ("truncated", IncompleteStreamError)]
)
def test_handler_stream_faults_after_text_fail_without_retry(fault, error):
    provider, _ = through_sdk([fault])
    with pytest.raises(error, match="not retried"):
        ask(provider, stream=True)


def test_handler_refuses_a_day_long_retry_after():
    provider, sleeps = through_sdk(["rate_limit_long"])
    with pytest.raises(RetryAfterTooLongError):
        ask(provider)
    assert sleeps == []


def test_every_fault_is_listed():
    for fault in (
        "drop",
        "truncated",
        "malformed_body",
        "hang",
        "unavailable",
        "conflict",
        "rate_limit_long",
    ):
        assert fault in FAULTS
