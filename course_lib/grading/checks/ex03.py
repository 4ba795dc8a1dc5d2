"""Checks of exercise 03, prompt engineering fundamentals (lesson 03).

3.1 builds few-shot messages, 3.2 assembles a system prompt from parts (sections and content are
checked, never wording), 3.3 selects the ``k`` examples nearest to a query by cosine similarity
(against a brute-force reference on a small injected embedding function), 3.4 compares the monthly
cost of a static and a dynamic few-shot prompt, output tokens included, 3.5 writes the clause
classifier's few-shot prompt (checked through a scripted model that only picks labels the system message
lists, only writes JSON when asked to and copies the worked examples' replies; the wording is free).
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Sequence
from typing import Any

from ...cost import price_of
from ...providers.base import validate_messages
from ...tokens import count_message_tokens
from . import (
    CheckFailed,
    call,
    call_with_text,
    expect_raises,
    expect_type,
    is_close,
    property_check,
    question,
    scripted_provider,
    show,
)

__all__ = [
    "SECTIONS",
    "check_build_few_shot",
    "check_build_system_prompt",
    "check_clause_messages",
    "check_monthly_costs",
    "check_top_k",
    "letter_embed",
    "section_lines",
]

# --------------------------------------------------------------------------- 3.1


def _expected_few_shot(examples: Sequence[tuple[str, str]], query: str, system: str | None) -> list[dict]:
    out = [{"role": "system", "content": system}] if system else []
    for given, wanted in examples:
        out += [{"role": "user", "content": given}, {"role": "assistant", "content": wanted}]
    return [*out, {"role": "user", "content": query}]


def _roles(messages: Any) -> list[Any]:
    return [m.get("role") if isinstance(m, dict) else type(m).__name__ for m in messages]


def _compare_few_shot(got: Any, expected: list[dict], what: str) -> None:
    expect_type(got, list, what)
    if not all(isinstance(m, dict) for m in got):
        raise CheckFailed(
            f"{what} returned {show(got)}; every message must be a dict with 'role' and 'content'"
        )
    simple = [{"role": m.get("role"), "content": m.get("content")} for m in got]
    if simple == expected:
        return
    roles, want = _roles(got), _roles(expected)
    if not got or simple[-1] != expected[-1]:
        raise CheckFailed(
            f"{what}: the last message is {show(simple[-1] if got else None)}; it must be the query "
            f"as a user message, {show(expected[-1])}"
        )
    if roles != want:
        raise CheckFailed(
            f"{what} gave roles {show(roles)}; expected {show(want)} (system first if given, then each example "
            "as a user message followed by an assistant message, then the query)"
        )
    first = next(i for i, (a, b) in enumerate(zip(simple, expected, strict=True)) if a != b)
    raise CheckFailed(
        f"{what}: message {first} is {show(simple[first])}; expected {show(expected[first])} "
        "(use the texts exactly as given, in order)"
    )


@question("3.1", points=2, title="few-shot message builder", target="build_few_shot")
def check_build_few_shot(build_few_shot: Any) -> None:
    """Examples become user/assistant pairs in order, the query is the last user message, system first."""
    pairs = [("My name is Ann Lee.", '{"name": "Ann Lee"}'), ("Bob Ray here.", '{"name": "Bob Ray"}')]
    cases = [
        (pairs, "I'm Cy Tan.", None),
        (pairs, "I'm Cy Tan.", "Reply with JSON only."),
        ([], "Just the query.", None),
        ([], "Just the query.", "Be brief."),
        (pairs[:1], "One example.", None),
    ]
    for examples, query, system in cases:
        before = list(examples)
        what = f"build_few_shot({show(examples)}, {show(query)}, system={show(system)})"
        got = call(build_few_shot, list(examples), query, system=system)
        _compare_few_shot(got, _expected_few_shot(examples, query, system), what)
        if list(examples) != before:
            raise CheckFailed(f"{what} changed the examples list it was given; build a new list")
    expect_raises(
        ValueError, build_few_shot, pairs, "   ", why="an empty query leaves the model nothing to answer"
    )

    from hypothesis import strategies as st

    text = st.text(min_size=1, max_size=20).filter(str.strip)

    def agrees(examples: list[tuple[str, str]], query: str, system: str | None) -> None:
        got = build_few_shot(list(examples), query, system=system)
        _compare_few_shot(got, _expected_few_shot(examples, query, system), "build_few_shot")

    property_check(
        agrees,
        examples=st.lists(st.tuples(text, text), max_size=6),
        query=text,
        system=st.none() | text,
        max_examples=60,
    )


# --------------------------------------------------------------------------- 3.2

SECTIONS = ("role", "constraints", "output format", "tone")
"""The section names of 3.2, in the order they must appear."""


def _heading(line: str) -> str | None:
    """The section a line heads (``# ROLE``, ``ROLE:``, ``## Output format``, ``**Tone**``), or None."""
    name = re.sub(r"[#*:_=\-\s]+", " ", line).strip().lower()
    return name if name in SECTIONS else None


def section_lines(text: str) -> list[tuple[str, list[str]]]:
    """Split a prompt into (section, non-empty lines under its heading), in order of appearance."""
    out: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        name = _heading(line)
        if name:
            out.append((name, []))
        elif line.strip() and out:
            out[-1][1].append(line.strip())
    return out


def _item_line(line: str, item: str) -> bool:
    """Whether a line holds the item alone, after an optional bullet ('-', '*', '•', '+', '1.', '1)')."""
    return re.fullmatch(rf"(?:[-*•+]|\d+[.)])?\s*{re.escape(item)}\s*[.;,]?", line.strip()) is not None


def _check_prompt(build: Any, role: str, parts: dict[str, list[str]]) -> None:
    what = (
        f"build_system_prompt({show(role)}, constraints={show(parts['constraints'])}, "
        f"output_format={show(parts['output format'])}, tone={show(parts['tone'])})"
    )
    text = expect_type(
        call(build, role, parts["constraints"], parts["output format"], parts["tone"]), str, what
    )
    found = section_lines(text)
    names = [name for name, _ in found]
    wanted = ["role", *(name for name in SECTIONS[1:] if parts[name])]
    if names != wanted:
        raise CheckFailed(
            f"{what} has section headings {show(names)}; expected {show(wanted)}: one heading line per part "
            "(e.g. '# CONSTRAINTS'), in the order role, constraints, output format, tone, and no heading "
            "for a part with no items"
        )
    body = dict(found)
    if not any(role.strip() in line for line in body["role"]):
        raise CheckFailed(f"{what}: the ROLE section does not contain the role text {show(role)}")
    for name in SECTIONS[1:]:
        for item in parts[name]:
            lines = [line for line in body.get(name, []) if item in line]
            if not lines:
                raise CheckFailed(f"{what}: item {show(item)} is missing from the {name.upper()} section")
            if not any(_item_line(line, item) for line in lines):
                raise CheckFailed(
                    f"{what}: item {show(item)} is on the line {show(lines[0])}; put each item on a line of its "
                    "own, with nothing but a bullet ('-', '*', '1.') before it"
                )
        if len(body.get(name, [])) < len(parts[name]):
            raise CheckFailed(f"{what}: put each {name} item on a line of its own (a bullet list works)")


@question("3.2", points=2, title="system prompt from parts", target="build_system_prompt")
def check_build_system_prompt(build_system_prompt: Any) -> None:
    """A heading per non-empty part in order, every item on its own line in its section, any wording."""
    role = "You summarise bug reports for a development team."
    full = {
        "constraints": ["At most 15 words.", "Never guess a cause."],
        "output format": ["One line: <who> cannot <action> due to <reason>."],
        "tone": ["Neutral and factual."],
    }
    _check_prompt(build_system_prompt, role, full)
    _check_prompt(build_system_prompt, role, {**full, "tone": []})
    _check_prompt(build_system_prompt, "You answer billing questions.", {k: [] for k in full})
    _check_prompt(build_system_prompt, role, {**full, "constraints": [], "output format": ["JSON only."]})
    expect_raises(ValueError, build_system_prompt, "  ", ["x"], [], [], why="a system prompt needs a role")

    from hypothesis import strategies as st

    item = st.text(alphabet="abcdefghij KLMNOP.,<>0123", min_size=3, max_size=25).filter(
        lambda s: s.strip() == s and _heading(s) is None and s.strip(".,") != ""
    )

    def holds(constraints: list[str], output_format: list[str], tone: list[str]) -> None:
        _check_prompt(
            build_system_prompt,
            role,
            {"constraints": constraints, "output format": output_format, "tone": tone},
        )

    items = st.lists(item, max_size=4, unique=True)
    property_check(holds, constraints=items, output_format=items, tone=items, max_examples=40)


# --------------------------------------------------------------------------- 3.3


def letter_embed(texts: Sequence[str]) -> list[list[float]]:
    """A tiny embedding for checks: letter counts a–z plus a bias, not normalised (cosine is up to you)."""
    out = []
    for text in texts:
        lower = text.lower()
        out.append([float(lower.count(c)) for c in "abcdefghijklmnopqrstuvwxyz"] + [1.0])
    return out


def _cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


def _similarities(query: str, examples: Sequence[dict]) -> list[float]:
    vectors = letter_embed([query] + [e["text"] for e in examples])
    return [_cosine(vectors[0], v) for v in vectors[1:]]


def _check_top_k(top_k: Any, query: str, examples: list[dict], k: int) -> None:
    what = f"top_k({show(query)}, <{len(examples)} examples>, k={k}, embed=letter_embed)"
    got = expect_type(call(top_k, query, examples, k, letter_embed), list, what)
    sims = _similarities(query, examples)
    want = sorted(sims, reverse=True)[:k]
    if len(got) != len(want):
        raise CheckFailed(
            f"{what} returned {len(got)} example(s); expected {len(want)} "
            "(k of them, or all when there are fewer than k)"
        )
    index = {id(e): i for i, e in enumerate(examples)}
    if any(id(e) not in index and e not in examples for e in got):
        raise CheckFailed(f"{what} returned {show(got)}; return the example dicts themselves")
    got_sims = [sims[index[id(e)]] if id(e) in index else sims[examples.index(e)] for e in got]
    if len(got_sims) > 1 and all(a <= b for a, b in itertools.pairwise(got_sims)) and got_sims != want:
        raise CheckFailed(f"{what} returned the examples least similar first; put the most similar first")
    if not is_close(got_sims, want, rel=1e-6, abs_tol=1e-9):
        raise CheckFailed(
            f"{what} picked examples with cosine similarities {show([round(s, 3) for s in got_sims])}; the "
            f"{len(want)} nearest have {show([round(s, 3) for s in want])} (rank by cosine similarity: "
            "dot product divided by both vectors' lengths, highest first)"
        )


@question("3.3", points=3, title="top-k example selector", target="top_k")
def check_top_k(top_k: Any) -> None:
    """The k most cosine-similar examples, most similar first, all of them when k exceeds the pool."""
    examples = [
        {"text": "rent is due monthly", "label": "Lease"},
        {"text": "the tenant keeps the flat tidy", "label": "Lease"},
        {"text": "keep all information confidential", "label": "NDA"},
        {"text": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "label": "Noise"},
        {"text": "salary is paid every month", "label": "Employment"},
        {"text": "zzz", "label": "Noise"},
    ]
    for query, k in [
        ("monthly rent for the tenant", 3),
        ("confidential information", 1),
        ("salary paid monthly", 2),
        ("anything at all", 6),
        ("more than the pool", 10),
    ]:
        _check_top_k(top_k, query, examples, k)
    expect_raises(ValueError, top_k, "rent", examples, 0, letter_embed, why="k must be at least 1")

    from hypothesis import strategies as st

    word = st.text(alphabet="abcdefghijklmnop ", min_size=1, max_size=12).filter(lambda s: s.strip())

    def agrees(query: str, texts: list[str], k: int) -> None:
        _check_top_k(top_k, query, [{"text": t, "label": str(i)} for i, t in enumerate(texts)], k)

    property_check(
        agrees, query=word, texts=st.lists(word, min_size=1, max_size=8), k=st.integers(1, 9), max_examples=50
    )


# --------------------------------------------------------------------------- 3.4


def _expected_costs(static: list[dict], dynamic: list[dict], model: str, requests: int, out: int) -> dict:
    price = price_of(model)
    st_tok, dy_tok = count_message_tokens(static, model), count_message_tokens(dynamic, model)
    st_usd = requests * (st_tok * price.input + out * price.output) / 1_000_000
    dy_usd = requests * (dy_tok * price.input + out * price.output) / 1_000_000
    return {
        "static_tokens": st_tok,
        "dynamic_tokens": dy_tok,
        "static_usd": st_usd,
        "dynamic_usd": dy_usd,
        "saving": 1 - dy_usd / st_usd if st_usd else 0.0,
    }


def _prompt(n: int) -> list[dict]:
    msgs = [{"role": "system", "content": "Classify the clause. Reply with the category only."}]
    for i in range(n):
        msgs += [
            {"role": "user", "content": f"Clause {i}: the tenant pays rent on day {i + 1} of each month."},
            {"role": "assistant", "content": "Lease"},
        ]
    return [*msgs, {"role": "user", "content": "The employee may work remotely two days a week."}]


@question("3.4", points=2, title="static vs dynamic monthly cost", target="monthly_costs")
def check_monthly_costs(monthly_costs: Any) -> None:
    """Tokens counted with the model's tokenizer, input and output priced per million, saving as a fraction."""
    keys = {"static_tokens", "dynamic_tokens", "static_usd", "dynamic_usd", "saving"}
    for model, requests, out, n_static, n_dynamic in [
        ("gpt-4o-mini", 100_000, 10, 20, 3),
        ("gpt-4", 100_000, 10, 20, 3),
        ("gpt-4o", 2_500, 0, 8, 1),
        ("gpt-3.5-turbo", 0, 5, 5, 2),
    ]:
        static, dynamic = _prompt(n_static), _prompt(n_dynamic)
        what = (
            f"monthly_costs(<{n_static}-example prompt>, <{n_dynamic}-example prompt>, model={model!r}, "
            f"requests_per_month={requests}, output_tokens={out})"
        )
        got = expect_type(
            call(monthly_costs, static, dynamic, model=model, requests_per_month=requests, output_tokens=out),
            dict,
            what,
        )
        if set(got) != keys:
            raise CheckFailed(f"{what} returned keys {show(sorted(got))}; expected {show(sorted(keys))}")
        want = _expected_costs(static, dynamic, model, requests, out)
        for key in ("static_tokens", "dynamic_tokens"):
            if got[key] != want[key]:
                raise CheckFailed(
                    f"{what}: {key} = {show(got[key])}; expected {want[key]} "
                    f"(count_message_tokens(messages, {model!r}) counts with that model's tokenizer)"
                )
        no_output = _expected_costs(static, dynamic, model, requests, 0)
        for key in ("static_usd", "dynamic_usd", "saving"):
            if not is_close(got[key], want[key], rel=1e-6, abs_tol=1e-12):
                hint = "prices are USD per million tokens; multiply by requests_per_month"
                if out and is_close(got[key], no_output[key], rel=1e-6, abs_tol=1e-12):
                    hint = "the output tokens are billed too, at the output price"
                elif key == "saving":
                    hint = "saving = 1 - dynamic_usd / static_usd, and 0.0 when static_usd is 0"
                raise CheckFailed(
                    f"{what}: {key} = {show(got[key])}; expected about {want[key]:.6g} ({hint})"
                )


# --------------------------------------------------------------------------- 3.5

#: (clause, examples, labels, the label a model that reads the request well gives)
_CLAUSE_CASES: list[tuple[str, list[dict], list[str], str]] = [
    (
        'Invoices are charged at 100% of list price {net 30}, "no discount" — %s',
        [
            {"text": "We refund returned items within 14 days.", "label": "returns"},
            {"text": "Parcels leave the warehouse the next day.", "label": "shipping"},
            {"text": "Your card is charged when the order ships.", "label": "billing"},
        ],
        ["shipping", "returns", "billing", "other"],
        "billing",
    ),
    ("The VPN drops every hour\nsince the update.", [], ["network_issue", "access_request", "hardware"],
     "network_issue"),
    (
        "The landlord repairs the boiler within 48 hours of being told it is broken.",
        [
            {"text": "Rent is due on the first day of each month.", "label": "payment"},
            {"text": "Either party may end the lease with two months' notice.", "label": "termination"},
        ],
        ["payment", "termination", "maintenance", "deposit"],
        "maintenance",
    ),
]  # fmt: skip


def _json_label(text: str) -> Any:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data.get("label") if isinstance(data, dict) else None


def _is_word_in(text: str, word: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(word)}(?![A-Za-z0-9_])", text) is not None


def _shown(messages: list[dict], example: dict) -> bool:
    """Whether an example is a worked example: its text in a user message, its JSON reply right after."""
    return any(
        m["role"] == "user"
        and example["text"] in m["content"]
        and nxt["role"] == "assistant"
        and _json_label(nxt["content"]) == example["label"]
        for m, nxt in itertools.pairwise(messages)
    )


def _clause_model(clause: str, examples: list[dict], labels: list[str], label: str) -> Any:
    """A scripted model: picks only labels the system message lists, writes JSON only when asked, and
    copies the reply format of the worked examples it is shown."""

    def reply(messages: list[dict], params: dict[str, Any]) -> str:
        if messages[-1]["role"] != "user" or clause not in messages[-1]["content"]:
            return "Happy to help! Which clause should I classify?"
        system = "\n".join(m["content"] for m in messages if m["role"] == "system")
        if not all(_is_word_in(system, name) for name in labels):
            return json.dumps({"label": "general"})
        if "json" not in system.lower():
            return f"This clause is about {label}."
        if not all(_shown(messages, e) for e in examples):
            return f"Label: {label}"
        return json.dumps({"label": label})

    return reply


def _explain_example(messages: list[dict], example: dict) -> str:
    users = [i for i, m in enumerate(messages) if m["role"] == "user" and example["text"] in m["content"]]
    if not users:
        return (
            f"the example {show(example['text'])} is not in a user message: give each example's text its own "
            "user message"
        )
    following = messages[users[0] + 1]
    return (
        f"the example {show(example['text'])} is followed by {show(following)}; right after each example's user "
        f'message put the reply you want for it as an assistant message, the JSON {{"label": '
        f"{json.dumps(example['label'])}}}, so the model copies that format"
    )


@question("3.5", points=2, title="the clause classifier's prompt", target="clause_messages")
def check_clause_messages(clause_messages: Any) -> None:
    """Labels and a JSON format in the system message, worked examples in user/assistant roles, the clause
    last; any wording."""
    for clause, examples, labels, label in _CLAUSE_CASES:
        given_examples, given_labels = [dict(e) for e in examples], list(labels)
        what = f"clause_messages({show(clause)}, <{len(examples)} examples>, {show(labels)})"
        built = call_with_text(
            clause_messages,
            clause,
            given_examples,
            given_labels,
            hint="the clause contains braces, quotes or %: insert it as it is, never through "
            "str.format or % on text that holds it",
        )
        messages = expect_type(built, list, what)
        if given_examples != examples or given_labels != labels:
            raise CheckFailed(f"{what} changed the examples or labels it was given: build new lists instead")
        try:
            validate_messages(messages)
        except Exception as exc:
            raise CheckFailed(
                f"{what} returned messages the API would refuse: {exc} "
                "(each message is a dict with a 'role' and a string 'content')"
            ) from None
        messages = [{"role": m["role"], "content": m["content"]} for m in messages]
        if messages[-1]["role"] != "user" or clause not in messages[-1]["content"]:
            raise CheckFailed(
                f"{what}: the last message is {show(messages[-1])}; end with the clause, unchanged, as a user "
                "message (insert it as it is, never through str.format or %)"
            )
        got = scripted_provider(_clause_model(clause, examples, labels, label)).complete(messages).text
        if _json_label(got) == label:
            continue
        said = f"a model given {what} replied {show(got)}"
        system = "\n".join(m["content"] for m in messages if m["role"] == "system")
        missing = [name for name in labels if not _is_word_in(system, name)]
        if missing:
            raise CheckFailed(
                f"{said}: the system message does not list {show(missing)}; list every label of `labels` by its "
                "exact name (build the list from the argument, not a fixed list)"
            )
        if "json" not in system.lower():
            raise CheckFailed(
                f'{said}: ask in the system message for JSON only, {{"label": "<one of the labels>"}}'
            )
        unshown = [e for e in examples if not _shown(messages, e)]
        if unshown:
            raise CheckFailed(f"{said}: {_explain_example(messages, unshown[0])}")
        raise CheckFailed(f'{said}; expected {{"label": {json.dumps(label)}}}')
