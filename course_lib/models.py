"""The model registry (lesson 00): which models the course names, and which of them are retired.

Every model lives in one table, ``course_lib/data/models.json``: its provider, dated prices, context
window and, where announced, a retirement date and a replacement. :func:`retirement` answers "can I
still call this model?"; ``course doctor`` uses it for ``COURSE_MODEL`` and for every model a lesson's
recordings ask for, because a retired model ID is the commonest way an LLM course stops working.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from .cost import ModelPrice, UnknownModelError, load_prices

__all__ = ["Retirement", "model_info", "retirement", "retirements"]


def model_info(model: str) -> ModelPrice:
    """The table's row for ``model`` (a dated suffix such as ``-2024-08-06`` resolves to its base)."""
    return load_prices().get(model)


@dataclass(frozen=True)
class Retirement:
    """A model that is retired, or will be, with the day and what to use instead (lesson 00)."""

    model: str
    date: dt.date
    replacement: str | None
    retired: bool

    def message(self) -> str:
        """One line for a learner: what happens and what to do."""
        when = "was retired on" if self.retired else "retires on"
        instead = f"; use {self.replacement} instead" if self.replacement else ""
        return (
            f"{self.model} {when} {self.date.isoformat()}{instead} (replay still answers from its recordings)"
        )


def retirement(model: str, *, today: dt.date | None = None) -> Retirement | None:
    """The retirement of ``model`` if the table announces one, else None; unknown models give None."""
    try:
        row = model_info(model)
    except UnknownModelError:
        return None
    if not row.retirement_date:
        return None
    day = dt.date.fromisoformat(row.retirement_date)
    now = today or dt.date.today()
    return Retirement(model=model, date=day, replacement=row.replacement, retired=day <= now)


def retirements(models: Iterable[str], *, today: dt.date | None = None) -> list[Retirement]:
    """The announced retirements among ``models`` (each model once, sorted by name)."""
    found = (retirement(m, today=today) for m in sorted(set(models)))
    return [r for r in found if r is not None]
