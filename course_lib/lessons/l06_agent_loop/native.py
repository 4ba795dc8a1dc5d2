"""Lesson 06's agent loop on native tool calls, recorded on the real small model.

The same loop, iteration bound and calculator as the JSON step protocol, but the model calls the
calculator through the API's ``tools`` / ``tool_calls`` round trip: request with ``tools`` →
``tool_calls`` in the reply → a ``tool`` message with the result → the final answer in text.
SmolLM2-135M's chat template has no tool-call format of its own, so the local server produces a tool
call only when ``tool_choice`` names the function (and then constrains the arguments to the tool's
schema); the run forces the first call and lets the model choose after that.
:func:`tool_calling_run` replays the recorded run and :func:`round_trip` lists its messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from course_lib.orchestrator import DEFAULT_PARAMS, Orchestrator, OrchestratorResult
from course_lib.steps import numbers_in, written_matches
from course_lib.tool_calls import forced_then_auto

__all__ = [
    "LOCAL_MODEL",
    "RECORDINGS",
    "TOOL_PARAMS",
    "TRAIN",
    "TRAIN_ANSWER",
    "ToolRunSummary",
    "round_trip",
    "summarize",
    "tool_calling_orchestrator",
    "tool_calling_run",
]

LOCAL_MODEL = "SmolLM2-135M-Instruct"
RECORDINGS = "06_agent_loop"
TRAIN = "If a train travels 60 mph for 2.5 hours, then 80 mph for 1.5 hours, what's the average speed?"
TRAIN_ANSWER = 67.5
#: Sampling parameters of the recorded run (greedy; room for the tool's arguments) (lesson 06).
TOOL_PARAMS: dict[str, Any] = {"temperature": DEFAULT_PARAMS["temperature"], "max_tokens": 160}


def tool_calling_orchestrator(provider: Any) -> Orchestrator:
    """The loop as recorded: native tool calls, calculator forced first, 4 iterations, 2 corrections (lesson 06)."""
    return Orchestrator(
        provider,
        max_iterations=4,
        max_corrections=2,
        params=TOOL_PARAMS,
        protocol="tools",
        tool_choice=forced_then_auto("calculator"),
    )


def tool_calling_run(provider: Any = None, problem: str = TRAIN) -> OrchestratorResult:
    """Replay (or, given a live provider, make) the native tool-calling run on the train problem (lesson 06)."""
    if provider is None:
        from course_lib.providers.registry import get_provider

        provider = get_provider("replay", model=LOCAL_MODEL, recordings=RECORDINGS)
    return tool_calling_orchestrator(provider).run(problem)


def round_trip(result: OrchestratorResult) -> list[str]:
    """The run's conversation, one line per message: role, tool calls or tool results, text (lesson 06)."""
    lines = []
    for m in result.messages:
        role = m["role"]
        if m.get("tool_calls"):
            calls = ", ".join(
                f"{c['function']['name']}({c['function']['arguments']})" for c in m["tool_calls"]
            )
            lines.append(f"{role}: tool_calls {calls}")
        elif role == "tool":
            lines.append(f"tool [{m.get('tool_call_id')}]: {m.get('content')}")
        else:
            text = " ".join(str(m.get("content") or "").split())
            lines.append(f"{role}: {text[:117] + '…' if len(text) > 118 else text}")
    return lines


@dataclass(frozen=True)
class ToolRunSummary:
    """What the tool-calling run did: status, tool calls made and accepted, the answer and whether it is right (lesson 06)."""

    status: str
    iterations: int
    calls: int
    tool_calls: int
    invalid_tool_calls: int
    answer: str | None
    right: bool


def summarize(result: OrchestratorResult, expected: float = TRAIN_ANSWER) -> ToolRunSummary:
    """Count the run's tool calls (accepted and refused) and check its answer (lesson 06)."""
    accepted = sum(1 for s in result.steps if s.tool is not None)
    return ToolRunSummary(
        status=result.status,
        iterations=result.iterations,
        calls=result.calls,
        tool_calls=accepted + len(result.invalid_outputs),
        invalid_tool_calls=len(result.invalid_outputs),
        answer=result.answer,
        right=any(written_matches(n, expected) for n in numbers_in(result.answer or "")),
    )
