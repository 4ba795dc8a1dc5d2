"""Grade one exercise notebook: read it, run it with papermill, then run every check in its kernel (exercises).

The learner's code cells are copied into a fresh notebook (no outputs, no odd metadata) and one cell is
appended that runs all of the exercise's checks in the same kernel, so deleting a check cell skips
nothing. Errors in learner cells do not stop execution; a cell that runs past the per-cell limit is
interrupted and the next cell runs. Each check has its own time limit. Whatever happens, every question
gets a result with a reason.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, get_args

from .notebook import (
    CELL_KEY,
    GRADER_TAG,
    NotebookFormatError,
    execution_notes,
    first_line,
    prepare,
    read_notebook,
)
from .registry import Question, exercise_number, load_exercise
from .results import NotebookResult, QuestionResult, Status
from .sandbox import DEFAULT_CHECK_TIMEOUT

__all__ = ["DEFAULT_CELL_TIMEOUT", "NotebookFormatError", "grade_notebook", "read_notebook"]

DEFAULT_CELL_TIMEOUT = 30.0
_KERNEL_LOG_NOISE = ("Kernel is running over TCP without encryption",)
_STATUSES = set(get_args(Status))


@contextmanager
def _captured_logs(on_message: Callable[[str], None]) -> Iterator[list[str]]:
    """Collect papermill's (and nbclient's) log lines instead of letting them reach stderr."""
    records: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            message = record.getMessage()
            records.append(message)
            on_message(message)

    logger = logging.getLogger("papermill")
    handler = Collect(logging.INFO)
    saved = logger.propagate, logger.level
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    try:
        yield records
    finally:
        logger.removeHandler(handler)
        logger.propagate, logger.level = saved


def _execute(
    prepared: Path, executed: Path, cwd: Path, cell_timeout: float, grader_timeout: float, log_path: Path
) -> tuple[Any, str | None, set[int]]:
    """Run the prepared notebook; return (executed notebook or None, fatal error or None, timed-out cells)."""
    import nbformat
    import papermill
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    from .kernel import KERNEL_NAME, grader_kernel_manager

    current: dict[str, Any] = {}
    timed_out: set[int] = set()

    def timeout_for(cell: Any) -> float:
        current["cell"] = cell.metadata.get(CELL_KEY, 0)
        current["first"] = first_line(cell)
        return grader_timeout if GRADER_TAG in cell.metadata.get("tags", []) else cell_timeout

    def on_log(message: str) -> None:
        # nbclient logs a timeout while it waits for the cell timeout_for() was last asked about.
        if "Timeout waiting for execute reply" in message:
            timed_out.add(current.get("cell", 0))

    fatal = None
    with _captured_logs(on_log):
        try:
            papermill.execute_notebook(
                str(prepared),
                str(executed),
                kernel_name=KERNEL_NAME,
                language="python",
                progress_bar=False,
                request_save_on_cell_execute=False,
                cwd=str(cwd),
                start_timeout=60,
                kernel_manager_class=grader_kernel_manager(
                    str(log_path),
                    # hypothesis caches under ./.hypothesis by default: keep the learner's folder clean
                    {"HYPOTHESIS_STORAGE_DIRECTORY": str(log_path.parent / "hypothesis")},
                ),
                allow_errors=True,
                interrupt_on_timeout=True,
                error_on_timeout={"ename": "CellTimeoutError", "evalue": "time limit", "traceback": []},
                timeout_func=timeout_for,
            )
        except PapermillExecutionError:
            pass  # learner errors are expected; the executed notebook is saved before this is raised
        except DeadKernelError:
            where = f"cell {current['cell']} (`{current['first']}`)" if current.get("cell") else "the checks"
            fatal = (
                f"the Python kernel died while running {where}: did it call exit() or os._exit(), or crash?"
            )
        except CellTimeoutError:
            where = f"cell {current['cell']} (`{current['first']}`)" if current.get("cell") else "the checks"
            fatal = (
                f"{where} ignored the stop request after the per-cell limit of {cell_timeout:g} s "
                "(does it catch KeyboardInterrupt or BaseException?), so the rest could not run"
            )
        except Exception as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            fatal = f"the notebook could not be run: {type(exc).__name__}: {first}"
    nb = None
    if executed.exists():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nb = nbformat.read(str(executed), as_version=4)
    if fatal and log_path.exists():
        lines = log_path.read_text(errors="replace").strip().splitlines()
        tail = [ln for ln in lines if ln.strip() and not any(n in ln for n in _KERNEL_LOG_NOISE)][-3:]
        if tail:
            fatal += "; kernel log: " + " | ".join(tail)
    return nb, fatal, timed_out


def _grader_cell_error(nb: Any) -> str | None:
    """The exception the grading cell itself raised (say, course_lib missing in the kernel), if any."""
    for cell in nb.cells if nb is not None else []:
        if GRADER_TAG in cell.metadata.get("tags", []):
            for out in cell.get("outputs", []):
                if out.get("output_type") == "error":
                    return f"{out.get('ename')}: {str(out.get('evalue', ''))[:200]}"
    return None


def _read_events(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    events = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return events


def _assemble(
    questions: list[Question], events: list[dict[str, Any]], reason: str, stopped: str = "timeout"
) -> list[QuestionResult]:
    """One result per registered question, taking points and titles from the registry, not the kernel."""
    finished = {e["result"]["id"]: e["result"] for e in events if e.get("event") == "result"}
    started = [e["id"] for e in events if e.get("event") == "start"]
    out = []
    for q in questions:
        base = {"id": q.id, "title": q.title, "points": q.points}
        got = finished.get(q.id)
        if got is not None:
            status = got.get("status")
            status = status if status in _STATUSES else "error"
            score = q.points if status == "passed" else 0.0
            out.append(
                QuestionResult(
                    **base,
                    status=status,
                    score=score,
                    hint=got.get("hint", ""),
                    duration_s=got.get("duration_s", 0),
                )
            )
        elif q.id in started:
            out.append(
                QuestionResult(**base, status=stopped, hint=f"grading stopped during this check: {reason}")
            )
        else:
            out.append(QuestionResult(**base, status="not_run", hint=f"not checked: {reason}"))
    return out


def grade_notebook(
    path: str | Path,
    *,
    exercise: int | None = None,
    cell_timeout: float = DEFAULT_CELL_TIMEOUT,
    check_timeout: float | None = DEFAULT_CHECK_TIMEOUT,
    clock: Callable[[], float] = time.perf_counter,
) -> NotebookResult:
    """Execute one exercise notebook and grade every question of its exercise (exercises).

    Raises :class:`~course_lib.grading.registry.UnknownExerciseError` when the exercise has no checks;
    every problem with the notebook itself ends up in the result instead.
    """
    start = clock()
    path = Path(path)
    number = exercise if exercise is not None else exercise_number(path)
    questions = load_exercise(number)

    def finish(results: list[QuestionResult], error: str | None, notes: list[str]) -> NotebookResult:
        duration = round(clock() - start, 2)
        return NotebookResult(
            path=str(path), exercise=number, questions=results, error=error, notes=notes, duration_s=duration
        )

    try:
        nb = read_notebook(path)
    except NotebookFormatError as exc:
        return finish(_assemble(questions, [], str(exc).split(";")[0]), str(exc), [])

    per_check = [q.timeout or check_timeout or DEFAULT_CHECK_TIMEOUT for q in questions]
    grader_timeout = sum(per_check) + 2 * len(questions) + 30
    with tempfile.TemporaryDirectory(prefix="course-grade-") as tmp:
        tmpdir = Path(tmp)
        result_path = tmpdir / "results.jsonl"
        import nbformat

        nbformat.write(prepare(nb, number, result_path, check_timeout), str(tmpdir / "input.ipynb"))
        executed, fatal, timed_out = _execute(
            tmpdir / "input.ipynb",
            tmpdir / "executed.ipynb",
            path.resolve().parent,
            cell_timeout,
            grader_timeout,
            tmpdir / "kernel.log",
        )
        events = _read_events(result_path)
    notes = execution_notes(executed, cell_timeout, timed_out - {0})
    done = any(e.get("event") == "done" for e in events)
    fatal_events = [e["error"] for e in events if e.get("event") == "fatal"]
    error = None
    if fatal_events:
        error = f"the checks could not run: {fatal_events[0]}"
    elif fatal and done:
        notes.append(f"after grading: {fatal}")  # e.g. exit() in a cell; every check had already run
    elif fatal:
        error = fatal
    elif not done:
        error = "the grading cell did not finish"
        crash = _grader_cell_error(executed)
        if crash:
            error += f": {crash}"
        elif 0 in timed_out or not events:
            error += f" (it ran past its limit of {grader_timeout:g} s, or never started)"
    reason = (error or "grading stopped early").split(";")[0].split(": did it")[0]
    stopped = "error" if fatal else "timeout"
    return finish(_assemble(questions, events, reason, stopped), error, notes)
