"""Exercise 08's checks on the solution, the generated exercise, planted bugs and other correct answers."""

from __future__ import annotations

import time
from pathlib import Path

import nbformat
import pytest

from course_lib.grading import get_question, grade_namespace, run_question
from course_lib.grading.checks import ex08
from course_lib.grading.registry import CheckFailed
from course_lib.grading.sync import render_exercise

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = ROOT / "solutions" / "08_token_economics.ipynb"
EXERCISE = ROOT / "exercises" / "08_token_economics.ipynb"


def _code(nb) -> list[str]:
    """The notebook's definitions: no check cells and no demo after the last question."""
    sources = [c.source for c in nb.cells if c.cell_type == "code" and not c.source.startswith("check(")]
    return [s for s in sources if "stuck_agent_provider" not in s]


def _namespace(sources: list[str]) -> dict:
    namespace: dict = {"__name__": "__notebook__"}
    for source in sources:
        exec(compile(source, "<cell>", "exec"), namespace)
    return namespace


def _solution() -> list[str]:
    return _code(nbformat.read(str(SOLUTION), as_version=4))


def _with(old: str, new: str) -> dict:
    sources = _solution()
    hits = [i for i, s in enumerate(sources) if old in s]
    assert len(hits) == 1, f"fixture text not found once: {old!r}"
    sources[hits[0]] = sources[hits[0]].replace(old, new)
    return _namespace(sources)


def _grade(namespace: dict, qid: str):
    return run_question(get_question(qid), namespace, timeout=10)


def test_solution_scores_full_marks_quickly() -> None:
    start = time.perf_counter()
    results = grade_namespace(8, _namespace(_solution()), check_timeout=10)
    assert time.perf_counter() - start < 10
    assert [(r.id, r.status, r.score) for r in results] == [
        ("8.1", "passed", 2.0),
        ("8.2", "passed", 2.0),
        ("8.3", "passed", 3.0),
    ]


def test_exercise_is_generated_from_the_solution() -> None:
    text, regions = render_exercise(SOLUTION)
    assert regions == 6
    assert EXERCISE.read_text(encoding="utf-8") == text, "run scripts/build_exercises.py"
    exercise = nbformat.read(str(EXERCISE), as_version=4)
    assert all(not c.get("outputs") for c in exercise.cells if c.cell_type == "code")
    assert "parameters" in exercise.cells[1].metadata.get("tags", [])


def test_untouched_exercise_scores_zero_with_a_stub_hint() -> None:
    exercise = nbformat.read(str(EXERCISE), as_version=4)
    results = grade_namespace(8, _namespace(_code(exercise)), check_timeout=10)
    assert [r.score for r in results] == [0, 0, 0]
    assert all("still raises NotImplementedError" in r.hint for r in results)


# ------------------------------------------------------------------------------ 8.1 planted bugs


def test_cached_tokens_at_the_full_input_rate_fail() -> None:
    q = _grade(_with("+ cached_tokens * cached_rate", '+ cached_tokens * rates["input"]'), "8.1")
    assert q.status == "failed"
    assert "billed at the full input rate" in q.hint


def test_cached_tokens_counted_twice_fail() -> None:
    q = _grade(
        _with('(prompt_tokens - cached_tokens) * rates["input"]', 'prompt_tokens * rates["input"]'), "8.1"
    )
    assert q.status == "failed"
    assert "counted twice" in q.hint


def test_a_model_without_a_cached_rate_key_fails() -> None:
    q = _grade(_with('cached_rate = rates.get("cached_input")', 'cached_rate = rates["cached_input"]'), "8.1")
    assert q.status == "failed" and "raised KeyError" in q.hint


def test_more_cached_than_prompt_tokens_must_be_refused() -> None:
    q = _grade(_with("if cached_tokens > prompt_tokens:", "if False:"), "8.1")
    assert q.status == "failed" and "cannot exceed prompt_tokens" in q.hint


def test_prices_per_thousand_tokens_fail_with_the_unit_named() -> None:
    q = _grade(_with("return dollars / 1_000_000", "return dollars / 1_000"), "8.1")
    assert q.status == "failed" and "USD per *million* tokens" in q.hint


# ------------------------------------------------------------------------------ 8.2 planted bugs


def test_unnormalised_shares_fail() -> None:
    q = _grade(_with("sum(w / total * cost_per_request[m]", "sum(w * cost_per_request[m]"), "8.2")
    assert q.status == "failed"
    assert "the weights sum to 100: divide each by their total" in q.hint


def test_negative_weights_must_be_refused() -> None:
    q = _grade(_with("if any(w < 0 for w in weights.values()):", "if False:"), "8.2")
    assert q.status == "failed" and "negative weight" in q.hint


def test_averaging_costs_without_weights_fails() -> None:
    ns = _with(
        "return sum(w / total * cost_per_request[m] for m, w in weights.items())",
        "return sum(cost_per_request[m] for m in weights) / len(weights)",
    )
    q = _grade(ns, "8.2")
    assert q.status == "failed" and "weighted by its model's share" in q.hint


# ------------------------------------------------------------------------------ 8.3 planted bugs


def test_checking_spend_after_the_call_instead_of_before_fails() -> None:
    q = _grade(
        _with("return self.spent() + estimated_cost <= self.cap", "return self.spent() <= self.cap"), "8.3"
    )
    assert q.status == "failed"
    assert "Check *before* the call, with its estimate" in q.hint


def test_a_call_ending_exactly_at_the_cap_is_allowed() -> None:
    q = _grade(_with("+ estimated_cost <= self.cap", "+ estimated_cost < self.cap"), "8.3")
    assert q.status == "failed" and "ends exactly at the cap fits" in q.hint


def test_allow_that_counts_the_estimate_fails() -> None:
    ns = _with(
        "        return self.spent() + estimated_cost <= self.cap\n",
        "        ok = self.spent() + estimated_cost <= self.cap\n        self.record(estimated_cost)\n        return ok\n",
    )
    q = _grade(ns, "8.3")
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
    q = _grade(_namespace([*_solution(), OFF_BY_ONE]), "8.3")
    assert q.status == "failed"
    assert "at exactly 4:00:00" in q.hint and "a new hour starts exactly on the hour" in q.hint


def test_off_by_one_fixed_passes() -> None:
    fixed = OFF_BY_ONE.replace(
        "self.clock() - self.start > self.window_s", "self.clock() - self.start >= self.window_s"
    )
    assert _grade(_namespace([*_solution(), fixed]), "8.3").status == "passed"


def test_window_from_the_first_call_instead_of_the_clock_hour_fails() -> None:
    sliding = (
        OFF_BY_ONE.replace(
            "self.start = self.clock() // self.window_s * self.window_s", "self.start = self.clock()"
        )
        .replace("self.start = clock() // window_s * window_s", "self.start = clock()")
        .replace("> self.window_s", ">= self.window_s")
    )
    q = _grade(_namespace([*_solution(), sliding]), "8.3")
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


@pytest.mark.slow
def test_grading_the_notebooks_end_to_end_is_quick() -> None:
    from course_lib.grading import grade_notebook

    start = time.perf_counter()
    solved = grade_notebook(SOLUTION)
    assert time.perf_counter() - start < 15
    assert [q.score for q in solved.questions] == [2.0, 2.0, 3.0], solved
    stub = grade_notebook(EXERCISE)
    assert [q.score for q in stub.questions] == [0, 0, 0]
    assert stub.error is None
