"""Chain of thought: direct vs step-by-step prompts, reading the answers, and the lesson's other parts (lesson 04).

:func:`direct_messages` and :func:`cot_messages` ask the same question two ways; :class:`Comparison`
knows the right answer (computed with :class:`~decimal.Decimal`, not asked of a model);
:func:`claimed_relation`, :func:`tally_answers` and :func:`parse_steps` read and score the replies.
Lesson 04's refund audit and streamed steps are the lesson's own code, in
:mod:`course_lib.lessons.l04_chain_of_thought`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from .answers import answer_region

__all__ = [
    "COMPARISONS",
    "COT_SYSTEM_PROMPT",
    "AnswerTally",
    "Comparison",
    "CotStep",
    "claimed_relation",
    "cot_messages",
    "direct_messages",
    "parse_steps",
    "tally_answers",
]

# ---------------------------------------------------------------- direct vs chain of thought

COT_SYSTEM_PROMPT = """\
Work through the question step by step before you answer.
Write each step on its own line: "Step 1: ...", "Step 2: ...", and so on.
Finish with one line "Answer: <your answer>" and write nothing after it."""
"""The chain-of-thought instructions: numbered steps, then one ``Answer:`` line (lesson 04)."""

DIRECT_SUFFIX = "Reply with the answer only, no explanation."


def direct_messages(question: str) -> list[dict[str, str]]:
    """The question asked for an immediate answer, with no room to reason (lesson 04)."""
    return [{"role": "user", "content": f"{_required(question)}\n{DIRECT_SUFFIX}"}]


def cot_messages(question: str, *, system: str = COT_SYSTEM_PROMPT) -> list[dict[str, str]]:
    """The question with instructions to reason in numbered steps and end with ``Answer:`` (lesson 04)."""
    return [{"role": "system", "content": system}, {"role": "user", "content": _required(question)}]


def _required(question: str) -> str:
    text = (question or "").strip()
    if not text:
        raise ValueError("the question is empty; pass the text the model should answer")
    return text


@dataclass(frozen=True)
class Comparison:
    """A decimal comparison whose right answer the code computes, not the model (lesson 04).

    ``form="greater"`` asks "Is a greater than b?" (answer yes/no); ``form="larger"`` asks
    "Which is larger, a or b?" (answer the larger number).
    """

    a: str
    b: str
    form: Literal["greater", "larger"] = "greater"

    @property
    def question(self) -> str:
        """The question as the model sees it."""
        if self.form == "greater":
            return f"Is {self.a} greater than {self.b}?"
        return f"Which is larger, {self.a} or {self.b}?"

    @property
    def kind(self) -> Literal["yesno", "number"]:
        """How to read an answer: yes/no or a number."""
        return "yesno" if self.form == "greater" else "number"

    @property
    def expected(self) -> str:
        """The right answer, normalised as :func:`~course_lib.answers.extract_answer` returns it."""
        a, b = Decimal(self.a), Decimal(self.b)
        if self.form == "greater":
            return "yes" if a > b else "no"
        return format(max(a, b).normalize(), "f")


COMPARISONS: tuple[Comparison, ...] = (
    Comparison("9.11", "9.8"),
    Comparison("9.8", "9.11"),
    Comparison("9.11", "9.8", "larger"),
    Comparison("3.45", "3.5", "larger"),
)
"""The lesson's comparisons: 9.11 vs 9.8, its mirror, and two "which is larger" (lesson 04)."""


@dataclass(frozen=True)
class CotStep:
    """One numbered step of a chain-of-thought reply (lesson 04)."""

    number: int
    text: str


_STEP = re.compile(r"^[\s>*#_`-]*step\s*(\d+)\s*[:.)][\s*_`]*(.*)$", re.IGNORECASE)
_ANSWER = re.compile(r"^[\s>*#_`]*(?:final\s+)?answer\s*[:：]", re.IGNORECASE)


def parse_steps(text: str) -> list[CotStep]:
    """The ``Step N:`` blocks of a reply; lines after a step header belong to it until the next one (lesson 04)."""
    steps: list[CotStep] = []
    current: list[str] | None = None
    number = 0
    for line in (text or "").splitlines():
        header = _STEP.match(line)
        if header or _ANSWER.match(line):
            if current is not None:
                steps.append(CotStep(number, "\n".join(current).strip()))
            current, number = ([header.group(2)], int(header.group(1))) if header else (None, 0)
        elif current is not None:
            current.append(line)
    if current is not None:
        steps.append(CotStep(number, "\n".join(current).strip()))
    return steps


Relation = Literal[">", "<"]
_NUM = r"\d+(?:\.\d+)?"
_GT_WORDS = r"greater|larger|bigger|higher|more"
_LT_WORDS = r"less|smaller|lower"
_STATEMENT = re.compile(
    rf"(?P<x>{_NUM})(?:,?\s+which)?\s+(?:is\s+(?P<fill>(?:[\w.]+\s+){{0,3}}?)(?P<rel>{_GT_WORDS}|{_LT_WORDS})\s+than"
    rf"|(?P<verb>exceeds|is\s+below|is\s+above))\s+(?P<y>{_NUM})",
    re.IGNORECASE,
)
_HYPOTHETICAL = re.compile(r"\b(?:if|whether)\s+$", re.IGNORECASE)
_YES_NO = re.compile(r"^[\s\"'*`(]*(yes|no)\b", re.IGNORECASE)


def claimed_relation(text: str, comparison: Comparison) -> Relation | None:
    """Which way the reply says ``a`` compares with ``b``: ``">"``, ``"<"`` or ``None`` if it never says (lesson 04).

    Reads the last ``Answer:`` line (or "the answer is …") when there is one, else the whole reply. A
    leading yes/no answers "Is a greater than b?"; a bare number, or the first of the two numbers after
    an answer marker, answers "Which is larger?"; otherwise the statement
    "x is [not] greater/less than y" (or "x exceeds y") about the two numbers decides, unless it
    follows "if" or "whether": the first one
    in an answer line, the last one in free text, where the conclusion comes at the end.
    """
    region, marked = answer_region(text or "")
    a, b = Decimal(comparison.a), Decimal(comparison.b)
    if comparison.form == "greater" and (m := _YES_NO.match(region)):
        return ">" if m.group(1).lower() == "yes" else "<"
    if comparison.form == "larger":
        bare = re.fullmatch(rf"[\s*`$]*({_NUM})[\s*`.]*", region)
        named = [Decimal(n) for n in re.findall(_NUM, region) if Decimal(n) in (a, b)] if marked else []
        if bare or named:
            picked = Decimal(bare.group(1)) if bare else named[0]
            return ">" if picked == a else "<" if picked == b else None
    found: list[Relation] = []
    for m in _STATEMENT.finditer(region):
        x, y = Decimal(m.group("x")), Decimal(m.group("y"))
        if {x, y} != {a, b} or x == y or _HYPOTHETICAL.search(region[: m.start()]):
            continue
        word = (m.group("rel") or m.group("verb") or "").lower()
        bigger = bool(re.match(rf"{_GT_WORDS}|exceeds|is\s+above", word))
        if m.group("fill") and re.search(r"\bnot\b", m.group("fill"), re.IGNORECASE):
            bigger = not bigger
        found.append(">" if bigger == (x == a) else "<")
    if not found:
        return None
    return found[0] if marked else found[-1]


@dataclass(frozen=True)
class AnswerTally:
    """How many replies were right, wrong, or gave no readable answer (lesson 04)."""

    correct: int
    wrong: int
    missing: int

    @property
    def total(self) -> int:
        """All replies counted."""
        return self.correct + self.wrong + self.missing

    @property
    def accuracy(self) -> float:
        """Share of all replies that were right (a missing answer counts as not right)."""
        return self.correct / self.total if self.total else 0.0


def tally_answers(texts: Iterable[str], comparison: Comparison) -> AnswerTally:
    """Count replies that claim the right order, the wrong one, or none (lesson 04)."""
    truth: Relation = ">" if Decimal(comparison.a) > Decimal(comparison.b) else "<"
    claims = [claimed_relation(text, comparison) for text in texts]
    missing = claims.count(None)
    correct = claims.count(truth)
    return AnswerTally(correct, len(claims) - missing - correct, missing)
