"""Lesson 05's evidence box: each claim about voting and what backs it (lesson 05).

The measured figures are recomputed from the SmolLM2-135M quiz recordings with the same functions and
settings as the lesson (21 samples per question at T=0.7, 400 seeded draws per N); the test suite
checks that they still match the text below.
"""

from __future__ import annotations

from typing import Any

from course_lib.lessons._evidence import Claim
from course_lib.lessons.l05_self_consistency.vote_eval import QUIZ, collect_pools, vote_curve
from course_lib.voting import stop_point

__all__ = ["CLAIMS", "NS", "early_stop", "per_question", "temperature_zero", "voting_gain", "weighted_gain"]

RECORDINGS = "05_self_consistency"
MODEL = "SmolLM2-135M-Instruct"
NS = (1, 3, 5, 7, 11)
"""The vote sizes the lesson measures (lesson 05)."""


def _pools(**kw: Any) -> list[Any]:
    from course_lib.providers.registry import get_provider

    provider = get_provider("replay", model=MODEL, recordings=RECORDINGS)
    return collect_pools(provider, **kw)


def _curve() -> tuple[list[Any], list[Any]]:
    pools = _pools(samples=21, concurrency=21)
    return pools, vote_curve(pools, NS, draws=400, seed=5)


def voting_gain() -> str:
    """One sample against an 11-sample majority vote, and the tokens it costs (lesson 05)."""
    pools, curve = _curve()
    one, last = curve[0], curve[-1]
    gain = 100 * (last.majority_accuracy - one.majority_accuracy)
    return (
        f"{one.majority_accuracy:.1%} with one sample, {last.majority_accuracy:.1%} with an {last.n}-sample "
        f"majority vote ({gain:+.1f} points) for {last.tokens_per_question / one.tokens_per_question:.1f}x "
        f"the tokens; {len(pools)} questions, {len(pools[0].answers)} recorded samples each"
    )


def weighted_gain() -> str:
    """Weighted against majority vote on the same draws, at the largest N (lesson 05)."""
    _, curve = _curve()
    last = curve[-1]
    diff = 100 * (last.weighted_accuracy - last.majority_accuracy)
    return f"N={last.n}: weighted {last.weighted_accuracy:.1%}, majority {last.majority_accuracy:.1%} ({diff:+.1f} points)"


def per_question() -> str:
    """How many questions an 11-sample vote helps and hurts by more than 5 points (lesson 05)."""
    _, curve = _curve()
    first, last = curve[0].per_question, curve[-1].per_question
    better = sum(last[q] > first[q] + 0.05 for q in first)
    worse = sum(last[q] < first[q] - 0.05 for q in first)
    return f"better on {better} of {len(first)} questions, worse on {worse} (by more than 5 points, N={curve[-1].n})"


def temperature_zero() -> str:
    """Distinct answers among 5 samples at temperature 0 (lesson 05)."""
    demo = [q for q in QUIZ if q.question in ("What is 4 times 3?", "Is water wet? Answer yes or no.")]
    pools = _pools(quiz=demo, samples=5, temperature=0.0, concurrency=5)
    distinct = sorted({len(set(p.answers)) for p in pools})
    return (
        f"{'/'.join(map(str, distinct))} distinct answer(s) in 5 samples, for each of {len(pools)} questions"
    )


def early_stop() -> str:
    """Samples a 7-sample vote needed before its winner was fixed (lesson 05)."""
    pools = _pools(samples=21, concurrency=21)
    needed = [stop_point(p.answers[:7], 7, rule="winner") for p in pools]
    return f"{sum(needed) / len(needed):.1f} of 7 samples needed on average: {1 - sum(needed) / (7 * len(needed)):.0%} saved"


CLAIMS = [
    Claim(
        "At temperature 0 every sample is the same, so a vote adds nothing",
        "measured",
        "1 distinct answer(s) in 5 samples, for each of 2 questions",
        where="Temperature creates the diversity voting needs",
        recordings=RECORDINGS,
        figure=temperature_zero,
    ),
    Claim(
        "Voting over a small model's real disagreement raises its quiz accuracy, at N times the tokens",
        "measured",
        "41.3% with one sample, 51.6% with an 11-sample majority vote (+10.3 points) for 11.0x the tokens; "
        "12 questions, 21 recorded samples each",
        where="The experiment",
        recordings=RECORDINGS,
        figure=voting_gain,
    ),
    Claim(
        "Voting amplifies what the model does most often: it helps some questions and hurts others",
        "measured",
        "better on 7 of 12 questions, worse on 3 (by more than 5 points, N=11)",
        where="The experiment",
        recordings=RECORDINGS,
        figure=per_question,
    ),
    Claim(
        "Weighting votes by log-probability changes accuracy only a little",
        "measured",
        "N=11: weighted 53.6%, majority 51.6% (+2.1 points)",
        where="Weighted votes",
        recordings=RECORDINGS,
        figure=weighted_gain,
    ),
    Claim(
        "Early stopping saves samples once the winner is fixed",
        "measured",
        "5.6 of 7 samples needed on average: 20% saved",
        where="Early stopping",
        recordings=RECORDINGS,
        figure=early_stop,
    ),
    Claim(
        "Self-consistency improves chain-of-thought accuracy on large models",
        "cited",
        "Wang et al., 2023, Self-Consistency Improves Chain of Thought Reasoning in Language Models (ICLR): "
        "GSM8K +17.9 points over greedy chain of thought (their headline gain); PaLM 540B reached 74.4 % "
        "with a majority over 40 sampled reasoning paths",
        where="What the literature reports",
    ),
    Claim(
        "Independent votes that are each right more often than not converge on the right answer",
        "illustrated",
        "computed with the binomial formula (Condorcet's jury theorem) for assumed accuracies, not measured",
        where="The experiment",
    ),
    Claim(
        "A 3-to-2 split is escalated rather than answered",
        "illustrated",
        "five sentiment replies scripted by the course; the vote and the gate are computed",
        where="Fan-out",
    ),
    Claim(
        "Rules first, a vote, a gate and a person catch the cases a vote alone would miss",
        "illustrated",
        "triage votes scripted by the course; the layer figures are stated assumptions, computed",
        where="Checkpoint: medical triage",
    ),
]
