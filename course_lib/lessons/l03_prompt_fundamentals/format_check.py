"""Answer formats and the format-consistency experiment: zero-shot vs few-shot (lesson 03).

A downstream parser needs one shape. :func:`classify_format` sorts an answer into the shapes models
actually produce when asked to extract a name: exact JSON ``{"name": "..."}``, other JSON, JSON in a
Markdown fence, JSON inside prose, a labelled line (``Name: Ada``), a bare name, or a sentence.
:func:`run_format_experiment` asks one provider the same extraction task under several prompting
conditions, many samples each, and :func:`summarise` turns the answers into rates, so a lesson
measures format consistency instead of quoting it.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict

from course_lib.prompts import few_shot_messages, zero_shot

__all__ = [
    "CONDITIONS",
    "FORMAT_KINDS",
    "NAME_EXAMPLES",
    "NAME_SENTENCES",
    "NAME_TEMPLATE",
    "FormatKind",
    "FormatSample",
    "FormatSummary",
    "bug_summary_checks",
    "classify_format",
    "condition_messages",
    "extract_name",
    "run_format_experiment",
    "summarise",
]

FormatKind = Literal[
    "json_exact",
    "json_other",
    "json_fenced",
    "json_in_prose",
    "json_broken",
    "labelled",
    "bare",
    "sentence",
    "empty",
]
FORMAT_KINDS: tuple[str, ...] = get_args(FormatKind)
"""Every answer shape :func:`classify_format` knows, the target format first (lesson 03)."""

NAME_SENTENCES: tuple[tuple[str, str], ...] = (
    ("My name is Alice Johnson.", "Alice Johnson"),
    ("Hi, this is Marcus Chen calling about my order.", "Marcus Chen"),
    ("The report was written by Priya Raman last week.", "Priya Raman"),
    ("Please send the invoice to Daniel Okafor in accounting.", "Daniel Okafor"),
    ("Sophie Martin here, I cannot log in since Monday.", "Sophie Martin"),
)
"""Inputs of the name-extraction experiment with the name each contains (lesson 03)."""

NAME_EXAMPLES: tuple[tuple[str, str], ...] = (
    ("Good morning, I'm Tomas Rivera from the Leeds office.", '{"name": "Tomas Rivera"}'),
    ("The ticket was opened by Hannah Schmidt yesterday.", '{"name": "Hannah Schmidt"}'),
    ("You can reach me, Kwame Mensah, on extension 214.", '{"name": "Kwame Mensah"}'),
    ("Signed on behalf of the buyer: Elena Petrova.", '{"name": "Elena Petrova"}'),
    ("Our new intern, Liam O'Brien, starts on Tuesday.", '{"name": "Liam O\'Brien"}'),
    ("Ask for Mei Tanaka at the front desk.", '{"name": "Mei Tanaka"}'),
    ("Thanks again! Best regards, Jonas Berg", '{"name": "Jonas Berg"}'),
    ("The package is addressed to Fatima Al-Sayed.", '{"name": "Fatima Al-Sayed"}'),
    ("Yesterday Carlos Mendes reported the outage.", '{"name": "Carlos Mendes"}'),
    ("Dear support team, my account (Olivia Novak) is locked.", '{"name": "Olivia Novak"}'),
)
"""Worked examples (input, exact JSON answer) for few-shot prompts; the experiment uses the first 3 (lesson 03)."""

NAME_TEMPLATE = "Extract the name from: {input}"
"""The zero-shot instruction, also the input template of the few-shot examples (lesson 03)."""
_FORMAT_INSTRUCTION = (
    'Extract the name from the sentence. Reply with JSON only, exactly like {{"name": "..."}}.'
)


def _zero(sentence: str) -> list[dict[str, Any]]:
    return zero_shot(NAME_TEMPLATE.format(input=sentence))


def _zero_format(sentence: str) -> list[dict[str, Any]]:
    return zero_shot(_FORMAT_INSTRUCTION.format(), sentence)


def _few(sentence: str) -> list[dict[str, Any]]:
    return few_shot_messages(NAME_EXAMPLES[:3], sentence, input_template=NAME_TEMPLATE)


CONDITIONS: dict[str, Callable[[str], list[dict[str, Any]]]] = {
    "zero-shot": _zero,
    "zero-shot + format rule": _zero_format,
    "few-shot (3 examples)": _few,
}
"""The experiment's prompting conditions: name → function from a sentence to the messages (lesson 03)."""


def condition_messages(condition: str, sentence: str) -> list[dict[str, Any]]:
    """The messages one condition of the experiment sends for ``sentence`` (lesson 03)."""
    try:
        return CONDITIONS[condition](sentence)
    except KeyError:
        raise ValueError(f"unknown condition {condition!r}; known: {', '.join(CONDITIONS)}") from None


# --------------------------------------------------------------------------- classification

_FENCE = re.compile(r"```[a-zA-Z]*\s*\n?(.*?)```", re.DOTALL)
_OBJECT = re.compile(r"\{[^{}]*\}", re.DOTALL)
_LABEL = re.compile(r"^\s*(?:\*\*)?(?:full\s+)?name(?:\*\*)?\s*[:=\-]\s*(?:\*\*)?\s*(?P<value>.+?)\s*$", re.I)
_NAME_WORD = r"[A-Z][A-Za-z'\-]*\.?"
_BROKEN = re.compile(r"(\{|```|\[\s*[\[{\"\d\]])")
_BARE = re.compile(rf"^\s*[\"']?(?P<value>{_NAME_WORD}(?:\s+{_NAME_WORD}){{0,3}})[\"']?\s*[.!]?\s*$")


def _json_object(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def _is_exact(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"name"} and isinstance(value["name"], str)


def classify_format(text: str | None) -> FormatKind:
    """The shape of an answer: ``json_exact`` is exactly ``{"name": "<string>"}`` and nothing else (lesson 03).

    Other shapes: ``json_other`` (the whole answer is JSON of another shape), ``json_fenced`` (JSON in a
    Markdown code fence), ``json_in_prose`` (a JSON object with text around it), ``json_broken`` (starts
    like JSON but does not parse: cut off, trailing comma …), ``labelled`` (``Name: Ada Lovelace``),
    ``bare`` (one to four capitalised words), ``sentence`` (anything else), ``empty``.
    """
    stripped = (text or "").strip()
    if not stripped:
        return "empty"
    whole = _json_object(stripped)
    if whole is not None and stripped[0] in "{[":
        return "json_exact" if _is_exact(whole) else "json_other"
    fence = _FENCE.search(stripped)
    if fence and _json_object(fence.group(1).strip()) is not None:
        return "json_fenced"
    if any(_json_object(m.group(0)) is not None for m in _OBJECT.finditer(stripped)):
        return "json_in_prose"
    if _BROKEN.match(stripped):
        return "json_broken"
    if "\n" not in stripped and _LABEL.match(stripped):
        return "labelled"
    if _BARE.match(stripped):
        return "bare"
    return "sentence"


def extract_name(text: str | None) -> str | None:
    """The name an answer gives, when its shape states one (JSON, fenced JSON, label, bare name) (lesson 03).

    A sentence such as "The name is Ada." returns None: a parser cannot know where the name is.
    """
    kind = classify_format(text)
    stripped = (text or "").strip()
    value: Any = None
    if kind in ("json_exact", "json_other"):
        value = _json_object(stripped)
    elif kind == "json_fenced":
        fence = _FENCE.search(stripped)
        value = _json_object(fence.group(1).strip()) if fence else None
    elif kind == "json_in_prose":
        value = next(
            (v for m in _OBJECT.finditer(stripped) if isinstance(v := _json_object(m.group(0)), dict)), None
        )
    elif kind == "labelled":
        match = _LABEL.match(stripped)
        return match.group("value").strip(" .*\"'") if match else None
    elif kind == "bare":
        match = _BARE.match(stripped)
        return match.group("value").rstrip(".") if match else None
    if isinstance(value, dict) and isinstance(value.get("name"), str):
        return value["name"].strip()
    return None


_SPECULATION = re.compile(r"\b(might|may|maybe|probably|possibly|likely|perhaps|could be|seems?)\b", re.I)
_PREAMBLE = re.compile(r"^\s*(summary|here is|here's|sure|okay|ok|the bug)\b", re.I)
_BUG_LINE = re.compile(r"^[A-Z][\w\- ]* cannot .+ due to .+$")


def bug_summary_checks(text: str, *, max_words: int = 15) -> dict[str, bool]:
    """Which rules of the bug-summary format an answer keeps (lesson 03).

    The rules: one line, at most ``max_words`` words, no speculation (might, probably …), no preamble
    (Summary:, Here is …) and the shape ``<who> cannot <action> due to <reason>``.
    """
    stripped = (text or "").strip()
    return {
        "one line": bool(stripped) and "\n" not in stripped,
        f"<= {max_words} words": 0 < len(stripped.split()) <= max_words,
        "no speculation": not _SPECULATION.search(stripped),
        "no preamble": bool(stripped) and not _PREAMBLE.match(stripped),
        "who cannot ... due to ...": bool(_BUG_LINE.match(stripped.rstrip("."))),
    }


# --------------------------------------------------------------------------- the experiment


class FormatSample(BaseModel):
    """One answer of the experiment: condition, input, expected name, the answer and its shape (lesson 03)."""

    model_config = ConfigDict(frozen=True)

    condition: str
    sentence: str
    expected: str
    text: str
    source: str = ""

    @property
    def kind(self) -> FormatKind:
        """The answer's shape (:func:`classify_format`)."""
        return classify_format(self.text)

    @property
    def exact(self) -> bool:
        """The answer is exactly ``{"name": ...}`` with the right name: a parser can use it as is."""
        return self.kind == "json_exact" and extract_name(self.text) == self.expected


class FormatSummary(BaseModel):
    """Rates of one condition over its samples (lesson 03)."""

    model_config = ConfigDict(frozen=True)

    condition: str
    n: int
    kinds: dict[str, int]
    target_rate: float
    """Share of answers in the target format ``{"name": "..."}``."""
    exact_rate: float
    """Share in the target format *and* with the right name."""
    modal_kind: str
    modal_rate: float
    """Share of the most common shape: consistency whatever the shape."""


def summarise(samples: Iterable[FormatSample]) -> list[FormatSummary]:
    """Per condition (in first-seen order): counts of each shape, target, exact and modal rates (lesson 03)."""
    groups: dict[str, list[FormatSample]] = {}
    for s in samples:
        groups.setdefault(s.condition, []).append(s)
    out = []
    for condition, group in groups.items():
        counts = Counter(s.kind for s in group)
        n = len(group)
        modal_kind, modal_count = max(counts.items(), key=lambda kv: (kv[1], -FORMAT_KINDS.index(kv[0])))
        out.append(
            FormatSummary(
                condition=condition,
                n=n,
                kinds={k: counts[k] for k in FORMAT_KINDS if counts[k]},
                target_rate=counts["json_exact"] / n,
                exact_rate=sum(s.exact for s in group) / n,
                modal_kind=modal_kind,
                modal_rate=modal_count / n,
            )
        )
    return out


def run_format_experiment(
    provider: Any,
    *,
    samples: int = 8,
    temperature: float = 0.7,
    max_tokens: int = 40,
    sentences: Sequence[tuple[str, str]] = NAME_SENTENCES,
    conditions: Sequence[str] = tuple(CONDITIONS),
) -> list[FormatSample]:
    """Ask ``provider`` every condition × sentence ``samples`` times; return the answers (lesson 03).

    Calls are made in a fixed order (condition, sentence, sample), so a replay serves them back the same way.
    """
    if samples < 1:
        raise ValueError(f"samples must be at least 1, got {samples}")
    out = []
    for condition in conditions:
        for sentence, expected in sentences:
            messages = condition_messages(condition, sentence)
            for _ in range(samples):
                result = provider.complete(messages, temperature=temperature, max_tokens=max_tokens)
                out.append(
                    FormatSample(
                        condition=condition,
                        sentence=sentence,
                        expected=expected,
                        text=result.text,
                        source=getattr(result, "source", ""),
                    )
                )
    return out
