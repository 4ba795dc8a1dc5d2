"""The orchestrator on native tool calls and on schema-constrained steps, with a scripted provider; the Anthropic tool mapping."""

from __future__ import annotations

import json

import pytest

from course_lib.agent import trace_events
from course_lib.constrained import ConstrainedStep, json_schema_format, step_response_format, step_schema
from course_lib.orchestrator import Orchestrator
from course_lib.providers.anthropic_adapter import (
    to_anthropic_messages,
    to_anthropic_tool_choice,
    to_anthropic_tools,
)
from course_lib.providers.base import ChatResult, Choice, Usage
from course_lib.providers.scripted import ScriptedProvider
from course_lib.tool_calls import (
    CALCULATOR_TOOL,
    NOT_RUN,
    ToolCallError,
    forced_then_auto,
    named_tool_choice,
    parse_tool_call,
)

PROBLEM = "What is 15% of 240?"


def call(expression: str, call_id: str = "c1", name: str = "calculator", raw: str | None = None) -> dict:
    arguments = raw if raw is not None else json.dumps({"expression": expression})
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def tool_reply(*calls: dict) -> ChatResult:
    return ChatResult(
        choices=[Choice(text="", finish_reason="tool_calls", tool_calls=list(calls))],
        usage=Usage(prompt_tokens=10, completion_tokens=5),
        source="scripted",
    )


def test_tool_protocol_round_trip_runs_the_calculator_and_ends_on_text() -> None:
    provider = ScriptedProvider([tool_reply(call("240 * 0.15")), "15% of 240 is 36."])
    result = Orchestrator(provider, protocol="tools").run(PROBLEM)
    assert result.status == "answered" and result.answer == "15% of 240 is 36."
    assert result.steps[0].value == 36.0 and result.steps[0].tool == "calculator"
    assert result.ungrounded == []
    first, second = provider.calls
    assert first.params["tools"] == [CALCULATOR_TOOL]
    assert "response_format" not in first.params
    assistant, tool = second.messages[-2:]
    assert assistant["role"] == "assistant" and assistant["tool_calls"][0]["id"] == "c1"
    assert tool == {"role": "tool", "tool_call_id": "c1", "content": "240 * 0.15 = 36.0"}
    assert result.usage.total_tokens > 0
    assert (
        trace_events(
            Orchestrator(ScriptedProvider([tool_reply(call("240 * 0.15")), "36"]), protocol="tools").stream(
                PROBLEM
            )
        ).reason
        == "answered"
    )  # type: ignore[arg-type]


def test_invalid_tool_arguments_are_sent_back_and_corrected() -> None:
    provider = ScriptedProvider(
        [
            tool_reply(call("15 * 240 %")),
            tool_reply(call("x", raw="{not json", call_id="c2")),
            tool_reply(call("240 * 0.15", "c3")),
            "36",
        ]
    )
    result = Orchestrator(provider, protocol="tools", max_corrections=2).run(PROBLEM)
    assert result.status == "answered"
    assert len(result.invalid_outputs) == 2
    assert "calculator cannot read" in result.invalid_outputs[0].error
    assert "not valid JSON" in result.invalid_outputs[1].error
    third = provider.calls[2].messages
    assert third[-1]["role"] == "tool" and third[-1]["tool_call_id"] == "c2"
    assert third[-1]["content"].startswith("error: the arguments of calculator are not valid JSON")
    # The accepted reply alone stays in the history afterwards.
    final_history = provider.calls[3].messages
    assert [m["role"] for m in final_history] == ["system", "user", "assistant", "tool"]


def test_corrections_run_out_and_the_iteration_bound_holds() -> None:
    bad = ScriptedProvider([tool_reply(call("2 +"))], repeat_last=True)
    result = Orchestrator(bad, protocol="tools", max_corrections=1).run(PROBLEM)
    assert result.status == "invalid_output" and len(bad.calls) == 2
    looping = ScriptedProvider([tool_reply(call("1 + 1"))], repeat_last=True)
    result = Orchestrator(looping, protocol="tools", max_iterations=3).run(PROBLEM)
    assert result.status == "max_iterations" and result.iterations == 3 and len(looping.calls) == 3


def test_extra_calls_in_one_reply_are_answered_not_run() -> None:
    provider = ScriptedProvider([tool_reply(call("2 * 3"), call("4 * 5", "c2")), "6"])
    Orchestrator(provider, protocol="tools").run("What is 2 times 3?")
    tools = [m for m in provider.calls[1].messages if m["role"] == "tool"]
    assert [m["content"] for m in tools] == ["2 * 3 = 6", NOT_RUN]


def test_tool_choice_policy_is_evaluated_per_iteration() -> None:
    provider = ScriptedProvider([tool_reply(call("240 * 0.15")), "36"])
    Orchestrator(provider, protocol="tools", tool_choice=forced_then_auto("calculator")).run(PROBLEM)
    assert provider.calls[0].params["tool_choice"] == named_tool_choice("calculator")
    assert provider.calls[1].params["tool_choice"] == "auto"
    with pytest.raises(ValueError, match="tool_choice only applies"):
        Orchestrator(provider, tool_choice="auto")
    with pytest.raises(ValueError, match="unknown protocol"):
        Orchestrator(provider, protocol="xml")  # type: ignore[arg-type]


def test_parse_tool_call_errors_say_what_to_fix() -> None:
    with pytest.raises(ToolCallError, match="no tool named 'search'"):
        parse_tool_call(call("1", name="search"), ["calculator"])
    with pytest.raises(ToolCallError, match="must be a JSON object"):
        parse_tool_call(call("1", raw="[1]"), ["calculator"])
    name, args = parse_tool_call(call("1000 * (1 + 0.05 / 12) ** 24"), ["calculator"])
    assert name == "calculator" and args.expression == "1000 * (1 + 0.05 / 12) ** 24"


def test_schema_protocol_pins_each_steps_number_in_the_schema() -> None:
    replies = [
        json.dumps(
            {"step": 1, "step_type": "calculate", "thought": "15% of 240.", "expression": "240 * 0.15"}
        ),
        json.dumps({"step": 2, "step_type": "final_answer", "thought": "Done.", "answer": "36"}),
    ]
    provider = ScriptedProvider(replies)
    result = Orchestrator(provider, protocol="schema").run(PROBLEM)
    assert result.answer == "36"
    formats = [c.params["response_format"] for c in provider.calls]
    assert formats == [step_response_format(1), step_response_format(2)]
    schema = formats[1]["json_schema"]["schema"]
    assert {d["properties"]["step"]["const"] for d in schema["$defs"].values()} == {2}


def test_constrained_steps_are_reasoning_steps_and_schemas_come_from_models() -> None:
    from course_lib.steps import ReasoningStep

    step = ConstrainedStep.model_validate(
        {"step": 1, "step_type": "calculate", "thought": "t", "expression": "2 * 3"}
    )
    assert ReasoningStep.model_validate(step.model_dump()).expression == "2 * 3"
    with pytest.raises(ValueError):
        ConstrainedStep.model_validate({"step": 1, "step_type": "calculate", "thought": "t"})
    assert "description" not in json.dumps(step_schema())
    fmt = json_schema_format(ReasoningStep)
    assert fmt["json_schema"]["schema"] == ReasoningStep.model_json_schema()
    with pytest.raises(ValueError, match="needs a name"):
        json_schema_format({"type": "object"})


# ------------------------------------------------------------------------------ Anthropic


def test_tools_and_tool_choice_map_to_anthropic() -> None:
    (tool,) = to_anthropic_tools([CALCULATOR_TOOL])
    assert tool["name"] == "calculator" and tool["input_schema"]["required"] == ["expression"]
    assert to_anthropic_tool_choice("required") == {"type": "any"}
    assert to_anthropic_tool_choice(named_tool_choice("calculator")) == {"type": "tool", "name": "calculator"}
    with pytest.raises(ValueError, match="tool_choice"):
        to_anthropic_tool_choice("sometimes")
    with pytest.raises(ValueError, match="not a function tool"):
        to_anthropic_tools([{"type": "web_search"}])


def test_tool_round_trip_messages_map_to_tool_use_and_tool_result_blocks() -> None:
    messages = [
        {"role": "system", "content": "Use tools."},
        {"role": "user", "content": PROBLEM},
        {"role": "assistant", "content": None, "tool_calls": [call("240 * 0.15")]},
        {"role": "tool", "tool_call_id": "c1", "content": "36.0"},
        {"role": "user", "content": "Now answer."},
    ]
    system, turns = to_anthropic_messages(messages)
    assert system == "Use tools."
    assert [t["role"] for t in turns] == ["user", "assistant", "user"]
    assert turns[1]["content"] == [
        {"type": "tool_use", "id": "c1", "name": "calculator", "input": {"expression": "240 * 0.15"}}
    ]
    assert turns[2]["content"] == [
        {"type": "tool_result", "tool_use_id": "c1", "content": "36.0"},
        {"type": "text", "text": "Now answer."},
    ]
    with pytest.raises(ValueError, match="no earlier tool call"):
        to_anthropic_messages(
            [{"role": "user", "content": "a"}, {"role": "tool", "tool_call_id": "zz", "content": "1"}]
        )
