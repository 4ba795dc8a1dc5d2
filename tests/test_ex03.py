"""Exercise 03: other styles pass, stubs score zero, planted bugs fail (notebooks: test_exercises.py)."""

from __future__ import annotations

import json
import math

import pytest
from exercise_support import assert_fails, assert_stubs_fail, stub

from course_lib.cost import price_of
from course_lib.grading import load_exercise
from course_lib.grading.checks import ex03
from course_lib.tokens import count_message_tokens

# --------------------------------------------------------------------------- correct implementations


def few_shot_ok(examples, query, system=None):
    if not query.strip():
        raise ValueError("empty query")
    out = [{"role": "system", "content": system}] if system else []
    for a, b in examples:
        out += [{"role": "user", "content": a}, {"role": "assistant", "content": b}]
    return [*out, {"role": "user", "content": query}]


def system_prompt_ok(role, constraints, output_format, tone):
    if not role.strip():
        raise ValueError("no role")
    parts = [f"ROLE:\n{role}"]
    for title, items in (("Constraints", constraints), ("Output format", output_format), ("Tone", tone)):
        if items:
            parts.append(f"## {title}\n" + "\n".join(f"* {i}" for i in items))
    return "\n\n".join(parts)


def _cos(a, b):
    return sum(x * y for x, y in zip(a, b, strict=True)) / (math.hypot(*a) * math.hypot(*b))


def top_k_ok(query, examples, k, embed):
    if k < 1:
        raise ValueError("k")
    q, *vs = embed([query] + [e["text"] for e in examples])
    order = sorted(range(len(examples)), key=lambda i: -_cos(q, vs[i]))
    return [examples[i] for i in order[:k]]


def monthly_ok(static_messages, dynamic_messages, *, model, requests_per_month, output_tokens):
    p = price_of(model)
    out = {}
    for name, msgs in (("static", static_messages), ("dynamic", dynamic_messages)):
        out[f"{name}_tokens"] = count_message_tokens(msgs, model)
        out[f"{name}_usd"] = (
            requests_per_month * (out[f"{name}_tokens"] * p.input + output_tokens * p.output) / 1e6
        )
    out["saving"] = 1 - out["dynamic_usd"] / out["static_usd"] if out["static_usd"] else 0.0
    return out


def test_correct_implementations_in_another_style_pass() -> None:
    ex03.check_build_few_shot(few_shot_ok)
    ex03.check_build_system_prompt(system_prompt_ok)
    ex03.check_top_k(top_k_ok)
    ex03.check_monthly_costs(monthly_ok)


def test_questions_registered_with_points() -> None:
    questions = load_exercise(3)
    assert [(q.id, q.points, q.targets) for q in questions] == [
        ("3.1", 2, ("build_few_shot",)),
        ("3.2", 2, ("build_system_prompt",)),
        ("3.3", 3, ("top_k",)),
        ("3.4", 2, ("monthly_costs",)),
        ("3.5", 2, ("clause_messages",)),
    ]


# --------------------------------------------------------------------------- planted bugs


def test_few_shot_wrong_role_order_fails() -> None:
    def swapped(examples, query, system=None):
        out = [{"role": "system", "content": system}] if system else []
        for a, b in examples:
            out += [{"role": "assistant", "content": b}, {"role": "user", "content": a}]
        return [*out, {"role": "user", "content": query}]

    assert_fails(ex03.check_build_few_shot, swapped, "roles", "followed by an assistant")


def test_few_shot_missing_query_fails() -> None:
    def no_query(examples, query, system=None):
        return few_shot_ok(examples, query, system)[:-1]

    assert_fails(ex03.check_build_few_shot, no_query, "must be the query")


def test_few_shot_system_at_the_end_fails() -> None:
    def system_last(examples, query, system=None):
        out = few_shot_ok(examples, query)
        return out + ([{"role": "system", "content": system}] if system else [])

    assert_fails(ex03.check_build_few_shot, system_last, "query")


def test_few_shot_that_accepts_an_empty_query_fails() -> None:
    def lenient(examples, query, system=None):
        return few_shot_ok(examples, query or "x", system) if query.strip() else []

    assert_fails(ex03.check_build_few_shot, lenient, "ValueError")


def test_system_prompt_without_tone_fails() -> None:
    def no_tone(role, constraints, output_format, tone):
        return system_prompt_ok(role, constraints, output_format, [])

    assert_fails(ex03.check_build_system_prompt, no_tone, "section headings", "tone")


def test_system_prompt_with_empty_heading_fails() -> None:
    def always_all(role, constraints, output_format, tone):
        if not role.strip():
            raise ValueError
        return "\n".join(
            f"# {t}\n" + "\n".join(items)
            for t, items in (
                ("ROLE", [role]),
                ("CONSTRAINTS", constraints),
                ("OUTPUT FORMAT", output_format),
                ("TONE", tone),
            )
        )

    assert_fails(ex03.check_build_system_prompt, always_all, "no heading for a part with no items")


def test_system_prompt_items_on_one_line_fail() -> None:
    def one_line(role, constraints, output_format, tone):
        if not role.strip():
            raise ValueError
        parts = [f"# ROLE\n{role}"]
        for t, items in (("CONSTRAINTS", constraints), ("OUTPUT FORMAT", output_format), ("TONE", tone)):
            if items:
                parts.append(f"# {t}\n" + "; ".join(items))
        return "\n".join(parts)

    assert_fails(ex03.check_build_system_prompt, one_line, "line of its own")


def test_system_prompt_in_the_wrong_order_fails() -> None:
    def tone_first(role, constraints, output_format, tone):
        text = system_prompt_ok(role, constraints, [], [])
        if tone:
            text = "# TONE\n" + "\n".join(tone) + "\n" + text
        return text + ("\n# OUTPUT FORMAT\n" + "\n".join(output_format) if output_format else "")

    assert_fails(ex03.check_build_system_prompt, tone_first, "section headings")


def test_top_k_off_by_one_fails() -> None:
    def one_more(query, examples, k, embed):
        return top_k_ok(query, examples, k + 1, embed)

    def one_less(query, examples, k, embed):
        return (
            top_k_ok(query, examples, k, embed)[: max(k - 1, 0)]
            if k >= 1
            else top_k_ok(query, examples, k, embed)
        )

    assert_fails(ex03.check_top_k, one_more, "expected")
    assert_fails(ex03.check_top_k, one_less, "expected")


def test_top_k_ascending_order_fails() -> None:
    def ascending(query, examples, k, embed):
        return list(reversed(top_k_ok(query, examples, k, embed)))

    assert_fails(ex03.check_top_k, ascending, "most similar first")


def test_top_k_by_dot_product_fails() -> None:
    def dot(query, examples, k, embed):
        if k < 1:
            raise ValueError
        q, *vs = embed([query] + [e["text"] for e in examples])
        order = sorted(range(len(examples)), key=lambda i: -sum(x * y for x, y in zip(q, vs[i], strict=True)))
        return [examples[i] for i in order[:k]]

    assert_fails(ex03.check_top_k, dot, "cosine")


def test_top_k_without_k_check_fails() -> None:
    def no_guard(query, examples, k, embed):
        return top_k_ok(query, examples, max(k, 1), embed)

    assert_fails(ex03.check_top_k, no_guard, "ValueError")


def test_monthly_costs_without_output_tokens_fails() -> None:
    def no_output(static_messages, dynamic_messages, *, model, requests_per_month, output_tokens):
        return monthly_ok(
            static_messages,
            dynamic_messages,
            model=model,
            requests_per_month=requests_per_month,
            output_tokens=0,
        )

    assert_fails(ex03.check_monthly_costs, no_output, "output tokens are billed too")


def test_monthly_costs_with_one_tokenizer_for_all_models_fails() -> None:
    def one_tokenizer(static_messages, dynamic_messages, *, model, requests_per_month, output_tokens):
        got = monthly_ok(
            static_messages,
            dynamic_messages,
            model=model,
            requests_per_month=requests_per_month,
            output_tokens=output_tokens,
        )
        got["static_tokens"] = count_message_tokens(static_messages, "gpt-4o")
        return got

    assert_fails(ex03.check_monthly_costs, one_tokenizer, "tokenizer")


def test_monthly_costs_priced_per_thousand_fails() -> None:
    def per_thousand(static_messages, dynamic_messages, *, model, requests_per_month, output_tokens):
        got = monthly_ok(
            static_messages,
            dynamic_messages,
            model=model,
            requests_per_month=requests_per_month,
            output_tokens=output_tokens,
        )
        return {**got, "static_usd": got["static_usd"] * 1000, "dynamic_usd": got["dynamic_usd"] * 1000}

    assert_fails(ex03.check_monthly_costs, per_thousand, "per million")


def test_stubs_fail_with_a_hint_and_missing_names_are_reported() -> None:
    assert_stubs_fail(
        {
            "3.1": ("build_few_shot", stub),
            "3.2": ("build_system_prompt", stub),
            "3.3": ("top_k", stub),
            "3.4": ("monthly_costs", stub),
            "3.5": ("clause_messages", stub),
        },
        missing="3.3",
    )


def test_letter_embed_is_not_normalised() -> None:
    a, b = ex03.letter_embed(["aa", "a"])
    assert a[0] == 2.0 and b[0] == 1.0 and a[-1] == b[-1] == 1.0


# --------------------------------------------------------------------------- 3.5 the classifier's prompt


def _clause_prompt(system, *, reply=lambda label: json.dumps({"label": label}), where="pairs", last=True):
    """A clause_messages: ``system(labels)`` texts, the examples as ``where`` says, the clause last."""

    def clause_messages(clause, examples, labels):
        out = [{"role": "system", "content": s} for s in system(labels)]
        for e in examples:
            if where == "pairs":
                out += [
                    {"role": "user", "content": e["text"]},
                    {"role": "assistant", "content": reply(e["label"])},
                ]
            elif where == "system":
                out[0]["content"] += f"\nExample: {e['text']} -> {reply(e['label'])}"
            elif where == "swapped":
                out += [
                    {"role": "assistant", "content": reply(e["label"])},
                    {"role": "user", "content": e["text"]},
                ]
        out.append({"role": "user", "content": clause if last else "Classify the clause above."})
        return out

    return clause_messages


GOOD_CLAUSE_PROMPTS = {
    "one-line": lambda labels: [f'Labels: {", ".join(labels)}. Answer with JSON: {{"label": ...}}'],
    "bulleted-two-systems": lambda labels: [
        "Allowed categories:\n" + "\n".join(f"- {name}" for name in labels),
        'Output format: a JSON object with a single key "label", nothing else.',
    ],
    "quoted-labels": lambda labels: [
        "Pick one of "
        + " | ".join(f'"{name}"' for name in labels)
        + ' and reply as json {"label": "<label>"}.'
    ],
}


@pytest.mark.parametrize("name", sorted(GOOD_CLAUSE_PROMPTS))
def test_differently_worded_clause_prompts_pass(name: str) -> None:
    ex03.check_clause_messages(_clause_prompt(GOOD_CLAUSE_PROMPTS[name]))


def test_a_clause_prompt_with_framed_user_turns_and_spaced_json_passes() -> None:
    def framed(clause, examples, labels):
        system = "Classify the clause. Labels: " + ", ".join(labels) + '. Reply in JSON: {"label": "..."}'
        out = [{"role": "system", "content": system}]
        for e in examples:
            out.append({"role": "user", "content": f"Clause:\n{e['text']}"})
            out.append({"role": "assistant", "content": json.dumps({"label": e["label"]}, indent=2)})
        return [*out, {"role": "user", "content": f"Clause:\n{clause}"}]

    ex03.check_clause_messages(framed)


FIXED_LABELS = ["payment", "termination", "maintenance", "deposit"]


@pytest.mark.parametrize(
    ("impl", "hints"),
    [
        (_clause_prompt(lambda labels: ['Reply with JSON {"label": ...}.']), ("does not list", "every label")),
        (_clause_prompt(lambda labels: [f"Labels: {', '.join(FIXED_LABELS)}. JSON only."]),
         ("does not list", "not a fixed list")),
        (_clause_prompt(lambda labels: [f"Labels: {', '.join(labels)}. One word."]), ("ask in the system message for JSON",)),
        (_clause_prompt(GOOD_CLAUSE_PROMPTS["one-line"], reply=lambda label: label),
         ("right after each example's user message", '"label": "returns"')),
        (_clause_prompt(GOOD_CLAUSE_PROMPTS["one-line"], where="system"), ("is not in a user message",)),
        (_clause_prompt(GOOD_CLAUSE_PROMPTS["one-line"], where="swapped"), ("right after each example's user message",)),
        (_clause_prompt(GOOD_CLAUSE_PROMPTS["one-line"], where="none"), ("is not in a user message",)),
        (_clause_prompt(GOOD_CLAUSE_PROMPTS["one-line"], last=False), ("end with the clause",)),
    ],
    ids=["no-labels", "fixed-labels", "no-format", "examples-reply-bare-label", "examples-in-system",
         "examples-swapped-roles", "no-examples", "clause-not-last"],
)  # fmt: skip
def test_clause_prompts_missing_a_stated_property_fail(impl, hints) -> None:
    assert_fails(ex03.check_clause_messages, impl, *hints)


def test_clause_prompt_through_str_format_fails() -> None:
    def formatted(clause, examples, labels):
        template = 'Labels: {labels}. Reply in JSON {{"label": ...}}.\nClause: ' + clause
        return [{"role": "user", "content": template.format(labels=", ".join(labels))}]

    assert_fails(ex03.check_clause_messages, formatted, "raised")


def _planted(number: int, name: str, old: str, new: str):
    """The solution's ``name`` with one planted bug: ``old`` replaced by ``new``."""
    from exercise_support import exec_namespace, solution_path, solution_sources, with_planted_bug

    return exec_namespace(with_planted_bug(solution_sources(solution_path(number)), old, new))[name]


def test_section_items_with_junk_on_their_line_fail() -> None:
    bad = _planted(3, "build_system_prompt", '"\\n".join(f"- {item}"', '"XX\\nXX".join(f"- {item}"')
    assert_fails(ex03.check_build_system_prompt, bad, "put each item on a line of its own")


@pytest.mark.parametrize("bullet", ["* ", "• ", "1. ", ""])
def test_section_items_with_other_bullets_pass(bullet: str) -> None:
    ok = _planted(3, "build_system_prompt", 'f"- {item}"', f'f"{bullet}{{item}}"')
    ex03.check_build_system_prompt(ok)
