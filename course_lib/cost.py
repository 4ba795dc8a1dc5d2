"""The token cost model: a dated price table, the cost of one request, monthly projections (lesson 08).

Prices live in ``course_lib/data/models.json`` in USD per million tokens, with the date they were
taken and where from. A request costs::

    (prompt - cached) × input  +  cached × cached_input  +  completion × output

(divided by one million). Models without a cached-input rate bill cached tokens at the input rate.
A reasoning model's hidden reasoning tokens are reported inside ``completion`` (OpenAI's
``completion_tokens_details.reasoning_tokens``): :class:`RequestCost` shows them separately and
bills them once, at the output rate, as part of the completion.
Token counting is :mod:`course_lib.tokens`; it is re-exported here so a lesson needs one import.
The five savings calculators are in :mod:`course_lib.lessons.l08_token_economics.savings`.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .providers.base import ChatResult, Message, Usage
from .tokens import count_message_tokens, count_tokens, encoding_for, estimate_tokens_by_chars

__all__ = [
    "MILLION",
    "ModelPrice",
    "PriceTable",
    "Projection",
    "RequestCost",
    "UnknownModelError",
    "count_message_tokens",
    "count_tokens",
    "encoding_for",
    "estimate_request_cost",
    "estimate_tokens_by_chars",
    "known_models",
    "load_prices",
    "monthly_projection",
    "price_of",
    "request_cost",
]

MILLION = 1_000_000
"""Prices are quoted per million tokens (lesson 08)."""

#: A dated model name resolves to its base entry: gpt-4o-2024-08-06, gpt-4-0613, claude-…-20250929.
_DATED_SUFFIX = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{8}|\d{4})$")


class UnknownModelError(KeyError):
    """The price table has no entry for a model; the message lists the models it knows (lesson 08)."""

    def __str__(self) -> str:  # KeyError would show the message with quotes around it
        return str(self.args[0]) if self.args else ""


class ModelPrice(BaseModel):
    """One model's prices in USD per million tokens, its context window, source and date (lesson 08)."""

    model_config = ConfigDict(frozen=True)

    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cached_input: float | None = Field(default=None, ge=0)
    """Price of prompt tokens served from the provider's prompt cache; None: no discount."""
    batch_input: float | None = Field(default=None, ge=0)
    batch_output: float | None = Field(default=None, ge=0)
    context_window: int = Field(gt=0)
    max_output_tokens: int | None = None
    mode: Literal["chat", "embedding"] = "chat"
    provider: str
    """The provider kind that serves it (a row of the provider table)."""
    retirement_date: str | None = None
    """The day the provider stops serving it (ISO date), where announced."""
    replacement: str | None = None
    """The model to move to when it retires, where known."""
    source: str
    as_of: str
    notes: str = ""

    @model_validator(mode="after")
    def _discounts_are_discounts(self) -> ModelPrice:
        for name, rate, full in (
            ("cached_input", self.cached_input, self.input),
            ("batch_input", self.batch_input, self.input),
            ("batch_output", self.batch_output, self.output),
        ):
            if rate is not None and rate > full:
                raise ValueError(f"{name} ({rate}) is above the full rate ({full}); check the price table")
        return self

    @property
    def cached_rate(self) -> float:
        """The rate cached prompt tokens actually bill at (the input rate when there is no discount)."""
        return self.input if self.cached_input is None else self.cached_input


class PriceTable(BaseModel):
    """The course's model table: a source, an as-of date and one :class:`ModelPrice` per model (lesson 08)."""

    model_config = ConfigDict(frozen=True)

    about: str = ""

    currency: Literal["USD"] = "USD"
    unit: str
    as_of: str
    source: str
    models: dict[str, ModelPrice]

    def resolve(self, model: str) -> str:
        """The table entry ``model`` is billed as: itself, or its base name without a date suffix."""
        if model in self.models:
            return model
        base = _DATED_SUFFIX.sub("", model)
        if base != model and base in self.models:
            return base
        raise UnknownModelError(
            f"no price for model {model!r} in the price table (as of {self.as_of}); "
            f"known models: {', '.join(sorted(self.models))}. Pass one of these, or add an entry "
            "to course_lib/data/models.json with its source and date."
        )

    def get(self, model: str) -> ModelPrice:
        """The prices of ``model``; raises :class:`UnknownModelError` listing the known models."""
        return self.models[self.resolve(model)]

    def with_price(self, model: str, **changes: Any) -> PriceTable:
        """A copy with one model's prices changed (to explore a what-if, e.g. a 90 % cache discount)."""
        name = self.resolve(model)
        updated = ModelPrice.model_validate({**self.models[name].model_dump(), **changes})
        return self.model_copy(update={"models": {**self.models, name: updated}})


@functools.cache
def load_prices() -> PriceTable:
    """The package's price table, read and validated once (lesson 08)."""
    text = (resources.files("course_lib") / "data" / "models.json").read_text(encoding="utf-8")
    return PriceTable.model_validate(json.loads(text))


def price_of(model: str) -> ModelPrice:
    """Prices of ``model`` from the package's table (lesson 08)."""
    return load_prices().get(model)


def known_models() -> list[str]:
    """The models the price table knows, sorted (lesson 08)."""
    return sorted(load_prices().models)


class RequestCost(BaseModel):
    """The cost of one request split into uncached input, cached input and output, in USD (lesson 08).

    ``reasoning_tokens`` are part of ``completion_tokens`` and so of ``output_cost``; ``reasoning_cost``
    shows their share of it and is never added to ``total`` a second time (lesson 04).
    """

    model_config = ConfigDict(frozen=True)

    model: str
    prompt_tokens: int
    cached_tokens: int
    completion_tokens: int
    input_cost: float
    cached_input_cost: float
    output_cost: float
    reasoning_tokens: int = 0

    @property
    def visible_completion_tokens(self) -> int:
        """Completion tokens the caller sees in the answer: the completion minus the hidden reasoning."""
        return self.completion_tokens - self.reasoning_tokens

    @property
    def reasoning_cost(self) -> float:
        """The part of ``output_cost`` spent on hidden reasoning tokens, in USD (already in ``total``)."""
        if not self.completion_tokens:
            return 0.0
        return self.output_cost * self.reasoning_tokens / self.completion_tokens

    @property
    def total(self) -> float:
        """Input plus cached input plus output, in USD (reasoning is inside output, billed once)."""
        return self.input_cost + self.cached_input_cost + self.output_cost


def _as_usage(usage: Usage | ChatResult | Mapping[str, Any]) -> Usage:
    if isinstance(usage, ChatResult):
        return usage.usage
    if isinstance(usage, Usage):
        return usage
    if isinstance(usage, Mapping):
        cached = usage.get("cached_tokens")
        if cached is None:  # OpenAI's shape: usage.prompt_tokens_details.cached_tokens
            cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens", 0)
        reasoning = usage.get("reasoning_tokens")
        if reasoning is None:  # OpenAI's shape: usage.completion_tokens_details.reasoning_tokens
            reasoning = (usage.get("completion_tokens_details") or {}).get("reasoning_tokens", 0)
        return Usage(
            prompt_tokens=int(usage.get("prompt_tokens", 0) or 0),
            completion_tokens=int(usage.get("completion_tokens", 0) or 0),
            cached_tokens=int(cached or 0),
            reasoning_tokens=int(reasoning or 0),
        )
    raise TypeError(f"usage must be a Usage, a ChatResult or a mapping, not {type(usage).__name__}")


def request_cost(
    usage: Usage | ChatResult | Mapping[str, Any],
    model: str,
    *,
    batch: bool = False,
    prices: PriceTable | None = None,
) -> RequestCost:
    """What one request costs: cached prompt tokens at the cached rate, the rest at full rates (lesson 08).

    Reasoning tokens are billed once, inside the completion tokens at the output rate (lesson 04).
    ``batch=True`` prices it as a batch-API request (an error if the model has no batch rates).
    """
    u = _as_usage(usage)
    if min(u.prompt_tokens, u.completion_tokens, u.cached_tokens, u.reasoning_tokens) < 0:
        raise ValueError(f"token counts must not be negative: {u}")
    if u.reasoning_tokens > u.completion_tokens:
        raise ValueError(
            f"reasoning_tokens ({u.reasoning_tokens}) exceeds completion_tokens ({u.completion_tokens}): "
            "reasoning tokens are part of the completion"
        )
    if u.cached_tokens > u.prompt_tokens:
        raise ValueError(
            f"cached_tokens ({u.cached_tokens}) exceeds prompt_tokens ({u.prompt_tokens}): "
            "cached tokens are part of the prompt"
        )
    table = prices or load_prices()
    name = table.resolve(model)
    p = table.models[name]
    in_rate, cached_rate, out_rate = p.input, p.cached_rate, p.output
    if batch:
        if p.batch_input is None or p.batch_output is None:
            raise ValueError(f"{name} has no batch-API prices in the table; call with batch=False")
        # The batch discount applies to the cached rate in the same proportion.
        cached_rate = cached_rate * p.batch_input / p.input if p.input else 0.0
        in_rate, out_rate = p.batch_input, p.batch_output
    uncached = u.prompt_tokens - u.cached_tokens
    return RequestCost(
        model=name,
        prompt_tokens=u.prompt_tokens,
        cached_tokens=u.cached_tokens,
        completion_tokens=u.completion_tokens,
        input_cost=uncached * in_rate / MILLION,
        cached_input_cost=u.cached_tokens * cached_rate / MILLION,
        output_cost=u.completion_tokens * out_rate / MILLION,
        reasoning_tokens=u.reasoning_tokens,
    )


def estimate_request_cost(
    messages: Sequence[Message],
    model: str,
    *,
    max_tokens: int,
    n: int = 1,
    prices: PriceTable | None = None,
) -> RequestCost:
    """An upper bound before the call: counted prompt tokens plus ``max_tokens × n`` output (lesson 08)."""
    if max_tokens < 0 or n < 1:
        raise ValueError(f"max_tokens must be >= 0 and n >= 1, got max_tokens={max_tokens}, n={n}")
    prompt = count_message_tokens(messages, model)
    return request_cost(Usage(prompt_tokens=prompt, completion_tokens=max_tokens * n), model, prices=prices)


class Projection(BaseModel):
    """A per-request cost scaled to a day, a 30-day month and a 12-month year (lesson 08)."""

    model_config = ConfigDict(frozen=True)

    per_request: float
    requests_per_day: float
    days_per_month: int = 30

    @property
    def per_day(self) -> float:
        """USD per day."""
        return self.per_request * self.requests_per_day

    @property
    def per_month(self) -> float:
        """USD per month of ``days_per_month`` days."""
        return self.per_day * self.days_per_month

    @property
    def per_year(self) -> float:
        """USD per year: twelve such months."""
        return self.per_month * 12


def monthly_projection(
    cost_per_request: float | RequestCost, requests_per_day: float, *, days_per_month: int = 30
) -> Projection:
    """Scale a request's cost to a day, month and year at ``requests_per_day`` (lesson 08)."""
    per_request = cost_per_request.total if isinstance(cost_per_request, RequestCost) else cost_per_request
    if per_request < 0 or requests_per_day < 0 or days_per_month <= 0:
        raise ValueError("cost, requests per day and days per month must not be negative")
    return Projection(
        per_request=float(per_request),
        requests_per_day=float(requests_per_day),
        days_per_month=days_per_month,
    )
