"""Exercise 08: the solution, planted bugs and other correct answers (notebooks: test_exercises.py)."""

from __future__ import annotations

import time

import pytest
from exercise_support import exec_namespace, run_check, solution_path, solution_sources, with_planted_bug

from course_lib.grading import grade_namespace
from course_lib.grading.checks import ex08
from course_lib.grading.registry import CheckFailed

SOLUTION = solution_path(8)


def _solution() -> list[str]:
    """The notebook's definitions: no check cells and no demo after the last question."""
    return solution_sources(SOLUTION, skip=lambda source: "stuck_agent_provider" in source)


def _with(old: str, new: str) -> dict:
    """The solution's namespace with one planted bug: ``old`` replaced by ``new``."""
    return exec_namespace(with_planted_bug(_solution(), old, new))


def test_solution_scores_full_marks_quickly() -> None:
    start = time.perf_counter()
    results = grade_namespace(8, exec_namespace(_solution()), check_timeout=10)
    assert time.perf_counter() - start < 10
    assert [(r.id, r.status, r.score) for r in results] == [
        ("8.1", "passed", 2.0),
        ("8.2", "passed", 2.0),
        ("8.3", "passed", 3.0),
    ]


# ------------------------------------------------------------------------------ 8.1 planted bugs


def test_cached_tokens_at_the_full_input_rate_fail() -> None:
    q = run_check("8.1", _with("+ cached_tokens * cached_rate", '+ cached_tokens * rates["input"]'))
    assert q.status == "failed"
    assert "billed at the full input rate" in q.hint


def test_cached_tokens_counted_twice_fail() -> None:
    q = run_check(
        "8.1", _with('(prompt_tokens - cached_tokens) * rates["input"]', 'prompt_tokens * rates["input"]')
    )
    assert q.status == "failed"
    assert "counted twice" in q.hint


def test_a_model_without_a_cached_rate_key_fails() -> None:
    q = run_check(
        "8.1", _with('cached_rate = rates.get("cached_input")', 'cached_rate = rates["cached_input"]')
    )
    assert q.status == "failed" and "raised KeyError" in q.hint


def test_more_cached_than_prompt_tokens_must_be_refused() -> None:
    q = run_check("8.1", _with("if cached_tokens > prompt_tokens:", "if False:"))
    assert q.status == "failed" and "cannot exceed prompt_tokens" in q.hint


def test_prices_per_thousand_tokens_fail_with_the_unit_named() -> None:
    q = run_check("8.1", _with("return dollars / 1_000_000", "return dollars / 1_000"))
    assert q.status == "failed" and "USD per *million* tokens" in q.hint


# ------------------------------------------------------------------------------ 8.2 planted bugs


def test_unnormalised_shares_fail() -> None:
    q = run_check("8.2", _with("sum(w / total * cost_per_request[m]", "sum(w * cost_per_request[m]"))
    assert q.status == "failed"
    assert "the weights sum to 100: divide each by their total" in q.hint


def test_negative_weights_must_be_refused() -> None:
    q = run_check("8.2", _with("if any(w < 0 for w in weights.values()):", "if False:"))
    assert q.status == "failed" and "negative weight" in q.hint


def test_averaging_costs_without_weights_fails() -> None:
    ns = _with(
        "return sum(w / total * cost_per_request[m] for m, w in weights.items())",
        "return sum(cost_per_request[m] for m in weights) / len(weights)",
    )
    q = run_check("8.2", ns)
    assert q.status == "failed" and "weighted by its model's share" in q.hint


# ------------------------------------------------------------------------------ 8.3 planted bugs


def test_checking_spend_after_the_call_instead_of_before_fails() -> None:
    q = run_check(
        "8.3", _with("return self.spent() + estimated_cost <= self.cap", "return self.spent() <= self.cap")
    )
    assert q.status == "failed"
    assert "Check *before* the call, with its estimate" in q.hint


def test_a_call_ending_exactly_at_the_cap_is_allowed() -> None:
    q = run_check("8.3", _with("+ estimated_cost <= self.cap", "+ estimated_cost < self.cap"))
    assert q.status == "failed" and "ends exactly at the cap fits" in q.hint


def test_allow_that_counts_the_estimate_fails() -> None:
    ns = _with(
        "        return self.spent() + estimated_cost <= self.cap\n",
        "        ok = self.spent() + estimated_cost <= self.cap\n        self.record(estimated_cost)\n        return ok\n",
    )
    q = run_check("8.3", ns)
    assert q.status == "failed" and "only record() adds spend" in q.hint


OFF_BY_ONE = """
class HourlyBudget:
    def __init__(self, cap, *, clock=time.time, window_s=WINDOW_S):
        self.cap, self.clock, self.window_s = cap, clock, window_s
        self.start = clock() // window_s * window_s
        self.total = 0.0

    def _roll(self):
        if self.clock() - self.start > self.window_s:  # the bug: at exactly start + window_s, still the old hour
            self.start = self.clock() // self.window_s * self.window_s
            self.total = 0.0

    def allow(self, estimated_cost):
        self._roll()
        return self.total + estimated_cost <= self.cap

    def record(self, cost):
        self._roll()
        self.total += cost

    def spent(self):
        self._roll()
        return self.total
"""


def test_window_off_by_one_at_the_hour_fails() -> None:
    q = run_check("8.3", exec_namespace([*_solution(), OFF_BY_ONE]))
    assert q.status == "failed"
    assert "at exactly 4:00:00" in q.hint and "a new hour starts exactly on the hour" in q.hint


def test_off_by_one_fixed_passes() -> None:
    fixed = OFF_BY_ONE.replace(
        "self.clock() - self.start > self.window_s", "self.clock() - self.start >= self.window_s"
    )
    assert run_check("8.3", exec_namespace([*_solution(), fixed])).status == "passed"


def test_window_from_the_first_call_instead_of_the_clock_hour_fails() -> None:
    sliding = (
        OFF_BY_ONE.replace(
            "self.start = self.clock() // self.window_s * self.window_s", "self.start = self.clock()"
        )
        .replace("self.start = clock() // window_s * window_s", "self.start = clock()")
        .replace("> self.window_s", ">= self.window_s")
    )
    q = run_check("8.3", exec_namespace([*_solution(), sliding]))
    assert q.status == "failed" and "windows follow the clock hour (4:00–5:00)" in q.hint


# ------------------------------------------------------------------------------ other correct answers


def test_checks_accept_other_correct_implementations() -> None:
    def cost(prompt, completion, cached, rates):
        if prompt < 0 or completion < 0 or cached < 0 or cached > prompt:
            raise ValueError("bad counts")
        per_token = {k: (v if v is not None else rates["input"]) / 1e6 for k, v in rates.items()}
        cached_rate = per_token.get("cached_input", per_token["input"])
        return (
            per_token["input"] * (prompt - cached) + cached_rate * cached + per_token["output"] * completion
        )

    def blend(weights, costs):
        if not weights or min(weights.values()) < 0 or not sum(weights.values()):
            raise ValueError("bad mix")
        shares = {m: w / sum(weights.values()) for m, w in weights.items()}
        return sum(share * costs[m] for m, share in shares.items())

    class Budget:
        def __init__(self, cap, clock=time.time, window_s=3600.0):
            self.cap, self.clock, self.window_s, self.log = cap, clock, window_s, []

        def spent(self):
            now = self.clock()
            return sum(c for t, c in self.log if t // self.window_s == now // self.window_s)

        def allow(self, estimated_cost):
            return not self.spent() + estimated_cost > self.cap

        def record(self, cost):
            self.log.append((self.clock(), cost))

    ex08.check_request_cost_usd(cost)
    ex08.check_blended_cost(blend)
    ex08.check_hourly_budget(Budget)


def test_a_non_numeric_cost_gets_a_type_hint() -> None:
    with pytest.raises(CheckFailed, match="expected a int or float"):
        ex08.check_request_cost_usd(lambda p, c, k, r: "0.045")


def test_allow_must_return_a_bool() -> None:
    class Budget:
        def __init__(self, cap, clock=time.time, window_s=3600.0):
            pass

        def spent(self):
            return 0.0

        def allow(self, estimated_cost):
            return "yes"

        def record(self, cost):
            pass

    with pytest.raises(CheckFailed, match="expected True or False"):
        ex08.check_hourly_budget(Budget)
