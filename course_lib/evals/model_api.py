"""The ``course`` model API for Inspect: ``course/replay``, ``course/local`` and every other provider kind (lesson 11).

``inspect eval TASK --model course/replay`` answers from the course's recordings, ``course/local`` from
SmolLM2 on this machine (``course serve-local``), ``course/openai`` from OpenAI, and so on: the part
after ``course/`` names a row of the provider table (:mod:`course_lib.providers.kinds`), and an
optional model after a second slash (``course/local/SmolLM2-135M-Instruct``) picks the model. Model
args (``-M recordings=11_evaluation``) go to :func:`~course_lib.providers.registry.get_provider`.

Replay is deterministic under epochs: the call made for epoch *e* of a sample replays recorded sample
*e - 1* (``sample_scope``), whatever order Inspect runs the samples in.
"""

from __future__ import annotations

import contextlib
from typing import Any

from inspect_ai.model import (
    ChatCompletionChoice,
    ChatMessage,
    ChatMessageAssistant,
    GenerateConfig,
    ModelAPI,
    ModelOutput,
    ModelUsage,
    modelapi,
)
from inspect_ai.tool import ToolChoice, ToolInfo

from course_lib.providers.replay.scope import current_sample, sample_scope

__all__ = ["CourseModelAPI", "course_messages", "course_params", "epoch_index"]

_STOP = {
    "stop": "stop",
    "length": "max_tokens",
    "tool_calls": "tool_calls",
    "content_filter": "content_filter",
}


def course_messages(messages: list[ChatMessage]) -> list[dict[str, Any]]:
    """Inspect's chat messages as the course's plain ``{"role", "content"}`` dicts (lesson 11)."""
    return [{"role": m.role, "content": m.text} for m in messages]


def course_params(config: GenerateConfig) -> dict[str, Any]:
    """The answer-changing parameters of an Inspect ``GenerateConfig``, in the course's names (lesson 11)."""
    params: dict[str, Any] = {}
    for ours, value in (
        ("temperature", config.temperature),
        ("top_p", config.top_p),
        ("max_tokens", config.max_tokens),
        ("seed", config.seed),
        ("stop", config.stop_seqs),
        ("presence_penalty", config.presence_penalty),
        ("frequency_penalty", config.frequency_penalty),
    ):
        if value is not None:
            params[ours] = value
    return params


def epoch_index() -> int | None:
    """The 0-based epoch of the sample Inspect is running, or None outside an eval (lesson 11)."""
    try:
        from inspect_ai.log._samples import sample_active
    except ImportError:  # pragma: no cover - a future Inspect moved it
        return None
    active = sample_active()
    return None if active is None else max(0, int(active.epoch) - 1)


@modelapi(name="course")
class CourseModelAPI(ModelAPI):
    """An Inspect model API that answers through a ``course_lib`` provider (lesson 11)."""

    def __init__(
        self,
        model_name: str,
        base_url: str | None = None,
        api_key: str | None = None,
        config: GenerateConfig = GenerateConfig(),  # noqa: B008 - Inspect's own signature
        **model_args: Any,
    ) -> None:
        super().__init__(model_name=model_name, base_url=base_url, api_key=api_key, config=config)
        from course_lib.providers.registry import get_provider

        kind, _, model = model_name.partition("/")
        self.kind = kind or "replay"
        self.provider = get_provider(self.kind, model=model or model_args.pop("model", None), **model_args)

    def max_connections(self) -> int:
        """Replay is instant; a real server on two cores wants few parallel calls."""
        return 16 if self.kind == "replay" else 2

    async def generate(
        self,
        input: list[ChatMessage],
        tools: list[ToolInfo],
        tool_choice: ToolChoice,
        config: GenerateConfig,
    ) -> ModelOutput:
        """One chat completion through the course provider; the epoch picks the replay sample."""
        epoch = epoch_index()
        scope = (
            sample_scope(epoch)
            if self.kind == "replay" and epoch is not None and current_sample() is None
            else contextlib.nullcontext()
        )
        with scope:
            result = await self.provider.acomplete(course_messages(input), **course_params(config))
        message = ChatMessageAssistant(content=result.text, model=result.model, source="generate")
        choice = ChatCompletionChoice(
            message=message, stop_reason=_STOP.get(result.finish_reason or "stop", "unknown")
        )
        usage = ModelUsage(
            input_tokens=result.usage.prompt_tokens,
            output_tokens=result.usage.completion_tokens,
            total_tokens=result.usage.total_tokens,
        )
        return ModelOutput(
            model=result.model,
            choices=[choice],
            usage=usage,
            time=result.latency_s,
            metadata={"source": result.source},
        )
