"""Tests for course_lib.agent: the loop's state machine, its termination rule, traces of real runs."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from course_lib.agent import (
    STATES,
    STOP_REASONS,
    TRANSITIONS,
    AgentMachine,
    IllegalTransitionError,
    format_trace,
    stop_reason,
    trace_events,
    transition_counts,
)
from course_lib.orchestrator import Orchestrator
from course_lib.providers.base import BadRequestError
from course_lib.providers.scripted import ScriptedProvider


def step(n: int, kind: str, thought: str = "t", **extra: str) -> str:
    return json.dumps({"step": n, "step_type": kind, "thought": thought, **extra})


def events_of(replies: list, **kwargs) -> list:
    orchestrator = Orchestrator(ScriptedProvider(replies), sleep=lambda s: None, **kwargs)
    return list(orchestrator.stream("What is 2 + 3, doubled?"))


# --------------------------------------------------------------------------- the table


def test_every_transition_joins_known_states_and_only_done_is_terminal() -> None:
    for (source, _event), target in TRANSITIONS.items():
        assert source in STATES and target in STATES
    sources = {s for (s, _) in TRANSITIONS}
    assert sources == set(STATES) - {"done"}
    assert all(s != "done" for (s, _) in TRANSITIONS)


def test_every_state_can_reach_done() -> None:
    reach = {"done"}
    changed = True
    while changed:
        changed = False
        for (source, _), target in TRANSITIONS.items():
            if target in reach and source not in reach:
                reach.add(source)
                changed = True
    assert reach == set(STATES)


# --------------------------------------------------------------------------- stop_reason


def test_stop_reason_cases() -> None:
    assert stop_reason("final_answer", 1, 5) == "answered"
    assert stop_reason("final_answer", 5, 5) == "answered"
    assert stop_reason("calculate", 4, 5) is None
    assert stop_reason("calculate", 5, 5) == "max_iterations"
    assert stop_reason(None, 1, 1) == "max_iterations"
    with pytest.raises(ValueError, match="max_iterations"):
        stop_reason("analyze", 1, 0)
    with pytest.raises(ValueError, match="from 1"):
        stop_reason("analyze", 0, 3)


@given(
    max_iterations=st.integers(min_value=1, max_value=12),
    kinds=st.lists(st.sampled_from(["analyze", "calculate", "verify", "final_answer"]), max_size=20),
)
def test_a_loop_driven_by_stop_reason_never_exceeds_its_cap(max_iterations: int, kinds: list[str]) -> None:
    calls = 0
    reason = None
    stream = iter(kinds + ["verify"] * 30)
    while reason is None:
        calls += 1
        kind = next(stream)
        reason = stop_reason(kind, calls, max_iterations)
    assert calls <= max_iterations
    assert reason in STOP_REASONS
    first_answer = kinds.index("final_answer") + 1 if "final_answer" in kinds else None
    if first_answer is not None and first_answer <= max_iterations:
        assert (reason, calls) == ("answered", first_answer)
    else:
        assert (reason, calls) == ("max_iterations", max_iterations)


# --------------------------------------------------------------------------- the machine


def test_machine_moves_along_the_table_and_records_why_it_stopped() -> None:
    machine = AgentMachine()
    assert machine.fire("begin") == "ask"
    assert machine.fire("invalid", "bad json") == "correct"
    assert machine.fire("tool_step") == "act"
    assert machine.fire("tool_ran") == "observe"
    assert machine.fire("continue") == "ask"
    assert machine.iteration == 2
    assert machine.fire("answer") == "done"
    assert machine.done and machine.reason == "answered"
    assert [t.event for t in machine.transitions] == [
        "begin",
        "invalid",
        "tool_step",
        "tool_ran",
        "continue",
        "answer",
    ]


def test_machine_refuses_an_illegal_move_and_names_the_allowed_ones() -> None:
    machine = AgentMachine()
    with pytest.raises(IllegalTransitionError, match="'begin'"):
        machine.fire("tool_ran")
    machine.fire("begin")
    machine.fire("answer")
    with pytest.raises(IllegalTransitionError, match="none"):
        machine.fire("continue")


# --------------------------------------------------------------------------- traces of real runs


def test_trace_of_an_answered_run_with_a_correction() -> None:
    replies = [
        step(1, "calculate", expression="2 + 3"),
        step(2, "calculate", expression="5 apples * 2"),
        step(2, "calculate", expression="5 * 2"),
        step(3, "final_answer", answer="10"),
    ]
    machine = trace_events(events_of(replies))
    assert machine.reason == "answered"
    path = [(t.source, t.target) for t in machine.transitions]
    assert path == [
        ("start", "ask"),
        ("ask", "act"),
        ("act", "observe"),
        ("observe", "ask"),
        ("ask", "correct"),
        ("correct", "act"),
        ("act", "observe"),
        ("observe", "ask"),
        ("ask", "done"),
    ]
    assert [t.iteration for t in machine.transitions][-1] == 3
    assert "5 * 2" in machine.transitions[5].detail
    assert transition_counts(machine.transitions)[("act", "observe")] == 2


def test_trace_of_a_run_stopped_by_max_iterations() -> None:
    replies = [step(i, "analyze", f"thinking {i}") for i in range(1, 4)]
    machine = trace_events(events_of(replies, max_iterations=3))
    assert machine.reason == "max_iterations"
    assert machine.transitions[-1].event == "limit"
    assert machine.iteration == 3
    assert sum(1 for t in machine.transitions if t.target == "ask") == 3


def test_trace_of_a_run_out_of_corrections() -> None:
    machine = trace_events(events_of(["not json", "still not json"], max_corrections=1))
    assert machine.reason == "invalid_output"
    assert [t.event for t in machine.transitions] == ["begin", "invalid", "invalid", "give_up"]


def test_trace_of_a_provider_error() -> None:
    machine = trace_events(events_of([BadRequestError("context length exceeded")]))
    assert machine.reason == "provider_error"
    assert machine.transitions[-1].source == "ask"


def test_trace_rejects_events_that_do_not_end_the_run() -> None:
    events = events_of([step(1, "analyze")], max_iterations=1)
    with pytest.raises(IllegalTransitionError, match="not 'done'"):
        trace_events(events[:-1])


def test_format_trace_is_one_line_per_move_and_clips_details() -> None:
    machine = AgentMachine()
    machine.fire("begin")
    machine.fire("plain_step", "x" * 200)
    text = format_trace(machine.transitions, width=20)
    lines = text.splitlines()
    assert len(lines) == 2
    assert "start --begin--> ask" in lines[0]
    assert lines[1].endswith("x" * 19 + "…")


def test_state_machine_plot_has_one_panel_per_run() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from course_lib.lessons.l06_agent_loop.plots import STATE_POSITIONS, plot_state_machine

    assert set(STATE_POSITIONS) == set(STATES)
    machine = trace_events(events_of([step(1, "final_answer", answer="10")]))
    fig = plot_state_machine({"a": transition_counts(machine.transitions), "b": {}})
    assert len(fig.axes) == 2 and fig.axes[0].get_title() == "a"
    labels = [t.get_text() for t in fig.axes[0].texts]
    assert labels.count("1") == 2  # start -> ask and ask -> done were taken once each
    plt.close(fig)
    with pytest.raises(ValueError, match="empty"):
        plot_state_machine({})
