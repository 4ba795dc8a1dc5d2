"""The reasoning-step schema, the loop's messages, its records and events, and number grounding (lesson 10).

Every model reply in the chain-of-thought loop must be one JSON object that validates as a
:class:`ReasoningStep`. Validation errors are specific ("a calculate step needs an 'expression'",
"step must be 3"), because the loop shows them to the model so it can correct itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    computed_field,
    field_validator,
    model_validator,
)

from .calculator import CalculatorError, Number, check_expression, format_number
from .providers.base import Usage
from .validators import ValidationAttempt

__all__ = [
    "STEP_TYPES",
    "SYSTEM_PROMPT",
    "EventKind",
    "OrchestratorResult",
    "ReasoningStep",
    "Status",
    "StepEvent",
    "StepRecord",
    "StepType",
    "next_step_message",
    "numbers_in",
    "problem_message",
    "tool_error_message",
    "tool_result_message",
    "ungrounded_numbers",
    "written_matches",
]

StepType = Literal["analyze", "calculate", "verify", "final_answer"]
STEP_TYPES: tuple[str, ...] = ("analyze", "calculate", "verify", "final_answer")
"""The kinds of step a model may take; only ``final_answer`` ends the loop (lesson 10)."""

SYSTEM_PROMPT = """\
You solve problems one step at a time. Every reply is exactly one JSON object describing your next \
step, with no text before or after it.

Fields:
- "step": the step number: 1 in your first reply, then 2, 3, ...
- "step_type": one of "analyze", "calculate", "verify", "final_answer"
- "thought": one or two sentences of reasoning
- "expression": required for "calculate", optional for "verify": plain arithmetic for the \
calculator, using numbers, + - * / // % ** and parentheses only (no variables, units, commas or %)
- "answer": required for "final_answer" only: the answer to the question, with units

Never do arithmetic in your head. Put it in "expression"; the calculator's result arrives in the \
next message, and you use that value. Give the final_answer only when the calculator has computed \
every number the answer needs.

Example reply:
{"step": 1, "step_type": "calculate", "thought": "15% of 240 is 240 times 0.15.", \
"expression": "240 * 0.15"}"""
"""The orchestrator's instructions: one JSON step per reply, arithmetic left to the calculator (lesson 10)."""


class ReasoningStep(BaseModel):
    """One step of reasoning as the model must write it: number, type, thought, expression or answer (lesson 10).

    Validate with ``ReasoningStep.model_validate(data, context={"expected_step": 3, "tools": [...]})``
    to also check the step number and the tool name.
    """

    model_config = ConfigDict(frozen=True, str_strip_whitespace=True)

    step: int = Field(ge=1, strict=True, description="1 for the first step, then 2, 3, …")
    step_type: StepType
    thought: str = Field(min_length=1)
    tool: str | None = Field(
        default=None, description="Which tool runs the expression (default: calculator)."
    )
    expression: str | None = None
    result: str | None = Field(
        default=None, description="The model's own claim of the result: never trusted."
    )
    answer: str | None = None

    @field_validator("result", "answer", mode="before")
    @classmethod
    def _number_to_text(cls, value: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return format_number(value)
        return value

    @field_validator("expression")
    @classmethod
    def _arithmetic_only(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None or value == "":
            return None
        tools = (info.context or {}).get("tools")
        if tools is not None and "calculator" not in tools:
            return value  # another tool will interpret it
        try:
            return check_expression(value)
        except CalculatorError as exc:
            raise ValueError(f"the calculator cannot read {value!r}: {exc}") from None

    @model_validator(mode="after")
    def _fields_fit_the_type(self, info: ValidationInfo) -> ReasoningStep:
        context = info.context or {}
        expected = context.get("expected_step")
        if expected is not None and self.step != expected:
            raise ValueError(f"step must be {expected} (the next step), not {self.step}")
        if self.step_type == "calculate" and not self.expression:
            raise ValueError(
                "a calculate step needs an 'expression' for the calculator, e.g. \"1000 * (1 + 0.05 / 12)\""
            )
        if self.step_type == "final_answer":
            if not self.answer:
                raise ValueError("a final_answer step needs a non-empty 'answer'")
            if self.expression:
                raise ValueError(
                    "a final_answer step must not carry an 'expression'; calculate in an earlier step "
                    "and use the calculator's result in the answer"
                )
        elif self.answer:
            raise ValueError(f"only a final_answer step has an 'answer', not a {self.step_type} step")
        tools = context.get("tools")
        if self.tool is not None and tools is not None and self.tool not in tools:
            raise ValueError(f"unknown tool {self.tool!r}; available: {sorted(tools)}")
        return self

    @property
    def tool_name(self) -> str:
        """The tool that runs this step's expression."""
        return self.tool or "calculator"


def problem_message(problem: str) -> str:
    """The first user message of a run (lesson 10)."""
    return f"Problem: {problem}"


def tool_result_message(step: int, expression: str, value: Number, tool: str = "calculator") -> str:
    """The message that hands a tool's result back to the model (lesson 10)."""
    return (
        f"Result of step {step} from the {tool}: {expression} = {format_number(value)}\n"
        f"Use this value. Reply with step {step + 1}."
    )


def tool_error_message(step: int, expression: str, error: str, tool: str = "calculator") -> str:
    """The message that tells the model its expression could not be evaluated (lesson 10)."""
    return (
        f"The {tool} could not evaluate step {step} ({expression}): {error}\n"
        f"Reply with step {step + 1}; fix the expression if you still need that value."
    )


_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")


def numbers_in(text: str) -> list[str]:
    """The numbers written in ``text``, thousands separators removed (``"$1,104.94"`` → ``"1104.94"``)."""
    return [m.group(0).replace(",", "").lstrip("+") for m in _NUMBER.finditer(text or "")]


def written_matches(written: str, value: Number) -> bool:
    """True if ``value`` rounded to the decimals ``written`` shows equals ``written`` (lesson 10)."""
    decimals = len(written.split(".", 1)[1]) if "." in written else 0
    try:
        target = float(written)
    except ValueError:
        return False
    tolerance = 0.5 * 10**-decimals + 1e-9 * max(1.0, abs(target))
    return abs(float(value) - target) <= tolerance


def ungrounded_numbers(answer: str, computed: Iterable[Number], problem: str = "") -> list[str]:
    """Numbers in ``answer`` that neither a tool computed nor the problem stated (lesson 10).

    An empty list means every number in the answer is backed by the calculator or the question.
    """
    values = list(computed)
    given = {float(n) for n in numbers_in(problem)}
    missing = []
    for written in numbers_in(answer):
        if float(written) in given or any(written_matches(written, v) for v in values):
            continue
        missing.append(written)
    return missing


Status = Literal["answered", "max_iterations", "invalid_output", "provider_error"]
"""How a run ended: with an answer, out of iterations, out of corrections, or on a provider error."""
EventKind = Literal["step", "tool_result", "tool_error", "invalid_output", "provider_retry", "finished"]


def next_step_message(step: int) -> str:
    """The nudge after a step that needs no tool (lesson 10)."""
    return f"Reply with step {step + 1}."


class StepRecord(BaseModel):
    """An accepted step with what the tool made of it, the calls it took and their tokens (lesson 10)."""

    iteration: int
    step: ReasoningStep
    raw: str
    tool: str | None = None
    value: int | float | None = None
    """The tool's result; the model's own ``step.result`` is only a claim."""
    tool_error: str | None = None
    claim_ok: bool | None = None
    """Whether the model's claimed result agrees with the tool's (None when it claimed none)."""
    attempts: int = 1
    usage: Usage = Usage()


class OrchestratorResult(BaseModel):
    """How a run ended, its answer, every step, iterations, calls and token usage (lesson 10)."""

    problem: str
    status: Status
    answer: str | None = None
    error: str | None = None
    steps: list[StepRecord] = Field(default_factory=list)
    iterations: int = 0
    calls: int = 0
    usage: Usage = Usage()
    """Summed over every call of the run, corrections included."""
    usage_per_iteration: list[Usage] = Field(default_factory=list)
    invalid_outputs: list[ValidationAttempt] = Field(default_factory=list)
    ungrounded: list[str] = Field(default_factory=list)
    """Numbers in the answer that no tool computed and the problem did not state."""
    messages: list[dict[str, Any]] = Field(default_factory=list, repr=False)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ok(self) -> bool:
        """True when the run ended with a final answer."""
        return self.status == "answered"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def tokens_used(self) -> int:
        """Prompt plus completion tokens of the whole run."""
        return self.usage.total_tokens


class StepEvent(BaseModel):
    """Something that happened in the loop, reported as it happens (lesson 10).

    ``kind`` is ``step`` (a valid step arrived), ``tool_result`` / ``tool_error`` (the tool ran),
    ``invalid_output`` (a reply failed validation; ``raw`` and ``error``), ``provider_retry``
    (a call failed and is retried after ``delay_s``) or ``finished`` (``result`` is set).
    """

    model_config = ConfigDict(frozen=True)

    kind: EventKind
    iteration: int
    record: StepRecord | None = None
    raw: str | None = None
    error: str | None = None
    delay_s: float | None = None
    result: OrchestratorResult | None = None
