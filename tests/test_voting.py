"""Tests for the self-consistency fan-out (course_lib.voting)."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import math
import time

import pytest

from course_lib.providers.base import BaseProvider, ChatResult, Choice, RateLimitError, TokenLogprob, Usage
from course_lib.providers.replay.scope import current_sample
from course_lib.providers.scripted import ScriptedProvider
from course_lib.voting import (
    GatePolicy,
    aself_consistency,
    run_sync,
    sample_answers,
    self_consistency,
)

MESSAGES = [{"role": "user", "content": "What is 2 + 2? End with 'Answer: <number>'."}]


def by_sample(replies):
    """A scripted provider whose reply depends on the sample index of the enclosing scope."""
    return ScriptedProvider(lambda messages, params: replies[current_sample()])


class SlowProvider(BaseProvider):
    """Async provider that sleeps, tracks how many calls are in flight, and answers by sample index."""

    def __init__(self, replies, delay=0.05):
        self.replies, self.delay = replies, delay
        self.in_flight = self.peak = self.calls = 0

    async def acomplete(self, messages, **params):
        self.calls += 1
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
        finally:
            self.in_flight -= 1
        return ChatResult(
            choices=[Choice(text=self.replies[current_sample()])],
            usage=Usage(prompt_tokens=10, completion_tokens=3),
        )


def test_samples_come_back_in_index_order_whatever_the_finish_order():
    replies = [f"Answer: {i}" for i in range(6)]
    samples = asyncio.run(sample_answers(by_sample(replies), MESSAGES, 6, concurrency=6))
    assert [s.index for s in samples] == list(range(6))
    assert [s.answer for s in samples] == [str(i) for i in range(6)]


def test_temperature_and_params_reach_the_provider():
    provider = ScriptedProvider(["Answer: 4"] * 3)
    asyncio.run(sample_answers(provider, MESSAGES, 3, temperature=0.9, max_tokens=20))
    assert all(c.params == {"temperature": 0.9, "max_tokens": 20} for c in provider.calls)


def test_concurrency_is_bounded_and_parallel():
    provider = SlowProvider(["Answer: 4"] * 10)
    asyncio.run(sample_answers(provider, MESSAGES, 10, concurrency=3))
    assert provider.peak == 3


def test_parallel_samples_take_about_one_latency():
    delay = 0.2
    provider = SlowProvider(["Answer: 4"] * 8, delay=delay)
    start = time.perf_counter()
    asyncio.run(sample_answers(provider, MESSAGES, 8, concurrency=8))
    assert time.perf_counter() - start < 3 * delay  # sequential would take 8 * delay


def test_custom_scope_factory_is_used():
    seen = contextvars.ContextVar("seen", default=None)

    @contextlib.contextmanager
    def scope(i):
        token = seen.set(i)
        try:
            yield
        finally:
            seen.reset(token)

    provider = ScriptedProvider(lambda m, p: f"Answer: {seen.get() * 10}")
    samples = asyncio.run(sample_answers(provider, MESSAGES, 3, scope=scope, start=2))
    assert [s.answer for s in samples] == ["20", "30", "40"]


def test_provider_errors_raise_or_abstain():
    def responder(messages, params):
        if current_sample() == 1:
            raise RateLimitError("429 slow down")
        return "Answer: 4"

    with pytest.raises(RateLimitError):
        asyncio.run(sample_answers(ScriptedProvider(responder), MESSAGES, 3))
    samples = asyncio.run(sample_answers(ScriptedProvider(responder), MESSAGES, 3, on_error="abstain"))
    assert [s.answer for s in samples] == ["4", None, "4"]
    assert "RateLimitError" in samples[1].error


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="n must be"):
        asyncio.run(sample_answers(ScriptedProvider(["x"]), MESSAGES, 0))
    with pytest.raises(ValueError, match="concurrency"):
        asyncio.run(sample_answers(ScriptedProvider(["x"]), MESSAGES, 1, concurrency=0))


def test_self_consistency_majority_and_usage():
    replies = ["Answer: 4", "Answer: 4", "Answer: 5", "Answer: 4", "The answer is 4."]
    result = self_consistency(by_sample(replies), MESSAGES, 5)
    assert result.vote.winner == "4"
    assert result.vote.counts == {"4": 4, "5": 1}
    assert result.decision == "moderate"  # 4/5 = 0.8
    assert result.answer == "4"
    assert result.usage.prompt_tokens == 5 * result.samples[0].usage.prompt_tokens
    assert not result.stopped_early


def test_split_vote_escalates_and_has_no_answer():
    replies = ["Answer: 4", "Answer: 5", "Answer: 4", "Answer: 5"]
    result = self_consistency(by_sample(replies), MESSAGES, 4)
    assert result.vote.tie
    assert result.decision == "escalate"
    assert result.answer is None


def test_weighted_vote_uses_logprobs():
    def reply(text, p):
        return ChatResult(
            choices=[Choice(text=text, logprobs=[TokenLogprob(token=text, logprob=math.log(p))])]
        )

    replies = [reply("Answer: yes", 0.3), reply("Answer: yes", 0.3), reply("Answer: no", 0.95)]
    provider = by_sample(replies)
    weighted = self_consistency(provider, MESSAGES, 3, weighted=True, logprobs=True)
    assert weighted.vote.winner == "no"
    assert weighted.samples[2].confidence == pytest.approx(0.95)
    assert self_consistency(by_sample(replies), MESSAGES, 3).vote.winner == "yes"


@pytest.mark.parametrize(("rule", "calls"), [("winner", 4), ("decision", 6), ("off", 7)])
def test_early_stopping_saves_calls(rule, calls):
    provider = SlowProvider(["Answer: 4"] * 7, delay=0)
    result = self_consistency(provider, MESSAGES, 7, early_stop=rule, batch_size=1)
    assert provider.calls == calls
    assert result.vote.winner == "4"
    assert result.stopped_early == (calls < 7)
    assert result.decision == "high"


def test_early_stopping_batches_do_not_stop_before_decided():
    replies = ["Answer: 4", "Answer: 5", "Answer: 4", "Answer: 5", "Answer: 4", "Answer: 4", "Answer: 5"]
    provider = SlowProvider(replies, delay=0)
    result = self_consistency(provider, MESSAGES, 7, early_stop="winner", batch_size=2)
    full = self_consistency(SlowProvider(replies, delay=0), MESSAGES, 7)
    assert result.vote.winner == full.vote.winner == "4"
    # Batches of 2: 1-1, then 2-2, then 4-2 with one sample left, which cannot catch up.
    assert provider.calls == 6


def test_decision_rule_reports_the_full_run_decision():
    # After five "4"s the 7-sample run could still end "high" (7/7) or "moderate" (5/7): no early stop.
    replies = ["Answer: 4"] * 5 + ["Answer: 5"] * 2
    provider = SlowProvider(replies, delay=0)
    result = self_consistency(
        provider, MESSAGES, 7, early_stop="decision", batch_size=1, policy=GatePolicy(high=0.85, moderate=0.5)
    )
    full = self_consistency(
        SlowProvider(replies, delay=0), MESSAGES, 7, policy=GatePolicy(high=0.85, moderate=0.5)
    )
    assert result.decision == full.decision == "moderate"
    assert provider.calls == 7


def test_sync_wrapper_works_inside_a_running_loop():
    async def notebook_cell():
        # Jupyter runs cells inside an event loop; asyncio.run would fail here.
        return self_consistency(by_sample(["Answer: 4"] * 3), MESSAGES, 3)

    result = asyncio.run(notebook_cell())
    assert result.vote.winner == "4"


def test_run_sync_without_loop():
    async def answer():
        return 42

    assert run_sync(answer) == 42


def test_async_form_is_awaitable():
    result = asyncio.run(aself_consistency(by_sample(["Answer: 1"] * 3), MESSAGES, 3, concurrency=1))
    assert result.decision == "high"
    assert len(result.samples) == 3


def test_labels_restrict_the_answers():
    replies = ["I'd call it Positive overall.", "Answer: neutral", "POSITIVE", "Hmm, no idea"]
    result = self_consistency(by_sample(replies), MESSAGES, 4, labels=["Positive", "Negative", "Neutral"])
    assert [s.answer for s in result.samples] == ["Positive", "Neutral", "Positive", None]
    assert result.vote.abstained == 1


def test_replay_transport_gives_each_sample_its_recording(tmp_path):
    """End to end through the official SDK: sample i gets recorded sample i, in parallel, every run."""
    from course_lib.providers.openai_adapter import OpenAIProvider
    from course_lib.providers.replay.recordings import RecordingStore
    from course_lib.providers.replay.transport import LatencyModel, ReplayTransport

    path = tmp_path / "votes.jsonl"
    store = RecordingStore(path)
    answers = [51, 51, 52, 51, 50, 51, 51]
    store.add_scripted(
        messages=MESSAGES,
        responses=[f"Working...\nAnswer: {a}" for a in answers],
        params={"temperature": 0.7},
        note="test",
    )
    store.save()
    for _ in range(2):
        transport = ReplayTransport(path, latency=LatencyModel(ttft_s=0.2))
        provider = OpenAIProvider(
            transport.openai_client(), async_client=transport.async_openai_client(), model="gpt-4o-mini"
        )
        start = time.perf_counter()
        result = self_consistency(provider, MESSAGES, 7, concurrency=7)
        assert time.perf_counter() - start < 1.2  # 7 x 0.2 s in sequence would be 1.4 s
        assert [s.answer for s in result.samples] == [str(a) for a in answers]
        assert result.vote.counts == {"51": 5, "52": 1, "50": 1}
