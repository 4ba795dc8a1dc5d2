"""Lesson 07's constrained layer and its valid-versus-correct table, on the contact-extraction texts.

The constrained layer sends our rules prompt with ``response_format`` carrying ``Contact``'s JSON schema
(:func:`~course_lib.constrained.json_schema_format`), which the local server enforces with a grammar.
:func:`layer_counts` then scores every layer's replies two ways: *valid* (the reply parses and matches
the schema) and *correct* (the values are the ones in the text: :data:`CONTACT_TRUTH`). Constrained
decoding is expected to lift the first and not the second. Pure functions apart from
:func:`constrained_outputs` and :func:`measure_layers`, which call a provider.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import Field

from course_lib.constrained import json_schema_format
from course_lib.lessons.l07_structured_output.layers import (
    CONTACT_PARAMS,
    CONTACT_TEXTS,
    Contact,
    ContactExperiment,
    contact_messages,
    run_contact_experiment,
)
from course_lib.validators import InvalidOutputError, parse_output

__all__ = [
    "CONSTRAINED",
    "CONTACT_TRUTH",
    "GRAMMAR_EMAIL_PATTERN",
    "LOCAL_MODEL",
    "RECORDINGS",
    "ConstrainedContact",
    "LayerCount",
    "constrained_outputs",
    "count_layer",
    "is_correct",
    "is_valid",
    "layer_counts",
    "measure_layers",
]

LOCAL_MODEL = "SmolLM2-135M-Instruct"
RECORDINGS = "07_structured_output"

#: The e-mail shape in characters a grammar can read: llama.cpp turns a schema's patterns into a
#: grammar, does not know ``\s`` or ``\.`` (the server stops on them), and would let a quote into the
#: JSON string unescaped, so whitespace and the dot are spelled out and the quote excluded (lesson 07).
GRAMMAR_EMAIL_PATTERN = r'^[^@ "\t\r\n]+@[^@ "\t\r\n]+[.][A-Za-z]{2,}$'


class ConstrainedContact(Contact):
    """``Contact`` with its e-mail pattern written for a grammar: the schema the constrained layer sends (lesson 07)."""

    email: str = Field(pattern=GRAMMAR_EMAIL_PATTERN)


#: The extra parameter of the constrained layer: the contact's JSON schema as ``response_format`` (lesson 07).
CONSTRAINED: dict[str, Any] = {"response_format": json_schema_format(ConstrainedContact)}

#: The right answer for each of :data:`~course_lib.lessons.l07_structured_output.layers.CONTACT_TEXTS` (lesson 07).
CONTACT_TRUTH: tuple[dict[str, Any], ...] = tuple(
    {"name": name, "age": age, "city": city, "email": email}
    for name, age, city, email in (
        ("John Smith", 35, "Seattle", "john@example.com"),
        ("Maria Garcia", 42, "Madrid", "maria.garcia@example.org"),
        ("Wei Chen", 28, "Toronto", "wei.chen@example.net"),
        ("Ingrid Berg", 51, "Oslo", "ingrid.berg@example.no"),
        ("Tom Baker", 67, "Cardiff", "tom.baker@example.co.uk"),
        ("Priya Nair", 31, "Bangalore", "priya.nair@example.in"),
        ("Lukas Weber", 23, "Berlin", "lukas.weber@example.de"),
        ("Aiko Tanaka", 45, "Osaka", "aiko.tanaka@example.jp"),
        ("Carlos Mendes", 39, "Lisbon", "carlos.mendes@example.pt"),
        ("Fatima Zahra", 27, "Casablanca", "fatima.zahra@example.ma"),
        ("Olga Ivanova", 60, "Riga", "olga.ivanova@example.lv"),
        ("Sam Lee", 19, "Austin", "sam.lee@example.com"),
        ("Ada Byrne", 36, "Dublin", "ada.byrne@example.ie"),
        ("Noah Williams", 44, "Denver", "noah.williams@example.com"),
        ("Emma Rossi", 29, "Rome", "emma.rossi@example.it"),
        ("Kwame Mensah", 33, "Accra", "kwame.mensah@example.com.gh"),
        ("Lena Novak", 48, "Prague", "lena.novak@example.cz"),
        ("Omar Haddad", 55, "Amman", "omar.haddad@example.jo"),
        ("Sofia Lindqvist", 38, "Stockholm", "sofia.lindqvist@example.se"),
        ("Jack O'Neill", 41, "Boston", "jack.oneill@example.com"),
        ("Mikko Virtanen", 26, "Helsinki", "mikko.virtanen@example.fi"),
        ("Chloe Martin", 34, "Paris", "chloe.martin@example.fr"),
        ("Ravi Kumar", 22, "Chennai", "ravi.kumar@example.in"),
        ("Hannah Schmidt", 57, "Vienna", "hannah.schmidt@example.at"),
    )
)


def constrained_outputs(provider: Any, texts: Sequence[str] = CONTACT_TEXTS) -> list[str]:
    """The constrained layer's reply to each text: our prompt, ``Contact``'s schema enforced (lesson 07)."""
    return [
        provider.complete(contact_messages(text, "rules"), **CONTACT_PARAMS, **CONSTRAINED).text
        for text in texts
    ]


def is_valid(raw: str) -> bool:
    """The reply parses and matches ``Contact``'s schema (fields, types, ranges, e-mail shape) (lesson 07)."""
    try:
        parse_output(raw, Contact)
    except InvalidOutputError:
        return False
    return True


def is_correct(raw: str, truth: Mapping[str, Any]) -> bool:
    """The reply is valid and every value is the right one (case and surrounding spaces ignored) (lesson 07)."""
    try:
        contact = parse_output(raw, Contact)
    except InvalidOutputError:
        return False
    got = contact.model_dump()
    return all(
        got[k] == v if isinstance(v, int) else str(got[k]).strip().casefold() == str(v).casefold()
        for k, v in truth.items()
    )


@dataclass(frozen=True)
class LayerCount:
    """One enforcement layer's replies scored: how many are valid, how many correct (lesson 07)."""

    layer: str
    total: int
    valid: int
    correct: int

    def __str__(self) -> str:
        return f"{self.layer:<28} valid {self.valid:>2}/{self.total}  correct {self.correct:>2}/{self.total}"


def count_layer(
    layer: str, raws: Sequence[str], truths: Sequence[Mapping[str, Any]] = CONTACT_TRUTH
) -> LayerCount:
    """Score one layer's replies; ``truths[i]`` is the right answer for ``raws[i]`` (lesson 07)."""
    if len(raws) != len(truths):
        raise ValueError(f"{len(raws)} replies but {len(truths)} right answers; pass one per reply")
    return LayerCount(
        layer=layer,
        total=len(raws),
        valid=sum(is_valid(r) for r in raws),
        correct=sum(is_correct(r, t) for r, t in zip(raws, truths, strict=True)),
    )


def layer_counts(
    experiment: ContactExperiment,
    constrained: Sequence[str],
    truths: Sequence[Mapping[str, Any]] = CONTACT_TRUTH,
) -> list[LayerCount]:
    """Valid and correct counts for every layer, the constrained one last (lesson 07).

    The layers: the naive prompt, rules with an example, our rules (prompt only), JSON mode (the first
    attempt of the full stack), the full stack after self-correction (each text's last attempt), and
    the schema-constrained layer.
    """
    rows = [
        ("prompt: naive", experiment.outputs["naive"]),
        ("prompt: rules + example", experiment.outputs["rules_with_example"]),
        ("prompt: rules", experiment.outputs["rules"]),
        ("+ JSON mode", [run[0].raw for run in experiment.loops]),
        ("+ validation + correction", [run[-1].raw for run in experiment.loops]),
        ("schema-constrained", list(constrained)),
    ]
    return [count_layer(label, raws, truths) for label, raws in rows]


def measure_layers(provider: Any = None) -> list[LayerCount]:
    """Replay the recorded layer experiment and constrained layer on the small model; count each layer (lesson 07)."""
    if provider is None:
        from course_lib.providers.registry import get_provider

        provider = get_provider("replay", model=LOCAL_MODEL, recordings=RECORDINGS)
    experiment = run_contact_experiment(provider)
    return layer_counts(experiment, constrained_outputs(provider, experiment.texts))
