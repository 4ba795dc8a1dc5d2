"""Lesson 02's assistant prefill (through the Anthropic adapter on the scripted server) and blue-green cutover."""

from __future__ import annotations

import json

import pytest

from course_lib.lessons.l02_api_request.cutover import BlueGreenRouter, run_cutover
from course_lib.lessons.l02_api_request.prefill import (
    PREFILL,
    join_prefill,
    scripted_ticket_reply,
    ticket_json_messages,
)
from course_lib.providers.faulty import FaultyProvider
from course_lib.providers.offline_adapters import ScriptedAnthropicServer
from course_lib.providers.scripted import ScriptedProvider

TICKET = "Webhook deliveries have been failing since the deploy; we lost 300 notifications."
ASK = [{"role": "user", "content": "summarise"}]


def test_prefill_reaches_the_server_as_the_last_assistant_turn_and_the_reply_continues_it():
    server = ScriptedAnthropicServer(scripted_ticket_reply)
    result = server.provider().complete(ticket_json_messages(TICKET), max_tokens=50)
    assert server.requests[-1]["messages"][-1] == {"role": "assistant", "content": PREFILL}
    assert server.requests[-1]["system"].startswith("Classify the ticket")
    assert result.source == "scripted"
    with pytest.raises(json.JSONDecodeError):
        json.loads(result.text)  # the common mistake: the reply alone is not the answer
    assert json.loads(join_prefill(PREFILL, result.text)) == {"product": "webhooks", "severity": "high"}


def test_without_prefill_the_scripted_reply_wraps_the_json_in_prose():
    server = ScriptedAnthropicServer(scripted_ticket_reply)
    text = server.provider().complete(ticket_json_messages(TICKET, prefill=None), max_tokens=50).text
    assert text.startswith("Sure!") and "{" in text
    assert join_prefill(None, "x") == "x"


def _blue_green(green_faults=()):
    blue = ScriptedProvider(lambda m, p: "blue", model="blue")
    green = ScriptedProvider(lambda m, p: "green", model="green")
    return blue, (FaultyProvider(green, list(green_faults)) if green_faults else green)


@pytest.mark.parametrize("share, expected", [(0.0, 0), (0.1, 2), (0.25, 5), (0.5, 10), (1.0, 20)])
def test_the_router_sends_exactly_the_share_to_green(share, expected):
    router = BlueGreenRouter(*_blue_green(), green_share=share)
    who = [router.complete(ASK)[0] for _ in range(20)]
    assert who.count("green") == expected and who.count("blue") == 20 - expected
    with pytest.raises(ValueError):
        router.green_share = 1.5


def test_a_failing_green_request_is_answered_by_blue():
    router = BlueGreenRouter(*_blue_green(["server_error"]), green_share=1.0)
    who, result = router.complete(ASK)
    assert (who, result.text) == ("blue", "blue")
    assert router.complete(ASK)[0] == "green"  # the schedule's next call is ok


def test_cutover_advances_when_healthy_and_rolls_back_past_the_gate():
    healthy = run_cutover(BlueGreenRouter(*_blue_green()), ASK, requests_per_stage=10)
    assert [s.decision for s in healthy] == ["advance", "advance", "done: green serves all"]
    router = BlueGreenRouter(*_blue_green(["timeout"]))
    stages = run_cutover(router, ASK, plan=(0.1, 0.5, 1.0), requests_per_stage=10, max_error_rate=0.05)
    assert [s.decision for s in stages] == ["roll back to blue"]
    assert (stages[0].to_green, stages[0].fell_back, stages[0].green_error_rate) == (1, 1, 1.0)
    assert router.green_share == 0.0
