"""Wall time of the whole test suite, as `make test` runs it, without the first install (budget: ≤ 10 min).

Runs ``python -m pytest -n 2 --dist loadfile -q --durations=10`` once in the repository: the
``make test`` command minus the install and browser steps, which are one-off, plus a report of the
ten slowest tests. Takes several minutes, so ``run_all.py --quick`` skips it. Failing tests are
listed in the notes: the time is still measured.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import common

SUITE_BUDGET_S = 600.0
PYTEST_ARGS = ("-n", "2", "--dist", "loadfile", "-q", "--durations=10")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)s (call|setup|teardown)\s+(\S+)")
_COUNTS = re.compile(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed|deselected|warnings?)")


def summary_line(output: str) -> str:
    """pytest's final summary line (``812 passed, 3 skipped in 250.1s``), or '' when there is none."""
    for line in reversed(output.strip().splitlines()):
        if _COUNTS.search(line) and " in " in line:
            return line.strip("= ").strip()
    return ""


def failures(output: str) -> list[str]:
    """pytest's ``FAILED …`` and ``ERROR …`` lines from the short test summary."""
    return [line.strip() for line in output.splitlines() if line.startswith(("FAILED ", "ERROR "))]


def slowest(output: str) -> list[tuple[float, str, str]]:
    """(seconds, phase, test id) from pytest's ``--durations`` report, slowest first."""
    found = [(float(m[1]), m[2], m[3]) for m in map(_DURATION.match, output.splitlines()) if m]
    return sorted(found, key=lambda item: -item[0])


def counts(summary: str) -> dict[str, int]:
    """Outcome counts of a summary line, keyed by pytest's words (``error`` and ``warning`` singular)."""
    out: dict[str, int] = {}
    for number, word in _COUNTS.findall(summary):
        out[word.rstrip("s") if word in ("errors", "warnings") else word] = int(number)
    return out


def run(
    pytest_args: Sequence[str] = PYTEST_ARGS, cwd: Path | None = None, timeout: float = 1800
) -> dict[str, Any]:
    """Run the test suite once and time it."""
    load = common.load_average()
    command = [common.PYTHON, "-m", "pytest", *pytest_args]
    start = time.perf_counter()
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        cwd=cwd or common.ROOT,
        env=common.offline_env(),
        timeout=timeout,
    )
    elapsed = time.perf_counter() - start
    summary = summary_line(done.stdout + done.stderr)
    found = counts(summary)
    error = None
    if done.returncode not in (0, 1) or not summary:
        error = f"pytest exited {done.returncode} without a result summary"
    row = common.row(
        "pytest -n 2 --dist loadfile (the make test run, installed)",
        [elapsed],
        "s",
        budget=SUITE_BUDGET_S,
        detail=summary,
        error=error,
    )
    row["counts"] = found
    notes = [f"command: {' '.join(['python', '-m', 'pytest', *pytest_args])}"]
    if found.get("failed") or found.get("error"):
        notes.append(
            "Some tests failed in this run; the wall time is reported all the same "
            "(other work may have been in progress)."
        )
        notes += [f"`{line}`" for line in failures(done.stdout + done.stderr)[:10]]
    longest = slowest(done.stdout)
    if longest:
        row["slowest"] = [{"seconds": s, "phase": phase, "test": test} for s, phase, test in longest]
        notes.append(
            "Slowest tests: " + "; ".join(f"`{test}` {s:.1f} s ({phase})" for s, phase, test in longest[:10])
        )
    return common.make_result(
        "test_suite",
        "Test suite",
        [row],
        notes=notes,
        params={"pytest_args": list(pytest_args)},
        load_before=load,
    )


def main(argv: list[str] | None = None) -> int:
    """Run this benchmark alone and print its table."""
    args = common.base_parser(__doc__).parse_args(argv)
    return common.report(run(), json_path=args.json, strict=args.strict)


if __name__ == "__main__":
    raise SystemExit(main())
