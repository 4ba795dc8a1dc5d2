"""Notebook files for grading: read them with a clear error, prepare them, summarise their run (exercises).

Pure functions around nbformat: reading a learner's file (saying what is wrong when it is not a
notebook), building the clean copy the runner executes with the grading cell appended, and turning an
executed notebook into short notes ("cell 4 raised NameError …").
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

__all__ = [
    "CELL_KEY",
    "GRADER_TAG",
    "NotebookFormatError",
    "execution_notes",
    "first_line",
    "prepare",
    "read_notebook",
    "source_text",
]

GRADER_TAG = "course-grader"
"""Tag of the grading cell the runner appends."""
CELL_KEY = "course_grade_cell"
"""Cell metadata key holding the cell's position (1-based) in the learner's notebook."""


class NotebookFormatError(ValueError):
    """The file is not a notebook the grader can run; the message says why (exercises)."""


def read_notebook(path: str | Path) -> Any:
    """Read a notebook, or raise :class:`NotebookFormatError` saying what is wrong with the file (exercises)."""
    import nbformat

    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise NotebookFormatError("the file is not UTF-8 text, so it cannot be a notebook") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotebookFormatError(
            f"the file is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            "re-save it from JupyterLab or restore it from git"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise NotebookFormatError("the file is JSON but not a Jupyter notebook (it has no list of 'cells')")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return nbformat.reads(text, as_version=4)
    except Exception as exc:
        raise NotebookFormatError(f"the notebook cannot be read: {exc}") from None


def source_text(cell: Any) -> str:
    """A cell's source as one string, whether stored as a string or a list of lines (exercises)."""
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def prepare(nb: Any, serve_source: str) -> Any:
    """A clean copy of the notebook's code cells plus the cell that answers the grader (exercises).

    ``serve_source`` is the last cell: it connects the kernel to the grader, which then asks it to call
    the learner's functions; the checks themselves never run in the kernel.
    """
    import nbformat.v4 as v4

    cells = []
    for index, cell in enumerate(nb.get("cells", []), start=1):
        if cell.get("cell_type") != "code" or not source_text(cell).strip():
            continue
        tags = list(cell.get("metadata", {}).get("tags", []))
        cells.append(v4.new_code_cell(source_text(cell), metadata={"tags": tags, CELL_KEY: index}))
    cells.append(v4.new_code_cell(serve_source, metadata={"tags": [GRADER_TAG]}))
    out = v4.new_notebook(cells=cells)
    out.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    out.metadata["language_info"] = {"name": "python"}
    return out


def first_line(cell: Any) -> str:
    """The first non-blank line of a cell, at most 50 characters (exercises)."""
    return next((ln.strip() for ln in source_text(cell).splitlines() if ln.strip()), "")[:50]


def execution_notes(nb: Any, cell_timeout: float, timed_out: set[int]) -> list[str]:
    """One note per learner cell that raised or was stopped, naming the cell by number and first line."""
    notes = []
    for cell in nb.cells if nb is not None else []:
        index = cell.metadata.get(CELL_KEY)
        if index is None:
            continue
        where = f"cell {index} (`{first_line(cell)}`)"
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if index in timed_out or any(o.get("ename") == "KeyboardInterrupt" for o in errors):
            notes.append(f"{where} was stopped after the per-cell limit of {cell_timeout:g} s")
        elif errors:
            err = errors[0]
            evalue = str(err.get("evalue", ""))[:200]
            notes.append(f"{where} raised {err.get('ename')}" + (f": {evalue}" if evalue else ""))
    return notes
