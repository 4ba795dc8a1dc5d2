"""Tests for course_lib.lessons.l01_gigo.banking: FAQ tier, routing, context injection, validation, handoff, economics."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from course_lib.lessons.l01_gigo.banking import (
    ASSUMED_BASELINE,
    ASSUMED_SHARES,
    ASSUMED_TIER_COSTS,
    HANDOFF_MESSAGE,
    BankingPipeline,
    KeywordRetriever,
    TierCost,
    cascade_economics,
    load_banking_kb,
    run_batch,
    support_messages,
    validate_answer,
)
from course_lib.providers.base import ChatResult, Choice, ServerError, Usage
from course_lib.providers.scripted import ScriptedProvider

KB = load_banking_kb()
GOOD = "Deposits clear within two business days [DEP-01]. Check Activity > Pending in the app."
PRICES = {"clf": 0.0001, "small": 0.001, "large": 0.01}


def reply(text: str, model: str, prompt: int = 100, completion: int = 20) -> ChatResult:
    return ChatResult(
        choices=[Choice(text=text)],
        usage=Usage(prompt_tokens=prompt, completion_tokens=completion),
        model=model,
    )


def cost(usage: Usage, model: str) -> float:
    return usage.total_tokens * PRICES[model]


def pipeline(labels, small=None, large=None, **kwargs):
    small = small or ScriptedProvider(lambda m, p: reply(GOOD, "small"), model="small")
    large = large or ScriptedProvider(lambda m, p: reply(GOOD, "large", 300, 60), model="large")
    classifier = labels if not isinstance(labels, dict) else (lambda q: labels[q])
    return BankingPipeline(small=small, large=large, classifier=classifier, cost=cost, **kwargs), small, large


@pytest.mark.parametrize(
    ("query", "rule"),
    [
        ("hi, could you tell me your routing number?", "routing_number"),
        ("What are your branch hours on Saturday", "branch_hours"),
        ("I think I lost my debit card yesterday", "lost_card"),
        ("forgot my password", "reset_password"),
        ("what's the SWIFT code", "swift_code"),
        ("is there a fee at another bank's ATM?", "atm_fees"),
    ],
)
def test_faq_rules_match_anywhere_in_the_query(query, rule):
    pipe, small, large = pipeline(lambda q: pytest.fail("the classifier must not run for an FAQ"))
    record = pipe.answer(query)
    assert record.tier == "faq"
    assert record.answer == next(r.answer for r in KB.faq if r.name == rule)
    assert (record.model_calls, record.cost, record.prompt_tokens) == (0, 0.0, 0)
    assert len(small.calls) == len(large.calls) == 0


@pytest.mark.parametrize(
    "query",
    ["my transfer has been pending for 48 hours", "money not showing", "my card payment was declined"],
)
def test_non_faq_queries_do_not_hit_rules(query):
    pipe, *_ = pipeline(lambda q: ("OTHER", 0.9))
    assert pipe.answer(query).tier != "faq"


def test_routing_by_intent_and_confidence():
    labels = {"money not showing": ("BALANCE", 0.9), "unknown charge": ("FRAUD", 0.95), "hmm": ("CARD", 0.3)}
    pipe, small, large = pipeline(labels)
    records = [pipe.answer(q) for q in labels]
    assert [r.tier for r in records] == ["small", "large", "large"]
    assert len(small.calls) == 1 and len(large.calls) == 2
    assert records[0].category == "BALANCE" and records[0].model == "small"


def test_context_injection_puts_retrieved_policies_in_the_prompt():
    pipe, small, _ = pipeline({"my paycheck deposit is pending": ("DEPOSIT", 0.9)})
    record = pipe.answer("my paycheck deposit is pending", user_context="Checking account, opened 2019")
    assert record.docs[0] == "DEP-01"
    system = small.calls[0].messages[0]["content"]
    assert "[DEP-01]" in system and "deposits specialist" in system and "opened 2019" in system
    assert small.calls[0].messages[-1] == {"role": "user", "content": "my paycheck deposit is pending"}


def test_invalid_answer_is_corrected_once_then_accepted():
    large = ScriptedProvider(
        [
            reply("We will refund the charge today.", "large"),
            reply("The fraud team reviews it [FRD-01].", "large"),
        ],
        model="large",
    )
    pipe, _, large = pipeline({"q": ("FRAUD", 0.9)}, large=large)
    record = pipe.answer("q")
    assert record.tier == "large" and record.answer.startswith("The fraud team")
    assert record.generations == 2 and record.model_calls == 2
    feedback = large.calls[1].messages[-1]["content"]
    assert "promises a refund" in feedback
    assert large.calls[1].messages[-2] == {"role": "assistant", "content": "We will refund the charge today."}
    assert record.prompt_tokens == 200 and record.cost == pytest.approx(240 * 0.01)


def test_answers_that_stay_invalid_fall_back_to_a_human():
    leak = reply("Your account 4111 1111 1111 1111 shows the deposit.", "small")
    small = ScriptedProvider([leak, leak], model="small")
    pipe, small, _ = pipeline({"q": ("BALANCE", 0.9)}, small=small)
    record = pipe.answer("q")
    assert record.tier == "human" and record.answer == HANDOFF_MESSAGE
    assert "16-digit number" in record.handoff_reason
    assert record.generations == 2 and len(small.calls) == 2
    assert "4111" not in record.handoff_reason


def test_provider_error_falls_back_to_a_human_and_classifier_error_escalates():
    def broken_classifier(q):
        raise ServerError("503")

    large = ScriptedProvider([ServerError("500 from vendor")], model="large")
    pipe, small, large = pipeline(broken_classifier, large=large)
    record = pipe.answer("anything at all")
    assert record.category == "OTHER" and record.confidence == 0.0
    assert record.tier == "human" and record.handoff_reason == "model unavailable (ServerError)"
    assert len(large.calls) == 1 and len(small.calls) == 0


def test_provider_classifier_is_built_from_a_provider_and_costed():
    clf = ScriptedProvider(lambda m, p: reply('{"category": "DEPOSIT", "confidence": 0.8}', "clf", 40, 8))
    pipe, _, _ = pipeline(clf)
    record = pipe.answer("my check deposit is not showing")
    assert record.category == "DEPOSIT" and record.tier == "small"
    assert record.model_calls == 2
    assert (record.prompt_tokens, record.completion_tokens) == (140, 28)
    assert record.cost == pytest.approx(48 * 0.0001 + 120 * 0.001)
    assert "DEPOSIT" in clf.calls[0].messages[0]["content"]


def test_batch_aggregates_add_up():
    labels = {
        "money not showing": ("BALANCE", 0.9),
        "card declined abroad": ("CARD", 0.8),
        "someone took money from my account": ("FRAUD", 0.9),
        "loan rate?": ("LOAN", 0.9),
        "xyz": ("OTHER", 0.2),
    }
    bad = ScriptedProvider(lambda m, p: reply("I'm not sure, probably fine.", "small"), model="small")
    pipe, _, _ = pipeline(labels, small=bad)
    queries = ["routing number please", *labels, "what are your branch hours"]
    report = run_batch(pipe, queries)
    rows = {row["tier"]: row for row in report.by_tier()}
    assert [rows[t]["count"] for t in ("faq", "small", "large", "human")] == [2, 0, 3, 2]
    total = rows.pop("total")
    assert total["count"] == len(queries) == sum(r["count"] for r in rows.values())
    assert total["cost"] == pytest.approx(sum(r.cost for r in report.records))
    assert total["cost"] == pytest.approx(sum(r["cost"] for r in rows.values()))
    assert total["prompt_tokens"] == sum(r["prompt_tokens"] for r in rows.values())
    assert sum(r["share"] for r in rows.values()) == pytest.approx(1.0)
    assert rows["faq"]["cost"] == 0 and rows["faq"]["model_calls"] == 0
    assert rows["human"]["cost"] == pytest.approx(2 * 2 * 120 * 0.001)  # two tries each at the small model
    assert len(report.rows()) == len(queries) and report.rows()[0]["tier"] == "faq"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "empty"),
        ("x" * 801, "801 characters"),
        ("Don't worry, we'll refund it.", "refund"),
        ("You will get a full refund within 3 days.", "refund"),
        ("Your refund has been approved.", "refund"),
        ("Card 4111-1111-1111-1111 is blocked.", "16-digit"),
        ("Your account number is 12345678.", "8-digit"),
        ("I think the deposit is pending.", "hedges (i think)"),
        ("Please contact your branch.", "generic"),
    ],
)
def test_validate_answer_catches_problems(text, problem):
    problems = validate_answer(text, public_numbers=KB.public_numbers)
    assert any(problem in p for p in problems), problems


@pytest.mark.parametrize(
    "text",
    [
        GOOD,
        "Our routing number is 123456789; call 1-800-555-0199 to cancel the card.",
        "You can request a refund; the fraud team decides after review [FRD-01].",
        "The deposit made on 2024-06-01 cleared on 2024-06-03.",
        "Mobile deposits are limited to $5,000 a day.",
    ],
)
def test_validate_answer_accepts_good_answers(text):
    assert validate_answer(text, public_numbers=KB.public_numbers) == []


def test_keyword_retriever_ranks_by_overlap_and_category():
    retriever = KeywordRetriever(KB.policies)
    top = retriever("my wire transfer has not arrived", "TRANSFER", k=2)
    assert [d.id for d in top] == ["TRF-02", "TRF-01"]
    assert retriever("zzz", None) == []
    assert len(retriever("zzz", "LOAN", k=5)) == 2  # category bonus alone


def test_support_messages_without_docs_says_so():
    msgs = support_messages("q", "OTHER", [])
    assert "(no policy found)" in msgs[0]["content"]
    assert msgs[1]["content"] == "q"


def test_cascade_economics_with_the_assumed_figures():
    out = cascade_economics(ASSUMED_SHARES)
    # 0.3 × 0 + 0.3 × (0.0005 + 0.002) + 0.4 × (0.0005 + 0.03) = 0.01295 $/query
    assert out["cost_per_query"] == pytest.approx(0.01295)
    assert out["cost_per_day"] == pytest.approx(1295.0)
    assert out["cost_per_year"] == pytest.approx(1295.0 * 365)
    assert out["baseline_cost_per_day"] == pytest.approx(5000.0)
    assert out["savings_share"] == pytest.approx(1 - 0.01295 / 0.05)
    # 0.3 × 0.01 + 0.3 × 0.56 + 0.4 × 2.56 = 1.195 s
    assert out["mean_latency_s"] == pytest.approx(1.195)
    assert out["latency_change"] == pytest.approx(1.195 / 2.5 - 1)
    assert sum(r["cost_per_day"] for r in out["tiers"]) == pytest.approx(out["cost_per_day"])


def test_cascade_economics_all_large_costs_more_than_baseline_when_large_is_dearer():
    costs = {**ASSUMED_TIER_COSTS, "large": TierCost(0.06, 3.0)}
    out = cascade_economics({"large": 1.0}, costs, baseline=ASSUMED_BASELINE, queries_per_day=10)
    assert out["cost_per_day"] == pytest.approx(0.6)
    assert out["savings_per_day"] == pytest.approx(0.5 - 0.6)


def test_cascade_economics_rejects_bad_shares():
    with pytest.raises(ValueError, match=r"add up to 0\.900"):
        cascade_economics({"faq": 0.5, "large": 0.4})
    with pytest.raises(ValueError, match="no cost given"):
        cascade_economics({"faq": 0.5, "robot": 0.5})
    with pytest.raises(ValueError):
        cascade_economics({"faq": 1.5, "large": -0.5})


@given(st.floats(min_value=0, max_value=1), st.floats(min_value=0, max_value=1))
def test_cascade_cost_lies_between_cheapest_and_dearest_tier(a, b):
    faq = a
    large = (1 - a) * b
    out = cascade_economics({"faq": faq, "small": 1 - faq - large, "large": large}, queries_per_day=1)
    prices = [t.cost_per_query for t in ASSUMED_TIER_COSTS.values()]
    assert min(prices) - 1e-12 <= out["cost_per_query"] <= max(prices) + 1e-12
    more_large = cascade_economics({"faq": faq, "small": 0.0, "large": 1 - faq}, queries_per_day=1)
    assert more_large["cost_per_query"] >= out["cost_per_query"] - 1e-12


def test_invalid_pipeline_settings():
    with pytest.raises(ValueError, match="max_attempts"):
        pipeline({}, max_attempts=0)


def test_each_record_says_where_its_answer_came_from():
    small = ScriptedProvider(["Your balance refreshes when you pull down on the Accounts screen [BAL-01]."])
    pipeline = BankingPipeline(small=small, large=small, classifier=lambda q: ("BALANCE", 0.9))
    assert pipeline.answer("routing number?").source == "rule"
    assert pipeline.answer("the app shows an old balance").source == "scripted"
