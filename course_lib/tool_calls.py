"""Native tool calling: tool definitions from pydantic models, validated arguments, the round trip's messages (lesson 06).

Every current chat API lets the model *call a function* instead of writing JSON in its text: the
request lists ``tools`` (a name, a description and a JSON schema of the arguments), the reply carries
``tool_calls``, and the program answers each call with a ``tool`` message before asking again. The
arguments are still the model's output: they are validated like any other (:func:`parse_tool_call`),
and a call whose arguments fail is answered with the error so the model can call again.
:func:`iter_tool_step` is one step of the orchestrator's loop on this protocol, with the same
self-correction contract as :func:`~course_lib.validators.iter_validated`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator

from .calculator import CalculatorError, check_expression
from .constrained import EXPRESSION_PATTERN
from .providers.base import Message, Usage
from .retry import RetryPolicy
from .steps import ReasoningStep
from .validators import (
    RetryNotice,
    Validated,
    ValidationAttempt,
    ValidationFailedError,
    complete_with_retry,
    format_validation_error,
)

__all__ = [
    "CALCULATOR_TOOL",
    "NOT_RUN",
    "TOOLS_SYSTEM_PROMPT",
    "CalculatorArgs",
    "ExpressionArgs",
    "ToolCallError",
    "ToolChoice",
    "ToolStep",
    "assistant_message",
    "forced_then_auto",
    "function_tool",
    "iter_tool_step",
    "named_tool_choice",
    "parse_tool_call",
    "tool_message",
    "tools_for",
]

ToolChoice = str | dict[str, Any] | Callable[[int], "str | dict[str, Any] | None"] | None
"""``tool_choice`` for every call, or a function of the iteration number (from 1) that gives it (lesson 06)."""

TOOLS_SYSTEM_PROMPT = """\
You solve problems step by step with tools. Never do arithmetic in your head: call the calculator \
tool with the expression, and use the result it returns. When every number the answer needs has \
been computed, reply with the final answer in one short sentence, with units, and call no tool."""
"""The orchestrator's instructions on the native tool protocol (lesson 06)."""

NOT_RUN = "not run: one tool call per step; call it again in your next reply if you still need it"
"""The tool message for the extra calls of a reply that made several (lesson 06)."""


class ExpressionArgs(BaseModel):
    """The arguments of a tool that takes one expression (lesson 06)."""

    expression: str = Field(min_length=1, max_length=200, description="The expression to evaluate.")


class CalculatorArgs(BaseModel):
    """The calculator's arguments: plain arithmetic, checked before anything runs (lesson 06)."""

    expression: str = Field(
        pattern=EXPRESSION_PATTERN,
        description="Plain arithmetic: numbers, + - * / // % ** and parentheses, e.g. 240 * 0.15",
    )

    @field_validator("expression")
    @classmethod
    def _arithmetic(cls, value: str) -> str:
        try:
            return check_expression(value)
        except CalculatorError as exc:
            raise ValueError(f"the calculator cannot read {value!r}: {exc}") from None


class ToolCallError(ValueError):
    """A tool call named an unknown tool or carried arguments that do not validate (lesson 06)."""


def function_tool(name: str, description: str, args_model: type[BaseModel]) -> dict[str, Any]:
    """A ``tools`` entry whose parameters are ``args_model.model_json_schema()`` (lesson 06)."""
    return {
        "type": "function",
        "function": {"name": name, "description": description, "parameters": args_model.model_json_schema()},
    }


CALCULATOR_TOOL = function_tool(
    "calculator",
    "Evaluate an arithmetic expression exactly. Use it for every calculation.",
    CalculatorArgs,
)
"""The calculator as a native tool: the same safe evaluator the JSON step protocol uses (lesson 06)."""


def _args_model(name: str) -> type[BaseModel]:
    return CalculatorArgs if name == "calculator" else ExpressionArgs


def tools_for(names: Sequence[str]) -> list[dict[str, Any]]:
    """The ``tools`` list for the orchestrator's tools, each taking one ``expression`` (lesson 06)."""
    return [
        CALCULATOR_TOOL
        if name == "calculator"
        else function_tool(name, f"Run the {name} tool on an expression.", ExpressionArgs)
        for name in names
    ]


def named_tool_choice(name: str) -> dict[str, Any]:
    """``tool_choice`` that makes the model call ``name`` (servers with grammars constrain its arguments) (lesson 06)."""
    return {"type": "function", "function": {"name": name}}


def forced_then_auto(name: str, forced: int = 1) -> Callable[[int], str | dict[str, Any]]:
    """A tool-choice policy: call ``name`` in the first ``forced`` iterations, then let the model choose (lesson 06).

    For models whose chat template cannot decide to call a tool on its own (a server then only
    produces a tool call when ``tool_choice`` names the function).
    """
    if forced < 0:
        raise ValueError(f"forced must be 0 or more, got {forced}")
    choice = named_tool_choice(name)

    def policy(iteration: int) -> str | dict[str, Any]:
        return choice if iteration <= forced else "auto"

    return policy


def parse_tool_call(call: Mapping[str, Any], tools: Sequence[str]) -> tuple[str, BaseModel]:
    """Check one tool call: a known tool, JSON arguments that validate; return (name, arguments) (lesson 06).

    Raises :class:`ToolCallError` with a message the model can act on.
    """
    function = call.get("function") or {}
    name = function.get("name")
    if name not in tools:
        raise ToolCallError(f"there is no tool named {name!r}; available: {', '.join(tools)}")
    text = function.get("arguments") or ""
    try:
        data = json.loads(text) if text.strip() else {}
    except ValueError as exc:
        raise ToolCallError(f"the arguments of {name} are not valid JSON ({exc.args[0]})") from None
    if not isinstance(data, dict):
        raise ToolCallError(f"the arguments of {name} must be a JSON object, not {type(data).__name__}")
    try:
        return name, _args_model(name).model_validate(data)
    except ValidationError as exc:
        raise ToolCallError(
            f"the arguments of {name} do not validate:\n{format_validation_error(exc)}"
        ) from None


def assistant_message(text: str | None, tool_calls: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The assistant turn that carries tool calls, as it goes back into the history (lesson 06)."""
    calls = [
        {
            "id": c.get("id"),
            "type": "function",
            "function": {
                "name": (c.get("function") or {}).get("name"),
                "arguments": (c.get("function") or {}).get("arguments") or "",
            },
        }
        for c in tool_calls
    ]
    return {"role": "assistant", "content": text or None, "tool_calls": calls}


def tool_message(call_id: str, content: str) -> dict[str, Any]:
    """The ``tool`` message that answers one tool call (lesson 06)."""
    return {"role": "tool", "tool_call_id": call_id, "content": content}


@dataclass(frozen=True)
class ToolStep:
    """One accepted step on the tool protocol: the step, the call it came from, calls left unrun (lesson 06)."""

    step: ReasoningStep
    call_id: str | None = None
    """The tool call to answer with the tool's result; None for a final answer in text."""
    skipped: tuple[str, ...] = field(default_factory=tuple)


def _correction(text: str) -> str:
    return (
        "Your reply had neither a tool call nor an answer. Call a tool with valid arguments, or reply "
        f"with the final answer in words.{(' Your reply was: ' + text) if text else ''}"
    )


def iter_tool_step(
    provider: Any,
    messages: Sequence[Message],
    max_attempts: int,
    *,
    expected_step: int,
    tools: Sequence[str],
    params: Mapping[str, Any],
    retry: RetryPolicy | None = None,
    sleep: Callable[[float], Any] = time.sleep,
    on_retry: Callable[[RetryNotice], None] | None = None,
) -> Generator[ValidationAttempt, None, Validated[ToolStep]]:
    """Ask for one step on the native tool protocol; yield each attempt; return the accepted step (lesson 06).

    A reply with tool calls is accepted when its first call validates (the others are answered with
    :data:`NOT_RUN`); a call that fails is answered with its error in a ``tool`` message and the model
    asks again, at most ``max_attempts`` times in all. A reply in plain text is the final answer.
    Raises :class:`~course_lib.validators.ValidationFailedError` when every attempt failed.
    """
    if max_attempts < 1:
        raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
    transcript = [dict(m) for m in messages]
    attempts: list[ValidationAttempt] = []
    usage = Usage()
    for _ in range(max_attempts):
        result = complete_with_retry(
            provider, transcript, params, retry=retry, sleep=sleep, on_retry=on_retry
        )
        usage = usage + result.usage
        choice = result.choices[0]
        calls = list(choice.tool_calls or [])
        text = choice.text or ""
        if calls:
            raw = json.dumps([c.get("function") for c in calls], ensure_ascii=False)
            ids = [str(c.get("id")) for c in calls]
            try:
                name, args = parse_tool_call(calls[0], tools)
                step = ReasoningStep.model_validate(
                    {
                        "step": expected_step,
                        "step_type": "calculate",
                        "thought": text.strip() or f"Call {name}.",
                        "tool": name,
                        "expression": args.expression,  # type: ignore[attr-defined]
                    },
                    context={"tools": tuple(tools)},
                )
            except (ToolCallError, ValidationError) as exc:
                error = str(exc) if isinstance(exc, ToolCallError) else format_validation_error(exc)
                attempt = ValidationAttempt(raw=raw, error=error, usage=result.usage)
                attempts.append(attempt)
                yield attempt
                transcript.append(assistant_message(text, calls))
                transcript += [
                    tool_message(i, f"error: {error}\nCall the tool again with corrected arguments.")
                    if n == 0
                    else tool_message(i, NOT_RUN)
                    for n, i in enumerate(ids)
                ]
                continue
            attempt = ValidationAttempt(raw=raw, usage=result.usage)
            attempts.append(attempt)
            yield attempt
            transcript.append(assistant_message(text, calls))
            value = ToolStep(step=step, call_id=ids[0], skipped=tuple(ids[1:]))
            return Validated(value=value, attempts=attempts, usage=usage, messages=transcript)
        answer = text.strip()
        if not answer:
            error = "the reply is empty: no tool call and no answer"
            attempt = ValidationAttempt(raw=text, error=error, usage=result.usage)
            attempts.append(attempt)
            yield attempt
            transcript.append({"role": "assistant", "content": "(empty reply)"})
            transcript.append({"role": "user", "content": _correction(text)})
            continue
        step = ReasoningStep(
            step=expected_step, step_type="final_answer", thought="The model answered in text.", answer=answer
        )
        attempt = ValidationAttempt(raw=text, usage=result.usage)
        attempts.append(attempt)
        yield attempt
        transcript.append({"role": "assistant", "content": text})
        return Validated(value=ToolStep(step=step), attempts=attempts, usage=usage, messages=transcript)
    raise ValidationFailedError("tool call", attempts, usage)
