"""The kernel the grader runs notebooks in: this interpreter, this ``course_lib``, output to a tail (exercises).

Whatever kernel a notebook's metadata names, and whatever ``python3`` kernelspec happens to be installed,
grading uses an ipykernel started with ``sys.executable`` (or the learner's Python named with
``--learner-python``), so the notebook sees the course's packages. The kernel may be started through a
command prefix that switches to the learner's user (see :mod:`.isolation`). Its own stdout and stderr
(start-up warnings, crashes, floods) go through a pipe of which only the last few kilobytes are kept;
the runner quotes them when the kernel dies.
"""

from __future__ import annotations

import collections
import os
import sys
import threading
from pathlib import Path
from typing import Any

from jupyter_client import AsyncKernelManager
from jupyter_client.kernelspec import KernelSpec

__all__ = ["OutputTail", "grader_kernel_manager", "kernel_env"]

KERNEL_NAME = "python3"


def kernel_env(extra: dict[str, str] | None = None, package_root: str | None = None) -> dict[str, str]:
    """Environment additions for the grading kernel: grading mode, quiet debugger, which ``course_lib``.

    ``package_root`` is the folder the kernel imports ``course_lib`` from: the grader's own by default,
    the student's copy in CI (whose checks are hidden from the kernel).
    """
    package_root = package_root or str(Path(__file__).resolve().parents[2])
    path = os.environ.get("PYTHONPATH", "")
    env = {
        "COURSE_GRADING": "1",
        "PYTHONPATH": package_root + (os.pathsep + path if path else ""),
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        "MPLBACKEND": "Agg",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        # Grades must not depend on a key or a network: learner cells replay recordings.
        "COURSE_PROVIDER": os.environ.get("COURSE_GRADING_PROVIDER", "replay"),
    }
    env.update(extra or {})
    return env


class OutputTail:
    """Drains a pipe in a thread and keeps only its last ``limit`` bytes (a flood cannot fill memory or disk)."""

    def __init__(self, limit: int = 8192) -> None:
        self.read_fd, self.write_fd = os.pipe()
        self._chunks: collections.deque[bytes] = collections.deque()
        self._size = 0
        self.limit = limit
        self.total = 0
        self._thread = threading.Thread(target=self._drain, name="course-kernel-output", daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self.read_fd, 65536)
            except OSError:
                return
            if not chunk:
                os.close(self.read_fd)
                return
            self.total += len(chunk)
            self._chunks.append(chunk)
            self._size += len(chunk)
            while self._size - len(self._chunks[0]) >= self.limit and len(self._chunks) > 1:
                self._size -= len(self._chunks.popleft())

    def close_writer(self) -> None:
        """Close the grader's copy of the write end once the kernel holds its own."""
        if self.write_fd >= 0:
            os.close(self.write_fd)
            self.write_fd = -1

    def text(self) -> str:
        """The last bytes the kernel wrote, decoded."""
        return b"".join(self._chunks)[-self.limit :].decode("utf-8", "replace")


class _GraderKernelManager(AsyncKernelManager):
    """An AsyncKernelManager whose kernelspec is built here rather than looked up."""

    _grader_env: dict[str, str] = {}  # noqa: RUF012 - replaced per subclass
    _grader_prefix: list[str] = []  # noqa: RUF012
    _grader_python: str = sys.executable
    _grader_tail: OutputTail | None = None
    _grader_connection_file: str | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self._grader_connection_file:
            self.connection_file = self._grader_connection_file

    @property
    def kernel_spec(self) -> KernelSpec | None:
        if self._kernel_spec is None:
            self._kernel_spec = KernelSpec(
                argv=[
                    *self._grader_prefix,
                    self._grader_python,
                    "-m",
                    "ipykernel_launcher",
                    "-f",
                    "{connection_file}",
                ],
                display_name=f"Python {sys.version_info.major}.{sys.version_info.minor} (grader)",
                language="python",
                env=dict(self._grader_env),
                metadata={},
                interrupt_mode="signal",
            )
        return self._kernel_spec

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        if self._grader_connection_file and os.path.exists(self.connection_file):
            os.chmod(self.connection_file, 0o644)  # the learner's user reads it; its folder is not listable
        tail = self._grader_tail
        if tail is None:
            import subprocess

            kw.setdefault("stdout", subprocess.DEVNULL)
            kw.setdefault("stderr", subprocess.DEVNULL)
            await super()._async_launch_kernel(kernel_cmd, **kw)
            return
        kw["stdout"] = tail.write_fd
        kw["stderr"] = tail.write_fd
        try:
            await super()._async_launch_kernel(kernel_cmd, **kw)
        finally:
            tail.close_writer()


def grader_kernel_manager(
    tail: OutputTail | None = None,
    extra_env: dict[str, str] | None = None,
    *,
    prefix: list[str] | None = None,
    python: str | None = None,
    connection_file: str | None = None,
    package_root: str | None = None,
) -> type:
    """A kernel manager class (for nbclient's ``kernel_manager_class``) running the grader's kernel."""
    return type(
        "GraderKernelManager",
        (_GraderKernelManager,),
        {
            "_grader_env": kernel_env(extra_env, package_root),
            "_grader_tail": tail,
            "_grader_prefix": list(prefix or []),
            "_grader_python": python or sys.executable,
            "_grader_connection_file": connection_file,
        },
    )
