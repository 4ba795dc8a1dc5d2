"""Tests for course_lib.lessons.l08_token_economics.runaway: the 3 am runaway replayed with and without guards."""

from __future__ import annotations

import pytest

from course_lib.lessons.l08_token_economics.runaway import (
    DONE_MARKER,
    Incident,
    Protection,
    agent_done,
    agent_messages,
    clock_label,
    simulate_runaway,
    stuck_agent_provider,
    stuck_draft,
)
from course_lib.providers.base import ChatResult, Choice, Usage
from course_lib.providers.scripted import ScriptedProvider
from course_lib.tokens import count_message_tokens

BREAKER_ONLY = Protection(rate_limit_per_min=None, anomaly_threshold=None, respond_after_s=None)
SHORT = Incident(duration_s=120)


@pytest.fixture(scope="module")
def unguarded():
    return simulate_runaway(None, None)


@pytest.fixture(scope="module")
def breaker_only():
    return simulate_runaway(None, BREAKER_ONLY, label="breaker only")


@pytest.fixture(scope="module")
def all_guards():
    return simulate_runaway(None, Protection())


def test_the_stuck_request_is_about_4000_tokens_at_gpt4_prices():
    prompt = count_message_tokens(agent_messages(), "gpt-4")
    assert 1900 <= prompt <= 2100
    text, completion, cut = stuck_draft(2000, "gpt-4")
    assert (completion, cut) == (2000, True)
    assert DONE_MARKER not in text  # the final answer is beyond the cut
    reply = stuck_agent_provider("gpt-4").complete(agent_messages(), max_tokens=2000)
    assert reply.finish_reason == "length" and reply.source == "scripted"
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens) == (prompt, 2000)
    assert not agent_done(reply)


def test_with_room_for_the_whole_draft_the_agent_finishes_in_one_call():
    result = simulate_runaway(Incident(max_tokens=4000), None)
    assert result.calls == 1 and result.attempts == 1
    assert result.events[-1][1] == "the agent wrote its final answer"
    text, completion, cut = stuck_draft(4000, "gpt-4")
    assert not cut and completion < 4000 and DONE_MARKER in text


def test_without_guards_the_loop_bills_every_call_for_35_minutes(unguarded):
    prompt = count_message_tokens(agent_messages(), "gpt-4")
    per_call = (prompt * 30 + 2000 * 60) / 1_000_000  # gpt-4: $30 / $60 per million
    assert unguarded.calls == unguarded.attempts == 3500  # 100 a minute for 35 minutes
    assert unguarded.cost_per_call == pytest.approx(per_call)
    assert unguarded.total == pytest.approx(3500 * per_call)
    assert unguarded.blocked == {} and unguarded.first_alert is None and unguarded.kill_engaged is None
    assert unguarded.times[-1] < 35 * 60
    assert unguarded.spend_at(5 * 60) == pytest.approx(500 * per_call)  # 500 calls by 3:05


def test_the_breaker_stops_spend_at_or_under_the_hourly_cap(breaker_only):
    per_call = breaker_only.cost_per_call
    assert breaker_only.total <= 100.0
    assert breaker_only.total > 100.0 - per_call  # it ran up to the cap, not stopped early
    assert breaker_only.calls == int(100.0 // per_call)
    assert breaker_only.breaker_trip == pytest.approx(breaker_only.calls * 0.6)
    assert breaker_only.times[-1] < breaker_only.breaker_trip  # nothing billed after the trip
    assert breaker_only.blocked == {
        "budget": 1
    }  # the refusal says when to retry: at 4:00, after the incident
    assert breaker_only.kill_engaged is None


def test_all_guards_alert_within_a_minute_and_the_kill_switch_stops_spend(all_guards, breaker_only):
    # Baseline 10 requests/min, threshold 5x: the 50th request of the runaway's first minute fires it.
    assert all_guards.first_alert == pytest.approx(49 * 0.6)
    assert all_guards.kill_engaged == pytest.approx(all_guards.first_alert + 240)
    assert all_guards.times[-1] < all_guards.kill_engaged
    assert all_guards.total < breaker_only.total
    assert all_guards.total == pytest.approx(all_guards.spend_at(all_guards.kill_engaged))
    assert set(all_guards.blocked) == {"kill switch"}
    events = [e for _, e in all_guards.events]
    assert events[0].startswith("bug deployed") and "kill switch" in events[2] and "anomaly" in events[1]


def test_per_second_detector_settings_fire_late_or_never():
    ten_x = simulate_runaway(SHORT, Protection(anomaly_threshold=10, respond_after_s=None))
    assert ten_x.first_alert == pytest.approx(99 * 0.6)  # 100 requests in the window: the end of minute one
    one_second = Protection(
        anomaly_threshold=10, anomaly_window_s=1, baseline_per_min=600, respond_after_s=None
    )
    assert simulate_runaway(SHORT, one_second).first_alert is None  # 2 requests a second never reach 100


def test_the_rate_limiter_clamps_a_faster_runaway():
    fast = Incident(requests_per_minute=1000, duration_s=180)
    result = simulate_runaway(fast, Protection(hourly_cap=None, daily_cap=None, anomaly_threshold=None))
    assert result.blocked.get("rate limit", 0) > 0
    for t in result.times:  # no 60 s window holds more than 100 billed calls
        assert sum(1 for u in result.times if t <= u < t + 60) <= 100
    assert 290 <= result.calls <= 300  # about 100 a minute instead of 1,000


def test_nobody_answering_means_no_kill_switch():
    result = simulate_runaway(SHORT, Protection(respond_after_s=None))
    assert result.first_alert is not None and result.kill_engaged is None
    assert result.calls == 200


def test_a_page_from_the_breaker_also_brings_the_engineer():
    result = simulate_runaway(None, Protection(anomaly_threshold=None, respond_after_s=60))
    assert result.breaker_trip is not None
    assert result.kill_engaged == pytest.approx(result.breaker_trip + 60)


def test_an_injected_provider_is_used_and_a_finished_agent_stops():
    replies = ["Thought: checking.", "Thought: still checking.", f"{DONE_MARKER} refund A10417."]

    def respond(messages, params):
        text = replies[min(len(model.calls) - 1, 2)]
        return ChatResult(choices=[Choice(text=text)], usage=Usage(prompt_tokens=100, completion_tokens=10))

    model = ScriptedProvider(respond, model="gpt-4")
    result = simulate_runaway(None, Protection(), provider=model)
    assert result.calls == 3 == len(model.calls)
    assert result.total == pytest.approx(3 * (100 * 30 + 10 * 60) / 1_000_000)


def test_runs_are_deterministic(all_guards):
    again = simulate_runaway(None, Protection())
    assert again == all_guards


def test_spend_at_counts_calls_strictly_before_a_time(unguarded):
    assert unguarded.spend_at(0.0) == 0.0
    assert unguarded.spend_at(0.6) == pytest.approx(unguarded.cost_per_call)
    assert unguarded.spend_at(10_000) == unguarded.total
    rows = unguarded.timeline()
    assert rows[0] == {"time": "3:00:00", "event": "bug deployed: the agent loop starts", "spent": 0.0}
    assert rows[-1]["time"] == "3:35:00"


def test_clock_label():
    assert clock_label(3 * 3600 + 33.6) == "3:00:33"
    assert clock_label(3 * 3600 + 5 * 60 + 33) == "3:05:33"
    assert clock_label(0) == "0:00:00"


def test_invalid_incidents_are_rejected():
    with pytest.raises(ValueError, match="requests_per_minute"):
        Incident(requests_per_minute=0)
    with pytest.raises(ValueError):
        Incident(max_tokens=0)
