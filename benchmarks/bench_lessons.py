"""Kernel time of each lesson notebook on replay (budget: at most 10 s each).

Each run executes ``notebooks/NN_*.ipynb`` top to bottom with nbclient in a fresh kernel started in
the ``notebooks/`` folder with the replay provider forced. The time counted runs from the start of
the first cell to the end of the last one: kernel start-up is reported apart, as it is the same for
every lesson. The notebooks on disk are not modified.
"""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import common

LESSON_BUDGET_S = 10.0
CELL_TIMEOUT_S = 120


def lesson_paths(folder: Path | None = None) -> list[Path]:
    """Every numbered lesson notebook (``NN_slug.ipynb``) in ``folder``, sorted."""
    return sorted((folder or common.ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _cpu_seconds(client: Any) -> float | None:
    """User + system CPU seconds the kernel process has used so far (None where it cannot be read)."""
    try:
        import psutil

        times = psutil.Process(client.km.provisioner.pid).cpu_times()
        return float(times.user + times.system)
    except Exception:  # psutil missing, another provisioner, or the process is gone
        return None


def execute(path: Path, *, timeout: int = CELL_TIMEOUT_S) -> dict[str, Any]:
    """Run one notebook in a fresh kernel and time it.

    Returns ``startup`` (kernel start-up s), ``elapsed`` (first cell start to last cell end s),
    ``cpu`` (kernel CPU s over the cells, or None) and ``cells`` (seconds per cell index).
    """
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    cells: dict[int, float] = {}
    started = time.perf_counter()
    # The kernel's own console chatter (e.g. its TCP warning) is not the lesson's output: discard it.
    with client.setup_kernel(env=common.offline_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL):
        ready = time.perf_counter()
        cpu_before = _cpu_seconds(client)
        for index, cell in enumerate(nb.cells):
            begin = time.perf_counter()
            client.execute_cell(cell, index)
            if cell.cell_type == "code":
                cells[index] = time.perf_counter() - begin
        done = time.perf_counter()
        cpu_after = _cpu_seconds(client)
    cpu = cpu_after - cpu_before if cpu_before is not None and cpu_after is not None else None
    return {"startup": ready - started, "elapsed": done - ready, "cpu": cpu, "cells": cells}


def _detail(cpu: list[float], cells: list[dict[int, float]], load: list[float]) -> str:
    parts = []
    if cpu:
        parts.append(f"kernel CPU {common.format_value(statistics.median(cpu), 's')}")
    if cells:
        slowest = sorted(cells[-1].items(), key=lambda kv: -kv[1])[:3]
        parts.append("slowest cells " + ", ".join(f"#{i} {t:.1f} s" for i, t in slowest))
    if load:
        parts.append(f"load {load[0]:.1f}")
    return "; ".join(parts)


def run(paths: Sequence[Path] | None = None, runs: int = 3) -> dict[str, Any]:
    """Time every lesson ``runs`` times, each in a fresh kernel."""
    load = common.load_average()
    paths = list(paths) if paths is not None else lesson_paths()
    rows, startups, notes = [], [], []
    for path in paths:
        times: list[float] = []
        cpu: list[float] = []
        cells: list[dict[int, float]] = []
        error = None
        for _ in range(runs):
            try:
                timing = execute(path)
            except Exception as exc:  # a broken lesson is a result, not a crash of the benchmark
                lines = str(exc).strip().splitlines()
                error = f"{type(exc).__name__}: {lines[-1] if lines else ''}"
                break
            startups.append(timing["startup"])
            times.append(timing["elapsed"])
            cells.append(timing["cells"])
            if timing["cpu"] is not None:
                cpu.append(timing["cpu"])
        load_now = common.load_average()
        rows.append(
            common.row(
                path.stem,
                times,
                "s",
                budget=LESSON_BUDGET_S,
                detail=_detail(cpu, cells, load_now),
                error=error,
            )
        )
        rows[-1]["kernel_cpu_s"] = [round(c, 3) for c in cpu]
        rows[-1]["load_after"] = load_now
    if startups:
        rows.append(common.row("kernel start-up (not counted above)", startups, "s", spread="IQR"))
    if not paths:
        notes.append("no lesson notebooks found (notebooks/NN_*.ipynb)")
    notes.append(
        "Detail: the kernel's CPU time over the cells (median; close to the wall time when the lesson "
        "is CPU-bound, lower when it waits on the machine's load), the slowest code cells of the last "
        "run (cell index, seconds) and the 1-minute load average when the lesson's runs ended."
    )
    return common.make_result(
        "lessons",
        "Lesson notebooks (kernel time on replay)",
        rows,
        notes=notes,
        params={"runs": runs, "lessons": [p.name for p in paths]},
        load_before=load,
    )


def main(argv: list[str] | None = None) -> int:
    """Run this benchmark alone and print its table."""
    return common.notebooks_main(__doc__, run, default_runs=3, what="lesson", argv=argv)


if __name__ == "__main__":
    raise SystemExit(main())
