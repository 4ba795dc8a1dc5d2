"""Grade one exercise notebook: run it in a kernel of its own, then check it from the grader (exercises).

The learner's code cells are copied into a fresh notebook (no outputs, no odd metadata) and executed
in a kernel, as a separate user where the machine allows (see :mod:`.isolation`). One last cell connects
the kernel to the grader and waits. The checks run here, in the grader's process: they call the
learner's functions through that connection with plain-data arguments, and get plain data back (see
:mod:`.remote`), each request with a deadline. Only the grader writes results. Errors in learner cells
do not stop execution; a cell that runs past the per-cell limit is interrupted; a kernel that stops
answering is restarted for the questions still to check. Whatever happens, every question gets a result
with a reason, and every process and temporary folder the notebook made is gone afterwards.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import shutil
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .isolation import IsolationPlan, LearnerBox, plan_isolation
from .kernel import OutputTail
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
from .remote import Channel, RemoteNamespace
from .results import NotebookResult, QuestionResult
from .sandbox import DEFAULT_CHECK_TIMEOUT, run_question
from .worker import PROTOCOL, ChannelError, recv_frame

__all__ = ["DEFAULT_CELL_TIMEOUT", "NotebookFormatError", "grade_notebook", "read_notebook"]

DEFAULT_CELL_TIMEOUT = 30.0
MAX_STARTS = 3
"""How many times a notebook's kernel is started at most (the first run plus restarts after a hang)."""
OUTPUT_LIMIT = 2_000_000
"""Characters of cell output kept per notebook; the rest of a flood is dropped."""
_KERNEL_LOG_NOISE = ("Kernel is running over TCP without encryption",)
_WORKER = Path(__file__).with_name("worker.py")


def _checks_fingerprint(number: int) -> str:
    """A hash of the files exercise ``number`` is checked with, to notice a change on disk mid-grade."""
    digest = hashlib.sha256()
    folder = Path(__file__).parent
    for path in [
        folder / "checks" / "__init__.py",
        folder / "checks" / f"ex{number:02d}.py",
        folder / "helpers.py",
    ]:
        with contextlib.suppress(OSError):
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


class _Session:
    """One run of the notebook in a kernel, executed by nbclient in a background thread."""

    def __init__(self, nb: Any, box: LearnerBox, cwd: str, cell_timeout: float, serve_timeout: float,
                 python: str | None, learner_path: str | None = None) -> None:  # fmt: skip
        self.box = box
        self.cell_timeout = cell_timeout
        self.serve_timeout = serve_timeout
        self.python = python
        self.learner_path = learner_path
        self.token = secrets.token_hex(16)
        self.worker_copy = box.root / f"worker-{secrets.token_hex(6)}.py"
        shutil.copyfile(_WORKER, self.worker_copy)
        self.worker_copy.chmod(0o644)
        serve = (
            "import runpy as _course_runpy\n"
            f"_course_runpy.run_path({str(self.worker_copy)!r})['connect_and_serve']"
            f"(globals(), {box.socket_path!r}, {self.token!r})"
        )
        self.nb = prepare(nb, serve)
        self.cwd = cwd
        self.tail = OutputTail()
        self.fatal: str | None = None
        self.timed_out: set[int] = set()
        self.last_timeout: tuple[int, str] | None = None
        self.current: dict[str, Any] = {}
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        with contextlib.suppress(FileNotFoundError):
            Path(box.socket_path).unlink()
        self.listener.bind(box.socket_path)
        Path(box.socket_path).chmod(0o666)
        self.listener.listen(4)
        self.thread = threading.Thread(target=self._execute, name="course-notebook", daemon=True)

    def _client(self) -> Any:
        from nbclient import NotebookClient

        from .kernel import grader_kernel_manager

        session = self

        class Client(NotebookClient):  # type: ignore[misc]
            kept = 0

            def output(self, outs: list, msg: dict, display_id: Any, cell_index: int) -> Any:
                size = len(str(msg.get("content", "")))
                if Client.kept + size > OUTPUT_LIMIT:
                    return None  # a flood: drop it, the notebook still runs
                Client.kept += size
                return super().output(outs, msg, display_id, cell_index)

        def timeout_for(cell: Any) -> float:
            session.current["cell"] = cell.metadata.get(CELL_KEY, 0)
            session.current["first"] = first_line(cell)
            tags = cell.metadata.get("tags", [])
            return session.serve_timeout if GRADER_TAG in tags else session.cell_timeout

        manager = grader_kernel_manager(
            self.tail,
            self.box.env(),
            prefix=self.box.command_prefix(),
            python=self.python,
            connection_file=self.box.connection_file,
            package_root=self.learner_path,
        )
        return Client(
            self.nb,
            kernel_name="python3",
            kernel_manager_class=manager,
            allow_errors=True,
            interrupt_on_timeout=True,
            error_on_timeout={"ename": "CellTimeoutError", "evalue": "time limit", "traceback": []},
            timeout_func=timeout_for,
            startup_timeout=60,
            record_timing=False,
            resources={"metadata": {"path": self.cwd}},
        )

    def _execute(self) -> None:
        import logging

        from nbclient.exceptions import CellTimeoutError, DeadKernelError

        class Watch(logging.Handler):
            def emit(inner, record: logging.LogRecord) -> None:
                if "Timeout waiting for execute reply" in record.getMessage():
                    cell = self.current.get("cell", 0)
                    self.timed_out.add(cell)
                    if self.last_timeout is not None and not self.fatal:
                        index, first = self.last_timeout
                        self.fatal = (
                            f"cell {index} (`{first}`) ignored the stop request after the per-cell limit of "
                            f"{self.cell_timeout:g} s (does it catch KeyboardInterrupt or BaseException?), so the "
                            "rest could not run"
                        )
                        self.box.kill_all()
                    self.last_timeout = (cell, self.current.get("first", ""))

        watch = Watch()
        loggers = [logging.getLogger(n) for n in ("traitlets", "NotebookClient", "nbclient")]
        for logger in loggers:
            logger.addHandler(watch)
        where = lambda: (  # noqa: E731
            f"cell {self.current['cell']} (`{self.current['first']}`)"
            if self.current.get("cell")
            else "the checks"
        )
        try:
            self._client().execute()
        except DeadKernelError:
            if self.fatal:  # already explained (a cell that ignored the stop request was killed)
                return
            self.fatal = (
                f"the Python kernel died while running {where()}: did it call exit() or os._exit(), or crash?"
            )
        except CellTimeoutError:
            self.fatal = (
                f"{where()} ignored the stop request after the per-cell limit of {self.cell_timeout:g} s "
                "(does it catch KeyboardInterrupt or BaseException?), so the rest could not run"
            )
        except Exception as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            self.fatal = f"the notebook could not be run: {type(exc).__name__}: {first[:300]}"
        finally:
            for logger in loggers:
                logger.removeHandler(watch)
        if self.fatal:
            lines = [ln for ln in self.tail.text().strip().splitlines() if ln.strip()]
            tail = [ln[:200] for ln in lines if not any(n in ln for n in _KERNEL_LOG_NOISE)][-3:]
            if tail:
                self.fatal += "; kernel log: " + " | ".join(tail)

    def connect(self, deadline: float) -> Channel | None:
        """Start the notebook and wait until its last cell connects; None if it never does."""
        self.thread.start()
        self.listener.settimeout(0.2)
        while time.monotonic() < deadline:
            if not self.thread.is_alive():
                return None
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return None
            try:
                hello = recv_frame(conn, time.monotonic() + 10)
            except ChannelError:
                conn.close()
                continue
            if (
                isinstance(hello, dict)
                and hello.get("op") == "hello"
                and hello.get("token") == self.token
                and hello.get("protocol") == PROTOCOL
            ):
                return Channel(conn)
            conn.close()
        return None

    def stop(self, channel: Channel | None) -> None:
        """End the last cell, or kill the kernel; wait for the background thread."""
        if channel is not None:
            channel.quit()
        self.thread.join(5.0) if self.thread.is_alive() or self.thread.ident else None
        if self.thread.is_alive():
            self.box.kill_all()
            self.thread.join(10.0)
        with contextlib.suppress(OSError):
            self.listener.close()
        if channel is not None:
            with contextlib.suppress(OSError):
                channel.sock.close()


def _grading_cell_trouble(nb: Any) -> str:
    """Why the cell that connects the notebook to the grader did not connect."""
    for cell in nb.cells:
        if GRADER_TAG in cell.metadata.get("tags", []):
            for out in cell.get("outputs", []):
                if out.get("output_type") == "error":
                    return f"the grading cell did not finish: {out.get('ename')}: {str(out.get('evalue', ''))[:200]}"
    return "the grading cell did not finish (the notebook never reached it)"


def _not_checked(q: Question, status: str, hint: str) -> QuestionResult:
    return QuestionResult(id=q.id, title=q.title, points=q.points, status=status, hint=hint)  # type: ignore[arg-type]


def grade_notebook(
    path: str | Path,
    *,
    exercise: int | None = None,
    cell_timeout: float = DEFAULT_CELL_TIMEOUT,
    check_timeout: float | None = DEFAULT_CHECK_TIMEOUT,
    clock: Callable[[], float] = time.perf_counter,
    isolation: IsolationPlan | None = None,
    python: str | None = None,
    learner_path: str | None = None,
) -> NotebookResult:
    """Execute one exercise notebook in its own kernel and grade every question from here (exercises).

    Raises :class:`~course_lib.grading.registry.UnknownExerciseError` when the exercise has no checks;
    every problem with the notebook itself ends up in the result instead.
    """
    start = clock()
    path = Path(path)
    number = exercise if exercise is not None else exercise_number(path)
    questions = load_exercise(number)
    plan = isolation or plan_isolation(python or __import__("sys").executable)

    def finish(results: list[QuestionResult], error: str | None, notes: list[str]) -> NotebookResult:
        duration = round(clock() - start, 2)
        return NotebookResult(
            path=str(path),
            exercise=number,
            questions=results,
            error=error,
            notes=notes,
            duration_s=duration,
            isolation=plan.reason,
        )

    try:
        nb = read_notebook(path)
    except NotebookFormatError as exc:
        reason = str(exc).split(";")[0]
        return finish([_not_checked(q, "not_run", f"not checked: {reason}") for q in questions], str(exc), [])

    fingerprint = _checks_fingerprint(number)
    per_check = {q.id: q.timeout or check_timeout or DEFAULT_CHECK_TIMEOUT for q in questions}
    serve_timeout = sum(per_check.values()) + 5 * len(questions) + 60
    code_cells = sum(1 for c in nb.cells if c.get("cell_type") == "code")
    results: dict[str, QuestionResult] = {}
    notes: list[str] = []
    error: str | None = None
    remaining = list(questions)
    with LearnerBox(plan) as box:
        cwd = box.cwd_for(path)
        for attempt in range(MAX_STARTS):
            session = _Session(nb, box, cwd, cell_timeout, serve_timeout, python, learner_path)
            channel = None
            try:
                channel = session.connect(time.monotonic() + (code_cells + 1) * (cell_timeout + 5) + 60)
                if channel is None:
                    session.stop(None)
                    why = session.fatal or _grading_cell_trouble(session.nb)
                    if attempt == 0:
                        notes = execution_notes(session.nb, cell_timeout, session.timed_out - {0})
                    error = why
                    status = "not_run"
                    short = why.split(";")[0].split(": did it")[0]
                    for q in remaining:
                        results[q.id] = _not_checked(q, status, f"not checked: {short}")
                    remaining = []
                    break
                namespace = RemoteNamespace(channel)
                for q in list(remaining):
                    channel.default_timeout = per_check[q.id]
                    result = run_question(q, namespace, timeout=per_check[q.id])
                    if channel.broken and result.status == "passed":
                        result = _not_checked(
                            q, "error", f"the notebook's process stopped answering: {channel.broken}"
                        )
                    results[q.id] = result
                    remaining.remove(q)
                    if channel.broken:
                        break
            finally:
                session.stop(channel)
                box.kill_all()
            if attempt == 0:
                notes = execution_notes(session.nb, cell_timeout, session.timed_out - {0})
            if session.fatal and not remaining:
                notes.append(f"after grading: {session.fatal}")
            if not remaining:
                break
            notes.append(
                f"the notebook's process stopped answering; it was started again for {len(remaining)} question(s)"
            )
        for q in remaining:
            results[q.id] = _not_checked(q, "error", "not checked: the notebook's process kept hanging")
    if _checks_fingerprint(number) != fingerprint:
        error = "the grader's checks changed on disk while this notebook ran: its grade is void"
        return finish([_not_checked(q, "error", error) for q in questions], error, notes)
    return finish([results[q.id] for q in questions], error, notes)
