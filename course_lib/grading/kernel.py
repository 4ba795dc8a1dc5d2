"""The kernel the grader runs notebooks in: this interpreter, this ``course_lib``, output to a log (exercises).

Whatever kernel a notebook's metadata names, and whatever ``python3`` kernelspec happens to be installed,
grading uses an ipykernel started with ``sys.executable``, so the checks see the same packages as the
grader. The kernel's own stdout and stderr (start-up warnings, crashes) go to a log file, not the
terminal; the runner quotes its tail when the kernel dies.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from jupyter_client import AsyncKernelManager
from jupyter_client.kernelspec import KernelSpec

__all__ = ["grader_kernel_manager", "kernel_env"]

KERNEL_NAME = "python3"


def kernel_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment additions for the grading kernel: grading mode, quiet debugger, same ``course_lib``."""
    package_root = str(Path(__file__).resolve().parents[2])
    path = os.environ.get("PYTHONPATH", "")
    env = {
        "COURSE_GRADING": "1",
        "PYTHONPATH": package_root + (os.pathsep + path if path else ""),
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        "MPLBACKEND": "Agg",
        "PYTHONHASHSEED": "0",
        # Grades must not depend on a key or a network: learner cells replay recordings.
        "COURSE_PROVIDER": os.environ.get("COURSE_GRADING_PROVIDER", "replay"),
    }
    env.update(extra or {})
    return env


class _GraderKernelManager(AsyncKernelManager):
    """An AsyncKernelManager whose kernelspec is built here rather than looked up."""

    _grader_env: dict[str, str] = {}  # noqa: RUF012 - replaced per subclass
    _grader_log: str | None = None

    @property
    def kernel_spec(self) -> KernelSpec | None:
        if self._kernel_spec is None:
            self._kernel_spec = KernelSpec(
                argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                display_name=f"Python {sys.version_info.major}.{sys.version_info.minor} (grader)",
                language="python",
                env=dict(self._grader_env),
                metadata={},
                interrupt_mode="signal",
            )
        return self._kernel_spec

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        if self._grader_log is None:
            kw.setdefault("stdout", subprocess.DEVNULL)
            kw.setdefault("stderr", subprocess.DEVNULL)
            await super()._async_launch_kernel(kernel_cmd, **kw)
            return
        with open(self._grader_log, "ab") as log:
            kw["stdout"] = log
            kw["stderr"] = subprocess.STDOUT
            await super()._async_launch_kernel(kernel_cmd, **kw)


def grader_kernel_manager(log_path: str | None = None, extra_env: dict[str, str] | None = None) -> type:
    """A kernel manager class (for nbclient's ``kernel_manager_class``) running ``sys.executable``."""
    return type(
        "GraderKernelManager",
        (_GraderKernelManager,),
        {"_grader_env": kernel_env(extra_env), "_grader_log": log_path},
    )
