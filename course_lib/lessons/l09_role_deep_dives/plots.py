"""Plots of lesson 09, one per role: fan-out timeline, VRAM by precision, latency histogram, cache hit
rate over time, and build-vs-buy value curves. All axes are simulated or computed numbers, so the
pictures are deterministic. matplotlib is imported inside each function.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from course_lib.lessons._plotting import axes_or_new
from course_lib.lessons.l09_role_deep_dives.roi import BuildOption, crossover_month, cumulative_value
from course_lib.metrics import percentile

__all__ = ["fanout_timeline", "hit_rate_plot", "latency_histogram", "value_curves", "vram_bars"]

_COLOURS = ["#3182bd", "#e6550d", "#31a354", "#756bb1", "#636363", "#d6616b"]


def fanout_timeline(latencies: Mapping[str, float], *, concurrency: int | None = None, ax: Any = None) -> Any:
    """Each call as a bar: one after another, then all at once (at most ``concurrency`` in flight) (lesson 09)."""
    ax = axes_or_new(ax, (8, 3.2))
    names = list(latencies)
    start, lanes = 0.0, []
    for name in names:  # sequential
        lanes.append(("sequential", name, start, latencies[name]))
        start += latencies[name]
    slots = [0.0] * (concurrency or len(names))
    for name in names:  # parallel: each call takes the first free slot
        i = min(range(len(slots)), key=lambda k: slots[k])
        lanes.append(("parallel", name, slots[i], latencies[name]))
        slots[i] += latencies[name]
    colour = {n: _COLOURS[i % len(_COLOURS)] for i, n in enumerate(names)}
    rows = {"parallel": 0.0, "sequential": 1.0}
    for lane, name, left, width in lanes:
        y = (
            rows[lane] + 0.12 * (names.index(name) - (len(names) - 1) / 2)
            if lane == "parallel"
            else rows[lane]
        )
        ax.barh(y, width, left=left, height=0.1 if lane == "parallel" else 0.35, color=colour[name],
                label=name if lane == "sequential" else None)  # fmt: skip
    ends = {lane: max(left + w for ln, _, left, w in lanes if ln == lane) for lane in rows}
    for lane, y in rows.items():
        ax.text(ends[lane] * 1.01, y, f"{ends[lane]:.2f} s", va="center", fontsize=9)
    ax.set_yticks(list(rows.values()), [f"{k}" + (f" (≤{concurrency} at once)" if k == "parallel" and concurrency
                                                   else "") for k in rows])  # fmt: skip
    ax.set_xlim(0, ends["sequential"] * 1.15)
    ax.set_xlabel("simulated seconds")
    ax.set_title(f"Fan-out: {ends['sequential'] / ends['parallel']:.1f}x faster in parallel")
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    return ax


def vram_bars(
    rows: Sequence[Mapping[str, Any]], *, capacities: Mapping[str, float] | None = None, ax: Any = None
) -> Any:
    """Stacked weights + KV cache + overhead per model and precision, with GPU capacity lines (lesson 09)."""
    ax = axes_or_new(ax, (9, 4))
    x = list(range(len(rows)))
    bottom = [0.0] * len(rows)
    for key, name, colour in (("weights_gb", "weights", "#3182bd"), ("kv_cache_gb", "KV cache", "#fd8d3c"),
                              ("overhead_gb", "overhead", "#bdbdbd")):  # fmt: skip
        values = [float(r[key]) for r in rows]
        ax.bar(x, values, bottom=bottom, color=colour, label=name, width=0.7)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    for i, (name, gb) in enumerate((capacities or {}).items()):
        ax.axhline(gb, color=_COLOURS[(i + 3) % len(_COLOURS)], linestyle="--", linewidth=1)
        ax.text(-0.5, gb, f" {name}", va="bottom", ha="left", fontsize=8)
    ax.set_yscale("log")
    ax.set_ylim(1, max([*bottom, *(capacities or {}).values()]) * 2)
    ax.set_xticks(x, [str(r["precision"]) for r in rows], fontsize=8)
    groups: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        groups.setdefault(str(r["model"]), []).append(i)
    for model, members in groups.items():
        ax.text(sum(members) / len(members), -0.12, model, transform=ax.get_xaxis_transform(), ha="center",
                va="top", fontsize=9)  # fmt: skip
    ax.set_ylabel("GB (log scale)")
    ax.set_title("Serving memory by precision (one full-context sequence)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    ax.figure.tight_layout()
    return ax


def latency_histogram(
    series: Mapping[str, Sequence[float]], *, slo_s: float | None = None, bins: int = 40, ax: Any = None
) -> Any:
    """Histograms of call latencies (log-spaced bins) with p50 / p95 / p99 marks and an SLO line (lesson 09)."""
    ax = axes_or_new(ax, (8, 3.6))
    values = [v for vs in series.values() for v in vs if v > 0]
    lo, hi = min(values), max(values)
    edges = [lo * (hi / lo) ** (i / bins) for i in range(bins + 1)] if hi > lo else bins
    for i, (name, vs) in enumerate(series.items()):
        colour = _COLOURS[i % len(_COLOURS)]
        p = {q: percentile(vs, q) for q in (50, 95, 99)}
        ax.hist([v for v in vs if v > 0], bins=edges, alpha=0.5, color=colour,
                label=f"{name}: p50 {p[50]:.2f} s, p95 {p[95]:.2f} s, p99 {p[99]:.2f} s")  # fmt: skip
        for q, style in ((50, ":"), (95, "--"), (99, "-.")):
            ax.axvline(p[q], color=colour, linestyle=style, linewidth=1)
    if slo_s is not None:
        ax.axvline(slo_s, color="black", linewidth=1.5)
        ax.text(slo_s, ax.get_ylim()[1] * 0.95, f" SLO {slo_s:g} s", va="top", fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("latency (simulated seconds, log scale); dotted p50, dashed p95, dash-dot p99")
    ax.set_ylabel("calls")
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    return ax


def hit_rate_plot(
    cumulative: Sequence[tuple[float, float]], windowed: Sequence[tuple[float, float]] = (), *,
    window: int | None = None, ax: Any = None,
) -> Any:  # fmt: skip
    """Cache hit rate over time: since the start, and over a moving window of requests (lesson 09)."""
    ax = axes_or_new(ax, (8, 3.2))
    ax.plot(
        [t / 60 for t, _ in cumulative], [r for _, r in cumulative], color="#3182bd", label="since the start"
    )
    if windowed:
        label = f"last {window} requests" if window else "moving window"
        ax.plot(
            [t / 60 for t, _ in windowed], [r for _, r in windowed], color="#fd8d3c", alpha=0.8, label=label
        )
    ax.set_ylim(0, 1)
    ax.set_xlabel("minutes (simulated)")
    ax.set_ylabel("cache hit rate")
    ax.set_title("The gateway cache warms up")
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    return ax


def value_curves(
    options: Sequence[BuildOption],
    monthly_benefit: float,
    *,
    months: int = 36,
    volume: float = 1.0,
    ax: Any = None,
) -> Any:
    """Cumulative net value of each build-vs-buy option month by month, crossovers marked (lesson 09)."""
    ax = axes_or_new(ax, (8, 3.6))
    grid = [m / 4 for m in range(months * 4 + 1)]
    for i, option in enumerate(options):
        values = [cumulative_value(option, monthly_benefit, t, volume=volume) / 1e6 for t in grid]
        ax.plot(grid, values, color=_COLOURS[i % len(_COLOURS)], label=option.name)
    first = options[0]
    for option in options[1:]:
        t = crossover_month(first, option, monthly_benefit, volume=volume)
        if t is not None and 0 < t <= months and not math.isclose(t, 0):
            y = cumulative_value(first, monthly_benefit, t, volume=volume) / 1e6
            ax.plot([t], [y], "o", color="black")
            ax.annotate(f"{option.name} passes {first.name}\nat month {t:.1f}", (t, y), xytext=(8, -24),
                        textcoords="offset points", fontsize=8)  # fmt: skip
    ax.axhline(0, color="#999999", linewidth=0.8)
    ax.set_xlabel("months from the decision")
    ax.set_ylabel("cumulative net value ($M)")
    ax.set_title("Build vs buy: value over time" + (f" at {volume:g}x volume" if volume != 1 else ""))
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    return ax
