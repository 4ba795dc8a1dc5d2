"""Exercise 01: the solution and planted bugs, graded in-process (notebooks: test_exercises.py)."""

from __future__ import annotations

import pytest
from exercise_support import (
    assert_fails,
    exec_namespace,
    run_check,
    solution_path,
    solution_sources,
    with_planted_bug,
)

from course_lib.grading import grade_namespace
from course_lib.grading.checks import ex01
from course_lib.grading.registry import CheckFailed

SOLUTION = solution_path(1)


def _solution() -> list[str]:
    return solution_sources(SOLUTION)


def _with(old: str, new: str) -> dict:
    """The solution's namespace with one planted bug: ``old`` replaced by ``new``."""
    return exec_namespace(with_planted_bug(_solution(), old, new))


def test_solution_scores_full_marks() -> None:
    results = grade_namespace(1, exec_namespace(_solution()), check_timeout=10)
    assert [(r.id, r.status, r.score) for r in results] == [
        ("1.1", "passed", 2.0),
        ("1.2", "passed", 2.0),
        ("1.3", "passed", 2.0),
        ("1.4", "passed", 2.0),
    ], [r.hint for r in results]


def test_solution_puts_the_batch_together() -> None:
    ns = exec_namespace(_solution())
    assert ns["tiers"].count("faq") == 5
    assert ns["costs"]["total"] == pytest.approx(sum(v for k, v in ns["costs"].items() if k != "total"))


# ------------------------------------------------------------------------------ 1.1 planted bugs

HARDCODED = """def intent_messages(query, categories):
    cats = "BALANCE, DEPOSIT, TRANSFER, CARD, FRAUD, LOAN, OTHER"
    return [{"role": "system", "content": f"Pick one of {cats}. Reply as JSON: {{\\"category\\": ...}}"},
            {"role": "user", "content": query}]
"""

CHATTY = """def intent_messages(query, categories):
    return [{"role": "system", "content": "Classify into one of: " + ", ".join(categories)},
            {"role": "user", "content": query}]
"""

FORMATTED = """def intent_messages(query, categories):
    template = "Classify into one of {cats}. Reply with JSON {{\\"category\\": ...}}.\\nQuery: " + query
    return [{"role": "user", "content": template.format(cats=", ".join(categories))}]
"""

QUERY_IN_SYSTEM = """def intent_messages(query, categories):
    return [{"role": "system", "content": "Categories: " + ", ".join(categories) + ". JSON please. " + query},
            {"role": "user", "content": "Classify the message above."}]
"""


@pytest.mark.parametrize(
    ("source", "hint"),
    [
        (HARDCODED, "build the list from the `categories` argument"),
        (CHATTY, "which code cannot parse: ask for JSON"),
        (FORMATTED, "never through str.format"),
        (QUERY_IN_SYSTEM, "no user message contains the query"),
    ],
    ids=["hardcoded-categories", "no-format", "str-format-on-query", "query-in-system"],
)
def test_intent_prompt_bugs_fail_with_a_specific_hint(source: str, hint: str) -> None:
    q = run_check("1.1", exec_namespace([*_solution(), source]))
    assert q.status == "failed" and hint in q.hint, q.hint


def test_intent_prompt_with_the_libraries_builder_passes() -> None:
    """Another correct shape: the library's own classifier prompt (categories in the system message, JSON)."""
    from course_lib.classify import classification_messages

    ns = {"intent_messages": lambda query, categories: classification_messages(query, categories)}
    assert run_check("1.1", ns).status == "passed"


# ------------------------------------------------------------------------------ 1.2 planted bugs


def test_re_match_mistake_fails_with_the_search_hint() -> None:
    ns = _with("re.search(pattern, query, re.IGNORECASE)", "re.match(pattern, query, re.IGNORECASE)")
    q = run_check("1.2", ns)
    assert q.status == "failed"
    assert "re.match only looks at the start, re.search looks everywhere" in q.hint


def test_case_sensitive_rules_fail() -> None:
    q = run_check("1.2", _with("re.search(pattern, query, re.IGNORECASE)", "re.search(pattern, query)"))
    assert q.status == "failed" and "regardless of case" in q.hint


def test_substring_instead_of_regex_fails() -> None:
    q = run_check(
        "1.2", _with("re.search(pattern, query, re.IGNORECASE)", "pattern.lower() in query.lower()")
    )
    assert q.status == "failed" and "regular expressions" in q.hint


def test_last_matching_rule_wins_fails() -> None:
    q = run_check(
        "1.2", _with("    for pattern, answer in rules:\n", "    for pattern, answer in reversed(rules):\n")
    )
    assert q.status == "failed" and "the first one in the list wins" in q.hint


# ------------------------------------------------------------------------------ 1.3 planted bugs


def test_confidence_equal_to_the_bar_escalating_fails() -> None:
    q = run_check("1.3", _with("if confidence < min_confidence:", "if confidence <= min_confidence:"))
    assert q.status == "failed" and "equals min_confidence 0.6" in q.hint


def test_classifier_called_before_the_rules_fails() -> None:
    ns = _with(
        '    if faq(query) is not None:\n        return "faq"\n    category, confidence = classify(query)\n',
        '    category, confidence = classify(query)\n    if faq(query) is not None:\n        return "faq"\n',
    )
    q = run_check("1.3", ns)
    assert q.status == "failed" and "called the classifier although a rule answered" in q.hint


def test_ignoring_min_confidence_argument_fails() -> None:
    q = run_check("1.3", _with("if confidence < min_confidence:", "if confidence < 0.6:"))
    assert q.status == "failed" and "min_confidence=0.9" in q.hint


def test_unrouted_category_crashing_fails() -> None:
    q = run_check("1.3", _with('return routes.get(category, "large")', "return routes[category]"))
    assert q.status == "failed" and "KeyError" in q.hint


# ------------------------------------------------------------------------------ 1.4 planted bugs


def test_off_by_one_share_fails() -> None:
    q = run_check("1.4", _with("tiers.count(tier) / len(tiers)", "tiers.count(tier) / (len(tiers) - 1)"))
    assert q.status == "failed" and "share of the batch" in q.hint


LAST_TIER_TOTAL = """def daily_cost(tiers, cost_per_query, queries_per_day):
    if not tiers or set(tiers) - set(cost_per_query):
        raise ValueError("empty batch or unknown tier")
    out = {}
    for tier, cost in cost_per_query.items():
        out[tier] = tiers.count(tier) / len(tiers) * queries_per_day * cost
        total = out[tier]
    out["total"] = total
    return out
"""


def test_total_not_summed_over_tiers_fails() -> None:
    q = run_check("1.4", exec_namespace([*_solution(), LAST_TIER_TOTAL]))
    assert q.status == "failed" and "add up the cost of every tier" in q.hint


def test_unused_tiers_left_out_fails() -> None:
    q = run_check(
        "1.4",
        _with(
            "for tier, cost in cost_per_query.items()",
            "for tier, cost in cost_per_query.items() if tier in tiers",
        ),
    )
    assert q.status == "failed" and "0 for a tier no query reached" in q.hint


def test_unknown_tier_raising_key_error_fails() -> None:
    ns = _with('raise ValueError(f"no cost per query for tier(s) {unknown}")', "pass")
    q = run_check("1.4", ns)
    assert q.status == "failed" and "'human' has no cost" in q.hint


def test_check_raises_check_failed_for_a_non_dict_cost() -> None:
    with pytest.raises(CheckFailed, match="expected a dict"):
        ex01.check_daily_cost(lambda tiers, costs, per_day: 42.0)


def test_a_prompt_that_copies_a_label_from_another_set_is_told_why() -> None:
    def copies_the_example(query, categories):
        system = (
            "Classify the message into exactly one of: "
            + ", ".join(categories)
            + '. Reply with JSON like {"category": "BALANCE"}.'
        )
        return [{"role": "system", "content": system}, {"role": "user", "content": query}]

    message = assert_fails(ex01.check_intent_messages, copies_the_example, "example names", "placeholder")
    assert "fixed list" not in message
