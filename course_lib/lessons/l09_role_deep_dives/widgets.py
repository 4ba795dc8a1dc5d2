"""Widgets of lesson 09: a role picker, and model size × precision → serving memory.

Each widget drives a plain function the lesson also calls directly: :func:`role_card` (what a role
owns and measures, and where the lesson covers it) and :func:`vram_report` (the memory estimate of
:mod:`course_lib.lessons.l09_role_deep_dives.vram` and the GPUs it needs). ipywidgets and matplotlib are imported when a widget is built.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from course_lib.lessons.l09_role_deep_dives.vram import GPUS, MODELS, ModelShape, estimate_vram, gpus_needed

__all__ = ["ROLES", "RoleGuide", "role_card", "role_picker", "vram_controls", "vram_report"]


@dataclass(frozen=True)
class RoleGuide:
    """One role of lesson 09: its domain, the section that covers it, what it measures (lesson 09)."""

    title: str
    section: str
    domain: str
    measures: tuple[str, ...]
    built_here: str


ROLES: dict[str, RoleGuide] = {
    "backend": RoleGuide(
        "Backend / cloud engineer",
        "A",
        "API integration, latency, state, concurrency",
        ("time to first token", "end-to-end latency", "fan-out speedup", "retries per call"),
        "parallel fan-out with bounded concurrency, timeouts, retries that honour retry-after",
    ),
    "devops": RoleGuide(
        "DevOps",
        "B",
        "GPUs, model serving, deployments",
        ("VRAM per replica", "GPUs per replica", "cost per GPU-hour", "GPU utilisation"),
        "a VRAM estimate by precision with the KV cache, GPU counts for tensor parallelism",
    ),
    "sre": RoleGuide(
        "Site reliability engineer",
        "C",
        "observability, SLOs, incidents, capacity",
        ("latency p50/p95/p99", "traffic", "error rate by type", "saturation (429 share, in flight)"),
        "golden signals from a seeded workload with faults, an SLO and its error budget",
    ),
    "platform": RoleGuide(
        "Platform engineer",
        "D",
        "an AI gateway, multi-tenancy, developer experience",
        ("cache hit rate", "tokens per team against quota", "vendor failovers", "spend per team"),
        "a gateway: shared cache, per-team quotas, tiers, vendor failover, metrics",
    ),
    "leadership": RoleGuide(
        "Cloud & AI transformation leader",
        "E",
        "build vs buy, ROI, governance",
        ("monthly saving", "ROI and payback", "time to market", "prompt versions meeting their criteria"),
        "ROI and build-vs-buy value from stated assumptions; versioned prompt files",
    ),
}
"""The five roles of lesson 09, keyed by short name (lesson 09)."""


def role_card(role: str) -> str:
    """A short text card for ``role``: domain, what to measure, what the lesson builds (lesson 09)."""
    key = role.strip().lower()
    if key not in ROLES:
        raise ValueError(f"unknown role {role!r}; choose one of {list(ROLES)}")
    g = ROLES[key]
    lines = [
        f"{g.title} (section {g.section})",
        f"  owns:     {g.domain}",
        f"  measures: {', '.join(g.measures)}",
        f"  built in this lesson: {g.built_here}",
    ]
    return "\n".join(lines)


def role_picker(figures: Mapping[str, Callable[[], Any]] | None = None, *, value: str = "backend") -> Any:
    """A Dropdown of the roles: shows the role's card and draws its figure, if one is given (lesson 09)."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    def show(role: str) -> None:
        print(role_card(role))
        draw = (figures or {}).get(role)
        if draw is not None:
            draw()
            plt.show()

    options = [(g.title, key) for key, g in ROLES.items()]
    return widgets.interactive(show, role=widgets.Dropdown(options=options, value=value, description="role"))


def vram_report(
    model: str | float = "llama-3-70b",
    precision: str = "fp16",
    context_tokens: int = 8192,
    batch: int = 1,
    gpu: str = "A100-80GB",
    *,
    overhead_fraction: float = 0.10,
    usable_fraction: float = 0.9,
) -> str:
    """The memory estimate of a model at a precision and the GPUs it needs, as text (lesson 09).

    ``model`` is a key of :data:`~course_lib.lessons.l09_role_deep_dives.vram.MODELS`, or billions of parameters (then the KV cache
    is left out: it depends on a shape that a bare count does not give).
    """
    shape: ModelShape | float = MODELS[model] if isinstance(model, str) else float(model)
    est = estimate_vram(
        shape, precision, context_tokens=context_tokens, batch=batch, overhead_fraction=overhead_fraction
    )
    name = shape.name if isinstance(shape, ModelShape) else f"{shape:g}B parameters"
    card = GPUS[gpu]
    n = gpus_needed(est.total_gb, card, usable_fraction=usable_fraction)
    return (
        f"{name} in {precision}: weights {est.weights_gb:.1f} GB + KV cache {est.kv_cache_gb:.1f} GB "
        f"({context_tokens:,} tokens x {batch}) + overhead {est.overhead_gb:.1f} GB = {est.total_gb:.1f} GB\n"
        f"{gpu} ({card.memory_gb:.1f} GB, {usable_fraction:.0%} usable): {n} GPU{'s' if n > 1 else ''} per replica"
    )


def vram_controls() -> Any:
    """Dropdowns and sliders: model, precision, context, batch, GPU → memory and GPUs (lesson 09)."""
    import ipywidgets as widgets

    def show(model: str, precision: str, context_tokens: int, batch: int, gpu: str) -> None:
        print(vram_report(model, precision, context_tokens, batch, gpu))

    precisions = ["fp32", "fp16", "fp8", "int8", "int4"]
    return widgets.interactive(
        show,
        model=widgets.Dropdown(options=list(MODELS), value="llama-3-70b", description="model"),
        precision=widgets.Dropdown(options=precisions, value="fp16", description="precision"),
        context_tokens=widgets.IntSlider(8192, 512, 131_072, 512, description="context"),
        batch=widgets.IntSlider(1, 1, 64, 1, description="batch"),
        gpu=widgets.Dropdown(options=list(GPUS), value="A100-80GB", description="GPU"),
    )
