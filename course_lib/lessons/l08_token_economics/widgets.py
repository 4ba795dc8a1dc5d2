"""Widgets of lesson 08: the support-chat bill under four cost controls, and the runaway under the guards.

Each widget drives a plain function a lesson also calls directly: :func:`support_chat_table` (a
:class:`~course_lib.lessons.l08_token_economics.savings.CompoundTable` for the lesson's support chat) and
:func:`~course_lib.lessons.l08_token_economics.runaway.simulate_runaway`. ipywidgets and matplotlib are imported when a widget is built.
"""

from __future__ import annotations

from typing import Any, Literal

from course_lib.cost import PriceTable, load_prices
from course_lib.lessons.l08_token_economics.savings import (
    Batching,
    CompoundTable,
    Compression,
    ModelRouting,
    OutputLimit,
    PromptCaching,
    Scenario,
    compound_table,
)

__all__ = ["WORLDS", "cost_controls", "runaway_controls", "support_chat_table", "what_if_prices"]

World = Literal["gpt-4", "today"]
WORLDS: dict[str, tuple[str, str]] = {"gpt-4": ("gpt-4", "gpt-3.5-turbo"), "today": ("gpt-4o", "gpt-4o-mini")}
"""Strong and cheap model of each price world: the GPT-4 era (with a what-if cache discount) and today (lesson 08)."""


def what_if_prices(cache_discount: float = 0.9) -> PriceTable:
    """The price table with a what-if: a cached-input rate on the three older GPT models (lesson 08).

    The dated table has no cached rate for gpt-4, gpt-4-turbo and gpt-3.5-turbo; this gives them one,
    ``cache_discount`` below their input rate, so the lesson can ask what caching would save there.
    """
    if not 0 <= cache_discount <= 1:
        raise ValueError(f"cache_discount must be between 0 and 1, got {cache_discount}")
    table = load_prices()
    for model in ("gpt-3.5-turbo", "gpt-4-turbo", "gpt-4"):
        table = table.with_price(model, cached_input=table.get(model).input * (1 - cache_discount))
    return table


def support_chat_table(
    requests_per_month: float = 1_000_000,
    cache_hit_rate: float = 0.9,
    cheap_share: float = 0.6,
    output_cap: int = 150,
    *,
    world: World = "gpt-4",
    prompt_tokens: float = 1000,
    completion_tokens: float = 250,
    cacheable_tokens: float = 700,
    compression: float = 0.15,
    batch_share: float = 0.1,
) -> CompoundTable:
    """The lesson's support chat priced step by step under the five optimisations (lesson 08).

    Every request starts on the world's strong model; routing sends ``cheap_share`` of them to its
    cheap model. ``world="gpt-4"`` prices with :func:`what_if_prices`, ``"today"`` with the table as it is.
    """
    if world not in WORLDS:
        raise ValueError(f"world must be one of {sorted(WORLDS)}, got {world!r}")
    strong, cheap = WORLDS[world]
    scenario = Scenario.for_model(
        strong,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        cacheable_tokens=cacheable_tokens,
        requests_per_day=requests_per_month / 30,
    )
    mix = (
        {cheap: cheap_share, strong: 1 - cheap_share}
        if 0 < cheap_share < 1
        else {cheap if cheap_share else strong: 1.0}
    )
    steps = [
        PromptCaching(cache_hit_rate),
        ModelRouting(mix),
        OutputLimit(output_cap),
        Compression(compression),
        Batching(batch_share),
    ]
    return compound_table(scenario, steps, what_if_prices() if world == "gpt-4" else load_prices())


def _summary(table: CompoundTable) -> str:
    base, final = table.baseline.cost.projection, table.final.cost.projection
    return (
        f"baseline ${base.per_month:,.0f}/month → optimised ${final.per_month:,.0f}/month "
        f"({table.final.saving_vs_baseline:.0%} less, ${base.per_year - final.per_year:,.0f} a year)"
    )


def cost_controls(world: World = "gpt-4") -> Any:
    """Sliders for requests/month, cache hit rate, routing mix and output cap → the cost waterfall (lesson 08)."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    from course_lib.lessons.l08_token_economics.plots import cost_waterfall

    controls = {
        "requests_per_month": widgets.IntSlider(
            1_000_000, 10_000, 5_000_000, 10_000, description="requests/mo"
        ),
        "cache_hit_rate": widgets.FloatSlider(0.9, min=0, max=1, step=0.05, description="cache hits"),
        "cheap_share": widgets.FloatSlider(0.6, min=0, max=1, step=0.05, description="to cheap model"),
        "output_cap": widgets.IntSlider(150, 25, 500, 25, description="max_tokens"),
        "world": widgets.Dropdown(options=list(WORLDS), value=world, description="prices"),
    }

    def show(**values: Any) -> None:
        table = support_chat_table(**values)
        print(_summary(table))
        cost_waterfall(table)
        plt.show()

    return widgets.interactive(show, **controls)


def runaway_controls() -> Any:
    """Sliders for the runaway's rate, the hourly cap and the engineer's response time → spend (lesson 08).

    A button replays the night with the chosen settings (a replay takes about a second).
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    from course_lib.lessons.l08_token_economics.plots import spend_timeline
    from course_lib.lessons.l08_token_economics.runaway import Incident, Protection, simulate_runaway

    def show(
        requests_per_minute: int, hourly_cap: float, on_call: bool, respond_min: int, rate_limit: bool
    ) -> None:
        incident = Incident(requests_per_minute=requests_per_minute)
        guarded = Protection(hourly_cap=hourly_cap, respond_after_s=respond_min * 60.0 if on_call else None,
                             rate_limit_per_min=100 if rate_limit else None)  # fmt: skip
        runs = [simulate_runaway(incident, None, label="no guards"), simulate_runaway(incident, guarded)]
        for run in runs:
            print(f"{run.label:10} {run.calls:6,} calls  ${run.total:10,.2f}  blocked {run.blocked}")
        spend_timeline(runs, cap=hourly_cap)
        plt.show()

    return widgets.interactive(
        show,
        {"manual": True, "manual_name": "Replay the night"},  # each replay takes about a second
        requests_per_minute=widgets.IntSlider(100, 20, 1000, 20, description="requests/min"),
        hourly_cap=widgets.FloatSlider(100, min=10, max=500, step=10, description="hourly cap $"),
        on_call=widgets.Checkbox(True, description="on-call answers pages"),
        respond_min=widgets.IntSlider(4, 0, 30, 1, description="after (min)"),
        rate_limit=widgets.Checkbox(True, description="100/min rate limit"),
    )
