"""The grader process behind an inline ``check()``: runs one question's check over the channel (exercises).

Started by :func:`course_lib.grading.inline.check` with one end of a socket pair; the notebook answers
its requests (see :mod:`.worker`) and gets the result back as plain data. Usage (internal):
``python -m course_lib.grading.inline_grader FD QUESTION TIMEOUT HAS_OBJECT``.
"""

from __future__ import annotations

import socket
import sys
import time
from collections.abc import Sequence
from typing import Any

from .inline import CHECK_OBJECT
from .registry import UnknownExerciseError, get_question
from .remote import Channel, RemoteNamespace
from .results import QuestionResult
from .sandbox import run_question
from .worker import ChannelError, recv_frame

__all__ = ["main"]


class _InlineNamespace(RemoteNamespace):
    """The names a question needs, mapped onto the object passed to ``check`` when there was one."""

    def __init__(self, channel: Channel, targets: tuple[str, ...], has_object: bool) -> None:
        super().__init__(channel)
        self.targets = targets
        self.has_object = has_object

    def __getitem__(self, name: str) -> Any:
        if not self.has_object:
            return super().__getitem__(name)
        given = super().__getitem__(CHECK_OBJECT)
        if len(self.targets) <= 1:
            if not self.targets and isinstance(given, dict):
                return given[name]
            return given
        if not isinstance(given, (tuple, list)) or len(given) != len(self.targets):
            raise KeyError(name)
        return given[self.targets.index(name)]


def main(argv: Sequence[str] | None = None) -> int:
    """Run one check for the notebook on the other end of the socket (internal)."""
    fd, qid, timeout, has_object = list(argv if argv is not None else sys.argv[1:])
    sock = socket.socket(fileno=int(fd))
    try:
        hello = recv_frame(sock, time.monotonic() + 30)
    except ChannelError:
        return 1
    if not isinstance(hello, dict) or hello.get("op") != "hello":
        return 1
    limit = float(timeout)
    channel = Channel(sock, default_timeout=limit)
    try:
        q = get_question(qid)
    except UnknownExerciseError as exc:
        result = QuestionResult(id=qid, title="unknown question", points=0, status="not_run", hint=str(exc))
    else:
        namespace = _InlineNamespace(channel, q.targets, has_object == "1")
        result = run_question(q, namespace, timeout=limit)
    channel.quit(result.model_dump())
    sock.close()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
