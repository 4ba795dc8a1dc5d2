"""Lesson 01's intent classifier as an Inspect task on the labelled banking intents (lesson 11)."""

from __future__ import annotations

from inspect_ai import Epochs, Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import GenerateConfig
from inspect_ai.scorer import CORRECT, INCORRECT, Score, Target, accuracy, scorer, stderr
from inspect_ai.solver import TaskState, generate

from course_lib.evals.datasets import load_golden
from course_lib.evals.tasks import to_chat

__all__ = ["INTENT_PARAMS", "intent_classification", "intent_match", "intent_of"]

INTENT_PARAMS = {"temperature": 0.7, "max_tokens": 30}
"""Sampling of the intent-classifier eval (lesson 11)."""


def intent_of(reply: str, categories: list[str]) -> str:
    """The category a classifier reply names (OTHER when none), as lesson 01 parses it (lesson 11)."""
    from course_lib.classify import parse_classification

    return parse_classification(reply, categories, default="OTHER")[0]


@scorer(metrics=[accuracy(), stderr()])
def intent_match():
    """Inspect scorer: the category the classifier's reply names is the labelled intent (lesson 11)."""
    from course_lib.lessons.l01_gigo.banking import load_banking_kb

    categories = load_banking_kb().categories

    async def score(state: TaskState, target: Target) -> Score:
        category = intent_of(state.output.completion, categories)
        return Score(value=CORRECT if category == target.text else INCORRECT, answer=category)

    return score


@task
def intent_classification(epochs: int = 5) -> Task:
    """Lesson 01's classifier prompt on the labelled banking intents (lesson 11)."""
    from course_lib.classify import classification_messages
    from course_lib.lessons.l01_gigo.banking import load_banking_kb

    categories = load_banking_kb().categories
    samples = [
        Sample(
            id=c.id,
            input=to_chat(classification_messages(c.input, categories, domain="banking")),
            target=c.target,
        )
        for c in load_golden("intents")
    ]
    return Task(
        name="intent_classification",
        dataset=MemoryDataset(samples, name="intents"),
        solver=generate(),
        scorer=intent_match(),
        epochs=Epochs(epochs, "mean"),
        config=GenerateConfig(**INTENT_PARAMS),
    )
