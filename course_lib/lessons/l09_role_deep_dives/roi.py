"""Return on an AI rollout and build vs buy, computed from stated assumptions (lesson 09).

Support automation (:func:`automation_roi`): the support bill before is the agents' time on every
ticket; after, the AI's cost plus the agents' time on the tickets it hands back. The saving is the
difference. Return on investment divides the *net gain* by *what the AI costs* over the horizon::

    saving per month = labour before − (labour after + AI per month)
    ROI              = (saving per month × months − one-off cost) / (one-off cost + AI per month × months)

Dividing the saving by the whole remaining bill (mostly people) is a different ratio, kept here as
``saving_to_cost_after`` because it is what a simple spreadsheet often calls ROI.

Build vs buy (:class:`BuildOption`, :func:`cumulative_value`, :func:`crossover_month`): each option has
a one-off cost, a monthly cost (a fixed part and a part that grows with volume) and a time to market.
An option earns the monthly benefit only once it is live, so its cumulative net value after *t* months is::

    value(t) = (benefit − monthly cost) × max(0, t − weeks_to_market × 12 / 52) − setup
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "Automation",
    "BuildOption",
    "RoiResult",
    "SupportLoad",
    "automation_roi",
    "compare_options",
    "crossover_month",
    "cumulative_value",
    "months_to_market",
]

MONTHS_PER_WEEK = 12 / 52


@dataclass(frozen=True)
class SupportLoad:
    """Tickets a month, minutes a person spends on one, and what that person costs an hour (lesson 09)."""

    tickets_per_month: float
    handle_minutes: float
    agent_hourly_usd: float

    def __post_init__(self) -> None:
        if min(self.tickets_per_month, self.handle_minutes, self.agent_hourly_usd) < 0:
            raise ValueError("tickets, minutes and hourly cost must not be negative")

    @property
    def labour_hours(self) -> float:
        """Agent hours a month."""
        return self.tickets_per_month * self.handle_minutes / 60

    @property
    def labour_cost(self) -> float:
        """USD a month of agent time."""
        return self.labour_hours * self.agent_hourly_usd


@dataclass(frozen=True)
class Automation:
    """The AI's share of tickets and what it costs (lesson 09).

    ``ai_cost_per_ticket`` is charged on automated tickets, and also on escalated ones when
    ``ai_sees_every_ticket`` (the AI tried them first). ``escalated_handle_minutes`` defaults to the
    baseline's minutes: escalated tickets are often the harder ones, so set it higher to be honest.
    """

    automated_share: float
    ai_cost_per_ticket: float
    ai_sees_every_ticket: bool = False
    escalated_handle_minutes: float | None = None
    one_off_usd: float = 0.0
    monthly_fixed_usd: float = 0.0

    def __post_init__(self) -> None:
        if not 0 <= self.automated_share <= 1:
            raise ValueError(f"automated_share is a share between 0 and 1, got {self.automated_share}")
        if min(self.ai_cost_per_ticket, self.one_off_usd, self.monthly_fixed_usd) < 0:
            raise ValueError("AI costs must not be negative")


@dataclass(frozen=True)
class RoiResult:
    """Monthly bills before and after, the saving, ROI and payback (lesson 09)."""

    labour_before: float
    labour_after: float
    ai_monthly: float
    one_off: float
    months: int

    @property
    def cost_after(self) -> float:
        """USD a month after automation: remaining labour plus the AI."""
        return self.labour_after + self.ai_monthly

    @property
    def monthly_saving(self) -> float:
        """USD a month saved (negative when automation costs more than it saves)."""
        return self.labour_before - self.cost_after

    @property
    def annual_saving(self) -> float:
        """Twelve months of saving (before the one-off cost)."""
        return 12 * self.monthly_saving

    @property
    def investment(self) -> float:
        """What the AI costs over the horizon: one-off plus running costs."""
        return self.one_off + self.ai_monthly * self.months

    @property
    def roi(self) -> float:
        """Net gain over the horizon divided by the investment (1.0 = 100 %)."""
        gain = self.monthly_saving * self.months - self.one_off
        return gain / self.investment if self.investment else math.inf

    @property
    def saving_to_cost_after(self) -> float:
        """Monthly saving divided by the whole monthly bill after (not an ROI)."""
        return self.monthly_saving / self.cost_after if self.cost_after else math.inf

    @property
    def payback_months(self) -> float:
        """Months until the saving repays the one-off cost (inf if it never does)."""
        if self.monthly_saving <= 0:
            return math.inf
        return self.one_off / self.monthly_saving


def automation_roi(load: SupportLoad, plan: Automation, *, months: int = 12) -> RoiResult:
    """The support bill before and after automating ``plan.automated_share`` of tickets (lesson 09)."""
    if months < 1:
        raise ValueError(f"months must be at least 1, got {months}")
    automated = load.tickets_per_month * plan.automated_share
    escalated = load.tickets_per_month - automated
    minutes = load.handle_minutes if plan.escalated_handle_minutes is None else plan.escalated_handle_minutes
    labour_after = escalated * minutes / 60 * load.agent_hourly_usd
    ai_tickets = load.tickets_per_month if plan.ai_sees_every_ticket else automated
    ai_monthly = ai_tickets * plan.ai_cost_per_ticket + plan.monthly_fixed_usd
    return RoiResult(load.labour_cost, labour_after, ai_monthly, plan.one_off_usd, months)


# --------------------------------------------------------------------------- build vs buy


@dataclass(frozen=True)
class BuildOption:
    """One way to ship a use case: setup cost, monthly cost (fixed + per volume), time to market (lesson 09)."""

    name: str
    setup_usd: float = 0.0
    monthly_fixed_usd: float = 0.0
    monthly_variable_usd: float = 0.0
    """Monthly cost at today's volume that grows in proportion to volume (API tokens)."""
    weeks_to_market: float = 0.0

    def __post_init__(self) -> None:
        if min(self.setup_usd, self.monthly_fixed_usd, self.monthly_variable_usd, self.weeks_to_market) < 0:
            raise ValueError(f"{self.name}: costs and weeks to market must not be negative")

    def monthly_cost(self, volume: float = 1.0) -> float:
        """USD a month at ``volume`` × today's traffic."""
        return self.monthly_fixed_usd + self.monthly_variable_usd * volume


def months_to_market(option: BuildOption) -> float:
    """Months before the option is live (52 weeks = 12 months) (lesson 09)."""
    return option.weeks_to_market * MONTHS_PER_WEEK


def cumulative_value(
    option: BuildOption, monthly_benefit: float, month: float, *, volume: float = 1.0
) -> float:
    """Net value after ``month`` months: benefit minus running cost while live, minus setup (lesson 09)."""
    live = max(0.0, month - months_to_market(option))
    return (monthly_benefit - option.monthly_cost(volume)) * live - option.setup_usd


def crossover_month(
    a: BuildOption, b: BuildOption, monthly_benefit: float, *, volume: float = 1.0
) -> float | None:
    """The month from which ``b``'s cumulative value stays at or above ``a``'s; None if it never does (lesson 09).

    0.0 means ``b`` is never behind. Both value curves are straight lines once both options are live,
    so the answer is exact, not searched for.
    """

    def diff(t: float) -> float:
        return cumulative_value(b, monthly_benefit, t, volume=volume) - cumulative_value(
            a, monthly_benefit, t, volume=volume
        )

    d_a, d_b = months_to_market(a), months_to_market(b)
    points = sorted({0.0, d_a, d_b})
    late = points[-1]
    slope = a.monthly_cost(volume) - b.monthly_cost(volume)  # d/dt of diff once both are live
    if slope < 0 or (slope == 0 and diff(late) < 0):
        return None
    # Walk back from the end: the last moment diff is negative, then the crossing just after it.
    if diff(late) < 0:
        return late - diff(late) / slope
    for t0, t1 in zip(reversed(points[:-1]), reversed(points[1:]), strict=True):
        f0, f1 = diff(t0), diff(t1)
        if f0 < 0 <= f1:
            return t0 + (t1 - t0) * (-f0) / (f1 - f0)
    return 0.0


def compare_options(
    options: Sequence[BuildOption],
    monthly_benefit: float,
    horizons: Iterable[int] = (12, 24, 36),
    *,
    volume: float = 1.0,
) -> list[dict[str, object]]:
    """One row per option: months to market, monthly cost and cumulative value at each horizon (lesson 09)."""
    horizons = list(horizons)
    rows: list[dict[str, object]] = []
    for option in options:
        row: dict[str, object] = {
            "option": option.name,
            "months_to_market": months_to_market(option),
            "monthly_cost": option.monthly_cost(volume),
        }
        for h in horizons:
            live = max(0.0, h - months_to_market(option))
            row[f"cost_{h}m"] = option.setup_usd + option.monthly_cost(volume) * live
            row[f"value_{h}m"] = cumulative_value(option, monthly_benefit, h, volume=volume)
        rows.append(row)
    return rows
