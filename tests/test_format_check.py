"""Tests of answer-format classification and the format-consistency experiment (lesson 03)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from course_lib.lessons.l03_prompt_fundamentals.format_check import (
    CONDITIONS,
    FORMAT_KINDS,
    NAME_EXAMPLES,
    NAME_SENTENCES,
    FormatSample,
    classify_format,
    condition_messages,
    extract_name,
    run_format_experiment,
    summarise,
)
from course_lib.providers.scripted import ScriptedProvider

CASES = [
    ('{"name": "Alice Johnson"}', "json_exact", "Alice Johnson"),
    ('  {"name":"Alice Johnson"}\n', "json_exact", "Alice Johnson"),
    ('{"name": "Alice", "confidence": 0.9}', "json_other", "Alice"),
    ('{"first": "Alice", "last": "Johnson"}', "json_other", None),
    ('["Alice Johnson"]', "json_other", None),
    ('```json\n{"name": "Alice Johnson"}\n```', "json_fenced", "Alice Johnson"),
    ('```\n{"name": "Bob Lee"}\n```', "json_fenced", "Bob Lee"),
    ('Here you go: {"name": "Alice Johnson"} Hope it helps!', "json_in_prose", "Alice Johnson"),
    ("Name: Alice Johnson", "labelled", "Alice Johnson"),
    ("**Name:** Alice Johnson", "labelled", "Alice Johnson"),
    ("Alice Johnson", "bare", "Alice Johnson"),
    ("Alice Johnson.", "bare", "Alice Johnson"),
    ('"Alice Johnson"', "bare", "Alice Johnson"),
    ("Liam O'Brien", "bare", "Liam O'Brien"),
    ("The name is Alice Johnson.", "sentence", None),
    ("My name is Alice Johnson.", "sentence", None),
    ("I'm sorry, I cannot help with that.", "sentence", None),
    ("", "empty", None),
    ("   \n ", "empty", None),
    (None, "empty", None),
    ("{not json}", "json_broken", None),
    ('{\n  "name": "Alice Johnson",\n}', "json_broken", None),
    ('{"name": "Alice Johnson", "description": "cut off by max_tok', "json_broken", None),
    ('```json\n{\n  "name": "Al', "json_broken", None),
    ("42", "sentence", None),
    ("[JSON]: http://example.com/x", "sentence", None),
    ('[{"name": "Alice", ', "json_broken", None),
]


@pytest.mark.parametrize(("text", "kind", "name"), CASES)
def test_classify_and_extract(text: str | None, kind: str, name: str | None) -> None:
    assert classify_format(text) == kind
    assert extract_name(text) == name


names = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=30)


@given(names)
def test_any_exact_json_is_exact(name: str) -> None:
    text = json.dumps({"name": name})
    assert classify_format(text) == "json_exact"
    assert extract_name(text) == name.strip()


@given(names, st.sampled_from(["json", "JSON", ""]))
def test_fenced_json_is_fenced_never_exact(name: str, lang: str) -> None:
    text = f"```{lang}\n{json.dumps({'name': name})}\n```"
    assert classify_format(text) == "json_fenced"


@given(st.text(max_size=80))
def test_classify_is_total(text: str) -> None:
    assert classify_format(text) in FORMAT_KINDS


def test_kinds_start_with_the_target() -> None:
    assert FORMAT_KINDS[0] == "json_exact"
    assert len(set(FORMAT_KINDS)) == len(FORMAT_KINDS)


def test_condition_messages() -> None:
    sentence = NAME_SENTENCES[0][0]
    zero = condition_messages("zero-shot", sentence)
    assert zero == [{"role": "user", "content": f"Extract the name from: {sentence}"}]
    rule = condition_messages("zero-shot + format rule", sentence)
    assert len(rule) == 1 and '{"name": "..."}' in rule[0]["content"] and sentence in rule[0]["content"]
    few = condition_messages("few-shot (3 examples)", sentence)
    assert [m["role"] for m in few] == ["user", "assistant"] * 3 + ["user"]
    assert few[1]["content"] == NAME_EXAMPLES[0][1] and few[-1]["content"].endswith(sentence)
    with pytest.raises(ValueError, match="unknown condition"):
        condition_messages("ten-shot", sentence)


def test_examples_answers_are_exact_json() -> None:
    for text, answer in NAME_EXAMPLES:
        name = json.loads(answer)["name"]
        assert classify_format(answer) == "json_exact" and name in text


def test_run_and_summarise_with_a_scripted_provider() -> None:
    def reply(messages: list[dict[str, str]], params: dict[str, object]) -> str:
        assert params == {"temperature": 0.5, "max_tokens": 20}
        if len(messages) > 1:  # few-shot: exact JSON
            return '{"name": "X Y"}'
        return "Name: X Y" if "JSON" in messages[0]["content"] else "The name is X Y."

    sentences = [("X Y is here.", "X Y"), ("Ask Z W.", "Z W")]
    provider = ScriptedProvider(reply)
    samples = run_format_experiment(provider, samples=3, temperature=0.5, max_tokens=20, sentences=sentences)
    assert len(samples) == len(CONDITIONS) * 2 * 3 == len(provider.calls)
    rows = {r.condition: r for r in summarise(samples)}
    assert list(rows) == list(CONDITIONS)
    zero, rule, few = rows["zero-shot"], rows["zero-shot + format rule"], rows["few-shot (3 examples)"]
    assert (zero.n, zero.target_rate, zero.kinds, zero.modal_kind, zero.modal_rate) == (
        6,
        0.0,
        {"sentence": 6},
        "sentence",
        1.0,
    )
    assert rule.kinds == {"labelled": 6} and rule.target_rate == 0.0
    assert few.target_rate == 1.0
    assert few.exact_rate == pytest.approx(0.5)  # right name for "X Y is here." only


def test_summarise_rates_and_modal_ties() -> None:
    def sample(text: str, expected: str = "A B") -> FormatSample:
        return FormatSample(condition="c", sentence="A B here", expected=expected, text=text)

    rows = summarise(
        [sample('{"name": "A B"}'), sample("A B"), sample('{"name": "C D"}'), sample("Name: A B")]
    )
    (row,) = rows
    assert row.n == 4 and row.kinds == {"json_exact": 2, "labelled": 1, "bare": 1}
    assert (row.target_rate, row.exact_rate, row.modal_kind, row.modal_rate) == (0.5, 0.25, "json_exact", 0.5)
    (tie,) = summarise([sample("A B"), sample("Name: A B")])
    assert tie.modal_kind == "labelled"  # ties go to the shape listed first in FORMAT_KINDS
    assert summarise([]) == []


def test_run_rejects_zero_samples() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        run_format_experiment(ScriptedProvider(["x"]), samples=0)


def test_replayed_experiment_matches_its_stored_result() -> None:
    from pathlib import Path

    from course_lib.providers.registry import get_provider

    path = (
        Path(__file__).resolve().parents[1] / "scripts" / "experiments" / "03_format_consistency.result.json"
    )
    stored = json.loads(path.read_text(encoding="utf-8"))
    provider = get_provider("replay", model=stored["model"], recordings="03_prompt_fundamentals")
    samples = run_format_experiment(
        provider,
        samples=stored["samples_per_sentence"],
        temperature=stored["temperature"],
        max_tokens=stored["max_tokens"],
    )
    assert {s.source for s in samples} == {"recorded"}
    assert [row.model_dump() for row in summarise(samples)] == stored["summary"]
