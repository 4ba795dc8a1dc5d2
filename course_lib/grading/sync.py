"""Exercise notebooks generated from solution notebooks, so the two never drift (exercises).

In a solution notebook, the lines between ``# BEGIN SOLUTION`` and ``# END SOLUTION`` are the answer.
The exercise keeps everything else (signature, docstring, ``parameters`` cell, check cells) and puts
``raise NotImplementedError("…")`` in place of each region, at the marker's indentation. Text after
``# BEGIN SOLUTION:`` becomes the message. Cells tagged ``solution`` are left out; outputs and
execution counts are stripped. ``build_exercises(..., check=True)`` reports pairs that are out of sync.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "SolutionMarkupError",
    "SyncIssue",
    "build_exercises",
    "exercise_from_solution",
    "render_exercise",
    "strip_solutions",
]

_BEGIN = re.compile(r"^(?P<indent>[ \t]*)#\s*BEGIN SOLUTION\b:?\s*(?P<message>.*?)\s*$")
_END = re.compile(r"^[ \t]*#\s*END SOLUTION\b")
_DEFAULT_MESSAGE = "replace this line with your solution"
_CELL_META_DROP = {"execution", "papermill", "ExecuteTime", "collapsed", "scrolled"}
_NB_META_KEEP = ("kernelspec", "language_info")
SOLUTION_TAG = "solution"


class SolutionMarkupError(ValueError):
    """A solution region is not closed, not opened, or nested (exercises)."""


@dataclass(frozen=True)
class SyncIssue:
    """One problem found by :func:`build_exercises`: which file and what is wrong (exercises)."""

    path: str
    problem: str

    def __str__(self) -> str:
        return f"{self.path}: {self.problem}"


def strip_solutions(source: str, where: str = "cell") -> tuple[str, int]:
    """Replace each solution region of ``source``; return the new source and how many regions there were."""
    out: list[str] = []
    regions = 0
    open_at: int | None = None
    for lineno, line in enumerate(source.splitlines(), start=1):
        begin, end = _BEGIN.match(line), _END.match(line)
        if begin:
            if open_at is not None:
                raise SolutionMarkupError(
                    f"{where}, line {lineno}: BEGIN SOLUTION inside the region opened at {open_at}"
                )
            open_at = lineno
            regions += 1
            message = begin.group("message") or _DEFAULT_MESSAGE
            out.append(
                f"{begin.group('indent')}raise NotImplementedError({json.dumps(message, ensure_ascii=False)})"
            )
        elif end:
            if open_at is None:
                raise SolutionMarkupError(f"{where}, line {lineno}: END SOLUTION without a BEGIN SOLUTION")
            open_at = None
        elif open_at is None:
            out.append(line)
    if open_at is not None:
        raise SolutionMarkupError(f"{where}, line {open_at}: BEGIN SOLUTION is never closed by END SOLUTION")
    text = "\n".join(out)
    return (text + "\n" if source.endswith("\n") else text), regions


def exercise_from_solution(solution: Any, name: str = "notebook") -> tuple[Any, int]:
    """The exercise notebook for a solution notebook, and the number of regions replaced (exercises)."""
    import nbformat.v4 as v4

    cells = []
    regions = 0
    for index, cell in enumerate(solution.cells, start=1):
        metadata = {k: v for k, v in cell.get("metadata", {}).items() if k not in _CELL_META_DROP}
        if SOLUTION_TAG in metadata.get("tags", []):
            continue
        source = cell.source if isinstance(cell.source, str) else "".join(cell.source)
        if cell.cell_type == "code":
            source, found = strip_solutions(source, f"{name}, cell {index}")
            regions += found
            new = v4.new_code_cell(source, metadata=metadata)
        elif cell.cell_type == "markdown":
            new = v4.new_markdown_cell(source, metadata=metadata)
        else:
            new = v4.new_raw_cell(source, metadata=metadata)
        if "id" in cell:
            new["id"] = cell["id"]
        cells.append(new)
    exercise = v4.new_notebook(cells=cells)
    exercise.metadata = {k: solution.metadata[k] for k in _NB_META_KEEP if k in solution.metadata}
    return exercise, regions


def render_exercise(solution_path: Path) -> tuple[str, int]:
    """The exercise notebook's exact file text for a solution file, and its number of regions (exercises)."""
    import nbformat

    solution = nbformat.read(str(solution_path), as_version=4)
    exercise, regions = exercise_from_solution(solution, solution_path.name)
    return nbformat.writes(exercise) + "\n", regions


def build_exercises(solutions_dir: Path, exercises_dir: Path, *, check: bool = False) -> list[SyncIssue]:
    """Write ``exercises_dir/NN_slug.ipynb`` for each solution (or, with ``check``, only compare) (exercises).

    Returns the issues found: exercises out of date or missing (``check`` only), exercises without a
    solution, solutions without any solution region, and broken markers.
    """
    issues: list[SyncIssue] = []
    solutions = sorted(Path(solutions_dir).glob("[0-9]*.ipynb"))
    for solution_path in solutions:
        target = Path(exercises_dir) / solution_path.name
        try:
            text, regions = render_exercise(solution_path)
        except SolutionMarkupError as exc:
            issues.append(SyncIssue(str(solution_path), str(exc)))
            continue
        if regions == 0:
            issues.append(
                SyncIssue(str(solution_path), "has no '# BEGIN SOLUTION' region, so nothing is left to do")
            )
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current == text:
            continue
        if check:
            state = "is missing" if current is None else "is out of date"
            issues.append(SyncIssue(str(target), f"{state}; run scripts/build_exercises.py"))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    names = {p.name for p in solutions}
    for orphan in sorted(Path(exercises_dir).glob("[0-9]*.ipynb")):
        if orphan.name not in names:
            issues.append(SyncIssue(str(orphan), "has no solution notebook in " + str(solutions_dir)))
    return issues
