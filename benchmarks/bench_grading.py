"""Grading time per exercise: `course grade solutions/NN_*.ipynb` for every solution (budget: ≤ 15 s each).

Each run is the whole command a learner or CI runs, in a fresh process: start-up, executing the
notebook with papermill and every check of the exercise. Solutions must score full marks, so a
run that exits non-zero is reported as an error.
"""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import common

GRADE_BUDGET_S = 10.0


def solution_paths(folder: Path | None = None) -> list[Path]:
    """Every numbered solution notebook (``NN_slug.ipynb``) in ``folder``, sorted."""
    return sorted((folder or common.ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))


def grade_command(path: Path) -> list[str]:
    """The ``course grade PATH`` command line, run with this interpreter."""
    return [common.PYTHON, "-m", "course_lib.cli.main", "grade", str(path)]


def _children_cpu() -> float:
    """CPU seconds (user + system) of every finished child process and the children they waited for."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not on POSIX
        return 0.0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(
    paths: Sequence[Path] | None = None,
    runs: int = 2,
    command: Callable[[Path], list[str]] = grade_command,
) -> dict[str, Any]:
    """Time ``command(path)`` ``runs`` times for every solution notebook."""
    load = common.load_average()
    paths = list(paths) if paths is not None else solution_paths()
    rows = []
    for path in paths:
        times: list[float] = []
        cpu: list[float] = []
        error = None
        for _ in range(runs):
            cpu_before = _children_cpu()
            start = time.perf_counter()
            done = subprocess.run(
                command(path),
                capture_output=True,
                text=True,
                cwd=common.ROOT,
                env=common.offline_env({"COLUMNS": "120"}),
            )
            times.append(time.perf_counter() - start)
            cpu.append(_children_cpu() - cpu_before)
            if done.returncode != 0:
                tail = (done.stdout + done.stderr).strip().splitlines()[-1:] or [""]
                error = f"exit {done.returncode}: {tail[0][:120]}"
        load_now = common.load_average()
        rows.append(
            common.row(
                path.stem,
                times,
                "s",
                budget=GRADE_BUDGET_S,
                detail="; ".join(
                    [f"CPU {common.format_value(statistics.median(cpu), 's')}"]
                    + ([f"load {load_now[0]:.1f}"] if load_now else [])
                ),
                error=error,
            )
        )
        rows[-1]["cpu_s"] = [round(c, 3) for c in cpu]
    notes = [
        "Detail: CPU seconds of the grading process and the kernel it ran (median; load-independent, "
        "unlike the wall time) and the 1-minute load average after the runs."
    ]
    if not paths:
        notes.append("no solution notebooks found (solutions/NN_*.ipynb)")
    return common.make_result(
        "grading",
        "Grading one exercise (course grade)",
        rows,
        notes=notes,
        params={"runs": runs, "solutions": [p.name for p in paths]},
        load_before=load,
    )


def main(argv: list[str] | None = None) -> int:
    """Run this benchmark alone and print its table."""
    return common.notebooks_main(__doc__, run, default_runs=2, what="solution", argv=argv)


if __name__ == "__main__":
    raise SystemExit(main())
