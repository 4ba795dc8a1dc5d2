"""Running checks safely: a time limit per check, quiet output, and a result whatever happens (exercises).

Each check runs in a daemon worker thread. If it is not done in time the grader stops waiting, asks the
thread to stop (an asynchronous exception, which ends pure-Python endless loops) and moves on to the next
question, so one hanging learner function costs one question, not the grade. Running checks in a worker
thread also gives learner code that calls ``asyncio.run`` a thread with no event loop, unlike a notebook
cell. Output the learner's code prints while being checked is swallowed.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from .registry import CheckFailed, NotGraded, Question, load_exercise
from .results import QuestionResult

__all__ = [
    "TimeLimitExceeded",
    "describe_exception",
    "grade_namespace",
    "quiet",
    "run_question",
    "run_with_time_limit",
]

DEFAULT_CHECK_TIMEOUT = 10.0
_GRADING_DIR = str(Path(__file__).resolve().parent)
_MAX_HINT = 400


class TimeLimitExceeded(Exception):
    """A time-limited call did not finish in time (exercises)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"did not finish within {seconds:g} s")
        self.seconds = seconds


class _Stop(BaseException):
    """Injected into a worker thread that ran out of time (a BaseException, so `except Exception` misses it)."""


def _stop_thread(thread: threading.Thread, attempts: int = 5) -> None:
    """Ask ``thread`` to stop by raising :class:`_Stop` in it; retry briefly if it swallows the first one."""
    for _ in range(attempts):
        if not thread.is_alive() or thread.ident is None:
            return
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident), ctypes.py_object(_Stop))
        thread.join(0.05)


def run_with_time_limit(fn: Callable[..., Any], /, *args: Any, timeout: float | None, **kwargs: Any) -> Any:
    """Call ``fn(*args, **kwargs)`` in a worker thread; raise :class:`TimeLimitExceeded` after ``timeout`` s.

    The value is returned and an exception re-raised as if ``fn`` had been called directly (exercises).
    """
    if timeout is None:
        return fn(*args, **kwargs)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn(*args, **kwargs)
        except BaseException as exc:
            box["error"] = exc

    worker = threading.Thread(target=target, name="course-check", daemon=True)
    worker.start()
    deadline = time.monotonic() + timeout
    # Short joins keep this thread responsive to a stop request of its own (nested time limits).
    while worker.is_alive() and (left := deadline - time.monotonic()) > 0:
        worker.join(min(0.05, left))
    if worker.is_alive():
        _stop_thread(worker)
        raise TimeLimitExceeded(timeout)
    if "error" in box:
        raise box["error"]
    return box.get("value")


@contextlib.contextmanager
def quiet() -> Iterator[io.StringIO]:
    """Swallow everything printed to stdout and stderr inside the block (exercises)."""
    sink = io.StringIO()
    old = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = sink
    try:
        yield sink
    finally:
        sys.stdout, sys.stderr = old


def _shorten(text: str, limit: int = _MAX_HINT) -> str:
    text = str(text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe_exception(exc: BaseException) -> str:
    """Say which exception happened and where: in the learner's code or inside the check itself (exercises)."""
    what = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    remote = getattr(exc, "_course_where", None)
    if remote is not None:
        return _shorten(f"your code raised {what}" + (f" ({remote})" if remote else ""))
    frames = traceback.extract_tb(exc.__traceback__)
    last = frames[-1] if frames else None
    if last is not None and last.filename.startswith(_GRADING_DIR):
        return _shorten(
            f"the check itself crashed ({what}); this is a bug in the grader, tell your instructor"
        )
    where = f" (in `{last.name}`, line {last.lineno})" if last is not None and last.name != "<module>" else ""
    return _shorten(f"your code raised {what}{where}")


def _not_implemented_hint(q: Question) -> str:
    names = ", ".join(f"`{t}`" for t in q.targets) or "the code for this question"
    return f"{names} still raises NotImplementedError: replace that line with your solution"


def _missing_hint(name: str) -> str:
    return (
        f"no `{name}` in the notebook: define it with exactly this name, "
        "and make sure its cell runs without an error"
    )


def _is_remote(namespace: Mapping[str, Any]) -> bool:
    from .remote import RemoteNamespace

    return isinstance(namespace, RemoteNamespace)


def run_question(
    q: Question,
    namespace: Mapping[str, Any],
    *,
    timeout: float | None = DEFAULT_CHECK_TIMEOUT,
    clock: Callable[[], float] = time.perf_counter,
) -> QuestionResult:
    """Run one question's check against the objects in ``namespace``; never raises (exercises)."""
    start = clock()
    base = {"id": q.id, "title": q.title, "points": q.points}
    if q.targets:
        try:
            missing = [name for name in q.targets if name not in namespace]
        except Exception as exc:  # the learner's process stopped answering before the check began
            return QuestionResult(
                **base, status="error", hint=_shorten(f"the notebook could not be asked: {exc}")
            )
        if missing:
            return QuestionResult(**base, status="missing", hint=_missing_hint(missing[0]))
        args = [namespace[name] for name in q.targets]
    else:
        args = [namespace]
    limit = q.timeout if q.timeout is not None else timeout
    if limit is None:
        limit = float("inf")  # still a worker thread: learner code may need a thread without an event loop
    status, hint = "passed", ""
    try:
        if _is_remote(namespace):
            from .remote import deadline_in

            with quiet(), deadline_in(None if limit == float("inf") else limit):
                q.check(*args)
        else:
            with quiet():
                run_with_time_limit(q.check, *args, timeout=limit)
    except CheckFailed as exc:
        status, hint = "failed", _shorten(str(exc) or "wrong answer")
    except NotGraded as exc:
        status, hint = "not_graded", _shorten(f"not graded on this machine: {exc}")
    except TimeLimitExceeded as exc:
        status = "timeout"
        hint = (
            f"the check did not finish within {exc.seconds:g} s: look for an endless loop, "
            "or a wait that never ends, in your code"
        )
    except NotImplementedError:
        status, hint = "failed", _not_implemented_hint(q)
    except SystemExit:
        status, hint = "error", "your code called exit() or sys.exit() while being checked"
    except Exception as exc:
        from .remote import LearnerUnresponsive

        if isinstance(exc, LearnerUnresponsive):
            status, hint = "error", _shorten(f"your notebook's process stopped answering the grader ({exc})")
        else:
            status, hint = "error", describe_exception(exc)
    score = q.points if status == "passed" else 0.0
    return QuestionResult(**base, score=score, status=status, hint=hint, duration_s=round(clock() - start, 3))


def grade_namespace(
    number: int,
    namespace: Mapping[str, Any],
    *,
    check_timeout: float | None = DEFAULT_CHECK_TIMEOUT,
    on_start: Callable[[Question], None] | None = None,
    on_result: Callable[[QuestionResult], None] | None = None,
) -> list[QuestionResult]:
    """Run every check of exercise ``number`` against ``namespace``, one result per question (exercises)."""
    results = []
    for q in load_exercise(number):
        if on_start is not None:
            on_start(q)
        result = run_question(q, namespace, timeout=check_timeout)
        if on_result is not None:
            on_result(result)
        results.append(result)
    return results
