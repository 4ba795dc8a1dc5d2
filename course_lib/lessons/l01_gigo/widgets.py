"""Widgets of lesson 01: the next-token entropy of one request, token by token; and the share of queries
each tier catches, with its cost per day and latency.

:func:`entropy_explorer` prints :func:`~course_lib.lessons.l01_gigo.entropy.entropy_report` for the
request picked; the sliders drive :func:`cascade_summary`, a plain function the lesson also calls
directly, built on :func:`~course_lib.lessons.l01_gigo.banking.cascade_economics` with the assumed
per-tier figures. ipywidgets is imported when a widget is built.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from course_lib.lessons.l01_gigo.banking import (
    ASSUMED_BASELINE,
    ASSUMED_TIER_COSTS,
    TierCost,
    cascade_economics,
)
from course_lib.lessons.l01_gigo.entropy import EntropyRow, entropy_report

__all__ = ["cascade_controls", "cascade_shares", "cascade_summary", "entropy_explorer"]


def entropy_explorer(rows: Sequence[EntropyRow], intent: str | None = None) -> Any:
    """Pick a request and its form; print :func:`~course_lib.lessons.l01_gigo.entropy.entropy_report` (lesson 01)."""
    import ipywidgets as widgets

    intents = list(dict.fromkeys(r.intent for r in rows))
    pick = widgets.Dropdown(options=intents, value=intent or intents[0], description="request")
    form = widgets.ToggleButtons(options=["vague", "specific"], value="vague", description="form")
    out = widgets.Output()

    def show(*_: Any) -> None:
        out.clear_output(wait=True)
        with out:
            print(entropy_report(rows, pick.value, form.value))

    pick.observe(show, names="value")
    form.observe(show, names="value")
    show()
    return widgets.VBox([widgets.HBox([pick, form]), out])


def cascade_shares(faq_share: float, small_share: float) -> dict[str, float]:
    """The tier mix when the rules catch ``faq_share`` and the small model ``small_share``; the large model gets the rest (lesson 01)."""
    for name, value in (("faq_share", faq_share), ("small_share", small_share)):
        if not 0 <= value <= 1:
            raise ValueError(f"{name} must be between 0 and 1, got {value}")
    large = 1 - faq_share - small_share
    if large < -1e-9:
        raise ValueError(
            f"the rules ({faq_share:.0%}) and the small model ({small_share:.0%}) would catch more than "
            "every query; lower one of them"
        )
    return {"faq": faq_share, "small": small_share, "large": max(0.0, large)}


def cascade_summary(
    faq_share: float = 0.30,
    small_share: float = 0.30,
    *,
    queries_per_day: float = 100_000,
    tier_costs: Mapping[str, TierCost] = ASSUMED_TIER_COSTS,
    baseline: TierCost = ASSUMED_BASELINE,
) -> str:
    """Cost per query, per day and per year, and mean latency, of a tier mix against the baseline (lesson 01)."""
    try:
        shares = cascade_shares(faq_share, small_share)
    except ValueError as exc:
        return f"not a valid mix: {exc}"
    e = cascade_economics(shares, tier_costs, queries_per_day=queries_per_day, baseline=baseline)
    mix = " / ".join(f"{name} {share:.0%}" for name, share in shares.items())
    return "\n".join(
        [
            f"tier mix            {mix}",
            f"cost per query      ${e['cost_per_query']:.5f}   (baseline ${baseline.cost_per_query:.5f})",
            f"cost per day        ${e['cost_per_day']:,.0f}   (baseline ${e['baseline_cost_per_day']:,.0f}, "
            f"saves {e['savings_share']:.1%})",
            f"cost per year       ${e['cost_per_year']:,.0f}",
            f"mean latency        {e['mean_latency_s']:.2f} s   (baseline {baseline.latency_s:.2f} s, "
            f"{e['latency_change']:+.0%})",
        ]
    )


def cascade_controls(faq_share: float = 0.30, small_share: float = 0.30, **kwargs: Any) -> Any:
    """Two sliders (rules' share, small model's share) printing :func:`cascade_summary` (lesson 01)."""
    import ipywidgets as widgets

    style = {"description_width": "150px"}
    layout = widgets.Layout(width="520px")
    faq = widgets.FloatSlider(value=faq_share, min=0, max=1, step=0.05, description="FAQ rules catch",
                              readout_format=".0%", style=style, layout=layout)  # fmt: skip
    small = widgets.FloatSlider(value=small_share, min=0, max=1, step=0.05, description="small model answers",
                                readout_format=".0%", style=style, layout=layout)  # fmt: skip
    return widgets.interactive(lambda faq_share, small_share: print(cascade_summary(faq_share, small_share, **kwargs)),
                               faq_share=faq, small_share=small)  # fmt: skip
