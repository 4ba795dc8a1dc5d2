"""The demo exercise's checks, run in-process on the solution, the generated stub and planted bugs."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from course_lib.grading import grade_namespace
from course_lib.grading.sync import exercise_from_solution

DEMO = Path(__file__).parent / "data" / "grading" / "99_demo.ipynb"


def _code(nb) -> list[str]:
    return [c.source for c in nb.cells if c.cell_type == "code" and not c.source.startswith("check(")]


def _namespace(sources: list[str]) -> dict:
    namespace: dict = {"__name__": "__notebook__"}
    for source in sources:
        exec(compile(source, "<cell>", "exec"), namespace)
    return namespace


def _solution() -> list[str]:
    return _code(nbformat.read(str(DEMO), as_version=4))


def _with(old: str, new: str) -> dict:
    sources = _solution()
    hits = [i for i, s in enumerate(sources) if old in s]
    assert len(hits) == 1, f"fixture text not found once: {old!r}"
    sources[hits[0]] = sources[hits[0]].replace(old, new)
    return _namespace(sources)


def _by_id(results) -> dict:
    return {r.id: r for r in results}


def test_solution_scores_full_marks():
    results = grade_namespace(99, _namespace(_solution()), check_timeout=10)
    assert [(r.id, r.status, r.score) for r in results] == [
        ("99.1", "passed", 1.0),
        ("99.2", "passed", 2.0),
        ("99.3", "passed", 2.0),
    ]


def test_generated_exercise_scores_zero_with_a_stub_hint():
    exercise, regions = exercise_from_solution(nbformat.read(str(DEMO), as_version=4))
    assert regions == 3
    results = grade_namespace(99, _namespace(_code(exercise)), check_timeout=10)
    assert [r.score for r in results] == [0, 0, 0]
    assert all("still raises NotImplementedError" in r.hint for r in results)


def test_off_by_one_in_the_usage_sum_fails_with_a_specific_hint():
    results = _by_id(grade_namespace(99, _with("in results:", "in results[1:]:"), check_timeout=10))
    q = results["99.1"]
    assert q.status == "failed"
    assert "(21, 8, 3); expected (31, 13, 3)" in q.hint
    assert results["99.2"].passed and results["99.3"].passed


def test_usage_of_the_wrong_type():
    ns = _with("    return total\n", "    return (total.prompt_tokens, total.completion_tokens)\n")
    q = _by_id(grade_namespace(99, ns, check_timeout=10))["99.1"]
    assert q.status == "failed" and "a tuple; expected a Usage" in q.hint


def test_retry_that_never_retries():
    ns = _with("if not exc.retryable or attempt == max_attempts:", "if True:")
    q = _by_id(grade_namespace(99, ns, check_timeout=10))["99.2"]
    assert q.status == "failed"
    assert "raised RateLimitError after 1 call(s)" in q.hint


def test_retry_that_ignores_retry_after():
    ns = _with("sleep(exc.retry_after or 0.5 * 2 ** (attempt - 1))", "sleep(0.5 * 2 ** (attempt - 1))")
    q = _by_id(grade_namespace(99, ns, check_timeout=10))["99.2"]
    assert q.status == "failed" and "retry_after=1.5" in q.hint


def test_retry_that_retries_bad_requests():
    ns = _with("if not exc.retryable or attempt == max_attempts:", "if attempt == max_attempts:")
    q = _by_id(grade_namespace(99, ns, check_timeout=10))["99.2"]
    assert q.status == "failed" and "400 Bad Request" in q.hint


def test_retry_that_raises_something_unrelated():
    ns = _with("return provider.complete(messages)", "raise KeyError('oops')")
    q = _by_id(grade_namespace(99, ns, check_timeout=10))["99.2"]
    assert q.status == "failed" and q.hint.startswith("call_with_retry raised KeyError")


def test_vote_that_breaks_ties_the_wrong_way_is_caught():
    ns = _with(
        "return next((a for a in answers if counts[a] == best), None)",
        "return next((a for a in reversed(answers) if counts[a] == best), None)",
    )
    q = _by_id(grade_namespace(99, ns, check_timeout=10))["99.3"]
    assert q.status == "failed"
    assert q.hint.startswith("majority_vote(['B', 'A', 'B', 'A']) returned 'A'; expected 'B' (ties go to")


def test_vote_counterexample_from_the_property_run():
    # Right on the fixed cases, wrong when a later answer overtakes: only the property run finds it.
    ns = _with(
        "    counts: dict[str, int] = {}",
        "    if len(answers) > 4:\n        return answers[-1]\n    counts: dict[str, int] = {}",
    )
    q = _by_id(grade_namespace(99, ns, check_timeout=10))["99.3"]
    assert q.status == "failed"
    assert "— for example with answers=" in q.hint


def test_vote_that_hangs_times_out_and_the_other_questions_still_pass():
    ns = _with("    counts: dict[str, int] = {}", "    while True:\n        pass")
    results = _by_id(grade_namespace(99, ns, check_timeout=0.5))
    assert results["99.3"].status == "timeout"
    assert results["99.1"].passed and results["99.2"].passed


@pytest.mark.parametrize("target", ["total_usage", "call_with_retry", "majority_vote"])
def test_a_renamed_function_is_reported_missing(target):
    ns = _namespace(_solution())
    ns[target + "_v2"] = ns.pop(target)
    results = _by_id(grade_namespace(99, ns, check_timeout=10))
    missing = [r for r in results.values() if r.status == "missing"]
    assert len(missing) == 1 and f"`{target}`" in missing[0].hint
