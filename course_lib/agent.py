"""The agent loop as an explicit state machine: states, allowed transitions, why a run stops (lesson 06).

An agent loop is a small state machine wrapped around a stateless model. The controller starts,
asks the model for a step, checks the reply (asking again with the error when it is invalid), runs
the step's tool, appends what happened to the history, and decides whether to go round again. This
module writes that down as data: :data:`TRANSITIONS` lists every allowed move, :func:`stop_reason` is
the termination rule, and :func:`trace_events` turns the events of a real
:class:`~course_lib.orchestrator.Orchestrator` run into the path it took through the machine, checking
each move against the table. Everything here is pure logic: no model, no I/O.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, get_args

__all__ = [
    "STATES",
    "STOP_REASONS",
    "TRANSITIONS",
    "AgentMachine",
    "IllegalTransitionError",
    "MachineEvent",
    "State",
    "StopReason",
    "Transition",
    "format_trace",
    "stop_reason",
    "trace_events",
    "transition_counts",
]

State = Literal["start", "ask", "correct", "act", "observe", "done"]
"""Where the controller is: before the run, asking the model, correcting a reply, running a tool, deciding, stopped."""
STATES: tuple[str, ...] = get_args(State)
"""The controller's states, in the order a run first meets them (lesson 06)."""

MachineEvent = Literal[
    "begin",
    "tool_step",
    "plain_step",
    "answer",
    "invalid",
    "retry",
    "tool_ran",
    "continue",
    "limit",
    "give_up",
    "provider_error",
]
"""What can happen in a state; :data:`TRANSITIONS` says where each event leads (lesson 06)."""

StopReason = Literal["answered", "max_iterations", "invalid_output", "provider_error"]
"""Why a run ended: the same four statuses as the orchestrator's results (lesson 06)."""
STOP_REASONS: tuple[str, ...] = get_args(StopReason)
"""Every way a run may end; a loop with no other exit cannot spin forever (lesson 06)."""

TRANSITIONS: dict[tuple[str, str], str] = {
    ("start", "begin"): "ask",  # history = system prompt + task
    ("ask", "tool_step"): "act",  # a valid step that needs a tool
    ("ask", "plain_step"): "observe",  # a valid step with nothing to run
    ("ask", "answer"): "done",  # a final answer ends the run
    ("ask", "invalid"): "correct",  # the reply failed validation: show the model its error
    ("ask", "retry"): "ask",  # 429 / timeout / 5xx: wait and call again
    ("ask", "provider_error"): "done",
    ("correct", "tool_step"): "act",
    ("correct", "plain_step"): "observe",
    ("correct", "answer"): "done",
    ("correct", "invalid"): "correct",
    ("correct", "retry"): "correct",
    ("correct", "give_up"): "done",  # out of corrections
    ("correct", "provider_error"): "done",
    ("act", "tool_ran"): "observe",  # the tool's result (or error) joins the history
    ("observe", "continue"): "ask",  # iterations left: go round again
    ("observe", "limit"): "done",  # max_iterations reached without an answer
}
"""Allowed moves: (state, event) -> next state (lesson 06)."""

_STOPS: dict[str, str] = {
    "answer": "answered",
    "limit": "max_iterations",
    "give_up": "invalid_output",
    "provider_error": "provider_error",
}


class IllegalTransitionError(ValueError):
    """An event arrived that the state machine does not allow in its current state (lesson 06)."""


@dataclass(frozen=True)
class Transition:
    """One move of the machine: in which iteration, from where, on what event, to where (lesson 06)."""

    iteration: int
    source: str
    event: str
    target: str
    detail: str = ""


def stop_reason(step_type: str | None, iteration: int, max_iterations: int) -> StopReason | None:
    """Why the loop stops after iteration ``iteration`` (from 1) produced a ``step_type`` step; None: go on (lesson 06).

    A final answer stops the run whatever the count; otherwise the run stops once it has used
    ``max_iterations`` iterations, so the model is called at most ``max_iterations`` times for steps.
    """
    if max_iterations < 1:
        raise ValueError(f"max_iterations must be at least 1, got {max_iterations}")
    if iteration < 1:
        raise ValueError(f"iterations count from 1, got {iteration}")
    if step_type == "final_answer":
        return "answered"
    if iteration >= max_iterations:
        return "max_iterations"
    return None


class AgentMachine:
    """The controller's state, moved only along :data:`TRANSITIONS`; records every move (lesson 06)."""

    def __init__(self) -> None:
        self.state: str = "start"
        self.iteration = 0
        self.reason: str | None = None
        self.transitions: list[Transition] = []

    @property
    def done(self) -> bool:
        """True once the run has stopped; :attr:`reason` says why."""
        return self.state == "done"

    def fire(self, event: str, detail: str = "") -> str:
        """Apply ``event``; return the new state, or raise :class:`IllegalTransitionError`."""
        target = TRANSITIONS.get((self.state, event))
        if target is None:
            allowed = sorted(e for (s, e) in TRANSITIONS if s == self.state)
            raise IllegalTransitionError(
                f"event {event!r} is not allowed in state {self.state!r}; allowed: {allowed or 'none (done)'}"
            )
        if target == "ask" and self.state in ("start", "observe"):
            self.iteration += 1
        self.transitions.append(Transition(self.iteration, self.state, event, target, detail))
        self.state = target
        if target == "done":
            self.reason = _STOPS[event]
        return target


def _step_detail(record: Any) -> str:
    step = record.step
    if step.step_type == "final_answer":
        return f"final_answer: {step.answer}"
    if step.expression:
        return f"{step.step_type}: {step.expression}"
    return f"{step.step_type}: {step.thought}"


def trace_events(events: Iterable[Any]) -> AgentMachine:
    """Replay an orchestrator run's :class:`~course_lib.steps.StepEvent` list through the machine (lesson 06).

    Returns the machine, whose ``transitions`` are the path the run took and ``reason`` how it ended.
    Raises :class:`IllegalTransitionError` if the run made a move the table does not allow.
    """
    machine = AgentMachine()
    machine.fire("begin")
    for event in events:
        kind = event.kind
        if kind != "finished" and machine.state == "observe":
            machine.fire("continue")
        if kind == "step":
            record = event.record
            if record.step.step_type == "final_answer":
                machine.fire("answer", _step_detail(record))
            elif record.step.expression:
                machine.fire("tool_step", _step_detail(record))
            else:
                machine.fire("plain_step", _step_detail(record))
        elif kind in ("tool_result", "tool_error"):
            record = event.record
            value = record.tool_error if kind == "tool_error" else record.value
            machine.fire("tool_ran", f"{record.tool or 'tool'} -> {value}")
        elif kind == "invalid_output":
            machine.fire("invalid", (event.error or "").splitlines()[-1].strip("- "))
        elif kind == "provider_retry":
            machine.fire("retry", event.error or "")
        elif kind == "finished":
            status = event.result.status
            if machine.done:
                continue
            ending = {"max_iterations": "limit", "invalid_output": "give_up"}.get(status, status)
            machine.fire(ending, event.result.error.splitlines()[0] if event.result.error else "")
        else:
            raise IllegalTransitionError(f"unknown event kind {kind!r}")
    if not machine.done:
        raise IllegalTransitionError(f"the run's events end in state {machine.state!r}, not 'done'")
    return machine


def transition_counts(transitions: Iterable[Transition]) -> Counter[tuple[str, str]]:
    """How many times the run moved along each (source, target) edge (lesson 06)."""
    return Counter((t.source, t.target) for t in transitions)


def format_trace(transitions: Iterable[Transition], width: int = 70) -> str:
    """One line per move: iteration, ``source --event--> target`` and a clipped detail (lesson 06)."""
    lines = []
    for t in transitions:
        detail = t.detail if len(t.detail) <= width else t.detail[: width - 1] + "…"
        move = f"{t.source:>7} --{t.event}--> {t.target}"
        lines.append(f"{t.iteration:>3}  {move:<36} {detail}".rstrip())
    return "\n".join(lines)
