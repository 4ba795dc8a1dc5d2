"""Plots of lesson 07: what each check accepts per prompt layer, and success by attempt of the correction loop.

matplotlib is imported inside the functions. Each function returns the figure; end the notebook cell
with ``plt.show()`` or ``;``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from course_lib.lessons.l07_structured_output.widgets import LayerTally, success_by_attempt
from course_lib.validators import ValidationAttempt

__all__ = ["plot_layer_tallies", "plot_success_by_attempt", "plot_valid_correct"]

_CHECKS = (
    ("json_loads", "json.loads works"),
    ("extracted", "JSON found (extract_json)"),
    ("schema_valid", "schema valid"),
    ("grounded", "valid and copied from the text"),
)


def plot_layer_tallies(tallies: Sequence[LayerTally], *, title: str | None = None) -> Any:
    """Grouped bars: per prompt layer, the share of replies each check accepts (lesson 07)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.8))
    width = 0.8 / len(_CHECKS)
    for j, (field, label) in enumerate(_CHECKS):
        xs = [i + (j - (len(_CHECKS) - 1) / 2) * width for i in range(len(tallies))]
        shares = [100 * getattr(t, field) / t.total if t.total else 0 for t in tallies]
        bars = ax.bar(xs, shares, width, label=label)
        ax.bar_label(bars, labels=[f"{getattr(t, field)}" for t in tallies], fontsize=7, padding=1)
    ax.set_xticks(range(len(tallies)), [t.label for t in tallies])
    ax.set_ylabel("% of replies")
    ax.set_ylim(0, 112)
    ax.legend(fontsize=8, loc="upper left", ncols=2)
    ax.set_title(title or "What each check accepts (bar labels: counts)")
    fig.tight_layout()
    return fig


def plot_success_by_attempt(
    series: Mapping[str, Sequence[Sequence[ValidationAttempt]]],
    max_attempts: int,
    *,
    claim: Sequence[float] | None = None,
    claim_label: str = "expected",
    title: str | None = None,
) -> Any:
    """Bars: share of cases first valid at attempt k, per series; lines: valid within k attempts (lesson 07).

    ``series`` maps a label to the loop runs measured under it; ``claim`` holds shares (0-1) per
    attempt claimed elsewhere, drawn beside them.
    """
    import matplotlib.pyplot as plt

    ks = list(range(1, max_attempts + 1))
    rows: list[tuple[str, list[float]]] = [
        (label, [100 * s for s in success_by_attempt(runs, max_attempts)]) for label, runs in series.items()
    ]
    if claim is not None:
        shares = [100 * c for c in list(claim)[:max_attempts]]
        rows.append(("claimed", shares + [0.0] * (max_attempts - len(shares))))
    fig, ax = plt.subplots(figsize=(8, 4.8))
    width = 0.8 / len(rows)
    for j, (label, shares) in enumerate(rows):
        xs = [k + (j - (len(rows) - 1) / 2) * width for k in ks]
        bars = ax.bar(xs, shares, width, label=f"{label}: first valid at attempt k")
        ax.bar_label(bars, fmt="%.1f", fontsize=7)
        within, total = [], 0.0
        for share in shares:
            total += share
            within.append(total)
        color = bars.patches[0].get_facecolor()
        ax.plot(ks, within, "o--", color=color, alpha=0.8, label=f"{label}: valid within k")
    ax.set_xticks(ks)
    ax.set_xlabel("attempt")
    ax.set_ylabel("% of cases")
    ax.set_ylim(0, 110)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncols=2)
    cases = ", ".join(f"{len(runs)}" for runs in series.values())
    ax.set_title(title or f"Self-correction: success by attempt (cases per series: {cases})")
    fig.tight_layout()
    return fig


def plot_valid_correct(counts: Sequence[Any], *, title: str | None = None) -> Any:
    """Paired horizontal bars per enforcement layer: replies valid, and replies correct (lesson 07).

    ``counts`` are rows with ``layer``, ``total``, ``valid`` and ``correct`` (e.g.
    :class:`~course_lib.lessons.l07_structured_output.constrained.LayerCount`). Bar labels are counts.
    """
    import matplotlib.pyplot as plt

    if not counts:
        raise ValueError("counts is empty: pass at least one layer's count")
    fig, ax = plt.subplots(figsize=(8, 0.55 * len(counts) + 1.4))
    ys = range(len(counts))
    for offset, field, color, label in ((-0.2, "valid", "#9ecae1", "valid (parses, matches the schema)"),
                                        (0.2, "correct", "#31a354", "correct (the right values)")):  # fmt: skip
        values = [getattr(c, field) for c in counts]
        bars = ax.barh([y + offset for y in ys], values, 0.4, color=color, label=label)
        ax.bar_label(
            bars,
            labels=[f"{v}/{c.total}" for v, c in zip(values, counts, strict=True)],
            fontsize=8,
            padding=2,
        )
    ax.set_yticks(list(ys), [c.layer for c in counts])
    ax.invert_yaxis()
    ax.set_xlim(0, max(c.total for c in counts) * 1.18)
    ax.set_xlabel("replies (of the texts)")
    ax.legend(fontsize=8, loc="lower right", frameon=False)
    ax.set_title(title or "Valid is not correct: each enforcement layer on the same texts", fontsize=10)
    fig.tight_layout()
    return fig
