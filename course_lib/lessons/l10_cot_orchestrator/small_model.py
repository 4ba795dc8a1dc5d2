"""Lesson 10's runs of the real small model on the JSON step protocol, and the three protocols side by side.

SmolLM2-135M ran the lesson's four problems through the orchestrator with JSON mode on and at most 200
tokens a reply (greedy, 10 iterations, 2 corrections a step); one more run of the first problem sampled
at temperature 0.8 with 4 corrections. :func:`small_run` replays one of those runs from the recordings;
:func:`protocol_tallies` counts, for the JSON protocol and for the schema-constrained and native
tool-call runs of :mod:`course_lib.lessons.l10_cot_orchestrator.native`, how many problems finished and
how many answers are right.
"""

from __future__ import annotations

from typing import Any

from course_lib.lessons.l10_cot_orchestrator.native import (
    LOCAL_MODEL,
    PROBLEMS,
    RECORDINGS,
    NativeTally,
    measure,
    tally,
)
from course_lib.orchestrator import DEFAULT_PARAMS, Orchestrator, OrchestratorResult

__all__ = ["SMALL_PARAMS", "json_runs", "protocol_tallies", "small_run"]

#: Sampling parameters of the recorded JSON-protocol runs: greedy, JSON mode, 200 tokens a reply (lesson 10).
SMALL_PARAMS: dict[str, Any] = {**DEFAULT_PARAMS, "max_tokens": 200}


def small_run(
    problem: str,
    params: dict[str, Any] | None = None,
    *,
    max_corrections: int = 2,
    max_iterations: int = 10,
    provider: Any = None,
) -> OrchestratorResult:
    """Replay (or, given a live provider, make) one JSON-protocol run of the small model (lesson 10)."""
    if provider is None:
        from course_lib.providers.registry import get_provider

        provider = get_provider("replay", model=LOCAL_MODEL, recordings=RECORDINGS)
    loop = Orchestrator(
        provider,
        params=SMALL_PARAMS if params is None else params,
        max_corrections=max_corrections,
        max_iterations=max_iterations,
    )
    return loop.run(problem)


def json_runs() -> list[OrchestratorResult]:
    """The small model's greedy JSON-protocol run on each of the lesson's problems, replayed (lesson 10)."""
    return [small_run(problem) for problem in PROBLEMS]


def protocol_tallies() -> list[NativeTally]:
    """Finished, right and valid counts on the small model for the JSON, schema and tools protocols (lesson 10)."""
    return [tally("json", json_runs()), measure("schema")[0], measure("tools")[0]]
