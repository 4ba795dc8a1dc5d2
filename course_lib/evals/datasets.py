"""Golden datasets as files in the repository (lesson 11).

Each set is a JSONL file under ``course_lib/data/evals``: one case a line with an ``id``, an ``input``
and a ``target`` (a label, a name, or a dict of fields). They are reviewed like code and never tuned
on: a prompt improved until it passes a fixed set has learned the set, not the task, so keep a
held-out split you look at only to decide.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = ["EVALS_DIR", "GoldenCase", "dataset_names", "load_golden"]

EVALS_DIR = Path(str(resources.files("course_lib") / "data" / "evals"))
"""Where the course's golden datasets live (lesson 11)."""


class GoldenCase(BaseModel):
    """One labelled case of a golden dataset (lesson 11)."""

    model_config = ConfigDict(frozen=True, extra="allow")

    id: str
    input: str
    target: Any = None


def dataset_names(directory: str | Path = EVALS_DIR) -> list[str]:
    """The golden datasets in ``directory``, sorted (lesson 11)."""
    return sorted(p.stem for p in Path(directory).glob("*.jsonl"))


def load_golden(name: str, directory: str | Path = EVALS_DIR) -> list[GoldenCase]:
    """Load golden set ``name`` (e.g. ``"names"``); ids must be unique (lesson 11)."""
    path = Path(directory) / f"{name}.jsonl"
    if not path.exists():
        raise FileNotFoundError(
            f"no golden dataset {name!r} in {directory} (have: {', '.join(dataset_names(directory))})"
        )
    cases = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                cases.append(GoldenCase.model_validate(json.loads(line)))
            except ValueError as exc:
                raise ValueError(f"{path}:{number}: not a golden case: {exc}") from None
    ids = [c.id for c in cases]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{path}: duplicate ids {sorted({i for i in ids if ids.count(i) > 1})}")
    return cases
