"""Schema-constrained output: ``response_format`` JSON schemas generated from pydantic models (lesson 07).

JSON mode promises JSON; a JSON schema in ``response_format`` promises *this* JSON: a server that
enforces it (OpenAI's structured outputs, llama.cpp's grammar) can only produce text that matches the
schema. The schema comes from the pydantic model the code validates with (``model_json_schema()``),
so the request and the check can never drift apart. Constrained decoding makes replies *valid*; it
cannot make them *correct* — the values are still the model's. Pure functions, no I/O.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, Field, RootModel

__all__ = [
    "EXPRESSION_PATTERN",
    "AnswerStep",
    "CalculateStep",
    "ConstrainedStep",
    "ThinkStep",
    "json_schema_format",
    "schema_name",
    "step_response_format",
    "step_schema",
]

#: What an expression may look like in a constrained step or tool call: digits, operators, parentheses (lesson 10).
EXPRESSION_PATTERN = r"^[-0-9(][0-9.+\-*/%() ]{0,79}$"


def schema_name(model_cls: type[BaseModel]) -> str:
    """A name OpenAI accepts for a schema (letters, digits, ``_`` and ``-``, at most 64) (lesson 07)."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", model_cls.__name__)[:64] or "Output"


def json_schema_format(
    model_or_schema: type[BaseModel] | Mapping[str, Any], *, name: str | None = None, strict: bool = False
) -> dict[str, Any]:
    """OpenAI's ``response_format`` asking for JSON that matches a pydantic model's schema (lesson 07).

    ``json_schema_format(Contact)`` gives ``{"type": "json_schema", "json_schema": {"name": "Contact",
    "schema": Contact.model_json_schema(), "strict": False}}``. A plain schema dict needs ``name``.
    ``strict=True`` asks OpenAI for its strict mode, which needs every property required and
    ``additionalProperties: false``; the local server enforces any schema it can turn into a grammar.
    """
    if isinstance(model_or_schema, type) and issubclass(model_or_schema, BaseModel):
        schema = model_or_schema.model_json_schema()
        label = name or schema_name(model_or_schema)
    elif isinstance(model_or_schema, Mapping):
        if not name:
            raise ValueError("a plain JSON schema needs a name: json_schema_format(schema, name='Step')")
        schema, label = dict(model_or_schema), name
    else:
        raise TypeError(
            f"expected a pydantic model class or a JSON schema dict, got {type(model_or_schema).__name__}"
        )
    return {"type": "json_schema", "json_schema": {"name": label, "schema": schema, "strict": strict}}


class _Step(BaseModel):
    step: int = Field(ge=1, description="1 for the first step, then 2, 3, …")


class ThinkStep(_Step):
    """A constrained step that reasons or checks without a tool (lesson 10)."""

    step_type: Literal["analyze", "verify"]
    thought: str = Field(min_length=1, max_length=200)


class CalculateStep(_Step):
    """A constrained step that hands an arithmetic expression to the calculator (lesson 10)."""

    step_type: Literal["calculate"]
    thought: str = Field(min_length=1, max_length=200)
    expression: str = Field(pattern=EXPRESSION_PATTERN)


class AnswerStep(_Step):
    """A constrained final step: the answer, with units (lesson 10)."""

    step_type: Literal["final_answer"]
    thought: str = Field(min_length=1, max_length=200)
    answer: str = Field(min_length=1, max_length=60)


class ConstrainedStep(RootModel[ThinkStep | CalculateStep | AnswerStep]):
    """The step schema a server enforces: each step type with exactly the fields it needs (lesson 10).

    Narrower than :class:`~course_lib.steps.ReasoningStep` (a calculate step must carry an expression,
    strings are bounded so a small model cannot ramble until ``max_tokens``), and every reply it allows
    is a valid ``ReasoningStep`` apart from the step number, which :func:`step_schema` pins.
    """


def _without_descriptions(node: Any) -> Any:
    """The schema without docstring descriptions: rewording a docstring must not change the request."""
    if isinstance(node, dict):
        return {k: _without_descriptions(v) for k, v in node.items() if k != "description"}
    if isinstance(node, list):
        return [_without_descriptions(v) for v in node]
    return node


def step_schema(expected_step: int | None = None) -> dict[str, Any]:
    """The JSON schema of :class:`ConstrainedStep`, with ``step`` pinned to ``expected_step`` if given (lesson 10)."""
    schema = _without_descriptions(copy.deepcopy(ConstrainedStep.model_json_schema()))
    if expected_step is not None:
        if expected_step < 1:
            raise ValueError(f"steps count from 1, got {expected_step}")
        for definition in schema.get("$defs", {}).values():
            if "step" in definition.get("properties", {}):
                definition["properties"]["step"] = {"const": expected_step, "type": "integer"}
    return schema


def step_response_format(expected_step: int | None = None) -> dict[str, Any]:
    """``response_format`` for the orchestrator's schema-constrained steps (lesson 10)."""
    return json_schema_format(step_schema(expected_step), name="ReasoningStep")
