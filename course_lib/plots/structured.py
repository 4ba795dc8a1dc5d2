"""Plots of lesson 07: what each check accepts per prompt layer, and success by attempt of the correction loop.

matplotlib is imported inside the functions. Each function returns the figure; end the notebook cell
with ``plt.show()`` or ``;``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..validators import ValidationAttempt
from ..widgets.structured import LayerTally, cumulative_success, success_by_attempt

__all__ = ["plot_layer_tallies", "plot_success_by_attempt"]

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
    runs: Sequence[Sequence[ValidationAttempt]],
    max_attempts: int,
    *,
    claim: Sequence[float] | None = None,
    label: str = "measured",
    title: str | None = None,
) -> Any:
    """Bars: share of cases first valid at attempt k; lines: valid within k; optional claimed shares (lesson 07).

    ``claim`` holds shares (0–1) per attempt from another source, drawn beside the measurement.
    """
    import matplotlib.pyplot as plt

    ks = list(range(1, max_attempts + 1))
    ours = [100 * s for s in success_by_attempt(runs, max_attempts)]
    ours_cum = [100 * s for s in cumulative_success(runs, max_attempts)]
    fig, ax = plt.subplots(figsize=(7, 3.8))
    width = 0.38 if claim is not None else 0.6
    shift = width / 2 if claim is not None else 0.0
    bars = ax.bar([k - shift for k in ks], ours, width, label=f"{label}: first valid at attempt k")
    ax.bar_label(bars, fmt="%.0f%%", fontsize=8)
    ax.plot(ks, ours_cum, "o-", label=f"{label}: valid within k attempts")
    if claim is not None:
        theirs = [100 * c for c in list(claim)[:max_attempts]]
        theirs += [0.0] * (max_attempts - len(theirs))
        cum, total = [], 0.0
        for share in theirs:
            total += share
            cum.append(total)
        bars = ax.bar(
            [k + shift for k in ks], theirs, width, label="seed's claim: first valid at k", alpha=0.6
        )
        ax.bar_label(bars, fmt="%.1f%%", fontsize=8)
        ax.plot(ks, cum, "s--", label="seed's claim: valid within k")
    ax.set_xticks(ks)
    ax.set_xlabel("attempt")
    ax.set_ylabel("% of cases")
    ax.set_ylim(0, 110)
    ax.legend(fontsize=8, loc="center right")
    ax.set_title(title or f"Self-correction: success by attempt ({len(runs)} cases)")
    fig.tight_layout()
    return fig
