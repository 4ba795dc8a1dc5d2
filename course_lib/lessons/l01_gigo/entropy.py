"""Garbage in, garbage out in bits: the next-token entropy of vague and specific requests (lesson 01).

A model's answer is drawn token by token from a probability distribution. How spread out that
distribution is, its entropy in bits, says how much the request pins the answer down. The server
returns the ``k`` most likely tokens at each position (``top_logprobs``), not the whole vocabulary,
so :func:`topk_entropy_bits` is the *entropy over the top k*: the top-k probabilities renormalised to
sum to 1. It is a lower bound on the spread (the tail is missing); :func:`covered_mass` says how much
of the distribution the top k hold. :func:`request_entropy` averages it over the first answer tokens,
not only the first one, because an answer's opening word is often fixed ("The", "Yes") while the
choice happens a few tokens later.

:data:`ENTROPY_PAIRS` holds the same requests in a vague and a specific form; :func:`measure_entropy`
asks a provider each of them at temperature 0 with ``top_logprobs`` and returns one
:class:`EntropyRow` per request.

The second half is the measurement a team runs before letting a model write prompts at inference
time: :func:`score_instruction` scores one extraction instruction on labelled sentences, so a
human-written instruction and model-written candidates are compared on the same data, the best
candidate picked on a development set and judged on held-out sentences.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from statistics import mean
from typing import Any

__all__ = [
    "ENTROPY_PAIRS",
    "ENTROPY_PARAMS",
    "INSTRUCTION_PARAMS",
    "META_PARAMS",
    "META_PROMPT",
    "EntropyPair",
    "EntropyRow",
    "InstructionScore",
    "covered_mass",
    "entropy_report",
    "entropy_request",
    "entropy_summary",
    "measure_entropy",
    "request_entropy",
    "score_instruction",
    "topk_entropy_bits",
]

ENTROPY_PARAMS: dict[str, Any] = {"temperature": 0, "max_tokens": 8, "logprobs": True, "top_logprobs": 20}
"""Greedy decoding with the 20 most likely tokens at each of the first 8 answer positions (lesson 01)."""


@dataclass(frozen=True)
class EntropyPair:
    """One request in a vague and a specific form: the same need, more or less said (lesson 01)."""

    intent: str
    vague: str
    specific: str


ENTROPY_PAIRS: tuple[EntropyPair, ...] = (
    EntropyPair(
        "missing deposit",
        "Money not showing",
        "My salary was paid into my checking account this morning but the balance has not changed. "
        "Answer with one word, yes or no: can a deposit stay pending for a few hours?",
    ),
    EntropyPair(
        "status update",
        "Write about the outage.",
        "Write one sentence for our status page: the payments API failed from 14:05 to 14:20 UTC "
        "because of a database lock, and it is fixed now.",
    ),
    EntropyPair(
        "python question",
        "Tell me about Python.",
        "What does Python's len() return for the list [3, 5, 7]? Answer with the number only.",
    ),
    EntropyPair(
        "database choice",
        "Recommend a database.",
        "Which database is built for time-series metrics: PostgreSQL, Redis or Prometheus? "
        "Answer with the name only.",
    ),
    EntropyPair(
        "bug report",
        "My code is broken.",
        "My Python function adds up a list but the caller gets None. Which keyword did I forget? "
        "Answer with one word.",
    ),
    EntropyPair(
        "capital",
        "Tell me about France.",
        "What is the capital of France? Answer with the city's name only.",
    ),
)
"""The lesson's request pairs (lesson 01)."""


def entropy_request(prompt: str) -> list[dict[str, str]]:
    """The messages sent for one form of a request: the prompt as the only user turn (lesson 01)."""
    return [{"role": "user", "content": prompt}]


def topk_entropy_bits(top: Mapping[str, float]) -> float:
    """Entropy in bits of the top-k distribution, its probabilities renormalised to sum to 1 (lesson 01).

    ``top`` maps each token to its log-probability (natural log), as ``top_logprobs`` gives them.
    """
    if not top:
        raise ValueError("entropy needs at least one token's log-probability")
    probs = [math.exp(lp) for lp in top.values()]
    total = sum(probs)
    return max(0.0, -sum(p / total * math.log2(p / total) for p in probs if p > 0))


def covered_mass(top: Mapping[str, float]) -> float:
    """How much of the next-token probability the top k tokens hold, between 0 and 1 (lesson 01)."""
    return min(1.0, sum(math.exp(lp) for lp in top.values()))


@dataclass(frozen=True)
class EntropyRow:
    """One request's measurement: the entropy and coverage at each answer position (lesson 01)."""

    intent: str
    form: str
    answer: str
    bits: tuple[float, ...]
    coverage: tuple[float, ...]
    source: str = ""
    """Where the answer came from (``recorded``, ``scripted`` or ``live``)."""
    tokens: tuple[str, ...] = ()
    """The token chosen at each measured position."""
    tops: tuple[tuple[tuple[str, float], ...], ...] = ()
    """At each measured position, the three most likely tokens with their probabilities."""

    @property
    def mean_bits(self) -> float:
        """Mean entropy over the measured answer tokens (bits)."""
        return mean(self.bits)

    @property
    def mean_coverage(self) -> float:
        """Mean share of the probability the top k held at those positions."""
        return mean(self.coverage)


def request_entropy(result: Any, *, tokens: int = 8) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Entropy (bits) and coverage at each of the first ``tokens`` answer positions of a result (lesson 01).

    ``result`` is a :class:`~course_lib.providers.base.ChatResult` asked with ``logprobs=True`` and
    ``top_logprobs``; positions without top log-probabilities are skipped.
    """
    logprobs = result.choices[0].logprobs if result.choices else None
    if not logprobs:
        raise ValueError("the result carries no logprobs: ask with logprobs=True and top_logprobs=k")
    tops = [t.top for t in logprobs[:tokens] if t.top]
    if not tops:
        raise ValueError("the result's logprobs carry no top_logprobs: ask with top_logprobs=k")
    return tuple(topk_entropy_bits(t) for t in tops), tuple(covered_mass(t) for t in tops)


def measure_entropy(
    provider: Any,
    pairs: Sequence[EntropyPair] = ENTROPY_PAIRS,
    *,
    params: Mapping[str, Any] = ENTROPY_PARAMS,
) -> list[EntropyRow]:
    """Ask each form of each pair once and measure its answer's entropy (lesson 01)."""
    rows = []
    for pair in pairs:
        for form, prompt in (("vague", pair.vague), ("specific", pair.specific)):
            result = provider.complete(entropy_request(prompt), **params)
            n = int(params.get("max_tokens", 8))
            bits, coverage = request_entropy(result, tokens=n)
            measured = [t for t in (result.choices[0].logprobs or [])[:n] if t.top]
            tops = tuple(
                tuple((tok, math.exp(lp)) for tok, lp in sorted(t.top.items(), key=lambda kv: -kv[1])[:3])
                for t in measured
            )
            rows.append(
                EntropyRow(
                    pair.intent,
                    form,
                    result.text,
                    bits,
                    coverage,
                    result.source,
                    tuple(t.token for t in measured),
                    tops,
                )
            )
    return rows


def entropy_report(rows: Sequence[EntropyRow], intent: str, form: str) -> str:
    """One request's answer token by token: the token chosen, the bits, and the three likeliest (lesson 01)."""
    row = next((r for r in rows if r.intent == intent and r.form == form), None)
    if row is None:
        raise ValueError(f"no measurement for {intent!r} / {form!r}")
    lines = [f"{intent} ({form}) [{row.source}]: mean {row.mean_bits:.2f} bits over {len(row.bits)} tokens"]
    for i, (bits, chosen) in enumerate(zip(row.bits, row.tokens or ("?",) * len(row.bits), strict=False)):
        tops = row.tops[i] if i < len(row.tops) else ()
        alternatives = "  ".join(f"{tok!r} {p:.0%}" for tok, p in tops)
        lines.append(f"  {i + 1}. {chosen!r:14} {bits:4.2f} bits   top 3: {alternatives}")
    return "\n".join(lines)


def entropy_summary(rows: Sequence[EntropyRow]) -> dict[str, Any]:
    """Per form, the mean bits and coverage; and in how many pairs the specific form is lower (lesson 01)."""
    by_form = {form: [r for r in rows if r.form == form] for form in ("vague", "specific")}
    paired = {
        r.intent: r.mean_bits - s.mean_bits
        for r in by_form["vague"]
        for s in by_form["specific"]
        if r.intent == s.intent
    }
    return {
        "mean_bits": {f: mean(r.mean_bits for r in rs) for f, rs in by_form.items() if rs},
        "mean_coverage": {f: mean(r.mean_coverage for r in rs) for f, rs in by_form.items() if rs},
        "pairs": len(paired),
        "specific_lower": sum(d > 0 for d in paired.values()),
        "drop_bits": paired,
    }


# --------------------------------------------------------------------------- model-written prompts

META_PROMPT = (
    "Write one instruction for an assistant. The assistant will receive a sentence that mentions a "
    'person and must reply with JSON only, exactly like {"name": "..."}. Reply with the instruction only.'
)
"""The request that asks the model to write the extraction instruction itself (lesson 01)."""
META_PARAMS: dict[str, Any] = {"temperature": 0.8, "max_tokens": 60}
"""How the candidate instructions are sampled (lesson 01)."""
INSTRUCTION_PARAMS: dict[str, Any] = {"temperature": 0.7, "max_tokens": 40}
"""How each instruction is scored: two samples per sentence at this temperature (lesson 01)."""


@dataclass(frozen=True)
class InstructionScore:
    """How often an instruction got the exact JSON with the right name, on some sentences (lesson 01)."""

    instruction: str
    right: int
    total: int

    @property
    def rate(self) -> float:
        """The share of answers that were exactly right (0 when nothing was asked)."""
        return self.right / self.total if self.total else 0.0


def score_instruction(
    provider: Any,
    instruction: str,
    cases: Sequence[tuple[str, str]],
    is_right: Callable[[str, str], bool],
    *,
    samples: int = 2,
    params: Mapping[str, Any] = INSTRUCTION_PARAMS,
) -> InstructionScore:
    """Send ``instruction`` + each case's sentence ``samples`` times and count right answers (lesson 01).

    ``is_right(answer, expected)`` judges one answer; the instruction and the sentence go in one user
    turn, separated by a blank line.
    """
    if not instruction.strip():
        raise ValueError("an empty instruction cannot be scored")
    right = total = 0
    for sentence, expected in cases:
        for _ in range(samples):
            text = provider.complete(
                [{"role": "user", "content": f"{instruction.strip()}\n\n{sentence}"}], **params
            ).text
            right += bool(is_right(text, expected))
            total += 1
    return InstructionScore(instruction.strip(), right, total)
