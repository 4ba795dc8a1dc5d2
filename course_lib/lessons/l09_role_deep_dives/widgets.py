"""Widgets of lesson 09: the ROI assumptions → the case, and model size × precision → serving memory.

Each widget drives a plain function the lesson also calls directly: :func:`roi_report` (the support
automation case of :mod:`course_lib.lessons.l09_role_deep_dives.roi`) and :func:`vram_report` (the memory estimate of
:mod:`course_lib.lessons.l09_role_deep_dives.vram` and the GPUs it needs). ipywidgets and matplotlib are imported when a widget is built.
"""

from __future__ import annotations

import math
from typing import Any

from course_lib.lessons.l09_role_deep_dives.roi import Automation, SupportLoad, automation_roi
from course_lib.lessons.l09_role_deep_dives.vram import GPUS, MODELS, ModelShape, estimate_vram, gpus_needed

__all__ = ["roi_controls", "roi_report", "vram_controls", "vram_report"]


def roi_report(
    tickets_per_month: float = 50_000,
    automated_share: float = 0.7,
    ai_cost_per_ticket: float = 0.30,
    escalated_handle_minutes: float = 12,
    one_off_usd: float = 150_000,
    *,
    handle_minutes: float = 8,
    agent_hourly_usd: float = 25,
    ai_sees_every_ticket: bool = True,
) -> str:
    """The support-automation case from its assumptions: bills, saving, first-year ROI, payback (lesson 09)."""
    load = SupportLoad(
        tickets_per_month=tickets_per_month, handle_minutes=handle_minutes, agent_hourly_usd=agent_hourly_usd
    )
    plan = Automation(
        automated_share=automated_share,
        ai_cost_per_ticket=ai_cost_per_ticket,
        ai_sees_every_ticket=ai_sees_every_ticket,
        escalated_handle_minutes=escalated_handle_minutes,
        one_off_usd=one_off_usd,
    )
    r = automation_roi(load, plan)
    payback = "never" if math.isinf(r.payback_months) else f"{r.payback_months:.1f} months"
    return (
        f"before ${r.labour_before:,.0f}/month; after: labour ${r.labour_after:,.0f} + AI ${r.ai_monthly:,.0f}\n"
        f"saving ${r.monthly_saving:,.0f}/month; first-year ROI {r.roi:.0%}; payback {payback}"
    )


def roi_controls() -> Any:
    """Sliders over the ROI assumptions → the case recomputed by :func:`roi_report` (lesson 09)."""
    import ipywidgets as widgets

    def show(**values: Any) -> None:
        print(roi_report(**values))

    return widgets.interactive(
        show,
        tickets_per_month=widgets.IntSlider(50_000, 5_000, 200_000, 5_000, description="tickets/mo"),
        automated_share=widgets.FloatSlider(0.7, min=0, max=1, step=0.05, description="automated"),
        ai_cost_per_ticket=widgets.FloatSlider(0.30, min=0, max=2, step=0.05, description="AI $/ticket"),
        escalated_handle_minutes=widgets.FloatSlider(12, min=4, max=30, step=1, description="escalated min"),
        one_off_usd=widgets.IntSlider(150_000, 0, 1_000_000, 10_000, description="build $"),
    )


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
