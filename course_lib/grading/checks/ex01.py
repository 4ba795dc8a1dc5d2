"""Checks of exercise 01, garbage in, garbage out (lesson 01).

1.1 builds the intent classifier's request (checked by sending it to a scripted model that answers
only what the request makes answerable, then parsing the reply), 1.2 is the FAQ rule tier (regexes
found anywhere in the query, any case, first rule wins), 1.3 picks the tier that answers a query
(rules first, the classifier only when needed, low confidence escalates), 1.4 projects a sample
batch's tier mix to a day's cost per tier and in total (compared with ``cascade_economics``), 1.5
turns a vague answer prompt into a specific one (checked through a scripted model that only uses the
facts, the fallback reply and the length limit the system messages give it; the wording is free).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from course_lib.lessons.l01_gigo.banking import TierCost, cascade_economics, load_banking_kb

from ...providers.base import validate_messages
from . import (
    CheckFailed,
    call,
    call_with_text,
    expect_equal,
    expect_raises,
    expect_type,
    is_close,
    property_check,
    question,
    scripted_provider,
    show,
)

__all__ = [
    "check_choose_tier",
    "check_daily_cost",
    "check_faq_answer",
    "check_grounded_messages",
    "check_intent_messages",
]

Messages = list[dict[str, Any]]

# --------------------------------------------------------------------------- 1.1 the classifier prompt

#: (query, categories, the label an obedient model gives) — banking and non-banking category sets,
#: and queries that break naive string formatting.
_INTENT_CASES: list[tuple[str, tuple[str, ...], str]] = [
    ("Money not showing", ("BALANCE", "DEPOSIT", "TRANSFER", "CARD", "OTHER"), "BALANCE"),
    (
        "where is my parcel? it said {delivered} 3 days ago",
        ("SHIPPING", "RETURNS", "BILLING", "OTHER"),
        "SHIPPING",
    ),
    ('refund for order #42, "damaged" 100% — %s', ("SHIPPING", "RETURNS", "BILLING", "OTHER"), "RETURNS"),
    (
        "the VPN drops every hour\nsince the update",
        ("network_issue", "access_request", "hardware"),
        "network_issue",
    ),
]
_BANKING = load_banking_kb().categories


def _text(messages: Messages) -> str:
    return "\n".join(str(m.get("content", "")) for m in messages)


def _has_word(text: str, word: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(word)}(?![A-Za-z0-9_])", text) is not None


def _obedient_model(query: str, categories: Sequence[str], label: str) -> Any:
    """A scripted model that answers only what the request makes answerable, in the format it asks for."""

    def reply(messages: Messages, params: dict[str, Any]) -> str:
        text = _text(messages)
        if not any(m["role"] == "user" and query in m["content"] for m in messages):
            return "Happy to help! Which message would you like me to classify?"
        if not all(_has_word(text, c) for c in categories):
            return "Sure. This looks like a question about an account or a delivery problem."
        if "json" not in text.lower():
            return f"Good question! I would say this is probably {label}, though it could be something else."
        return json.dumps({"category": label, "confidence": 0.9})

    return reply


def _parse_category(text: str) -> str | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data.get("category") if isinstance(data, dict) else None


@question("1.1", points=2, title="the intent classifier's prompt", target="intent_messages")
def check_intent_messages(intent_messages: Any) -> None:
    """Valid messages, every category listed, the query verbatim in a user turn, JSON asked for; parseable."""
    for query, categories, label in _INTENT_CASES:
        given = list(categories)
        what = f"intent_messages({show(query)}, {show(given)})"
        built = call_with_text(
            intent_messages,
            query,
            given,
            hint="the query contains braces, quotes, % or a newline: insert it as it is, "
            "never through str.format or % on the customer's text",
        )
        messages = expect_type(built, list, what)
        if given != list(categories):
            raise CheckFailed(f"{what} changed the categories list it was given: build a new list instead")
        try:
            validate_messages(messages)
        except Exception as exc:
            raise CheckFailed(
                f"{what} returned messages the API would refuse: {exc} "
                "(each message is a dict with a 'role' and a string 'content')"
            ) from None
        if messages[-1]["role"] != "user":
            raise CheckFailed(
                f"{what}: the last message is from {show(messages[-1]['role'])}; end with the user turn"
            )
        users = [m["content"] for m in messages if m["role"] == "user"]
        if not any(query in u for u in users):
            raise CheckFailed(
                f"{what}: no user message contains the query exactly as given (user messages: {show(users)}); "
                "put the customer's text, unchanged, in a user message"
            )
        text = _text(messages)
        missing = [c for c in categories if not _has_word(text, c)]
        if missing:
            raise CheckFailed(
                f"{what} does not list the categories {show(missing)}: list every category by its exact name"
            )
        stray = [
            c for c in _BANKING if c not in categories and _has_word(text, c) and not _has_word(query, c)
        ]
        if stray:
            in_example = [c for c in stray if re.search(rf'"category"\s*:\s*"{re.escape(c)}"', text)]
            if in_example == stray:
                raise CheckFailed(
                    f"{what}: the reply format's example names {show(stray)}, which is not among the categories "
                    "given here, so a model may copy it as its answer; in the example use a placeholder such as "
                    '"<one of the categories>", or a category from the `categories` argument'
                )
            raise CheckFailed(
                f"{what} mentions {show(stray)}, which are not among the categories given: "
                "build the list from the `categories` argument, not a fixed list"
            )
        provider = scripted_provider(_obedient_model(query, categories, label))
        reply = provider.complete(messages).text
        got = _parse_category(reply)
        if got != label:
            raise CheckFailed(
                f"a model following {what} replied {show(reply)}, which code cannot parse: ask for JSON with "
                'a "category" key, e.g. {"category": "<one of the categories>"}'
            )


# --------------------------------------------------------------------------- 1.2 the FAQ rule tier

_RULES: list[tuple[str, str]] = [
    (r"routing\s*(number|no\b)", "Our routing number is 123456789."),
    (r"hours.*open|open.*hours", "Branches open Monday to Friday, 9:00 to 17:00."),
    (r"\bATM\b", "Our ATMs are free; other banks' ATMs cost $2.50."),
    (r"\b(lost|stolen)\b.*\bcard\b", "Freeze the card in the app, then call us."),
    (r"card", "Card questions: see Cards in the app."),
]


def _faq_reference(query: str, rules: Sequence[tuple[str, str]]) -> str | None:
    for pattern, answer in rules:
        if re.search(pattern, query, re.IGNORECASE):
            return answer
    return None


@question("1.2", points=2, title="FAQ rules with re.search", target="faq_answer")
def check_faq_answer(faq_answer: Any) -> None:
    """Regexes found anywhere in the query, any case; the first matching rule wins; None when none matches."""
    cases: list[tuple[str, str | None, str]] = [
        ("routing number?", _RULES[0][1],
         "the query starts with the keyword; the patterns are regular expressions: match them with the re module"),
        ("hi, what's your routing number?", _RULES[0][1],
         "the keyword is in the middle of the query: re.match only looks at the start, re.search looks everywhere"),
        ("ROUTING NUMBER please", _RULES[0][1], "match regardless of case (re.IGNORECASE)"),
        ("what hours are you open on Saturday", _RULES[1][1],
         "patterns are regular expressions (hours.*open), not plain text"),
        ("the atmosphere in the branch", None, r"\bATM\b must not match inside 'atmosphere': use the pattern as a regex"),
        ("I think I lost my card", _RULES[3][1], "two rules match; the first one in the list wins"),
        ("my card is stuck in the ATM", _RULES[2][1], "two rules match; the first one in the list wins"),
        ("my transfer has not arrived", None, "no rule matches: return None"),
        ("", None, "an empty query matches none of these rules: return None"),
    ]  # fmt: skip
    for query, expected, hint in cases:
        got = call(faq_answer, query, list(_RULES))
        expect_equal(got, expected, f"faq_answer({show(query)}, rules)", hint)
    expect_equal(
        call(faq_answer, "routing number", []),
        None,
        "faq_answer('routing number', [])",
        "no rules, no answer",
    )

    from hypothesis import strategies as st

    filler = st.text(alphabet="abcdefghijklmnopqrstuvwxyz ,.?!'", max_size=25)
    keyword = st.sampled_from(
        ["routing number", "Routing No", "ATM", "lost my card", "opening hours open", "zzz"]
    )

    def agrees(before: str, word: str, after: str) -> None:
        query = f"{before} {word} {after}"
        expected = _faq_reference(query, _RULES)
        got = faq_answer(query, list(_RULES))
        if got != expected:
            raise CheckFailed(
                f"faq_answer({show(query)}, rules) returned {show(got)}; expected {show(expected)}"
            )

    property_check(agrees, before=filler, word=keyword, after=filler, max_examples=80)


# --------------------------------------------------------------------------- 1.3 choosing the tier

_ROUTES = {"BALANCE": "small", "DEPOSIT": "small", "FRAUD": "large", "LOAN": "large", "OTHER": "large"}


class _Classifier:
    """A fake classifier that returns fixed verdicts and counts its calls."""

    def __init__(self, verdicts: dict[str, tuple[str, float]]) -> None:
        self.verdicts = verdicts
        self.calls: list[str] = []

    def __call__(self, query: str) -> tuple[str, float]:
        self.calls.append(query)
        return self.verdicts.get(query, ("OTHER", 0.99))


def _faq(query: str) -> str | None:
    return "Our routing number is 123456789." if "routing" in query.lower() else None


@question("1.3", points=2, title="choose the tier", target="choose_tier")
def check_choose_tier(choose_tier: Any) -> None:
    """Rules first (no classifier call), route by category, unknown → large, confidence below the bar → large."""
    verdicts = {
        "my paycheck is pending": ("DEPOSIT", 0.93),
        "unknown charge": ("FRAUD", 0.95),
        "money not showing": ("BALANCE", 0.55),
        "balance looks wrong": ("BALANCE", 0.6),
        "my mortgage": ("MORTGAGE", 0.99),
        "balance check": ("BALANCE", 0.61),
    }
    cases = [
        ("what's your routing number", 0.6, "faq", "a rule answers it: that is the 'faq' tier"),
        ("my paycheck is pending", 0.6, "small", "DEPOSIT routes to 'small'"),
        ("unknown charge", 0.6, "large", "FRAUD routes to 'large'"),
        ("money not showing", 0.6, "large", "confidence 0.55 is below min_confidence 0.6: escalate to 'large'"),
        ("balance looks wrong", 0.6, "small",
         "confidence 0.6 equals min_confidence 0.6: that is not below the bar, so keep the category's route"),
        ("my mortgage", 0.6, "large", "a category with no route goes to 'large'"),
        ("balance check", 0.9, "large", "with min_confidence=0.9, confidence 0.61 is below the bar: escalate"),
    ]  # fmt: skip
    for query, bar, expected, hint in cases:
        classify = _Classifier(verdicts)
        what = f"choose_tier({show(query)}, min_confidence={bar})"
        got = call(choose_tier, query, faq=_faq, classify=classify, routes=dict(_ROUTES), min_confidence=bar)
        expect_equal(got, expected, what, hint)
        if expected == "faq" and classify.calls:
            raise CheckFailed(
                f"{what} called the classifier although a rule answered: the free tier must stop the query "
                "before any model call"
            )
        if expected != "faq" and classify.calls != [query]:
            raise CheckFailed(
                f"{what} called the classifier {len(classify.calls)} times; expected once, with the query"
            )
    default = call(
        choose_tier, "balance looks wrong", faq=_faq, classify=_Classifier(verdicts), routes=dict(_ROUTES)
    )
    expect_equal(default, "small", "choose_tier('balance looks wrong') with the default min_confidence",
                 "the default min_confidence is 0.6, and 0.6 is not below it")  # fmt: skip


# --------------------------------------------------------------------------- 1.4 the cost roll-up


def _reference_cost(
    tiers: Sequence[str], cost_per_query: dict[str, float], per_day: float
) -> dict[str, float]:
    shares = {t: sum(1 for x in tiers if x == t) / len(tiers) for t in cost_per_query}
    e = cascade_economics(
        shares, {t: TierCost(c, 0.0) for t, c in cost_per_query.items()}, queries_per_day=per_day
    )
    return {**{row["tier"]: row["cost_per_day"] for row in e["tiers"]}, "total": e["cost_per_day"]}


@question("1.4", points=2, title="daily cost per tier and in total", target="daily_cost")
def check_daily_cost(daily_cost: Any) -> None:
    """A sample batch's tier mix projected to a day: every tier's cost, the total summed over all tiers."""
    costs = {"faq": 0.0, "small": 0.0025, "large": 0.0305}
    batch = ["faq"] * 3 + ["small"] * 3 + ["large"] * 4
    what = f"daily_cost({show(batch)}, {show(costs)}, 100000)"
    got = expect_type(call(daily_cost, batch, dict(costs), 100_000), dict, what)
    expected = _reference_cost(batch, costs, 100_000)
    if set(got) != set(expected):
        raise CheckFailed(
            f"{what} returned the keys {show(sorted(got))}; expected {show(sorted(expected))}: one entry per tier "
            "in cost_per_query (0 for a tier no query reached) plus 'total'"
        )
    for tier in costs:
        if not is_close(got[tier], expected[tier]):
            raise CheckFailed(
                f"{what}[{tier!r}] is {show(got[tier])}; expected {expected[tier]:g} = share of the batch "
                f"({batch.count(tier)}/{len(batch)}) x queries per day x cost per query"
            )
    if not is_close(got["total"], expected["total"]):
        raise CheckFailed(
            f"{what}['total'] is {show(got['total'])}; expected {expected['total']:g}: add up the cost of every tier"
        )
    only_small = call(daily_cost, ["small", "small"], dict(costs), 1000)
    if not is_close(only_small, {"faq": 0.0, "small": 2.5, "large": 0.0, "total": 2.5}):
        raise CheckFailed(f"daily_cost(['small', 'small'], costs, 1000) returned {show(only_small)}; expected "
                          "{'faq': 0.0, 'small': 2.5, 'large': 0.0, 'total': 2.5} (every tier of cost_per_query "
                          "gets an entry, 0.0 for a tier no query reached)")  # fmt: skip
    expect_raises(ValueError, daily_cost, [], dict(costs), 1000, why="an empty batch has no mix to project")
    expect_raises(ValueError, daily_cost, ["faq", "human"], dict(costs), 1000,
                  why="'human' has no cost in cost_per_query: say so rather than guess")  # fmt: skip

    from hypothesis import strategies as st

    def agrees(tiers: list[str], small: float, large: float, per_day: int) -> None:
        table = {"faq": 0.0, "small": small, "large": large}
        expected = _reference_cost(tiers, table, per_day)
        got = daily_cost(list(tiers), dict(table), per_day)
        if not is_close(got, expected, rel=1e-6, abs_tol=1e-6):
            raise CheckFailed(f"daily_cost returned {show(got)}; expected {show(expected)}")

    property_check(
        agrees,
        tiers=st.lists(st.sampled_from(["faq", "small", "large"]), min_size=1, max_size=30),
        small=st.floats(0, 0.01),
        large=st.floats(0.01, 0.1),
        per_day=st.integers(1, 1_000_000),
        max_examples=60,
    )


# --------------------------------------------------------------------------- 1.5 the specific prompt

_BANK_FACTS = [
    "Branches are open Monday to Friday, 9:00 to 17:00.",
    "Wire transfers cost 0.5% of the amount, at least $10.",
    "Freeze a lost card in the app under {Cards > Freeze}.",
]
_SHOP_FACTS = ["Parcels ship within 2 working days.", "Returns are free within 30 days of delivery."]

#: (query, facts, fallback, max_words, index of the fact that answers it or None)
_GROUNDED_CASES: list[tuple[str, list[str], str, int, int | None]] = [
    ("How much does a wire transfer cost?", _BANK_FACTS,
     "I don't know that yet; a colleague will reply within one working day.", 40, 1),
    ("Can I open a savings account for my child? {urgent} 100%", _BANK_FACTS,
     "I don't know that yet; a colleague will reply within one working day.", 40, None),
    ("How long do I have to send a jumper back?", _SHOP_FACTS,
     "Sorry, I can only help with shipping and returns.", 25, 1),
    ("Do you sell gift cards?", _SHOP_FACTS, "Sorry, I can only help with shipping and returns.", 25, None),
]  # fmt: skip

_RAMBLE = (
    "I hope this helps, and please do not hesitate to get in touch again whenever anything at all is "
    "unclear, because our friendly team is always happy to walk you through every single option we "
    "have, step by step, at any time of the day or night."
)


def _system_text(messages: Messages) -> str:
    return "\n".join(str(m.get("content", "")) for m in messages if m.get("role") == "system")


def _states_number(text: str, number: int) -> bool:
    return re.search(rf"(?<![\d.]){number}(?![\d]|\.\d)", text) is not None


def _grounded_model(
    query: str, facts: Sequence[str], fallback: str, max_words: int, answer: int | None
) -> Any:
    """A scripted model that only knows what the system messages say, and only falls back or keeps to
    the limit when they tell it how."""

    def reply(messages: Messages, params: dict[str, Any]) -> str:
        if messages[-1]["role"] != "user" or query not in messages[-1]["content"]:
            return "Happy to help! What would you like to know?"
        system = _system_text(messages)
        if answer is not None:
            text = facts[answer] if facts[answer] in system else "It costs $5 and takes about a week."
        else:
            text = fallback if fallback in system else "Sure, we offer that at every branch within two days."
        return text if _states_number(system, max_words) else f"{text} {_RAMBLE}"

    return reply


@question("1.5", points=2, title="from a vague prompt to a specific one", target="grounded_messages")
def check_grounded_messages(grounded_messages: Any) -> None:
    """The facts, the exact fallback and the word limit in the system messages, the query last; any wording."""
    for query, facts, fallback, max_words, answer in _GROUNDED_CASES:
        given = list(facts)
        what = f"grounded_messages({show(query)}, facts, {show(fallback)}, {max_words})"
        messages = expect_type(call(grounded_messages, query, given, fallback, max_words), list, what)
        if given != facts:
            raise CheckFailed(f"{what} changed the facts list it was given: build a new list instead")
        try:
            validate_messages(messages)
        except Exception as exc:
            raise CheckFailed(
                f"{what} returned messages the API would refuse: {exc} "
                "(each message is a dict with a 'role' and a string 'content')"
            ) from None
        last = messages[-1]
        if last["role"] != "user" or query not in last["content"]:
            raise CheckFailed(
                f"{what}: the last message is {show(last)}; end with a user message holding the customer's "
                "text exactly as given (insert it as it is, never through str.format or %)"
            )
        system = _system_text(messages)
        if query in system:
            raise CheckFailed(
                f"{what} puts the customer's text in a system message: keep it in the user message only, "
                "so a customer cannot rewrite the instructions"
            )
        missing = [f for f in facts if f not in system]
        if missing:
            raise CheckFailed(
                f"{what}: the facts {show(missing)} are not in the system messages word for word; give the "
                "model every fact of `facts` in the system instructions (the model knows nothing else)"
            )
        got = (
            scripted_provider(_grounded_model(query, facts, fallback, max_words, answer))
            .complete(messages)
            .text
        )
        said = f"a model given {what} replied {show(got)}"
        if answer is None and not got.startswith(fallback):
            raise CheckFailed(
                f"{said}, a guess, because the facts do not cover the question: quote the exact fallback "
                f"reply {show(fallback)} in the system instructions and say to use it then"
            )
        if len(got.split()) > max_words:
            raise CheckFailed(
                f"{said}, {len(got.split())} words: state the limit of at most {max_words} words in the "
                "system instructions, with the number in digits"
            )
