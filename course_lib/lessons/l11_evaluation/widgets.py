"""Epochs and the release threshold: how many samples a verdict needs (lesson 11).

:func:`epochs_report` takes each version's run (case → pass per epoch), keeps the first ``epochs``
epochs, and says for each version its pass rate, its Wilson interval and whether the criterion
``rate >= threshold`` is met for sure (the whole interval above it), ruled out (the whole interval
below) or undecided. :func:`epochs_widget` puts two sliders over it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from course_lib.evals.stats import wilson_interval

__all__ = ["epochs_report", "epochs_widget", "verdict"]

Run = Mapping[str, Sequence[bool]]


def verdict(low: float, high: float, threshold: float) -> str:
    """``"meets"``, ``"fails"`` or ``"undecided"``: where the interval lies against the threshold (lesson 11)."""
    if low >= threshold:
        return "meets"
    if high < threshold:
        return "fails"
    return "undecided"


def epochs_report(runs: Mapping[str, Run], epochs: int, threshold: float) -> str:
    """Pass rate, 95 % interval and verdict per version, from the first ``epochs`` epochs (lesson 11)."""
    lines = [f"first {epochs} epoch(s), criterion: pass rate >= {threshold:.0%}"]
    for label, run in runs.items():
        flat = [v for answers in run.values() for v in list(answers)[:epochs]]
        k, n = sum(flat), len(flat)
        low, high = wilson_interval(k, n)
        lines.append(
            f"  {label:<16} {k:>3}/{n:<3} = {k / n:6.1%}  95% CI [{low:6.1%}, {high:6.1%}]  "
            f"{verdict(low, high, threshold)}"
        )
    return "\n".join(lines)


def epochs_widget(runs: Mapping[str, Run], max_epochs: int) -> Any:
    """Sliders over the number of epochs and the threshold, showing :func:`epochs_report` (lesson 11)."""
    import ipywidgets as widgets

    epochs = widgets.IntSlider(value=1, min=1, max=max_epochs, description="epochs")
    threshold = widgets.FloatSlider(value=0.9, min=0.5, max=1.0, step=0.01, description="threshold")
    return widgets.interactive(lambda e, t: print(epochs_report(runs, e, t)), e=epochs, t=threshold)
