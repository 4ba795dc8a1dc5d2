"""Prompt builders: zero-shot, few-shot and system prompts (lesson 03).

Three levels of control over a model, each a small builder here:

* zero-shot: an instruction (and optionally the text it applies to) in one user message;
* few-shot: worked examples before the real input, either as alternating user/assistant messages or
  inline in one block of text;
* a system prompt assembled from named parts (:class:`SystemPrompt`).

Versioned prompt files (owner, version, changelog) live in :mod:`course_lib.prompt_files`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "Example",
    "ExampleLike",
    "SystemPrompt",
    "few_shot_messages",
    "few_shot_text",
    "zero_shot",
]


class Example(BaseModel):
    """One worked example: an input and the output we want for it (lesson 03)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    input: str = Field(min_length=1)
    output: str = Field(min_length=1)


ExampleLike = Example | Mapping[str, str] | tuple[str, str]
"""An :class:`Example`, a ``{"input": …, "output": …}`` mapping or an ``(input, output)`` pair (lesson 03)."""


def _example(e: ExampleLike) -> Example:
    if isinstance(e, Example):
        return e
    if isinstance(e, tuple):
        return Example(input=e[0], output=e[1])
    return Example.model_validate(dict(e))


def _require_text(value: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} is empty: give the model something to work on")
    return value


# --------------------------------------------------------------------------- builders


def zero_shot(
    instruction: str, text: str | None = None, *, system: str | None = None
) -> list[dict[str, Any]]:
    """An instruction with no examples, optionally followed by the text it applies to (lesson 03)."""
    _require_text(instruction, "the instruction")
    content = instruction if text is None else f"{instruction}\n\n{text}"
    messages = [{"role": "system", "content": system}] if system else []
    return [*messages, {"role": "user", "content": content}]


def few_shot_messages(
    examples: Sequence[ExampleLike],
    query: str,
    *,
    system: str | None = None,
    input_template: str = "{input}",
) -> list[dict[str, Any]]:
    """Examples as alternating user/assistant messages, then the query as the last user message (lesson 03).

    ``input_template`` wraps every input, the query's too, e.g. ``"Extract: {input}"``.
    """
    _require_text(query, "the query")
    if "{input}" not in input_template:
        raise ValueError("input_template must contain '{input}' where the input goes")
    messages: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []
    for e in map(_example, examples):
        messages.append({"role": "user", "content": input_template.replace("{input}", e.input)})
        messages.append({"role": "assistant", "content": e.output})
    messages.append({"role": "user", "content": input_template.replace("{input}", query)})
    return messages


def few_shot_text(
    examples: Sequence[ExampleLike],
    query: str,
    *,
    instruction: str | None = None,
    input_label: str = "Input",
    output_label: str = "Output",
) -> str:
    """Examples inline in one text, ending with the query and an empty output label (lesson 03)."""
    _require_text(query, "the query")
    blocks = [instruction.strip()] if instruction else []
    blocks += [f"{input_label}: {e.input}\n{output_label}: {e.output}" for e in map(_example, examples)]
    blocks.append(f"{input_label}: {query}\n{output_label}:")
    return "\n\n".join(blocks)


class SystemPrompt(BaseModel):
    """A system prompt built from parts: role, constraints, format, tone, good and bad examples (lesson 03)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    role: str = Field(min_length=1)
    constraints: list[str] = Field(default_factory=list)
    output_format: list[str] = Field(default_factory=list)
    tone: list[str] = Field(default_factory=list)
    good_examples: list[Example] = Field(default_factory=list)
    bad_examples: list[Example] = Field(default_factory=list)

    @field_validator("good_examples", "bad_examples", mode="before")
    @classmethod
    def _coerce_examples(cls, value: Any) -> Any:
        return [_example(e) for e in value] if isinstance(value, (list, tuple)) else value

    def render(self) -> str:
        """The prompt text: one headed section per non-empty part."""
        sections = [("ROLE", self.role.strip())]
        for title, items in (
            ("CONSTRAINTS", self.constraints),
            ("OUTPUT FORMAT", self.output_format),
            ("TONE", self.tone),
        ):
            if items:
                sections.append((title, "\n".join(f"- {item}" for item in items)))
        for title, examples in (
            ("GOOD RESPONSES", self.good_examples),
            ("BAD RESPONSES (never answer like this)", self.bad_examples),
        ):
            if examples:
                sections.append(
                    (title, "\n\n".join(f"User: {e.input}\nAssistant: {e.output}" for e in examples))
                )
        return "\n\n".join(f"# {title}\n{body}" for title, body in sections)

    def message(self) -> dict[str, Any]:
        """The rendered prompt as a system message."""
        return {"role": "system", "content": self.render()}
