"""Instant feedback inside an exercise notebook: ``check("5.2", majority_vote)`` (exercises).

The same check the grader runs, through the same channel: ``check`` starts a small grader process
(:mod:`course_lib.grading.inline_grader`) that holds the checks, and answers its requests to call your
function from here, in the notebook, until it sends back the result. The checks never run in (nor are
imported into) the notebook's process. The result is printed as one plain line with the hint when it
fails. While ``course grade`` executes a notebook these calls do nothing: the grader checks every
question itself after the last cell.
"""

from __future__ import annotations

import collections
import os
import re
import socket
import subprocess
import sys
import time
from typing import Any

from .results import QuestionResult

__all__ = ["CheckResult", "check"]

GRADING_ENV = "COURSE_GRADING"
CHECK_OBJECT = "__course_check_object__"
"""The name under which the object passed to :func:`check` is offered to the grader process."""
_UNSET: Any = object()
_QUESTION_ID = re.compile(r"^\d+\.\d+$")
_STARTUP_S = 30.0


class CheckResult(QuestionResult):
    """The result :func:`check` returns: truthy when the question passed (exercises)."""

    def _ipython_display_(self) -> None:
        """Show nothing as a cell's value: :func:`check` has already printed the feedback."""


def _report(result: CheckResult) -> CheckResult:
    print(result.line())
    return result


def check(qid: str, obj: Any = _UNSET, *, timeout: float | None = 10.0) -> CheckResult:
    """Check question ``qid`` against ``obj`` (or the caller's variables) and print the feedback (exercises).

    Returns a :class:`CheckResult`, truthy when the question passed.
    """
    from .worker import Worker

    qid = str(qid).strip()
    if not _QUESTION_ID.match(qid):
        hint = f"{qid!r} is not a question id; use the form '5.2'"
        return _report(CheckResult(id=qid, title="unknown question", points=0, status="not_run", hint=hint))
    if os.environ.get(GRADING_ENV) == "1":
        print(f"· {qid}: checked by the grader after the last cell")
        return CheckResult(
            id=qid, title="", points=0, status="not_run", hint="checked by the grader after the last cell"
        )
    caller = sys._getframe(1).f_globals
    namespace: collections.ChainMap[str, Any] = collections.ChainMap({}, caller)
    if obj is not _UNSET:
        namespace.maps[0][CHECK_OBJECT] = obj
    limit = 10.0 if timeout is None else float(timeout)
    ours, theirs = socket.socketpair()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "course_lib.grading.inline_grader", str(theirs.fileno()), qid, repr(limit),
             "1" if obj is not _UNSET else "0"],
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)},
        )  # fmt: skip
    except OSError as exc:
        ours.close()
        theirs.close()
        return _report(
            CheckResult(
                id=qid, title="", points=0, status="error", hint=f"the checker could not start: {exc}"
            )
        )
    theirs.close()
    start = time.monotonic()
    try:
        done = Worker(namespace, ours).serve(idle_timeout=_STARTUP_S + limit)
    finally:
        ours.close()
        try:
            _, err = process.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            _, err = process.communicate()
    body = (done or {}).get("result")
    if isinstance(body, dict):
        try:
            return _report(CheckResult(**body))
        except Exception:
            pass
    tail = (err or b"").decode("utf-8", "replace").strip().splitlines()[-1:] or ["no message"]
    took = time.monotonic() - start
    hint = f"the checker stopped after {took:.1f} s without a result ({tail[0][:200]})"
    return _report(CheckResult(id=qid, title="", points=0, status="error", hint=hint))
