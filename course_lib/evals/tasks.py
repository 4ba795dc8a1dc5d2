"""Inspect tasks over the course's versioned prompts: name extraction (lesson 11).

From the command line, offline::

    inspect eval course_lib/evals/tasks.py@name_extraction --model course/replay/SmolLM2-135M-Instruct \\
        -M recordings=11_evaluation -T version=1.0.0

``version`` picks a version of the ``name_extractor`` prompt file; each epoch replays its own recorded
sample, so the scores are the same on every run.
"""

from __future__ import annotations

from inspect_ai import Epochs, Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import (
    ChatMessage,
    ChatMessageAssistant,
    ChatMessageSystem,
    ChatMessageUser,
    GenerateConfig,
)
from inspect_ai.scorer import CORRECT, INCORRECT, Score, Target, accuracy, scorer, stderr
from inspect_ai.solver import TaskState, generate

from course_lib.evals.datasets import load_golden
from course_lib.evals.scorers import exact_json_name, includes

__all__ = [
    "NAME_PARAMS",
    "exact_json",
    "name_extraction",
    "name_included",
    "to_chat",
]

NAME_PARAMS = {"temperature": 0.7, "max_tokens": 24}
"""Sampling of the name-extraction eval: temperature > 0, so epochs differ (lesson 11)."""

_ROLES = {"system": ChatMessageSystem, "user": ChatMessageUser, "assistant": ChatMessageAssistant}


def to_chat(messages: list[dict[str, str]]) -> list[ChatMessage]:
    """The course's message dicts as Inspect chat messages (lesson 11)."""
    return [_ROLES[m["role"]](content=m["content"]) for m in messages]


@scorer(metrics=[accuracy(), stderr()])
def exact_json():
    """Inspect scorer: the answer is exactly ``{"name": <target>}`` (lesson 11)."""

    async def score(state: TaskState, target: Target) -> Score:
        answer = state.output.completion
        return Score(value=CORRECT if exact_json_name(answer, target.text) else INCORRECT, answer=answer)

    return score


@scorer(metrics=[accuracy(), stderr()])
def name_included():
    """Inspect scorer: the right name appears in the answer, in any form (lesson 11)."""

    async def score(state: TaskState, target: Target) -> Score:
        answer = state.output.completion
        return Score(value=CORRECT if includes(answer, target.text) else INCORRECT, answer=answer)

    return score


@task
def name_extraction(version: str = "2.0.0", epochs: int = 5, limit: int | None = None) -> Task:
    """The golden name set through version ``version`` of the ``name_extractor`` prompt (lesson 11)."""
    from course_lib.prompt_files import load_prompt_version

    prompt = load_prompt_version("name_extractor", version)
    cases = load_golden("names")[:limit]
    samples = [Sample(id=c.id, input=to_chat(prompt.messages(c.input)), target=c.target) for c in cases]
    return Task(
        name=f"name_extraction_v{version}",
        dataset=MemoryDataset(samples, name="names"),
        solver=generate(),
        scorer=[exact_json(), name_included()],
        epochs=Epochs(epochs, "mean"),
        config=GenerateConfig(**NAME_PARAMS),
        metadata={"prompt": prompt.name, "version": prompt.version},
    )
