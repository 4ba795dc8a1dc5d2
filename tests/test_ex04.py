"""Exercise 04: other styles pass, stubs score zero, planted bugs fail (notebooks: test_exercises.py)."""

from __future__ import annotations

import itertools
import json
import re
from datetime import datetime, timedelta

import pytest
from exercise_support import assert_fails, assert_stubs_fail, stub

from course_lib.grading import load_exercise
from course_lib.grading.checks import ex04
from course_lib.lessons.l04_chain_of_thought.stream import iter_steps as library_iter_steps

WINDOWS = {"defective_product": 90, "changed_mind": 30, "shipping_damage": 14, "other": 30}

# --------------------------------------------------------------------------- correct implementations


def cot_ok(question):
    if not question.strip():
        raise ValueError("empty")
    system = "Reason step by step (Step 1, Step 2, ...). End with a line 'Answer: <answer>'."
    return [{"role": "system", "content": system}, {"role": "user", "content": f"Question: {question}"}]


def final_answer_ok(text):
    """Another style: walk the lines backwards."""
    lines = text.splitlines()
    for line in reversed(lines):
        head, sep, rest = line.strip().partition(":")
        if sep and head.strip().lower() in ("answer", "final answer"):
            m = re.search(r"-?\d+(?:\.\d+)?", rest)
            return float(m.group()) if m else None
    numbers = re.findall(r"-?\d+(?:\.\d+)?", text)
    return float(numbers[-1]) if numbers else None


def audit_ok(order, claim, windows=WINDOWS):
    start = datetime.fromisoformat(order["purchased_at"])
    end = datetime.fromisoformat(order["requested_at"])
    if end < start:
        raise ValueError("requested before purchase")
    seconds = (end - start).total_seconds()
    window = windows.get(claim["category"])
    decision = "REVIEW" if window is None else ("APPROVE" if seconds <= window * 86400 else "DENY")
    return {
        "days": seconds / 86400,
        "decision": decision,
        "days_ok": claim["days_elapsed"] == int(seconds // 86400),
        "decision_ok": claim["decision"] == decision,
    }


def test_correct_implementations_in_another_style_pass() -> None:
    ex04.check_cot_messages(cot_ok)
    ex04.check_final_answer(final_answer_ok)
    ex04.check_audit_refund(audit_ok)
    ex04.check_iter_steps(library_iter_steps)


def test_questions_registered_with_points() -> None:
    questions = load_exercise(4)
    assert [(q.id, q.points, q.targets) for q in questions] == [
        ("4.1", 1, ("cot_messages",)),
        ("4.2", 2, ("final_answer",)),
        ("4.3", 2, ("audit_refund",)),
        ("4.4", 2, ("iter_steps",)),
        ("4.5", 2, ("refund_messages",)),
    ]


# --------------------------------------------------------------------------- planted bugs


def test_cot_prompt_built_with_format_fails_on_braces() -> None:
    def with_format(question):
        if not question.strip():
            raise ValueError
        template = "Today is {date}. Question: " + question  # the question becomes part of the template
        return [*cot_ok("x")[:1], {"role": "user", "content": template.format(date="2024-06-01")}]

    assert_fails(ex04.check_cot_messages, with_format, "raised KeyError")


def test_cot_prompt_without_an_answer_line_fails() -> None:
    def no_marker(question):
        if not question.strip():
            raise ValueError
        return [{"role": "system", "content": "Think step by step."}, {"role": "user", "content": question}]

    assert_fails(ex04.check_cot_messages, no_marker, "'Answer: …'")


def test_cot_prompt_that_shares_one_list_fails() -> None:
    shared = cot_ok("x")[:1]

    def appends(question):
        if not question.strip():
            raise ValueError
        shared.append({"role": "user", "content": question})
        return shared

    assert_fails(ex04.check_cot_messages, appends, "build a new list")


def test_first_number_instead_of_final_answer_fails() -> None:
    def first_number(text):
        m = re.search(r"-?\d+(?:\.\d+)?", text)
        return float(m.group()) if m else None

    assert_fails(ex04.check_final_answer, first_number, "returned 1.0", "Answer line")


def test_first_answer_line_instead_of_last_fails() -> None:
    def first_answer_line(text):
        lines = re.findall(r"(?im)^\s*(?:final\s+)?answer\s*:(.*)$", text)
        if lines:
            m = re.search(r"-?\d+(?:\.\d+)?", lines[0])
            return float(m.group()) if m else None
        return final_answer_ok(text)

    assert_fails(ex04.check_final_answer, first_answer_line, "returned 12", "last one counts")


def test_unsigned_numbers_fail() -> None:
    def unsigned(text):
        result = final_answer_ok(text)
        return abs(result) if result is not None else None

    assert_fails(ex04.check_final_answer, unsigned, "negative")


def test_dot_seconds_instead_of_total_seconds_fails() -> None:
    def seconds_bug(order, claim, windows=WINDOWS):
        got = audit_ok(order, claim, windows)
        delta = datetime.fromisoformat(order["requested_at"]) - datetime.fromisoformat(order["purchased_at"])
        days = delta.seconds / 86400
        window = windows.get(claim["category"])
        decision = "REVIEW" if window is None else ("APPROVE" if days <= window else "DENY")
        return {**got, "days": days, "decision": decision, "decision_ok": claim["decision"] == decision}

    assert_fails(ex04.check_audit_refund, seconds_bug, "days=0.0", "total_seconds()")


def test_off_by_one_at_the_window_boundary_fails() -> None:
    def strict(order, claim, windows=WINDOWS):
        got = audit_ok(order, claim, windows)
        if got["decision"] == "APPROVE" and got["days"] == windows[claim["category"]]:
            got = {**got, "decision": "DENY", "decision_ok": claim["decision"] == "DENY"}
        return got

    assert_fails(ex04.check_audit_refund, strict, "exactly 30 days", "<=, not <")


def test_whole_days_only_fails_just_past_the_boundary() -> None:
    def by_whole_days(order, claim, windows=WINDOWS):
        got = audit_ok(order, claim, windows)
        window = windows.get(claim["category"])
        if window is not None:
            decision = "APPROVE" if int(got["days"]) <= window else "DENY"
            got = {**got, "decision": decision, "decision_ok": claim["decision"] == decision}
        return got

    assert_fails(ex04.check_audit_refund, by_whole_days, "30 days and 1 hour", "not timedelta.days")


def test_hard_coded_windows_fail() -> None:
    def ignores_windows(order, claim, windows=WINDOWS):
        return audit_ok(order, claim, WINDOWS)

    assert_fails(ex04.check_audit_refund, ignores_windows, "use the windows passed in")


def test_unknown_category_treated_as_other_fails() -> None:
    def default_window(order, claim, windows=WINDOWS):
        category = claim["category"] if claim["category"] in windows else "other"
        return audit_ok(order, {**claim, "category": category}, windows)

    assert_fails(ex04.check_audit_refund, default_window, "REVIEW")


def test_trusting_the_models_day_count_fails() -> None:
    def trusting(order, claim, windows=WINDOWS):
        got = audit_ok(order, claim, windows)
        window = windows.get(claim["category"])
        decision = "REVIEW" if window is None else ("APPROVE" if claim["days_elapsed"] <= window else "DENY")
        return {**got, "decision": decision, "decision_ok": claim["decision"] == decision}

    assert_fails(ex04.check_audit_refund, trusting, "expected 'DENY'")


def test_whole_buffer_stream_parser_fails() -> None:
    def whole_buffer(deltas):
        buffer = ""
        for delta in deltas:
            buffer += delta
            if "\n" in buffer:
                try:
                    yield json.loads(buffer.strip())
                    buffer = ""
                except json.JSONDecodeError:
                    continue

    assert_fails(ex04.check_iter_steps, whole_buffer, "split the buffer at every newline")


def test_stream_parser_that_waits_for_the_end_fails() -> None:
    def eager(deltas):
        return [json.loads(line) for line in "".join(deltas).split("\n") if line.strip()]

    assert_fails(ex04.check_iter_steps, eager, "as soon as its line ends")


def test_stream_parser_that_drops_the_last_line_fails() -> None:
    def no_flush(deltas):
        buffer = ""
        for delta in deltas:
            buffer += delta
            *lines, buffer = buffer.split("\n")
            yield from (json.loads(line) for line in lines if line.strip())

    assert_fails(ex04.check_iter_steps, no_flush, "the last line has no newline")


def test_stream_parser_that_skips_bad_lines_fails() -> None:
    def lazy_forgiving(deltas):
        buffer = ""
        for delta in itertools.chain(deltas, ["\n"]):
            buffer += delta
            *lines, buffer = buffer.split("\n")
            for line in lines:
                try:
                    yield json.loads(line)
                except json.JSONDecodeError:
                    continue

    assert_fails(ex04.check_iter_steps, lazy_forgiving, "ValueError", "don't drop it silently")


def test_stubs_fail_with_a_hint_and_missing_names_are_reported() -> None:
    assert_stubs_fail(
        {
            "4.1": ("cot_messages", stub),
            "4.2": ("final_answer", stub),
            "4.3": ("audit_refund", stub),
            "4.4": ("iter_steps", stub),
            "4.5": ("refund_messages", stub),
        },
        missing="4.4",
    )


def test_boundary_cases_in_the_check_are_what_they_claim() -> None:
    # The case table's expected days are computed independently of the checks' own arithmetic.
    assert datetime(2024, 3, 20) - datetime(2024, 1, 15) == timedelta(days=65)
    assert datetime(2024, 3, 12) - datetime(2024, 2, 10) == timedelta(days=31)
    assert datetime(2024, 3, 31, 12) - datetime(2024, 3, 1, 12) == timedelta(days=30)


# --------------------------------------------------------------------------- 4.5 the refund prompt


def _refund_prompt(system, *, user=lambda request: request):
    def refund_messages(request, windows):
        return [
            *({"role": "system", "content": s} for s in system(windows)),
            {"role": "user", "content": user(request)},
        ]

    return refund_messages


GOOD_REFUND_PROMPTS = {
    "bullets": lambda w: [
        "Refund windows:\n"
        + "\n".join(f"* {c} – {d} days" for c, d in w.items())
        + '\nDecide APPROVE or DENY. Output json: {"days_elapsed": n, "category": c, "decision": d}'
    ],
    "table-two-systems": lambda w: [
        "| category | window (days) |\n" + "\n".join(f"| {c} | {d} |" for c, d in w.items()),
        "Count the days first. Answer as a JSON object with keys days_elapsed, category, decision; "
        "decision is DENY when the window has passed, else APPROVE.",
    ],
    "sentences": lambda w: [
        " ".join(f"\nThe {c} window is {d} days." for c, d in w.items())
        + '\nReturn JSON only ({"days_elapsed": ..., "category": ..., "decision": "APPROVE" or "DENY"}).'
    ],
}


@pytest.mark.parametrize("name", sorted(GOOD_REFUND_PROMPTS))
def test_differently_worded_refund_prompts_pass(name: str) -> None:
    ex04.check_refund_messages(_refund_prompt(GOOD_REFUND_PROMPTS[name]))


def test_a_refund_prompt_with_a_framed_request_passes() -> None:
    ex04.check_refund_messages(
        _refund_prompt(GOOD_REFUND_PROMPTS["bullets"], user=lambda r: f"Request:\n{r}")
    )


def _refund_without(part: str):
    def parts(windows):
        lines = {
            "windows": "\n".join(f"- {c}: {d} days" for c, d in windows.items()),
            "decisions": "Decide APPROVE or DENY.",
            "json": 'Reply with JSON only: {"days_elapsed": 0, "category": "", "decision": ""}',
        }
        return ["\n".join(text for key, text in lines.items() if key != part)]

    return parts


@pytest.mark.parametrize(
    ("impl", "hints"),
    [
        (_refund_prompt(_refund_without("windows")), ("assuming a 30-day window", "days in digits on one line")),
        (_refund_prompt(lambda w: [_refund_without("windows")(w)[0] + "\nCategories: " + ", ".join(w)
                                   + "\nWindows in days: " + ", ".join(str(d) for d in w.values())]),
         ("assuming a 30-day window",)),
        (_refund_prompt(lambda w: [_refund_without("windows")(w)[0] + "\n- defective_product: 90 days"
                                   "\n- changed_mind: 30 days\n- shipping_damage: 14 days\n- other: 30 days"]),
         ("do not state the window of", "late_delivery")),
        (_refund_prompt(_refund_without("decisions")), ("APPROVE and DENY",)),
        (_refund_prompt(_refund_without("json")), ("which code cannot parse", "JSON only")),
        (_refund_prompt(lambda w: [_refund_without("json")(w)[0] + "\nAnswer in JSON."]),
         ("missing: ['days_elapsed', 'category', 'decision']",)),
        (_refund_prompt(_refund_without("none"), user=lambda r: "Decide the request."), ("end with a user message",)),
    ],
    ids=["no-windows", "windows-apart-from-categories", "fixed-windows", "no-decisions", "no-format",
         "json-without-keys", "request-not-last"],
)  # fmt: skip
def test_refund_prompts_missing_a_stated_property_fail(impl, hints) -> None:
    assert_fails(ex04.check_refund_messages, impl, *hints)


def test_refund_prompt_through_str_format_fails() -> None:
    def formatted(request, windows):
        template = "Windows: {w}. APPROVE or DENY. JSON with days_elapsed, category, decision.\n" + request
        return [{"role": "user", "content": template.format(w=windows)}]

    assert_fails(ex04.check_refund_messages, formatted, "raised", "never through str.format")
