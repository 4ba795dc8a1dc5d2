"""Tests for course_lib.routing: rule tier with re.search, classification parsing, tiered routing."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from course_lib.classify import (
    Classification,
    ProviderClassifier,
    classification_messages,
    parse_classification,
)
from course_lib.providers.base import ChatResult, Choice, Usage
from course_lib.providers.scripted import ScriptedProvider
from course_lib.routing import RouteResult, Rule, RuleTier, TieredRouter, summarize_tiers

CATS = ["BALANCE", "CARD", "CARD_LOST", "FRAUD", "OTHER"]
PRICE = {"small-model": 0.001, "large-model": 0.01, "clf-model": 0.0001}


def cost(usage: Usage, model: str) -> float:
    return usage.total_tokens * PRICE[model]


def fixed(text: str, model: str, prompt: int, completion: int) -> ScriptedProvider:
    result = ChatResult(
        choices=[Choice(text=text)],
        usage=Usage(prompt_tokens=prompt, completion_tokens=completion),
        model=model,
    )
    return ScriptedProvider(lambda m, p: result, model=model)


def test_rule_tier_uses_search_not_match():
    tier = RuleTier({r"routing number": "It is 123456789."})
    rule = tier.match("Hi there, what is your ROUTING NUMBER please?")
    assert rule is not None and rule.answer == "It is 123456789."
    assert tier.match("my card was stolen") is None
    assert tier.hits == {"rule_0": 1}


def test_rule_tier_first_match_wins_and_names_kept():
    tier = RuleTier([Rule(r"hours", "9-5", name="hours"), (r"open", "we are open")])
    assert tier.match("what hours are you open").name == "hours"
    assert tier.match("are you open sunday").name == "rule_1"


def test_rule_tier_rejects_bad_regex_by_name():
    with pytest.raises(ValueError, match="rule 'broken' has an invalid regex"):
        RuleTier([Rule("(unclosed", "x", name="broken")])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"category": "FRAUD", "confidence": 0.93}', ("FRAUD", 0.93)),
        ('```json\n{"category": "balance", "confidence": "80%"}\n```', ("BALANCE", 0.8)),
        ("CARD_LOST 0.7", ("CARD_LOST", 0.7)),
        ("Category: CARD (confidence 65)", ("CARD", 0.65)),
        ("I think this is FRAUD, maybe BALANCE", ("FRAUD", 1.0)),
        ("no idea", ("OTHER", 0.0)),
        ("BALANCE 3.5 then 0.4", ("BALANCE", 0.4)),
        ("LOAN? no: CARD 250 0.5", ("CARD", 0.5)),
    ],
)
def test_parse_classification_cases(text, expected):
    category, confidence = parse_classification(text, CATS)
    assert (category, pytest.approx(confidence)) == expected


def test_parse_classification_custom_default():
    assert parse_classification("???", CATS, default="BALANCE") == ("BALANCE", 0.0)


@given(st.sampled_from(CATS), st.integers(min_value=0, max_value=100))
def test_parse_classification_round_trip(category, percent):
    text = f'{{"category": "{category.lower()}", "confidence": {percent / 100}}}'
    assert parse_classification(text, CATS) == (category, pytest.approx(percent / 100))


def test_classification_messages_list_every_category():
    msgs = classification_messages("money not showing", CATS, domain="banking")
    assert msgs[-1] == {"role": "user", "content": "money not showing"}
    assert all(c in msgs[0]["content"] for c in CATS)
    assert "banking" in msgs[0]["content"]


def make_router(classifier, **kwargs) -> tuple[TieredRouter, ScriptedProvider, ScriptedProvider]:
    small = fixed("small answer", "small-model", 100, 20)
    large = fixed("large answer", "large-model", 300, 80)
    kwargs.setdefault("routes", {"BALANCE": "small", "CARD": "small", "FRAUD": "large"})
    router = TieredRouter(
        {"small": small, "large": large},
        rules=[Rule(r"routing number", "123456789", name="routing")],
        classifier=classifier,
        cost=cost,
        **kwargs,
    )
    return router, small, large


def test_rules_answer_without_calling_models():
    router, small, large = make_router(lambda q: ("BALANCE", 1.0))
    r = router.route("what's the routing number")
    assert (r.tier, r.answer, r.rule, r.model_calls, r.cost) == ("rules", "123456789", "routing", 0, 0.0)
    assert len(small.calls) == len(large.calls) == 0


def test_routes_by_category_and_escalates_low_confidence():
    labels = {"q1": ("BALANCE", 0.9), "q2": ("FRAUD", 0.99), "q3": ("CARD", 0.3), "q4": ("OTHER", 0.9)}
    router, small, large = make_router(lambda q: labels[q], min_confidence=0.5)
    tiers = [router.route(q).tier for q in labels]
    assert tiers == ["small", "large", "large", "large"]  # q3 escalated, q4 unknown → default (last)
    assert len(small.calls) == 1 and len(large.calls) == 3
    assert router.results[0].cost == pytest.approx(120 * 0.001)
    assert router.results[1].category == "FRAUD" and router.results[1].confidence == 0.99


def test_provider_classifier_tokens_and_cost_are_counted():
    clf_provider = fixed('{"category": "CARD", "confidence": 0.8}', "clf-model", 50, 10)
    classifier = ProviderClassifier(clf_provider, CATS, domain="banking")
    router, _, _ = make_router(classifier)
    r = router.route("my card is blocked")
    assert r.tier == "small" and r.category == "CARD" and r.confidence == pytest.approx(0.8)
    assert r.model_calls == 2
    assert (r.prompt_tokens, r.completion_tokens) == (150, 30)
    assert r.cost == pytest.approx(60 * 0.0001 + 120 * 0.001)
    assert clf_provider.calls[0].params == {"temperature": 0, "max_tokens": 30}
    assert clf_provider.calls[0].last_user == "my card is blocked"


def test_summary_per_tier_adds_up():
    labels = {"a": "BALANCE", "b": "FRAUD", "c": "FRAUD"}
    router, *_ = make_router(lambda q: labels[q])
    router.run(["a", "b", "routing number?", "c"])
    rows = {row["tier"]: row for row in router.summary()}
    assert list(rows) == ["rules", "small", "large", "total"]
    assert [rows[t]["count"] for t in ("rules", "small", "large")] == [1, 1, 2]
    assert rows["large"]["share"] == 0.5
    assert rows["total"]["cost"] == pytest.approx(120 * 0.001 + 2 * 380 * 0.01)
    assert rows["total"]["model_calls"] == 3
    assert rows["total"]["prompt_tokens"] == 100 + 2 * 300


def test_no_classifier_goes_to_default_tier_and_system_prompt_is_sent():
    router, small, _ = make_router(None, default_tier="small")
    router.system_prompt = "Be brief."
    assert router.route("anything").tier == "small"
    assert small.calls[0].messages[0] == {"role": "system", "content": "Be brief."}


def test_routes_function_and_validation():
    router, *_ = make_router(lambda q: Classification("X", 1.0), routes=None)
    router.routes = lambda c: "small" if c.category == "X" else "large"
    assert router.route("q").tier == "small"
    router.routes = lambda c: "medium"
    with pytest.raises(ValueError, match="not one of the model tiers"):
        router.route("q")
    with pytest.raises(ValueError, match="not one of the model tiers"):
        TieredRouter({"small": fixed("x", "small-model", 1, 1)}, routes={"FRAUD": "huge"})
    with pytest.raises(ValueError, match="at least one model tier"):
        TieredRouter({})


def test_async_route_with_provider_classifier():
    clf_provider = fixed("FRAUD 0.9", "clf-model", 10, 2)
    router, _, large = make_router(ProviderClassifier(clf_provider, CATS))

    async def run():
        return await asyncio.gather(router.aroute("someone used my card"), router.aroute("routing number"))

    first, second = asyncio.run(run())
    assert first.tier == "large" and first.model_calls == 2
    assert second.tier == "rules"
    assert len(large.calls) == 1


def test_summarize_tiers_on_plain_results_with_order():
    results = [RouteResult("q", "small", "a", cost=0.5, latency_s=2.0, model_calls=1)]
    rows = summarize_tiers(results, ["rules", "small"])
    assert rows[0] == {
        "tier": "rules",
        "count": 0,
        "share": 0.0,
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "cost": 0,
        "mean_latency_s": 0.0,
        "model_calls": 0,
    }
    assert rows[1]["mean_latency_s"] == 2.0 and rows[2]["tier"] == "total"
    assert summarize_tiers([])[-1]["count"] == 0
