"""The five cost optimisations of lesson 08 and their compound table.

A :class:`Scenario` is an average request (prompt, completion and cacheable-prefix tokens), a model
mix and a daily volume. Each optimisation is a small frozen object whose ``apply`` returns a new
scenario; :func:`saving` prices the scenario before and after. :func:`compound_table` applies several
optimisations one after the other, always in :data:`ORDER`, whatever order they are passed in:

1. ``caching``      a share of the stable prompt prefix is billed at the cached-input rate;
2. ``routing``      requests are spread over models, so every later token is priced per model;
3. ``output_limit`` the average answer is capped at ``max_tokens``;
4. ``compression``  the prompt (cached prefix included) shrinks by a fraction;
5. ``batching``     a share of the remaining traffic goes through a batch API at a discount.

Each row's saving is measured against the row above it, so the attribution depends on that order
(cache first, batching last, the order a team usually takes them in); the rows always add up to the total saving.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from course_lib.cost import MILLION, PriceTable, Projection, load_prices, monthly_projection
from course_lib.tokens import count_tokens

__all__ = [
    "ORDER",
    "Batching",
    "CompoundRow",
    "CompoundTable",
    "Compression",
    "ModelRouting",
    "OutputLimit",
    "PromptCaching",
    "Saving",
    "Scenario",
    "ScenarioCost",
    "compound_table",
    "compression_ratio",
    "saving",
    "scenario_cost",
]

ORDER = ("caching", "routing", "output_limit", "compression", "batching")
"""The order in which :func:`compound_table` applies the optimisations (lesson 08)."""


def _check_mix(mix: Mapping[str, float]) -> dict[str, float]:
    clean = {str(m): float(s) for m, s in mix.items()}
    if not clean or any(s < 0 for s in clean.values()) or abs(sum(clean.values()) - 1.0) > 1e-6:
        raise ValueError(f"a model mix needs shares >= 0 that sum to 1, got {clean}")
    return clean


class Scenario(BaseModel):
    """An average request, its model mix and daily volume: what the optimisations act on (lesson 08)."""

    model_config = ConfigDict(frozen=True)

    prompt_tokens: float = Field(ge=0)
    completion_tokens: float = Field(ge=0)
    requests_per_day: float = Field(ge=0)
    mix: dict[str, float]
    """Model name → share of requests; the shares sum to 1."""
    cacheable_tokens: float = Field(default=0.0, ge=0)
    """The stable prompt prefix (system prompt, fixed examples) a prompt cache can serve."""
    cache_hit_rate: float = Field(default=0.0, ge=0, le=1)
    batch_share: float = Field(default=0.0, ge=0, le=1)
    batch_discount: float = Field(default=0.5, ge=0, le=1)
    days_per_month: int = Field(default=30, gt=0)

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        _check_mix(self.mix)
        if self.cacheable_tokens > self.prompt_tokens + 1e-9:
            raise ValueError(
                f"cacheable_tokens ({self.cacheable_tokens}) cannot exceed prompt_tokens ({self.prompt_tokens})"
            )
        return self

    @classmethod
    def for_model(cls, model: str, **fields: Any) -> Scenario:
        """A scenario that sends every request to ``model``."""
        return cls(mix={model: 1.0}, **fields)

    @property
    def cached_tokens(self) -> float:
        """Average prompt tokens per request served from the cache."""
        return self.cache_hit_rate * self.cacheable_tokens


class ScenarioCost(BaseModel):
    """Average cost of one request of a scenario, split by kind of token, in USD (lesson 08)."""

    model_config = ConfigDict(frozen=True)

    input_cost: float
    cached_input_cost: float
    output_cost: float
    requests_per_day: float
    days_per_month: int = 30

    @property
    def total(self) -> float:
        """USD per request."""
        return self.input_cost + self.cached_input_cost + self.output_cost

    @property
    def projection(self) -> Projection:
        """The per-request total scaled to a day, a month and a year."""
        return monthly_projection(self.total, self.requests_per_day, days_per_month=self.days_per_month)


def scenario_cost(scenario: Scenario, prices: PriceTable | None = None) -> ScenarioCost:
    """Price a scenario: per model, uncached, cached and output tokens at that model's rates (lesson 08)."""
    table = prices or load_prices()
    uncached = scenario.prompt_tokens - scenario.cached_tokens
    factor = 1.0 - scenario.batch_share * scenario.batch_discount
    parts = [0.0, 0.0, 0.0]
    for model, share in scenario.mix.items():
        p = table.get(model)
        parts[0] += share * uncached * p.input
        parts[1] += share * scenario.cached_tokens * p.cached_rate
        parts[2] += share * scenario.completion_tokens * p.output
    return ScenarioCost(
        input_cost=parts[0] * factor / MILLION,
        cached_input_cost=parts[1] * factor / MILLION,
        output_cost=parts[2] * factor / MILLION,
        requests_per_day=scenario.requests_per_day,
        days_per_month=scenario.days_per_month,
    )


# --------------------------------------------------------------------------- the five optimisations


@dataclass(frozen=True)
class PromptCaching:
    """Serve ``hit_rate`` of the cacheable prefix from the prompt cache (lesson 08)."""

    hit_rate: float
    cacheable_tokens: float | None = None
    """Size of the stable prefix; None keeps the scenario's ``cacheable_tokens``."""
    name: ClassVar[str] = "caching"

    def __post_init__(self) -> None:
        if not 0 <= self.hit_rate <= 1:
            raise ValueError(f"hit_rate must be between 0 and 1, got {self.hit_rate}")

    @property
    def label(self) -> str:
        """A short description for a table row."""
        return f"prompt caching ({self.hit_rate:.0%} hits)"

    def apply(self, scenario: Scenario) -> Scenario:
        """The scenario with this hit rate (and prefix size, when given)."""
        update: dict[str, Any] = {"cache_hit_rate": self.hit_rate}
        if self.cacheable_tokens is not None:
            update["cacheable_tokens"] = self.cacheable_tokens
        return Scenario.model_validate({**scenario.model_dump(), **update})


@dataclass(frozen=True)
class ModelRouting:
    """Send each share of requests to a model, e.g. ``{"gpt-3.5-turbo": 0.6, "gpt-4": 0.4}`` (lesson 08)."""

    mix: Mapping[str, float]
    name: ClassVar[str] = "routing"

    def __post_init__(self) -> None:
        object.__setattr__(self, "mix", _check_mix(self.mix))

    @property
    def label(self) -> str:
        """A short description for a table row."""
        return "model routing (" + ", ".join(f"{s:.0%} {m}" for m, s in self.mix.items()) + ")"

    def apply(self, scenario: Scenario) -> Scenario:
        """The scenario with this model mix (the blended cost follows from the mix)."""
        return scenario.model_copy(update={"mix": dict(self.mix)})


@dataclass(frozen=True)
class OutputLimit:
    """Cap answers at ``max_tokens``; the average answer becomes ``min(average, cap)`` (lesson 08)."""

    max_tokens: int
    name: ClassVar[str] = "output_limit"

    def __post_init__(self) -> None:
        if self.max_tokens < 0:
            raise ValueError(f"max_tokens must not be negative, got {self.max_tokens}")

    @property
    def label(self) -> str:
        """A short description for a table row."""
        return f"output limit ({self.max_tokens} tokens)"

    def apply(self, scenario: Scenario) -> Scenario:
        """The scenario with its completion length capped."""
        return scenario.model_copy(
            update={"completion_tokens": min(scenario.completion_tokens, float(self.max_tokens))}
        )


@dataclass(frozen=True)
class Compression:
    """Shrink the prompt, cached prefix included, by ``reduction`` (0.15 = 15 % fewer tokens) (lesson 08)."""

    reduction: float
    name: ClassVar[str] = "compression"

    def __post_init__(self) -> None:
        if not 0 <= self.reduction <= 1:
            raise ValueError(f"reduction must be between 0 and 1, got {self.reduction}")

    @property
    def label(self) -> str:
        """A short description for a table row."""
        return f"prompt compression (-{self.reduction:.0%} prompt tokens)"

    def apply(self, scenario: Scenario) -> Scenario:
        """The scenario with fewer prompt tokens."""
        keep = 1.0 - self.reduction
        return scenario.model_copy(
            update={
                "prompt_tokens": scenario.prompt_tokens * keep,
                "cacheable_tokens": scenario.cacheable_tokens * keep,
            }
        )


@dataclass(frozen=True)
class Batching:
    """Send ``share`` of requests through a batch API at ``discount`` off (OpenAI and Anthropic: 50 %) (lesson 08)."""

    share: float
    discount: float = 0.5
    name: ClassVar[str] = "batching"

    def __post_init__(self) -> None:
        if not (0 <= self.share <= 1 and 0 <= self.discount <= 1):
            raise ValueError(f"share and discount must be between 0 and 1, got {self.share}, {self.discount}")

    @property
    def label(self) -> str:
        """A short description for a table row."""
        return f"batching ({self.share:.0%} of requests at -{self.discount:.0%})"

    def apply(self, scenario: Scenario) -> Scenario:
        """The scenario with this batch share and discount."""
        return scenario.model_copy(update={"batch_share": self.share, "batch_discount": self.discount})


Optimisation = PromptCaching | ModelRouting | OutputLimit | Compression | Batching


class Saving(BaseModel):
    """The cost of a scenario before and after one optimisation (lesson 08)."""

    model_config = ConfigDict(frozen=True)

    name: str
    label: str
    before: ScenarioCost
    after: ScenarioCost

    @property
    def per_request(self) -> float:
        """USD saved per request (negative if the change costs more, e.g. routing to a pricier model)."""
        return self.before.total - self.after.total

    @property
    def fraction(self) -> float:
        """Saving as a fraction of the cost before (0 when there was no cost)."""
        return self.per_request / self.before.total if self.before.total else 0.0

    @property
    def per_month(self) -> float:
        """USD saved per month."""
        return self.before.projection.per_month - self.after.projection.per_month


def saving(scenario: Scenario, optimisation: Optimisation, prices: PriceTable | None = None) -> Saving:
    """Price ``scenario`` before and after one optimisation (lesson 08)."""
    return Saving(
        name=optimisation.name,
        label=optimisation.label,
        before=scenario_cost(scenario, prices),
        after=scenario_cost(optimisation.apply(scenario), prices),
    )


class CompoundRow(BaseModel):
    """One row of the compound table: the cost after this step and what the step saved (lesson 08)."""

    model_config = ConfigDict(frozen=True)

    name: str
    label: str
    scenario: Scenario
    cost: ScenarioCost
    saving_vs_previous: float
    """Fraction of the previous row's cost this step removed."""
    saving_vs_baseline: float
    """Fraction of the baseline cost removed by this and every earlier step."""


class CompoundTable(BaseModel):
    """The baseline and one row per optimisation, applied in :data:`ORDER` (lesson 08)."""

    model_config = ConfigDict(frozen=True)

    rows: list[CompoundRow]

    @property
    def baseline(self) -> CompoundRow:
        """The row before any optimisation."""
        return self.rows[0]

    @property
    def final(self) -> CompoundRow:
        """The row after every optimisation."""
        return self.rows[-1]

    def as_records(self) -> list[dict[str, Any]]:
        """Plain rows (step, per request, per month, savings) to tabulate or plot."""
        return [
            {
                "step": r.label,
                "cost_per_request": r.cost.total,
                "cost_per_month": r.cost.projection.per_month,
                "saving_vs_previous": r.saving_vs_previous,
                "saving_vs_baseline": r.saving_vs_baseline,
            }
            for r in self.rows
        ]


def compound_table(
    scenario: Scenario, optimisations: Iterable[Optimisation], prices: PriceTable | None = None
) -> CompoundTable:
    """Apply the optimisations one after another in :data:`ORDER` and price every step (lesson 08)."""
    steps = sorted(optimisations, key=lambda o: ORDER.index(o.name))
    names = [o.name for o in steps]
    if len(set(names)) != len(names):
        raise ValueError(f"each optimisation may appear once, got {names}")
    base_cost = scenario_cost(scenario, prices)
    rows = [CompoundRow(name="baseline", label="baseline", scenario=scenario, cost=base_cost,
                        saving_vs_previous=0.0, saving_vs_baseline=0.0)]  # fmt: skip
    current, previous = scenario, base_cost
    for step in steps:
        current = step.apply(current)
        cost = scenario_cost(current, prices)
        rows.append(
            CompoundRow(
                name=step.name,
                label=step.label,
                scenario=current,
                cost=cost,
                saving_vs_previous=1 - cost.total / previous.total if previous.total else 0.0,
                saving_vs_baseline=1 - cost.total / base_cost.total if base_cost.total else 0.0,
            )
        )
        previous = cost
    return CompoundTable(rows=rows)


def compression_ratio(verbose: str, compressed: str, model: str = "gpt-4o") -> float:
    """Fraction of prompt tokens a rewrite removes, counted with tiktoken, for :class:`Compression` (lesson 08).

    Negative when the rewrite is longer than the original.
    """
    before = count_tokens(verbose, model)
    if before == 0:
        raise ValueError("the verbose prompt is empty: there is nothing to compress")
    return 1.0 - count_tokens(compressed, model) / before
