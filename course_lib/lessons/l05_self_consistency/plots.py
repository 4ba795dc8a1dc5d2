"""Plots of lesson 05: vote distributions, accuracy and cost by number of votes, per-question curves.

matplotlib is imported inside each function; each returns its figure (end the cell with ``;``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["answer_shares", "plot_question_curves", "plot_vote_curve", "plot_vote_distributions"]

_RIGHT = "#2e7d32"
_WRONG = ("#e57373", "#ffb74d", "#ba68c8", "#64b5f6", "#a1887f", "#90a4ae")
_ABSTAIN = "#d9d9d9"


def answer_shares(answers: Sequence[str | None], gold: str | None = None) -> list[tuple[str, float]]:
    """Answers with their share of the samples: the known answer first, then by count, ``no answer`` last (lesson 05)."""
    if not answers:
        return []
    counts = Counter(a for a in answers if a is not None)
    order = sorted(counts, key=lambda a: (a != gold, -counts[a], a))
    shares = [(a, counts[a] / len(answers)) for a in order]
    missing = sum(a is None for a in answers)
    if missing:
        shares.append(("no answer", missing / len(answers)))
    return shares


def plot_vote_distributions(
    pools: Sequence[Any],
    *,
    labels: Sequence[str] | None = None,
    title: str = "How the samples voted",
    width: float = 10.0,
) -> Any:
    """One bar per question: the share of samples giving each answer, the right one in green (lesson 05).

    ``pools`` are :class:`~course_lib.lessons.l05_self_consistency.vote_eval.QuestionPool` objects (``question``, ``gold``, ``answers``);
    ``labels`` replaces the question text on the axis.
    """
    import matplotlib.pyplot as plt

    names = list(labels) if labels is not None else [p.question for p in pools]
    fig, ax = plt.subplots(figsize=(width, 0.45 * len(pools) + 1.3))
    for row, pool in enumerate(pools):
        left, wrong = 0.0, 0
        for answer, share in answer_shares(pool.answers, pool.gold):
            if answer == pool.gold:
                colour = _RIGHT
            elif answer == "no answer":
                colour = _ABSTAIN
            else:
                colour, wrong = _WRONG[wrong % len(_WRONG)], wrong + 1
            ax.barh(row, share, left=left, color=colour, edgecolor="white", height=0.75)
            if share >= 0.08:
                text = "–" if answer == "no answer" else answer
                ax.text(left + share / 2, row, text[:6], ha="center", va="center", fontsize=8, color="black")
            left += share
    ax.set_yticks(
        range(len(pools)), [f"{n}  [{p.gold}]" for n, p in zip(names, pools, strict=True)], fontsize=8
    )
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.axvline(0.5, color="black", lw=0.8, ls=":")
    ax.set_xlabel("share of samples (green: the right answer, shown in brackets; grey: no readable answer)")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_vote_curve(
    curve: Sequence[Any],
    *,
    claims: Mapping[str, Mapping[int, tuple[float, float]]] | None = None,
    title: str = "Self-consistency on the quiz",
) -> Any:
    """Left: accuracy of majority and weighted votes and agreement by N; right: tokens per question (lesson 05).

    ``curve`` holds :class:`~course_lib.lessons.l05_self_consistency.vote_eval.CurvePoint` rows, N = 1 first. ``claims`` maps a label
    to ``{N: (low, high)}`` accuracy ranges someone claims, each drawn as a shaded band.
    """
    import matplotlib.pyplot as plt

    ns = [p.n for p in curve]
    base = curve[0].majority_accuracy
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4), gridspec_kw={"width_ratios": [3, 2]})
    for (label, band), colour, hatch in zip(
        (claims or {}).items(), ("#fdd835", "#80deea", "#ce93d8"), ("", "//", "\\\\"), strict=False
    ):
        cn = sorted(band)
        left.fill_between(
            cn,
            [band[n][0] for n in cn],
            [band[n][1] for n in cn],
            facecolor=colour,
            alpha=0.4,
            hatch=hatch,
            edgecolor="#9e9e9e",
            linewidth=0,
            label=label,
        )
    left.plot(ns, [p.majority_accuracy for p in curve], "o-", color=_RIGHT, label="majority vote")
    left.plot(ns, [p.weighted_accuracy for p in curve], "s--", color="#1565c0", label="logprob-weighted vote")
    left.plot(ns, [p.agreement for p in curve], "^:", color="#757575", label="agreement with the winner")
    left.axhline(base, color="black", lw=0.8, ls="--", label=f"one sample ({base:.0%})")
    left.set_xticks(ns)
    left.set_ylim(0, 1.05)
    left.set_xlabel("samples per question (N)")
    left.set_ylabel("share")
    left.set_title(title)
    left.legend(loc="lower right", fontsize=8)

    tokens = [p.tokens_per_question for p in curve]
    right.bar([str(n) for n in ns], tokens, color="#90a4ae")
    for i, t in enumerate(tokens):
        right.text(i, t, f"{t / tokens[0]:.0f}×", ha="center", va="bottom", fontsize=9)
    right.set_xlabel("samples per question (N)")
    right.set_ylabel("tokens per question")
    right.set_title("Cost grows linearly with N")
    fig.tight_layout()
    return fig


def _gold_leads(pool: Any) -> bool:
    """True when the known answer is strictly the most common answer of the pool."""
    counts = Counter(a for a in pool.answers if a is not None)
    right = counts.pop(pool.gold, 0)
    return right > max(counts.values(), default=0)


def plot_question_curves(
    curve: Sequence[Any],
    pools: Sequence[Any] | None = None,
    *,
    theory_ps: Sequence[float] = (0.3, 0.45, 0.55, 0.7, 0.9),
) -> Any:
    """Left: majority-vote accuracy by N for each question; right: the same for independent votes (lesson 05).

    With ``pools``, a question is green when its right answer is the most common one in the pool (a
    plurality, possibly under half), red otherwise; without, green means right in more than half.
    """
    import matplotlib.pyplot as plt

    from course_lib.lessons.l05_self_consistency.vote_eval import condorcet_accuracy

    ns = [p.n for p in curve]
    leads = {p.question: _gold_leads(p) for p in pools} if pools is not None else {}
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for question, first in curve[0].per_question.items():
        good = leads.get(question, first > 0.5)
        colour = _RIGHT if good else "#c62828"
        left.plot(ns, [p.per_question[question] for p in curve], "o-", color=colour, alpha=0.7, lw=1.2)
    if pools is not None:
        left.plot([], [], color=_RIGHT, label="the right answer is the most common")
        left.plot([], [], color="#c62828", label="a wrong answer is as common or more")
    else:
        left.plot([], [], color=_RIGHT, label="right in more than half the samples")
        left.plot([], [], color="#c62828", label="right in half or fewer")
    left.set_title("Measured: each quiz question")
    left.set_xlabel("samples per question (N)")
    left.set_ylabel("majority-vote accuracy")
    left.set_xticks(ns)
    left.set_ylim(-0.03, 1.03)
    left.legend(loc="center right", fontsize=8)
    for p in theory_ps:
        colour = _RIGHT if p > 0.5 else "#c62828"
        right.plot(ns, [condorcet_accuracy(p, n) for n in ns], "o--", color=colour, alpha=0.8)
        right.text(ns[-1] + 0.3, condorcet_accuracy(p, ns[-1]), f"p={p:g}", va="center", fontsize=8)
    right.set_title("Theory: independent yes/no votes, each right with chance p")
    right.set_xlabel("samples per question (N)")
    right.set_xticks(ns)
    right.set_xlim(ns[0] - 0.5, ns[-1] + 2)
    fig.tight_layout()
    return fig
