"""Lesson 10 on the real small model with schema-constrained steps and with native tool calls: runs and counts.

The lesson's four problems run through :class:`~course_lib.orchestrator.Orchestrator` on SmolLM2-135M
twice: with ``protocol="schema"`` (every step's JSON schema in ``response_format``, which the local
server turns into a grammar) and with ``protocol="tools"`` (the calculator as a native tool, the first
call forced by ``tool_choice``). The runs are recorded in ``10_cot_orchestrator.jsonl``;
:func:`measure` replays them and :func:`tally` counts how many finished and how many answers are right.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from course_lib.orchestrator import DEFAULT_PARAMS, Orchestrator, OrchestratorResult
from course_lib.steps import numbers_in, written_matches
from course_lib.tool_calls import forced_then_auto

__all__ = [
    "EXPECTED",
    "LOCAL_MODEL",
    "NATIVE_PARAMS",
    "PROBLEMS",
    "RECORDINGS",
    "NativeTally",
    "answer_is_right",
    "measure",
    "native_orchestrator",
    "run_problems",
    "tally",
]

LOCAL_MODEL = "SmolLM2-135M-Instruct"
RECORDINGS = "10_cot_orchestrator"
#: The lesson's problems and the right answer to each (lesson 10).
EXPECTED: dict[str, float] = {
    "What is 15% of 240?": 36,
    "If I buy 3 shirts at $25 each and get 20% discount, what do I pay?": 60,
    "If I invest $1000 at 5% annual interest compounded monthly for 2 years, how much will I have?": 1104.94,
    "If a train travels 60 mph for 2.5 hours, then 80 mph for 1.5 hours, what's the average speed?": 67.5,
}
PROBLEMS: tuple[str, ...] = tuple(EXPECTED)
#: Sampling parameters of the recorded runs: greedy, room for a step (lesson 10).
NATIVE_PARAMS: dict[str, Any] = {**DEFAULT_PARAMS, "max_tokens": 200}


def native_orchestrator(provider: Any, protocol: str) -> Orchestrator:
    """The orchestrator exactly as the recorded runs used it: 5 iterations, 2 corrections a step (lesson 10)."""
    if protocol not in ("schema", "tools"):
        raise ValueError(f"protocol must be 'schema' or 'tools', got {protocol!r}")
    choice = forced_then_auto("calculator") if protocol == "tools" else None
    return Orchestrator(
        provider,
        max_iterations=5,
        max_corrections=2,
        params=NATIVE_PARAMS,
        protocol=protocol,  # type: ignore[arg-type]
        tool_choice=choice,
    )


def run_problems(
    provider: Any, protocol: str, problems: Sequence[str] = PROBLEMS
) -> list[OrchestratorResult]:
    """Run every problem in order with :func:`native_orchestrator` (lesson 10)."""
    return [native_orchestrator(provider, protocol).run(problem) for problem in problems]


def answer_is_right(answer: str | None, expected: float) -> bool:
    """True when a number in ``answer`` equals ``expected`` to the decimals it is written with (lesson 10)."""
    return any(written_matches(n, expected) for n in numbers_in(answer or ""))


@dataclass(frozen=True)
class NativeTally:
    """What the runs of one protocol achieved: finished, right, valid and invalid replies (lesson 10)."""

    protocol: str
    problems: int
    finished: int
    """Runs that ended with a final answer."""
    right: int
    """Finished runs whose answer is the right number."""
    valid_replies: int
    """Replies that validated (steps or tool calls accepted)."""
    invalid_replies: int
    """Replies that failed validation and were sent back for correction."""
    calls: int

    def __str__(self) -> str:
        return (
            f"{self.protocol:<7} finished {self.finished}/{self.problems}  right {self.right}/{self.problems}"
            f"  valid replies {self.valid_replies}/{self.valid_replies + self.invalid_replies}"
        )


def tally(
    protocol: str, results: Sequence[OrchestratorResult], expected: Mapping[str, float] = EXPECTED
) -> NativeTally:
    """Count finished runs, right answers and valid replies over ``results`` (lesson 10)."""
    invalid = sum(len(r.invalid_outputs) for r in results)
    return NativeTally(
        protocol=protocol,
        problems=len(results),
        finished=sum(r.ok for r in results),
        right=sum(r.ok and answer_is_right(r.answer, expected[r.problem]) for r in results),
        valid_replies=sum(r.calls for r in results) - invalid,
        invalid_replies=invalid,
        calls=sum(r.calls for r in results),
    )


def measure(protocol: str, provider: Any = None) -> tuple[NativeTally, list[OrchestratorResult]]:
    """Replay the recorded runs of ``protocol`` on the small model; return the tally and the runs (lesson 10)."""
    if provider is None:
        from course_lib.providers.registry import get_provider

        provider = get_provider("replay", model=LOCAL_MODEL, recordings=RECORDINGS)
    results = run_problems(provider, protocol)
    return tally(protocol, results), results
