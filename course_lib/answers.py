"""Pull a comparable answer out of free model text, and score a sample's confidence (lesson 05).

Votes only work when two samples that mean the same answer compare equal: ``"$1,104.94"``,
``"1104.940"`` and ``"Answer: 1104.94"`` must all become ``"1104.94"``. The functions here are
pure: they take text (or token log-probabilities) and return a normalised string or a number.

Where the answer is looked for: the text after the *last* ``Answer:`` line when there is one
(chain-of-thought prompts end that way), else ``"the answer is …"``, else the whole text. Inside
an answer line the *first* number or label wins (``"Answer: $120 after 3 years"`` is 120); in free
text with no marker the *last* one wins, because reasoning ends with its conclusion.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Literal

from .providers.base import TokenLogprob

__all__ = [
    "AnswerKind",
    "Extractor",
    "answer_region",
    "extract_answer",
    "logprob_confidence",
    "normalize_label",
    "normalize_number",
    "normalize_text",
]

AnswerKind = Literal["auto", "number", "yesno", "label", "text"]
Extractor = Callable[[str], "str | None"]
"""Any function from a sample's text to its normalised answer (``None`` = no usable answer)."""

_MARKUP = r"[\s>*#_`]*"
_ANSWER_LINE = re.compile(rf"(?im)^{_MARKUP}(?:final\s+)?answer{_MARKUP}[:：]{_MARKUP}(.*?)\s*$")
_ANSWER_IS = re.compile(r"(?i)\bthe\s+(?:final\s+)?answer\s+is\s*[:：]?\s*")
_NUMBER = re.compile(
    r"(?<![\w.])(?P<sign>[-−+]?)\s?\$?\s?(?P<sign2>[-−]?)"
    r"(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?P<frac>\.\d+)?(?!\d)"
)
_YES = {"yes", "y", "true", "correct"}
_NO = {"no", "n", "false", "incorrect"}
_YESNO = re.compile(r"\b(yes|no|true|false|correct|incorrect)\b", re.IGNORECASE)


def answer_region(text: str) -> tuple[str, bool]:
    """The part of ``text`` that holds the answer, and whether an explicit marker was found (lesson 05)."""
    lines = _ANSWER_LINE.findall(text)
    for candidate in reversed(lines):
        if candidate.strip():
            return candidate.strip(), True
    marks = list(_ANSWER_IS.finditer(text))
    if marks and text[marks[-1].end() :].strip():
        return text[marks[-1].end() :].strip(), True
    return text.strip(), False


def normalize_number(token: str) -> str | None:
    """``"$1,104.940"`` → ``"1104.94"``, ``"-0.0"`` → ``"0"``; ``None`` if not a number (lesson 05)."""
    cleaned = token.strip().replace("−", "-").replace("$", "").replace(",", "").replace(" ", "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    if not value.is_finite():
        return None
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


def _numbers(region: str) -> list[str]:
    out = []
    for m in _NUMBER.finditer(region):
        negative = "-" in (m["sign"] + m["sign2"]) or "−" in (m["sign"] + m["sign2"])
        raw = ("-" if negative else "") + m["int"] + (m["frac"] or "")
        normalised = normalize_number(raw)
        if normalised is not None:
            out.append(normalised)
    return out


def _canon(text: str) -> str:
    return re.sub(r"[\s_\-]+", " ", text.casefold()).strip()


def normalize_label(region: str, labels: Sequence[str], *, prefer: Literal["first", "last"]) -> str | None:
    """The label in ``labels`` that ``region`` names (case, ``_``, ``-`` ignored), or ``None`` (lesson 05)."""
    haystack = _canon(region)
    spans: list[tuple[int, int, str]] = []
    for label in labels:
        needle = _canon(label)
        if needle:
            spans += [
                (m.start(), m.end(), label)
                for m in re.finditer(rf"(?<!\w){re.escape(needle)}(?!\w)", haystack)
            ]
    # A mention inside a longer one does not count: "not positive" is not a vote for "positive".
    hits = [
        h
        for h in spans
        if not any(o[0] <= h[0] and h[1] <= o[1] and o[1] - o[0] > h[1] - h[0] for o in spans)
    ]
    if not hits:
        return None
    return (min(hits) if prefer == "first" else max(hits))[2]


def normalize_text(text: str) -> str | None:
    """Case-folded text with quotes, trailing punctuation and extra spaces removed (lesson 05)."""
    cleaned = re.sub(r"\s+", " ", text.casefold()).strip(" \"'`*.,!;:")
    return cleaned or None


def extract_answer(
    text: str | None,
    *,
    kind: AnswerKind = "auto",
    labels: Sequence[str] | None = None,
) -> str | None:
    """A sample's answer, normalised so equal answers compare equal; ``None`` when there is none (lesson 05).

    ``kind="auto"`` picks ``label`` when ``labels`` are given, else yes/no when the answer starts with
    one, else a number when there is one, else the normalised text.
    """
    if not text or not text.strip():
        return None
    region, marked = answer_region(text)
    prefer: Literal["first", "last"] = "first" if marked else "last"
    if kind == "auto":
        if labels:
            kind = "label"
        elif _YESNO.match(region.lstrip("\"'*`( ")):
            kind = "yesno"
        elif _numbers(region):
            kind = "number"
        else:
            kind = "text"
    if kind == "label":
        if not labels:
            raise ValueError("kind='label' needs labels=[...], the answers a sample may give")
        return normalize_label(region, labels, prefer=prefer)
    if kind == "number":
        numbers = _numbers(region)
        if not numbers:
            return None
        return numbers[0] if prefer == "first" else numbers[-1]
    if kind == "yesno":
        found = [w.casefold() for w in _YESNO.findall(region)]
        if not found:
            return None
        word = found[0] if prefer == "first" else found[-1]
        return "yes" if word in _YES else "no" if word in _NO else None
    return normalize_text(region)


def logprob_confidence(
    logprobs: Sequence[TokenLogprob] | None,
    *,
    span: Literal["all", "answer"] = "all",
) -> float | None:
    """A sample's confidence in (0, 1]: exp of the mean token log-probability (lesson 05).

    That is the geometric mean of the token probabilities, so long and short answers compare
    fairly. With ``span="answer"`` only the tokens after the last ``Answer:`` marker count (falling
    back to all tokens when there is no marker), so a long chain of thought does not drown out how
    sure the model was of its final answer. ``None`` when the provider returned no logprobs.
    """
    if not logprobs:
        return None
    tokens = list(logprobs)
    if span == "answer":
        joined = "".join(t.token for t in tokens)
        starts = [m.start(1) for m in _ANSWER_LINE.finditer(joined) if m.group(1).strip()]
        if starts:
            offset, chosen = 0, []
            for t in tokens:
                end = offset + len(t.token)
                if end > starts[-1]:
                    chosen.append(t)
                offset = end
            tokens = chosen or tokens
    mean = sum(t.logprob for t in tokens) / len(tokens)
    return min(1.0, math.exp(mean))
