"""Spend under faults: failed-after-send calls are charged, paid providers run under a per-process cap."""

from __future__ import annotations

import atexit
import subprocess
import sys
import textwrap

import pytest
from fault_proxy import FakeUpstream, echo_answer

from course_lib.cli.doctor import diagnose
from course_lib.cost import estimate_request_cost, load_prices
from course_lib.guards import BudgetCircuitBreaker, BudgetExceededError, GuardedProvider
from course_lib.guards import spend_cap as spend_cap_module
from course_lib.guards.spend_cap import DEFAULT_SPEND_CAP_USD, SpendCap, cap_from_env
from course_lib.providers.base import ConfigurationError, ProviderError, ProviderTimeout
from course_lib.providers.faulty import FaultSchedule, FaultyProvider
from course_lib.providers.registry import get_provider
from course_lib.providers.scripted import ScriptedProvider

ASK = [{"role": "user", "content": "Summarise the incident report in one line."}]


@pytest.fixture(autouse=True)
def fresh_process_cap(monkeypatch):
    """Each test starts with no spend recorded in this process (and its cap reports nothing at exit)."""
    monkeypatch.setattr(spend_cap_module, "_process_cap", None)
    yield
    if spend_cap_module._process_cap is not None:
        atexit.unregister(spend_cap_module._process_cap.report)


# --------------------------------------------------------------------------- item 10: failed calls are charged


def test_a_runaway_of_timeouts_is_charged_and_stopped_by_the_breaker():
    inner = FaultyProvider(ScriptedProvider(["never seen"]), FaultSchedule(then="timeout"))
    breaker = BudgetCircuitBreaker(daily_cap=20.0)
    guarded = GuardedProvider(inner, breaker, model="gpt-4o", default_max_tokens=4096)
    admitted = 0
    with pytest.raises(BudgetExceededError):
        for _ in range(5000):
            try:
                guarded.complete(ASK)
            except ProviderTimeout:
                admitted += 1
    assert 0 < admitted < 5000
    assert 0 < guarded.spend_log.total <= 20.0
    per_call = estimate_request_cost(ASK, "gpt-4o", max_tokens=4096).total
    assert guarded.spend_log.records[0].cost == pytest.approx(per_call)


@pytest.mark.parametrize("fault", ["rate_limit", "bad_request"])
def test_calls_refused_before_generation_cost_nothing(fault):
    inner = FaultyProvider(ScriptedProvider(["never seen"]), FaultSchedule(then=fault))
    guarded = GuardedProvider(inner, BudgetCircuitBreaker(hourly_cap=1.0), model="gpt-4o")
    for _ in range(3):
        with pytest.raises(ProviderError):
            guarded.complete(ASK)
    assert guarded.spend_log.total == 0.0


@pytest.mark.parametrize("fault", ["drop", "truncated", "malformed_body", "hang"])
def test_calls_that_fail_after_sending_are_charged_their_estimate(fault):
    inner = FaultyProvider(ScriptedProvider(["x"]), [fault], sleep=lambda s: None)
    guarded = GuardedProvider(
        inner, BudgetCircuitBreaker(hourly_cap=5.0), model="gpt-4o", default_max_tokens=100
    )
    with pytest.raises(ProviderError):
        guarded.complete(ASK)
    assert guarded.spend_log.total == pytest.approx(
        estimate_request_cost(ASK, "gpt-4o", max_tokens=100).total
    )


def test_a_stream_cut_after_its_first_piece_is_charged():
    inner = FaultyProvider(ScriptedProvider(["a long streamed answer"]), ["drop"])
    guarded = GuardedProvider(
        inner, BudgetCircuitBreaker(hourly_cap=5.0), model="gpt-4o", default_max_tokens=100
    )
    with pytest.raises(ProviderError):
        list(guarded.stream(ASK))
    assert guarded.spend_log.total == pytest.approx(
        estimate_request_cost(ASK, "gpt-4o", max_tokens=100).total
    )


def test_without_max_tokens_the_reservation_is_the_models_maximum_output():
    seen = []

    class Spy(ScriptedProvider):
        def complete(self, messages, **params):
            seen.append(params)
            return super().complete(messages, **params)

    guarded = GuardedProvider(
        Spy(["ok"]), BudgetCircuitBreaker(hourly_cap=5.0), model="gpt-4o", default_max_tokens=None
    )
    call, forwarded = guarded._before(ASK, {})
    max_out = load_prices().get("gpt-4o").max_output_tokens
    assert max_out and call.estimated_cost == pytest.approx(
        estimate_request_cost(ASK, "gpt-4o", max_tokens=max_out).total
    )
    assert "max_tokens" not in forwarded  # the request itself is not changed


# --------------------------------------------------------------------------- item 11: the per-process cap


def test_cap_from_env():
    assert cap_from_env({}) == DEFAULT_SPEND_CAP_USD == 2.0
    assert cap_from_env({"COURSE_SPEND_CAP_USD": "5"}) == 5.0
    assert cap_from_env({"COURSE_SPEND_CAP_USD": "$0.50"}) == 0.5
    assert cap_from_env({"COURSE_SPEND_CAP_USD": "none"}) is None
    for bad in ("lots", "-1", "nan"):
        with pytest.raises(ConfigurationError, match="COURSE_SPEND_CAP_USD"):
            cap_from_env({"COURSE_SPEND_CAP_USD": bad})


def openai_env(upstream: FakeUpstream, **extra: str) -> dict[str, str]:
    # A made-up key: the upstream is a fake on 127.0.0.1.
    return {"OPENAI_API_KEY": "test-" + "k" * 8, "COURSE_BASE_URL": upstream.url, **extra}


def test_paid_providers_run_under_the_process_cap():
    with FakeUpstream() as upstream:
        provider = get_provider("openai", env=openai_env(upstream))
        assert provider.complete(ASK).text == echo_answer(ASK[0]["content"])
        assert (
            provider.model == "gpt-4o-mini" and provider.retry is not None
        )  # the adapter's attributes show through
        cap = spend_cap_module._process_cap
        assert isinstance(cap, SpendCap) and cap.cap_usd == 2.0 and cap.calls == 1 and 0 < cap.spent < 0.001
        free = get_provider(
            "openai-compatible", env={"COURSE_BASE_URL": upstream.url, "COURSE_MODEL": "fake"}
        )
        free.complete(ASK)
        assert cap.calls == 1  # unpaid kinds are not counted


def test_the_cap_stops_a_call_before_it_is_sent():
    with FakeUpstream() as upstream:
        provider = get_provider("openai", env=openai_env(upstream, COURSE_SPEND_CAP_USD="0.001"))
        with pytest.raises(
            BudgetExceededError,
            match=r"spend cap reached.*past the \$0.001 cap. Nothing was sent. Raise COURSE_SPEND_CAP_USD",
        ):
            provider.complete(ASK)
        assert upstream.server.requests == 0
        provider.complete(ASK, max_tokens=20)  # a call whose worst case fits is still allowed
        assert upstream.server.requests == 1


def test_the_running_spend_is_printed_when_the_run_ends(tmp_path):
    script = tmp_path / "lesson.py"
    script.write_text(
        textwrap.dedent(
            """
            from course_lib.providers.registry import get_provider
            p = get_provider()
            for _ in range(2):
                print(p.complete([{"role": "user", "content": "hi"}], max_tokens=20).text)
            """
        )
    )
    with FakeUpstream() as upstream:
        env = {**openai_env(upstream), "COURSE_PROVIDER": "openai", "PATH": "/usr/bin:/bin"}
        done = subprocess.run(
            [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=60
        )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["echo: hi", "echo: hi"]
    assert (
        "course: spent $0.0000 of the $2.00 spend cap (COURSE_SPEND_CAP_USD) on paid providers in 2 call(s)"
        in done.stderr
    )


def test_doctor_shows_the_cap(monkeypatch):
    monkeypatch.setenv("COURSE_SPEND_CAP_USD", "7.5")
    row = next(r for r in diagnose() if r["check"] == "spend cap")
    assert row["ok"] and "$7.50 per process" in row["detail"]
    monkeypatch.setenv("COURSE_SPEND_CAP_USD", "plenty")
    row = next(r for r in diagnose() if r["check"] == "spend cap")
    assert not row["ok"] and "not a dollar amount" in row["detail"]
