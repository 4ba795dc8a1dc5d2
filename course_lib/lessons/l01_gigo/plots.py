"""Plots of lesson 01: what repeated answers are about, how sure the model is of its next tokens, and what each tier of the cascade costs a day.

matplotlib is imported inside each function. Every function draws on ``ax`` when given (so a lesson
can lay out several panels) and returns the axes it drew on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from course_lib.lessons._plotting import axes_or_new, money_label

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from course_lib.lessons.l01_gigo.entropy import EntropyRow
    from course_lib.lessons.l01_gigo.scenario import Spread

__all__ = ["answer_spread_bars", "entropy_bars", "tier_cost_bars"]

_TOPIC_COLOURS = ("#2471a3", "#1e8449", "#b9770e", "#7d3c98", "#c0392b", "#5d6d7e", "#17a589")
_OFF_TOPIC_COLOUR = "#d5d8dc"
_FORM_COLOURS = {"vague": "#b9770e", "specific": "#2471a3"}
_TIER_COLOURS = {"faq": "#1e8449", "small": "#2471a3", "large": "#c0392b", "human": "#7d3c98"}


def answer_spread_bars(
    spreads: Mapping[str, Spread], *, ax: Axes | None = None, title: str | None = None
) -> Axes:
    """One horizontal bar per request, split by the main topic of each sampled answer (lesson 01).

    Off-topic answers are grey, so a request that holds the model on topic shows more colour, and
    one that narrows it to one reading shows one colour.
    """
    from course_lib.lessons.l01_gigo.scenario import OFF_TOPIC

    if not spreads:
        raise ValueError("answer_spread_bars needs at least one Spread")
    ax = axes_or_new(ax, (8, 0.9 * len(spreads) + 1.6))
    names = list(spreads)
    topics = list(next(iter(spreads.values())).topics)
    colours = iter(_TOPIC_COLOURS)
    for topic in topics:
        colour = _OFF_TOPIC_COLOUR if topic == OFF_TOPIC else next(colours, "#aab7b8")
        lefts = [
            sum(n for t, n in spreads[name].topics.items() if topics.index(t) < topics.index(topic))
            for name in names
        ]
        widths = [spreads[name].topics.get(topic, 0) for name in names]
        bars = ax.barh(names, widths, left=lefts, color=colour, edgecolor="white", label=topic)
        for bar, width in zip(bars, widths, strict=True):
            if width:
                ax.text(bar.get_x() + width / 2, bar.get_y() + bar.get_height() / 2, str(width),
                        ha="center", va="center", fontsize=8)  # fmt: skip
    ax.invert_yaxis()
    ax.set_xlabel("sampled answers, by main topic")
    ax.set_xlim(0, max(s.samples for s in spreads.values()))
    ax.legend(
        ncol=min(len(topics), 6), loc="upper center", bbox_to_anchor=(0.5, -0.2), fontsize=8, frameon=False
    )
    ax.set_title(title or "What the answers to one query are about")
    ax.figure.tight_layout()
    return ax


def entropy_bars(
    rows: Sequence[EntropyRow], *, ax: Axes | None = None, title: str | None = None, top_k: int = 20
) -> Axes:
    """Mean next-token entropy of each request, vague beside specific, one pair per intent (lesson 01).

    Each bar is labelled with how many answer tokens it averages; rows come from
    :func:`~course_lib.lessons.l01_gigo.entropy.measure_entropy`.
    """
    if not rows:
        raise ValueError("entropy_bars needs at least one EntropyRow")
    ax = axes_or_new(ax, (8, 0.55 * len(rows) + 1.6))
    intents = list(dict.fromkeys(r.intent for r in rows))
    height = 0.38
    for offset, form in ((-height / 2, "vague"), (height / 2, "specific")):
        picked = {r.intent: r for r in rows if r.form == form}
        ys = [i + offset for i, name in enumerate(intents) if name in picked]
        values = [picked[name].mean_bits for name in intents if name in picked]
        bars = ax.barh(ys, values, height=height, color=_FORM_COLOURS[form], label=form)
        for bar, name in zip(bars, [n for n in intents if n in picked], strict=True):
            ax.text(bar.get_width() + 0.03, bar.get_y() + bar.get_height() / 2,
                    f"{len(picked[name].bits)} tok", va="center", fontsize=7)  # fmt: skip
    ax.set_yticks(range(len(intents)), intents)
    ax.invert_yaxis()
    ax.set_xlabel(f"mean entropy over the top {top_k} (bits), first answer tokens")
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title(title or "How sure the model is of its next tokens")
    ax.figure.tight_layout()
    return ax


def tier_cost_bars(
    scenarios: Mapping[str, Mapping[str, Any]], *, ax: Axes | None = None, title: str | None = None
) -> Axes:
    """Stacked bars of cost per day, one bar per scenario, one segment per tier (lesson 01).

    Each scenario is a :func:`~course_lib.lessons.l01_gigo.banking.cascade_economics` result (its ``tiers`` rows give
    the segments) or a plain ``{tier: cost_per_day}`` mapping. The total is written above each bar.
    """
    if not scenarios:
        raise ValueError("tier_cost_bars needs at least one scenario")
    ax = axes_or_new(ax, (7, 4))
    per_tier: dict[str, dict[str, float]] = {}
    for name, s in scenarios.items():
        rows = s["tiers"] if "tiers" in s else [{"tier": t, "cost_per_day": c} for t, c in s.items()]
        per_tier[name] = {}
        for row in rows:
            per_tier[name][row["tier"]] = per_tier[name].get(row["tier"], 0.0) + float(row["cost_per_day"])
    seen = list(dict.fromkeys(t for costs in per_tier.values() for t in costs))
    tiers = [t for t in _TIER_COLOURS if t in seen] + [t for t in seen if t not in _TIER_COLOURS]
    names = list(scenarios)
    bottoms = [0.0] * len(names)
    for tier in tiers:
        heights = [per_tier[name].get(tier, 0.0) for name in names]
        ax.bar(
            names, heights, bottom=bottoms, color=_TIER_COLOURS.get(tier, "#5d6d7e"), label=tier, width=0.6
        )
        bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
    for i, total in enumerate(bottoms):
        ax.text(i, total, money_label(total), ha="center", va="bottom", fontsize=9)
    ax.set_ylabel("USD per day")
    ax.yaxis.set_major_formatter("{x:,.0f}")
    ax.set_ylim(0, max(bottoms) * 1.15 or 1)
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles[::-1], labels[::-1], title="tier", fontsize=8)  # top of the stack first
    ax.set_title(title or "Cost per day, by the tier that answers")
    return ax
