"""Lesson 06's runs of the real small model on the JSON step protocol, and what self-correction did in them.

SmolLM2-135M answers the train problem in the same loop as the scripted agent: one greedy run and three
at temperature 0.7, each with at most 4 iterations and 2 corrections per step, replayed from the
recordings made on the local server. :func:`json_protocol_runs` replays them and
:func:`correction_counts` counts what the loop's self-correction achieved: how many corrections were
asked for, how many produced a step the loop accepted, and how each run ended.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from course_lib.orchestrator import DEFAULT_PARAMS, Orchestrator, OrchestratorResult

__all__ = [
    "JSON_RUN_PARAMS",
    "LOCAL_MODEL",
    "RECORDINGS",
    "TRAIN",
    "CorrectionCounts",
    "correction_counts",
    "json_protocol_runs",
]

LOCAL_MODEL = "SmolLM2-135M-Instruct"
RECORDINGS = "06_agent_loop"
TRAIN = "If a train travels 60 mph for 2.5 hours, then 80 mph for 1.5 hours, what's the average speed?"

_GREEDY: dict[str, Any] = {**DEFAULT_PARAMS, "max_tokens": 160}
#: The sampling parameters of the four recorded runs: greedy, then three at temperature 0.7 (lesson 06).
JSON_RUN_PARAMS: tuple[dict[str, Any], ...] = (_GREEDY,) + ({**_GREEDY, "temperature": 0.7},) * 3


def json_protocol_runs(provider: Any = None, problem: str = TRAIN) -> list[OrchestratorResult]:
    """Replay (or, given a live provider, make) the small model's four runs on the JSON step protocol (lesson 06)."""
    if provider is None:
        from course_lib.providers.registry import get_provider

        provider = get_provider("replay", model=LOCAL_MODEL, recordings=RECORDINGS)
    return [
        Orchestrator(provider, max_iterations=4, max_corrections=2, params=params).run(problem)
        for params in JSON_RUN_PARAMS
    ]


@dataclass(frozen=True)
class CorrectionCounts:
    """What self-correction did over several runs: corrections asked for and accepted, and how runs ended (lesson 06)."""

    runs: int
    asked: int
    accepted: int
    statuses: dict[str, int]

    def __str__(self) -> str:
        ends = ", ".join(f"{n} {status}" for status, n in sorted(self.statuses.items()))
        return f"{self.runs} runs ({ends}); {self.accepted} of {self.asked} corrections accepted"


def correction_counts(results: Sequence[OrchestratorResult]) -> CorrectionCounts:
    """Count corrections: every call after an iteration's first is one; it is accepted if its step was (lesson 06)."""
    asked = accepted = 0
    for result in results:
        asked += result.calls - result.iterations
        accepted += sum(1 for record in result.steps if record.attempts > 1)
    statuses = Counter(result.status for result in results)
    return CorrectionCounts(runs=len(results), asked=asked, accepted=accepted, statuses=dict(statuses))
