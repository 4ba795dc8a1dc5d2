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
        ("1.5", "passed", 2.0),
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


# ------------------------------------------------------------------------------ 1.5 the specific prompt


def _grounded(
    system_parts,
    *,
    user=lambda query: query,
    query_in_system=False,
):
    """A grounded_messages built from ``system_parts(facts, fallback, max_words)`` -> list of system texts."""

    def grounded_messages(query, facts, fallback, max_words):
        systems = system_parts(list(facts), fallback, max_words)
        if query_in_system:
            systems = [*systems, "The customer asks: " + query]
        return [
            *({"role": "system", "content": s} for s in systems),
            {"role": "user", "content": user(query)},
        ]

    return grounded_messages


GOOD_PROMPTS = {
    "one-system-bullets": lambda facts, fallback, n: [
        "Answer from these facts only:\n"
        + "\n".join(f"* {f}" for f in facts)
        + f"\nWhen they do not cover the question, say: {fallback}\nAt most {n} words."
    ],
    "numbered-facts-limit-first": lambda facts, fallback, n: [
        f"Reply in {n} words or fewer. Use nothing but the numbered facts below.\n"
        + "\n".join(f"{i}. {f}" for i, f in enumerate(facts, 1))
        + f"\nNo matching fact? Then your whole reply is this sentence: '{fallback}'"
    ],
    "three-system-messages": lambda facts, fallback, n: [
        "You are Example Bank's assistant. Facts you may rely on: " + " ".join(facts),
        f'Unknown answer => respond with exactly "{fallback}" and nothing more.',
        f"Length: max_words={n}.",
    ],
}


@pytest.mark.parametrize("name", sorted(GOOD_PROMPTS))
def test_differently_worded_specific_prompts_pass(name: str) -> None:
    ex01.check_grounded_messages(_grounded(GOOD_PROMPTS[name]))


def test_a_specific_prompt_with_a_user_preamble_passes() -> None:
    ex01.check_grounded_messages(
        _grounded(GOOD_PROMPTS["one-system-bullets"], user=lambda q: f"Customer: {q}")
    )


def _without(part: str):
    def parts(facts, fallback, n):
        lines = {
            "facts": "Answer only from the facts: " + " ".join(facts),
            "fallback": f"If the facts do not say, reply exactly: {fallback}",
            "limit": f"Use at most {n} words.",
        }
        return [text for key, text in lines.items() if key != part]

    return parts


@pytest.mark.parametrize(
    ("impl", "hints"),
    [
        (_grounded(_without("facts")), ("are not in the system messages word for word",)),
        (_grounded(lambda f, fb, n: [_without("facts")(f, fb, n)[0] + " " + " ".join(f[:1]), *_without("facts")(f, fb, n)[1:]]),
         ("are not in the system messages word for word",)),
        (_grounded(_without("fallback")), ("a guess, because the facts do not cover", "quote the exact fallback")),
        (_grounded(_without("limit")), ("words: state the limit of at most", "in digits")),
        (_grounded(lambda f, fb, n: [*_without("limit")(f, fb, n), "Keep it short: forty words at most."]),
         ("state the limit of at most 40 words",)),
        (_grounded(lambda f, fb, n: [*_without("limit")(f, fb, n), "Use at most 40 words."]),
         ("state the limit of at most 25 words",)),
        (_grounded(lambda f, fb, n: [*_without("fallback")(f, fb, n), "If unsure, say you do not know."]),
         ("quote the exact fallback",)),
        (_grounded(_without("none"), query_in_system=True), ("puts the customer's text in a system message",)),
        (_grounded(_without("none"), user=lambda q: "Please answer the customer."), ("end with a user message",)),
    ],
    ids=[
        "no-facts", "only-first-fact", "no-fallback", "no-limit", "limit-in-words", "fixed-limit",
        "paraphrased-fallback", "query-in-system", "query-not-in-user",
    ],
)  # fmt: skip
def test_prompts_missing_a_stated_property_fail(impl, hints) -> None:
    assert_fails(ex01.check_grounded_messages, impl, *hints)


def test_facts_only_in_the_user_message_fail() -> None:
    def facts_in_user(query, facts, fallback, max_words):
        system = f"If the facts do not say, reply exactly: {fallback} Use at most {max_words} words."
        user = "Facts: " + " ".join(facts) + "\nQuestion: " + query
        return [{"role": "system", "content": system}, {"role": "user", "content": user}]

    assert_fails(ex01.check_grounded_messages, facts_in_user, "not in the system messages")


def test_facts_put_through_str_format_fail() -> None:
    def formatted(query, facts, fallback, max_words):
        template = "Facts: " + " ".join(facts) + " Else reply {fallback}. At most {n} words."
        return [{"role": "system", "content": template.format(fallback=fallback, n=max_words)},
                {"role": "user", "content": query}]  # fmt: skip

    assert_fails(ex01.check_grounded_messages, formatted, "raised")


def test_grounded_prompt_stub_scores_zero() -> None:
    q = run_check("1.5", {"grounded_messages": lambda *a: (_ for _ in ()).throw(NotImplementedError("x"))})
    assert q.status == "failed" and q.score == 0
