"""The lesson's recorded runs, replayed: the constants the recording script shares (lesson 11).

:func:`run_names` runs the ``name_extraction`` Inspect task for one prompt version on the replayed
SmolLM2 answers and returns every answer's score by case and epoch; :func:`run_intents` does the same
for lesson 01's classifier. Both go through Inspect with ``--model course/replay``.
"""

from __future__ import annotations

import os
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = [
    "EPOCHS",
    "JUDGE_PARAMS",
    "LOCAL_MODEL",
    "RECORDINGS",
    "REPLAY_MODEL",
    "SUMMARY_PARAMS",
    "VERSIONS",
    "EvalRun",
    "log_dir",
    "replay_names",
    "run_intents",
    "run_names",
]

LOCAL_MODEL = "SmolLM2-135M-Instruct"
RECORDINGS = "11_evaluation"
REPLAY_MODEL = f"course/replay/{LOCAL_MODEL}"
"""The Inspect model string that replays the lesson's recordings (lesson 11)."""
EPOCHS = 5
VERSIONS = ("1.0.0", "2.0.0")
"""The two versions of the ``name_extractor`` prompt the lesson compares (lesson 11)."""
JUDGE_PARAMS = {"temperature": 0, "max_tokens": 3}
SUMMARY_PARAMS = {"temperature": 0, "max_tokens": 40}


class EvalRun(BaseModel):
    """One eval's outcome: per case, per epoch, pass or fail for each scorer, and the answers (lesson 11)."""

    model_config = ConfigDict(frozen=True)

    task: str
    scores: dict[str, dict[str, list[bool]]]
    """scorer → case id → one bool per epoch."""
    answers: dict[str, list[str]]
    log: str = ""

    def passed(self, scorer: str) -> tuple[int, int]:
        """(passes, answers) of ``scorer`` over every case and epoch."""
        flat = [v for epochs in self.scores[scorer].values() for v in epochs]
        return sum(flat), len(flat)

    def rate(self, scorer: str) -> float:
        """The pass rate of ``scorer`` over every answer."""
        k, n = self.passed(scorer)
        return k / n


def log_dir() -> Path:
    """Where the lesson's Inspect logs go: ``COURSE_EVAL_LOGS`` or a folder in the temp dir (lesson 11)."""
    return Path(os.environ.get("COURSE_EVAL_LOGS") or Path(tempfile.gettempdir()) / "course-inspect-logs")


def _collect(log: Any) -> EvalRun:
    scores: dict[str, dict[str, list[bool]]] = {}
    answers: dict[str, list[str]] = {}
    for sample in sorted(log.samples, key=lambda s: (str(s.id), s.epoch)):
        answers.setdefault(str(sample.id), []).append(sample.output.completion)
        for name, score in (sample.scores or {}).items():
            scores.setdefault(name, {}).setdefault(str(sample.id), []).append(score.value == "C")
    return EvalRun(task=log.eval.task, scores=scores, answers=answers, log=log.location)


def _run(*tasks: Any) -> list[EvalRun]:
    from inspect_ai import eval as inspect_eval

    logs = inspect_eval(
        list(tasks),
        model=REPLAY_MODEL,
        model_args={"recordings": RECORDINGS},
        log_dir=str(log_dir()),
        display="log",  # no live display: in a notebook it would leave an empty widget behind
        log_level="error",
        log_realtime=False,
        score_display=False,
        max_tasks=len(tasks),
    )
    for log in logs:
        if log.status != "success":
            raise RuntimeError(f"eval {log.eval.task} ended {log.status}: {log.error}")
    return [_collect(log) for log in logs]


@lru_cache(maxsize=2)
def _name_runs(epochs: int) -> dict[str, EvalRun]:
    """Both name-extraction versions in one Inspect call (one fixed cost)."""
    from course_lib.evals.tasks import name_extraction

    return dict(
        zip(VERSIONS, _run(*(name_extraction(version=v, epochs=epochs) for v in VERSIONS)), strict=True)
    )


def run_names(version: str, epochs: int = EPOCHS) -> EvalRun:
    """The ``name_extraction`` task for one prompt version, on Inspect, on the replayed answers (lesson 11)."""
    if version not in VERSIONS:
        raise ValueError(f"the lesson recorded versions {', '.join(VERSIONS)}, not {version!r}")
    return _name_runs(epochs)[version]


@lru_cache(maxsize=2)
def run_intents(epochs: int = EPOCHS) -> EvalRun:
    """Lesson 01's classifier prompt on the labelled intents, replayed epoch by epoch (lesson 11).

    The same requests and scorer as the Inspect task
    :func:`~course_lib.lessons.l11_evaluation.intents.intent_classification`, called through the provider
    directly (each epoch pinned to its recorded sample), which keeps the lesson within its time budget.
    """
    from course_lib.classify import classification_messages
    from course_lib.evals.datasets import load_golden
    from course_lib.lessons.l01_gigo.banking import load_banking_kb
    from course_lib.lessons.l11_evaluation.intents import INTENT_PARAMS, intent_of
    from course_lib.providers.registry import get_provider
    from course_lib.providers.replay.scope import sample_scope

    provider = get_provider("replay", model=LOCAL_MODEL, recordings=RECORDINGS)
    categories = load_banking_kb().categories
    scores: dict[str, list[bool]] = {}
    answers: dict[str, list[str]] = {}
    for case in load_golden("intents"):
        messages = classification_messages(case.input, categories, domain="banking")
        for epoch in range(epochs):
            with sample_scope(epoch):
                text = provider.complete(messages, **INTENT_PARAMS).text
            answers.setdefault(case.id, []).append(text)
            scores.setdefault(case.id, []).append(intent_of(text, categories) == case.target)
    return EvalRun(task="intent_classification", scores={"intent_match": scores}, answers=answers)


@lru_cache(maxsize=4)
def replay_names(version: str, epochs: int = EPOCHS) -> dict[str, list[bool]]:
    """Exact-JSON verdicts per case and epoch, replayed through the provider without Inspect (lesson 11).

    The same requests and scorer as :func:`run_names`, for lessons that need the figures but not
    Inspect's fixed start-up cost (lesson 09's drift check).
    """
    from course_lib.evals.datasets import load_golden
    from course_lib.evals.scorers import exact_json_name
    from course_lib.evals.tasks import NAME_PARAMS
    from course_lib.prompt_files import load_prompt_version
    from course_lib.providers.registry import get_provider
    from course_lib.providers.replay.scope import sample_scope

    provider = get_provider("replay", model=LOCAL_MODEL, recordings=RECORDINGS)
    prompt = load_prompt_version("name_extractor", version)
    scores: dict[str, list[bool]] = {}
    for case in load_golden("names"):
        for epoch in range(epochs):
            with sample_scope(epoch):
                answer = provider.complete(prompt.messages(case.input), **NAME_PARAMS).text
            scores.setdefault(case.id, []).append(exact_json_name(answer, case.target))
    return scores
