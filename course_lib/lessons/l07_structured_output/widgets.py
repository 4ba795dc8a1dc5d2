"""Measurements of lesson 07 and its widget: which layer catches what, success by attempt, the retry budget.

The functions are pure: they take raw model outputs, or each case's list of
:class:`~course_lib.validators.ValidationAttempt` from the self-correction loop, and compute the figures
the lesson prints and plots. :func:`attempts_widget` puts a slider over :func:`attempt_budget`, the
trade-off between the attempt cap, the success rate and the tokens spent. A run recorded with a cap
of N answers every smaller cap too: the first k attempts are the same whatever the cap.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from course_lib.validators import (
    InvalidOutputError,
    JSONExtractionError,
    ValidationAttempt,
    extract_json,
    parse_output,
)

__all__ = [
    "AttemptBudget",
    "LayerTally",
    "attempt_budget",
    "attempts_widget",
    "cumulative_success",
    "first_success",
    "repeated_retries",
    "success_by_attempt",
    "tally_outputs",
]


@dataclass(frozen=True)
class LayerTally:
    """How many raw outputs each check accepts, from ``json.loads`` to the grounded schema (lesson 07)."""

    label: str
    total: int
    json_loads: int
    """``json.loads(reply)`` gives an object: a naive backend would not crash."""
    extracted: int
    """A JSON object can be found in the reply, past prose and code fences."""
    schema_valid: int
    """That object validates against the schema (fields, types, ranges)."""
    grounded: int
    """It validates and every value comes from the source text."""

    @property
    def wrapped(self) -> int:
        """Replies whose object is found only past prose or fences (``json.loads`` fails, extraction works)."""
        return self.extracted - self.json_loads

    def __str__(self) -> str:
        return (
            f"{self.label:<20} json.loads {self.json_loads:>2}/{self.total}  extracted {self.extracted:>2}/{self.total}"
            f"  schema {self.schema_valid:>2}/{self.total}  grounded {self.grounded:>2}/{self.total}"
        )


def _loads_object(raw: str) -> bool:
    try:
        return isinstance(json.loads(raw), dict)
    except ValueError:
        return False


def _passes(raw: str, model_cls: type[BaseModel], context: Mapping[str, Any] | None) -> bool:
    try:
        parse_output(raw, model_cls, context=context)
    except InvalidOutputError:
        return False
    return True


def tally_outputs(
    label: str, raws: Sequence[str], model_cls: type[BaseModel], sources: Sequence[str]
) -> LayerTally:
    """Count the replies each layer of checking accepts; ``sources[i]`` is the text ``raws[i]`` came from (lesson 07)."""
    if len(raws) != len(sources):
        raise ValueError(f"{len(raws)} replies but {len(sources)} source texts; pass one source per reply")
    extracted = 0
    for raw in raws:
        try:
            extract_json(raw)
        except JSONExtractionError:
            continue
        extracted += 1
    return LayerTally(
        label=label,
        total=len(raws),
        json_loads=sum(_loads_object(raw) for raw in raws),
        extracted=extracted,
        schema_valid=sum(_passes(raw, model_cls, None) for raw in raws),
        grounded=sum(
            _passes(raw, model_cls, {"source": src}) for raw, src in zip(raws, sources, strict=True)
        ),
    )


def first_success(attempts: Sequence[ValidationAttempt]) -> int | None:
    """The 1-based number of the first attempt that validated, or None if none did (lesson 07)."""
    return next((i for i, attempt in enumerate(attempts, 1) if attempt.ok), None)


def _check_cap(max_attempts: int) -> None:
    if max_attempts < 1:
        raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")


def success_by_attempt(runs: Sequence[Sequence[ValidationAttempt]], max_attempts: int) -> list[float]:
    """Share of cases whose first valid answer came at attempt 1, 2, … ``max_attempts`` (lesson 07)."""
    _check_cap(max_attempts)
    if not runs:
        return [0.0] * max_attempts
    firsts = [first_success(run) for run in runs]
    return [sum(f == k for f in firsts) / len(runs) for k in range(1, max_attempts + 1)]


def cumulative_success(runs: Sequence[Sequence[ValidationAttempt]], max_attempts: int) -> list[float]:
    """Share of cases valid within 1, 2, … ``max_attempts`` attempts (lesson 07)."""
    total, out = 0.0, []
    for share in success_by_attempt(runs, max_attempts):
        total += share
        out.append(total)
    return out


@dataclass(frozen=True)
class AttemptBudget:
    """What an attempt cap buys: success rate, calls and tokens, per case and per success (lesson 07)."""

    max_attempts: int
    cases: int
    succeeded: int
    calls: int
    tokens: int

    @property
    def success_rate(self) -> float:
        """Share of cases that ended with a valid answer."""
        return self.succeeded / self.cases if self.cases else 0.0

    @property
    def tokens_per_case(self) -> float:
        """Prompt plus completion tokens spent per case."""
        return self.tokens / self.cases if self.cases else 0.0

    @property
    def tokens_per_success(self) -> float | None:
        """Tokens spent per valid answer (None when nothing succeeded)."""
        return self.tokens / self.succeeded if self.succeeded else None

    def __str__(self) -> str:
        per_success = "n/a" if self.tokens_per_success is None else f"{self.tokens_per_success:,.0f}"
        return (
            f"max_attempts={self.max_attempts}: {self.succeeded}/{self.cases} valid "
            f"({self.success_rate:.0%}), {self.calls} calls, {self.tokens:,} tokens "
            f"({self.tokens_per_case:,.0f} per case, {per_success} per valid answer)"
        )


def attempt_budget(runs: Sequence[Sequence[ValidationAttempt]], max_attempts: int) -> AttemptBudget:
    """Replay recorded loop runs under a cap of ``max_attempts``: successes, calls and tokens (lesson 07).

    A run stops at its first valid attempt or at the cap, whichever comes first; only the attempts
    it made count. Runs recorded with a higher cap answer any lower one exactly.
    """
    _check_cap(max_attempts)
    succeeded = calls = tokens = 0
    for run in runs:
        first = first_success(run)
        made = list(run[: first if first is not None and first <= max_attempts else max_attempts])
        succeeded += first is not None and first <= max_attempts
        calls += len(made)
        tokens += sum(a.usage.total_tokens for a in made)
    return AttemptBudget(max_attempts, len(runs), succeeded, calls, tokens)


def repeated_retries(runs: Sequence[Sequence[ValidationAttempt]]) -> tuple[int, int]:
    """``(repeats, retries)``: retries whose reply equals the previous reply (ignoring outer whitespace) (lesson 07)."""
    repeats = retries = 0
    for run in runs:
        for before, after in itertools.pairwise(run):
            retries += 1
            repeats += before.raw.strip() == after.raw.strip()
    return repeats, retries


def attempts_widget(runs: Sequence[Sequence[ValidationAttempt]], max_value: int) -> Any:
    """A slider over the attempt cap showing :func:`attempt_budget` for it (lesson 07)."""
    import ipywidgets as widgets

    slider = widgets.IntSlider(value=min(3, max_value), min=1, max=max_value, description="max attempts")
    return widgets.interactive(
        lambda max_attempts: print(attempt_budget(runs, max_attempts)), max_attempts=slider
    )
