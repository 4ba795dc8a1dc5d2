"""The lesson's recorded runs, replayed: the constants the recording script shares (lesson 11).

:func:`run_names` gives the ``name_extraction`` Inspect task's verdicts for one prompt version on the
replayed SmolLM2 answers, by case and epoch. The candidate (2.0.0) runs live on Inspect with
``--model course/replay``; the baseline (1.0.0) was evaluated when it shipped, and its Inspect log is kept
with the course (:data:`BASELINE_LOG`, written by :func:`write_baseline_log`) and read back, as a CI gate
compares each candidate with the stored run of what is in production. :func:`run_intents` replays lesson
01's classifier.
"""

from __future__ import annotations

import os
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = [
    "BASELINE",
    "BASELINE_LOG",
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
    "write_baseline_log",
]

LOCAL_MODEL = "SmolLM2-135M-Instruct"
RECORDINGS = "11_evaluation"
REPLAY_MODEL = f"course/replay/{LOCAL_MODEL}"
"""The Inspect model string that replays the lesson's recordings (lesson 11)."""
EPOCHS = 5
VERSIONS = ("1.0.0", "2.0.0")
"""The two versions of the ``name_extractor`` prompt the lesson compares (lesson 11)."""
BASELINE = "1.0.0"
"""The prompt version in production: its eval is logged once and read back (lesson 11)."""
BASELINE_LOG = Path(__file__).resolve().parents[2] / "data" / "evals" / "logs" / "name_extraction_v1.0.0.eval"
"""The baseline's Inspect log, kept with the course."""
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


@lru_cache(maxsize=4)
def _live_run(version: str, epochs: int) -> EvalRun:
    """One name-extraction version run live on Inspect."""
    from course_lib.evals.tasks import name_extraction

    return _run(name_extraction(version=version, epochs=epochs))[0]


@lru_cache(maxsize=1)
def _baseline_run() -> EvalRun:
    from inspect_ai.log import read_eval_log

    if not BASELINE_LOG.is_file():
        raise FileNotFoundError(
            f"the baseline's eval log {BASELINE_LOG} is missing; write it with "
            "`python -m course_lib.lessons.l11_evaluation.runs --write-baseline`"
        )
    return _collect(read_eval_log(str(BASELINE_LOG)))


def run_names(version: str, epochs: int = EPOCHS) -> EvalRun:
    """The ``name_extraction`` task's verdicts for one prompt version on the replayed answers (lesson 11).

    The baseline at the lesson's epochs comes from its stored Inspect log; anything else runs live.
    """
    if version not in VERSIONS:
        raise ValueError(f"the lesson recorded versions {', '.join(VERSIONS)}, not {version!r}")
    if version == BASELINE and epochs == EPOCHS:
        return _baseline_run()
    return _live_run(version, epochs)


def write_baseline_log(path: Path = BASELINE_LOG) -> Path:
    """Run the baseline live on Inspect and keep its log at ``path`` (lesson 11)."""
    import shutil

    run = _live_run(BASELINE, EPOCHS)
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(run.log, path)
    _baseline_run.cache_clear()
    return path


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


if __name__ == "__main__":  # pragma: no cover - the maintainer's command
    import sys

    if sys.argv[1:] != ["--write-baseline"]:
        raise SystemExit("usage: python -m course_lib.lessons.l11_evaluation.runs --write-baseline")
    print(f"wrote {write_baseline_log()}")
