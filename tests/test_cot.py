"""Tests of course_lib.cot: prompts, answer reading, the refund audit, the step-stream parser and timelines."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.cot import (
    COMPARISONS,
    COT_SYSTEM_PROMPT,
    Comparison,
    CotStep,
    claimed_relation,
    cot_messages,
    direct_messages,
    parse_steps,
    tally_answers,
)
from course_lib.lessons.l04_chain_of_thought.refund import (
    RefundClaim,
    RefundOrder,
    RefundPolicy,
    audit_refund,
    decide_refund,
    elapsed_days,
    naive_day_count,
    refund_messages,
)
from course_lib.lessons.l04_chain_of_thought.stream import (
    StepStreamParser,
    iter_steps,
    step_timeline,
    stream_messages,
)
from course_lib.providers.scripted import ScriptedProvider

# ---------------------------------------------------------------- prompts and comparisons


def test_direct_and_cot_messages_carry_the_question():
    direct = direct_messages("  Is 9.11 greater than 9.8? ")
    assert [m["role"] for m in direct] == ["user"]
    assert direct[0]["content"].startswith("Is 9.11 greater than 9.8?\n")
    cot = cot_messages("Is 9.11 greater than 9.8?")
    assert cot == [
        {"role": "system", "content": COT_SYSTEM_PROMPT},
        {"role": "user", "content": "Is 9.11 greater than 9.8?"},
    ]
    assert "Answer:" in COT_SYSTEM_PROMPT and "Step 1" in COT_SYSTEM_PROMPT


@pytest.mark.parametrize("build", [direct_messages, cot_messages, stream_messages])
def test_empty_question_is_refused(build):
    with pytest.raises(ValueError, match="empty"):
        build("   ")


def test_comparison_answers_are_computed_with_decimals():
    assert COMPARISONS[0].question == "Is 9.11 greater than 9.8?"
    assert COMPARISONS[0].expected == "no" and COMPARISONS[1].expected == "yes"
    assert Comparison("9.11", "9.8", "larger").expected == "9.8"
    assert Comparison("3.45", "3.50", "larger").expected == "3.5"
    assert Comparison("3.45", "3.5", "larger").question == "Which is larger, 3.45 or 3.5?"
    assert Comparison("1", "2").kind == "yesno" and Comparison("1", "2", "larger").kind == "number"


GREATER = Comparison("9.11", "9.8")
LARGER = Comparison("9.11", "9.8", "larger")


@pytest.mark.parametrize(
    ("text", "greater", "larger"),
    [
        ("No", "<", None),
        ("Yes.", ">", None),
        ("9.8", None, "<"),
        ("**9.11**", None, ">"),
        ("9.11 is greater than 9.8, but it is ambiguous", ">", ">"),
        ("9.11 is 0.26 higher than 9.8", ">", ">"),
        ("9.11 exceeds 9.8 in absolute terms", ">", ">"),
        ("No, 9.11 is not greater than 9.8.", "<", "<"),
        ("9.8 is larger than 9.11", "<", "<"),
        ("9.80 is not less than 9.11", "<", "<"),
        ("To decide if 9.11 is greater than 9.8 we compare decimals.", None, None),
        ("We check whether 9.11 is larger than 9.8.", None, None),
        ("0.11 is less than 0.80, so the answer follows.", None, None),
        ("Step 1: 9.11 is greater than 9.8?\nStep 2: no, 9.8 is larger than 9.11.", "<", "<"),
        ("Step 1: 9.8 is larger than 9.11.\nAnswer: Yes", ">", None),
        ("Answer: 9.11 is larger than 9.8. Later: 9.8 is larger than 9.11", ">", ">"),
        ("The answer is 3.5, not 4.", None, None),
        ("The answer is 9.8, not 9.11.", None, "<"),
        ("The answer is 9.8, which is larger than 9.11.", "<", "<"),
        ("So the answer is yes.", ">", None),
        ("", None, None),
    ],
)
def test_claimed_relation(text, greater, larger):
    assert claimed_relation(text, GREATER) == greater
    assert claimed_relation(text, LARGER) == larger


def test_tally_counts_right_wrong_and_missing():
    tally = tally_answers(["No", "Yes", "No, it is not.", "I cannot say", "9.8 is larger than 9.11"], GREATER)
    assert (tally.correct, tally.wrong, tally.missing, tally.total) == (3, 1, 1, 5)
    assert tally.accuracy == pytest.approx(0.6)
    assert tally_answers([], GREATER).accuracy == 0.0


def test_parse_steps_groups_lines_until_the_next_header_or_answer():
    text = (
        "Let me think.\nStep 1: Compare 9.11 and 9.8.\n- same whole part\n"
        "**Step 2:** 0.11 < 0.80\nstep 3) So 9.11 < 9.8.\nAnswer: No\ntrailing"
    )
    assert parse_steps(text) == [
        CotStep(1, "Compare 9.11 and 9.8.\n- same whole part"),
        CotStep(2, "0.11 < 0.80"),
        CotStep(3, "So 9.11 < 9.8."),
    ]
    assert parse_steps("no steps here\nAnswer: 4") == []
    assert parse_steps("Step 1: only") == [CotStep(1, "only")]


# ---------------------------------------------------------------- refunds

LEAP_ORDER = RefundOrder(
    id="ORD-12345",
    purchased_at="2024-01-15",
    requested_at="2024-03-20",
    reason="Product defective",
    amount="299.99",
)


def _claim(days: int, category: str, decision: str = "APPROVE") -> RefundClaim:
    return RefundClaim(
        step1_days_elapsed=days,
        step2_reason_category=category,
        step3_policy_check="…",
        step4_decision=decision,
        step4_justification="…",
    )


def test_a_span_across_29_february_2024_is_65_days_not_64():
    # 16 days left in January after the 15th, 29 in February 2024 (a leap year), 20 in March.
    assert elapsed_days(date(2024, 1, 15), date(2024, 3, 20)) == 16 + 29 + 20
    audit = audit_refund(LEAP_ORDER, _claim(64, "defective_product"))
    assert audit.days_elapsed == 65 and audit.window_days == 90
    assert audit.decision == "APPROVE" and audit.decision_ok and not audit.days_ok
    assert audit.discrepancies == ["model said 64 days; 65 days elapsed"]


def test_elapsed_days_uses_whole_days_and_refuses_time_travel():
    start = datetime(2024, 1, 1, 12, 0)
    assert elapsed_days(start, start + timedelta(days=40, hours=6)) == pytest.approx(40.25)
    assert (start + timedelta(days=40, hours=6) - start).seconds == 6 * 3600  # what .seconds would give
    with pytest.raises(ValueError, match="before the purchase"):
        elapsed_days(date(2024, 2, 2), date(2024, 2, 1))


@pytest.mark.parametrize(
    ("after", "decision"),
    [
        (timedelta(days=30), "APPROVE"),
        (timedelta(days=29, hours=23), "APPROVE"),
        (timedelta(days=30, minutes=1), "DENY"),
        (timedelta(days=31), "DENY"),
    ],
)
def test_the_window_boundary_is_inclusive(after, decision):
    start = datetime(2024, 2, 10, 9, 30)
    order = LEAP_ORDER.model_copy(update={"purchased_at": start, "requested_at": start + after})
    audit = audit_refund(order, _claim(30, "changed_mind"))
    assert audit.decision == decision
    assert audit.decision_ok == (decision == "APPROVE")


def test_a_wrong_day_count_that_flips_the_verdict_is_caught():
    order = RefundOrder(
        id="B", purchased_at="2024-02-10", requested_at="2024-03-12", reason="changed mind", amount=1
    )
    audit = audit_refund(order, _claim(30, "Changed_Mind"))
    assert (audit.days_elapsed, audit.decision, audit.category) == (31, "DENY", "changed_mind")
    assert audit.discrepancies == [
        "model said 30 days; 31 days elapsed",
        "model said APPROVE; the policy says DENY",
    ]


def test_a_category_outside_the_policy_goes_to_review():
    audit = audit_refund(LEAP_ORDER, _claim(65, "wrong_size"))
    assert audit.decision == "REVIEW" and audit.window_days is None
    assert "not in the policy" in audit.discrepancies[0]


def test_a_custom_policy_is_applied():
    strict = RefundPolicy(windows={"defective_product": 60})
    assert audit_refund(LEAP_ORDER, _claim(65, "defective_product"), strict).decision == "DENY"
    assert "defective_product: refund if requested within 60 days" in strict.describe()


def test_refund_messages_state_policy_and_order():
    system, user = refund_messages(LEAP_ORDER)
    assert "defective_product" in system["content"] and "90 days" in system["content"]
    assert "step1_days_elapsed" in system["content"]
    assert "Purchase date: 2024-01-15" in user["content"]
    assert "Refund request date: 2024-03-20" in user["content"]
    assert "$299.99" in user["content"]


def test_decide_refund_reads_fenced_json_and_audits_it():
    reply = "```json\n" + json.dumps(_claim(64, "defective_product").model_dump()) + "\n```"
    provider = ScriptedProvider([reply])
    decision = decide_refund(provider, LEAP_ORDER)
    assert decision.claim.step1_days_elapsed == 64 and decision.audit.days_elapsed == 65
    assert decision.result.source == "scripted"
    assert provider.calls[0].messages == refund_messages(LEAP_ORDER)
    assert provider.calls[0].params["temperature"] == 0


def test_decide_refund_refuses_a_reply_without_a_claim():
    with pytest.raises(ValueError):
        decide_refund(ScriptedProvider(["I would approve it."]), LEAP_ORDER)
    with pytest.raises(ValueError):
        decide_refund(ScriptedProvider(['{"step4_decision": "APPROVE"}']), LEAP_ORDER)


def test_claim_decision_is_case_insensitive_but_closed():
    assert _claim(1, "other", " approve ").step4_decision == "APPROVE"
    with pytest.raises(ValueError):
        _claim(1, "other", "MAYBE")


# ---------------------------------------------------------------- streamed steps

STEPS = [
    {"step": "analyze", "content": "A refund {question}"},
    {"step": "think", "content": 'Line one\nline two, with "quotes"'},
    {"step": "final", "content": "Yes."},
]
TEXT = "".join(json.dumps(s) + "\n" for s in STEPS)


def test_parser_emits_each_step_when_its_line_ends():
    parser = StepStreamParser()
    assert parser.feed(TEXT[:10]) == []
    first_end = TEXT.index("\n") + 1
    assert parser.feed(TEXT[10 : first_end + 3]) == [STEPS[0]]
    assert parser.feed(TEXT[first_end + 3 :]) == STEPS[1:]
    assert parser.close() == []


def test_parser_handles_blank_lines_crlf_and_a_last_line_without_newline():
    text = "\n\n" + json.dumps(STEPS[0]) + "\r\n  \n" + json.dumps(STEPS[2])
    assert list(iter_steps(text)) == [STEPS[0], STEPS[2]]


@pytest.mark.parametrize("line", ["not json", "[1, 2]"])
def test_parser_rejects_lines_that_are_not_json_objects(line):
    with pytest.raises(ValueError, match="streamed line"):
        list(iter_steps([json.dumps(STEPS[0]) + "\n" + line + "\n"]))


def test_iter_steps_is_lazy():
    consumed = []

    def deltas():
        for i, piece in enumerate(TEXT.split(" ")):
            consumed.append(i)
            yield piece if i == 0 else " " + piece

    steps = iter_steps(deltas())
    assert next(steps) == STEPS[0]
    assert len(consumed) < len(TEXT.split(" "))


@settings(max_examples=150, deadline=None)
@given(
    steps=st.lists(
        st.fixed_dictionaries({"step": st.sampled_from(["analyze", "solve", "final"]), "content": st.text()}),
        max_size=5,
    ),
    cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=12),
)
def test_any_split_of_the_text_yields_the_same_steps(steps, cuts):
    text = "".join(json.dumps(s, ensure_ascii=False) + "\n" for s in steps)
    points = sorted({c % (len(text) + 1) for c in cuts})
    pieces = [text[i:j] for i, j in zip([0, *points], [*points, len(text)], strict=True)]
    assert "".join(pieces) == text
    assert list(iter_steps(pieces)) == steps


# ---------------------------------------------------------------- timelines


def test_timeline_schedule_streaming_vs_blocking():
    pieces = ['{"step": "a"}\n', '{"step":', ' "b"}\n']
    text = "".join(pieces)
    streamed = step_timeline(text, ttft_s=0.5, per_piece_s=0.1, pieces=pieces)
    assert [(s.label, s.visible_s) for s in streamed.steps] == [
        ("a", pytest.approx(0.6)),
        ("b", pytest.approx(0.8)),
    ]
    assert streamed.first_token_s == pytest.approx(0.6)
    assert streamed.first_step_s == pytest.approx(0.6) and streamed.total_s == pytest.approx(0.8)
    blocking = step_timeline(text, ttft_s=0.5, per_piece_s=0.1, streaming=False, pieces=pieces)
    assert [s.visible_s for s in blocking.steps] == [pytest.approx(0.8)] * 2
    assert blocking.first_step_s == pytest.approx(0.8) == blocking.first_token_s


def test_timeline_uses_replay_pieces_by_default_and_handles_edges():
    default = step_timeline(TEXT, ttft_s=0.0, per_piece_s=1.0)
    from course_lib.providers.replay.responses import split_stream_pieces

    assert default.total_s == len(split_stream_pieces(TEXT))
    assert [s.label for s in default.steps] == ["analyze", "think", "final"]
    empty = step_timeline("", ttft_s=0.3, per_piece_s=0.1)
    assert empty.steps == () and empty.total_s == 0.3 and empty.first_step_s == 0.3
    with pytest.raises(ValueError, match="negative"):
        step_timeline(TEXT, ttft_s=-1, per_piece_s=0.1)


def test_latency_report_lists_steps_then_first_vs_total():
    from course_lib.lessons.l04_chain_of_thought.stream import latency_report

    # Replay pieces: '{"step":' at 1.5 s, ' "a"}' 2.0, '\n{"step":' 2.5 (ends step a), ' "b"}' 3.0, '\n' 3.5.
    text = '{"step": "a"}\n{"step": "b"}\n'
    assert latency_report(text, 1.0, 0.5, True).splitlines() == [
        "  2.50 s  a",
        "  3.50 s  b",
        "streamed: first step visible at 2.50 s, whole answer at 3.50 s",
    ]
    blocking = latency_report(text, 1.0, 0.5, False)
    assert blocking.endswith("blocking: first step visible at 3.50 s, whole answer at 3.50 s")


def test_timeline_plot_marks_every_step_on_both_rows():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from course_lib.lessons.l04_chain_of_thought.plots import plot_step_timeline

    streamed = step_timeline(TEXT, ttft_s=0.3, per_piece_s=0.05)
    blocking = step_timeline(TEXT, ttft_s=0.3, per_piece_s=0.05, streaming=False)
    fig = plot_step_timeline(streamed, blocking)
    ax = fig.axes[0]
    points = [line for line in ax.lines if line.get_marker() == "o"]
    assert [list(line.get_xdata()) for line in points] == [
        [s.visible_s for s in blocking.steps],
        [s.visible_s for s in streamed.steps],
    ]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["blocking", "streamed"]
    assert {t.get_text() for t in ax.texts} >= {"analyze", "think", "final"}
    plt.close(fig)


def test_latency_widget_drives_the_report():
    from course_lib.lessons.l04_chain_of_thought.widgets import streaming_latency_widget

    widget = streaming_latency_widget(TEXT, ttft_s=0.5, per_piece_s=0.02)
    controls = {c.description: c for c in widget.children[:-1]}
    assert controls["time to first token (s)"].value == 0.5
    assert controls["stream the steps"].value is True
    controls["stream the steps"].value = False
    assert widget.kwargs == {"ttft_s": 0.5, "per_piece_s": 0.02, "streaming": False}


# ---------------------------------------------------------------- the month-table mistake


def test_the_month_table_count_is_a_day_short_across_a_leap_february_only():
    assert (
        naive_day_count(date(2023, 2, 10), date(2023, 3, 12))
        == 30
        == elapsed_days(date(2023, 2, 10), date(2023, 3, 12))
    )
    assert naive_day_count(date(2024, 2, 10), date(2024, 3, 12)) == 30
    assert elapsed_days(date(2024, 2, 10), date(2024, 3, 12)) == 31
    assert naive_day_count(date(2024, 5, 1), date(2024, 5, 31)) == 30


# ---------------------------------------------------------------- speculative chain of thought

import asyncio  # noqa: E402

from course_lib.lessons.l04_chain_of_thought.speculative import (  # noqa: E402
    speculative_cot,
    speculative_timeline,
)


def test_speculative_timeline_waits_for_the_fast_call_and_ends_with_the_slow_one():
    t = speculative_timeline(2, 90, ttft_s=0.3, per_token_s=0.05)
    assert (t.direct_s, t.cot_s) == pytest.approx((0.4, 4.8))
    assert t.first_answer_speculative == pytest.approx(0.4)
    assert t.final_answer_speculative == pytest.approx(4.8) == t.first_answer_cot_only
    assert t.final_answer_sequential == pytest.approx(5.2)
    with pytest.raises(ValueError):
        speculative_timeline(-1, 3, ttft_s=0.1, per_token_s=0.1)


class _Delayed(ScriptedProvider):
    """A scripted provider whose async answers take a set time, by prompt kind."""

    def __init__(self, replies, delays):
        super().__init__(lambda messages, params: replies[_kind(messages)])
        self.delays = delays

    async def acomplete(self, messages, **params):
        await asyncio.sleep(self.delays[_kind(messages)])
        return self.complete(messages, **params)


def _kind(messages):
    return "cot" if messages[0]["role"] == "system" else "direct"


def test_speculative_cot_shows_the_direct_answer_first_and_lets_the_reasoning_win():
    provider = _Delayed(
        {"direct": "Yes.", "cot": "Step 1: 0.11 < 0.80\nAnswer: No"}, {"direct": 0.0, "cot": 0.05}
    )
    shown = []
    run = asyncio.run(
        speculative_cot(provider, "Is 9.11 greater than 9.8?", on_answer=lambda *a: shown.append(a[:2]))
    )
    assert shown == [("provisional", "yes"), ("final", "no")]
    assert (run.provisional, run.final, run.revised) == ("yes", "no", True)
    assert run.direct_at_s < run.cot_at_s
    assert len(provider.calls) == 2 and all(c.params["temperature"] == 0 for c in provider.calls)


def test_speculative_cot_with_a_faster_reasoning_call_has_no_provisional_answer():
    provider = _Delayed({"direct": "No.", "cot": "Answer: No"}, {"direct": 0.05, "cot": 0.0})
    shown = []
    run = asyncio.run(
        speculative_cot(provider, "Is 9.11 greater than 9.8?", on_answer=lambda *a: shown.append(a[:2]))
    )
    assert shown == [("final", "no")]
    assert run.provisional is None and not run.revised


def test_speculative_plot_has_three_rows():
    import matplotlib

    matplotlib.use("Agg")
    from course_lib.lessons.l04_chain_of_thought.plots import plot_speculative_timeline

    fig = plot_speculative_timeline(speculative_timeline(2, 90, ttft_s=0.3, per_token_s=0.05))
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["CoT only", "direct, then CoT", "speculative"]


# ---------------------------------------------------------------- the small-model experiment

from course_lib.lessons.l04_chain_of_thought.experiment import (  # noqa: E402
    collect_samples,
    has_answer_line,
    summarise,
)


def test_answer_line_detection():
    assert has_answer_line("Step 1: x\nAnswer: 4") and has_answer_line("  answer : yes")
    assert not has_answer_line("The answer is 4.") and not has_answer_line("")


def test_summarise_counts_outcomes_format_and_tokens():
    replies = {"direct": "Yes.", "cot": "Step 1: 9.80 > 9.11\nAnswer: No"}
    provider = ScriptedProvider(lambda messages, params: replies[_kind(messages)])
    s = summarise(collect_samples(provider, COMPARISONS[:1], samples=2), COMPARISONS[:1])
    assert (s["direct"].right, s["direct"].wrong, s["direct"].missing) == (0, 2, 0)
    assert (s["cot"].right, s["cot"].with_steps, s["cot"].with_answer_line, s["cot"].total) == (2, 2, 2, 2)
    assert s["cot"].mean_completion_tokens > s["direct"].mean_completion_tokens
    assert len(provider.calls) == 4 and provider.calls[0].params["temperature"] == 0.7
