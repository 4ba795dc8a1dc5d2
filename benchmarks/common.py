"""Shared helpers of the benchmarks: timing, median and spread, budgets, machine facts and tables.

Every benchmark script returns a *result*: a plain dict with a ``name``, a ``title``, ``rows`` (one per
measurement: median, spread, runs, optional budget and its status), ``notes``, the load average
before and after, and ``skipped`` (a reason) when it could not run here. ``run_all.py`` gathers the
results into ``results.json``, ``RESULTS.md`` and the README's table; each script also runs alone
and prints its own table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = [
    "BENCH_DIR",
    "PYTHON",
    "ROOT",
    "base_parser",
    "budget_rows",
    "failed_budgets",
    "format_spread",
    "format_value",
    "load_average",
    "machine_info",
    "make_result",
    "markdown_table",
    "offline_env",
    "report",
    "row",
    "summarize",
    "time_calls",
    "utc_now",
]

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
PYTHON = sys.executable

#: Units whose values are better when larger (throughput); every other unit is a time or a ratio.
HIGHER_IS_BETTER = {"req/s", "docs/s", "tok/s"}


def utc_now() -> str:
    """The current time in UTC, ISO 8601 to the second."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages (empty where the OS does not report them)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):  # pragma: no cover - not on Linux/macOS
        return []


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:  # pragma: no cover - not on Linux
        pass
    return platform.processor() or platform.machine() or "unknown"


def _memory_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except (OSError, ValueError):  # pragma: no cover - not on Linux
        pass
    return None


def machine_info() -> dict[str, Any]:
    """Cores, CPU model, memory, OS, Python, date and load average of the machine measured on."""
    return {
        "cores": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gb": _memory_gb(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "date": utc_now(),
        "load_average": load_average(),
    }


def offline_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment with the replay provider forced and model overrides removed."""
    env = dict(os.environ)
    for name in ("COURSE_MODEL", "COURSE_RECORD_TO", "COURSE_RECORD_UPSTREAM"):
        env.pop(name, None)
    env["COURSE_PROVIDER"] = "replay"
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    env.update(extra or {})
    return env


def summarize(values: Sequence[float]) -> dict[str, float | int]:
    """Median, min, max and quartiles (inclusive method) of a non-empty list of measurements."""
    if not values:
        raise ValueError("summarize() needs at least one measurement")
    ordered = sorted(float(v) for v in values)
    if len(ordered) >= 2:
        q1, _, q3 = statistics.quantiles(ordered, n=4, method="inclusive")
    else:
        q1 = q3 = ordered[0]
    return {
        "median": statistics.median(ordered),
        "min": ordered[0],
        "max": ordered[-1],
        "q1": q1,
        "q3": q3,
        "n": len(ordered),
    }


def time_calls(fn: Callable[[], Any], runs: int, *, warmup: int = 0) -> list[float]:
    """Wall seconds of ``runs`` calls of ``fn`` (after ``warmup`` untimed calls)."""
    if runs < 1:
        raise ValueError(f"runs must be at least 1, got {runs}")
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def row(
    label: str,
    values: Sequence[float],
    unit: str,
    *,
    spread: str = "min–max",
    budget: float | None = None,
    detail: str = "",
    error: str | None = None,
    headline: bool = False,
) -> dict[str, Any]:
    """One measurement: the summary of ``values`` in ``unit`` and, with a budget, PASS or FAIL.

    A budget holds when the median is within it: at most ``budget`` for times and ratios, at least
    ``budget`` for throughputs. A row with an ``error`` fails its budget whatever the numbers.
    ``headline`` rows also appear in the README's short table.
    """
    if spread not in ("min–max", "IQR"):
        raise ValueError(f"spread is 'min–max' or 'IQR', not {spread!r}")
    out: dict[str, Any] = {"label": label, "unit": unit, "spread": spread, "detail": detail}
    out.update(summarize(values) if values else {"median": None, "min": None, "max": None, "n": 0})
    out["values"] = [round(float(v), 6) for v in values]
    out["budget"] = budget
    out["status"] = None
    out["headline"] = headline
    if error:
        out["error"] = error
    if budget is not None:
        if error or out["median"] is None:
            out["status"] = "FAIL"
        elif unit in HIGHER_IS_BETTER:
            out["status"] = "PASS" if out["median"] >= budget else "FAIL"
        else:
            out["status"] = "PASS" if out["median"] <= budget else "FAIL"
    return out


def make_result(
    name: str,
    title: str,
    rows: Iterable[dict[str, Any]],
    *,
    notes: Iterable[str] = (),
    params: Mapping[str, Any] | None = None,
    load_before: Sequence[float] | None = None,
    skipped: str | None = None,
) -> dict[str, Any]:
    """A benchmark's result as plain data (see the module docstring)."""
    return {
        "name": name,
        "title": title,
        "date": utc_now(),
        "params": dict(params or {}),
        "rows": list(rows),
        "notes": list(notes),
        "load_before": list(load_before) if load_before is not None else None,
        "load_after": load_average(),
        "skipped": skipped,
    }


def budget_rows(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The rows of a result that carry a budget."""
    return [r for r in result.get("rows", []) if r.get("budget") is not None]


def failed_budgets(results: Iterable[Mapping[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """(benchmark name, row) for every budget that does not hold."""
    return [(res["name"], r) for res in results for r in budget_rows(res) if r["status"] != "PASS"]


def _display_unit(value: float, unit: str) -> tuple[float, str]:
    """Scale seconds below one to ms or µs so small times stay readable."""
    if unit == "s" and value and abs(value) < 1e-3:
        return 1e6, "µs"
    if unit == "s" and value and abs(value) < 1:
        return 1e3, "ms"
    return 1.0, unit


def _number(value: float) -> str:
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def format_value(value: float | None, unit: str) -> str:
    """A number with about three significant figures and its unit (seconds below 1 as ms or µs)."""
    if value is None:
        return "—"
    if unit == "×":
        return f"{value:.2f}×"
    factor, shown = _display_unit(value, unit)
    return f"{_number(value * factor)} {shown}"


def format_spread(r: Mapping[str, Any]) -> str:
    """``lo–hi`` of a row (in the median's unit): min–max, or the interquartile range when it says IQR."""
    if not r.get("n"):
        return "—"
    lo, hi = (r["q1"], r["q3"]) if r["spread"] == "IQR" else (r["min"], r["max"])
    if r["unit"] == "×":
        return f"{lo:.2f}–{hi:.2f}× ({r['spread']})"
    factor, shown = _display_unit(r["median"], r["unit"])
    return f"{_number(lo * factor)}–{_number(hi * factor)} {shown} ({r['spread']})"


def _budget_text(r: Mapping[str, Any]) -> str:
    if r.get("budget") is None:
        return ""
    op = "≥" if r["unit"] in HIGHER_IS_BETTER else "≤"
    return f"{op} {format_value(r['budget'], r['unit'])}"


def markdown_table(rows: Iterable[Mapping[str, Any]], *, detail: bool = True) -> str:
    """A Markdown table of rows: measurement, median, spread, runs, budget, status (and detail)."""
    head = ["Measurement", "Median", "Spread", "Runs", "Budget", "Status"] + (["Detail"] if detail else [])
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(" --- " for _ in head) + "|"]
    for r in rows:
        status = r.get("status") or ""
        cells = [
            r["label"],
            format_value(r.get("median"), r["unit"]),
            format_spread(r),
            str(r.get("n", 0)),
            _budget_text(r),
            f"**{status}**" if status == "FAIL" else status,
        ]
        if detail:
            cells.append(" ".join(filter(None, [r.get("detail", ""), r.get("error", "")])))
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def report(result: Mapping[str, Any], *, json_path: Path | None = None, strict: bool = False) -> int:
    """Print a result's table, budgets and notes; optionally write it as JSON; return an exit code.

    The exit code is 1 only with ``strict`` and a failed budget.
    """
    print(f"## {result['title']}\n")
    if result.get("skipped"):
        print(f"skipped: {result['skipped']}\n")
    else:
        print(markdown_table(result["rows"]) + "\n")
    for note in result.get("notes", []):
        print(f"- {note}")
    for r in budget_rows(result):
        print(f"{r['status']}: {r['label']}: {format_value(r['median'], r['unit'])} ({_budget_text(r)})")
    if json_path is not None:
        json_path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 1 if strict and failed_budgets([result]) else 0


def base_parser(doc: str | None) -> argparse.ArgumentParser:
    """An argument parser with the options every script shares: ``--json FILE`` and ``--strict``."""
    parser = argparse.ArgumentParser(description=(doc or "").strip().splitlines()[0] if doc else None)
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the result as JSON")
    parser.add_argument("--strict", action="store_true", help="exit with 1 when a budget does not hold")
    return parser


def notebooks_main(
    doc: str | None,
    run: Callable[..., dict[str, Any]],
    *,
    default_runs: int,
    what: str,
    argv: list[str] | None = None,
) -> int:
    """``main()`` of a benchmark that times notebooks: ``--runs`` and the notebooks to time."""
    parser = base_parser(doc)
    parser.add_argument(
        "--runs", type=int, default=default_runs, help=f"runs per {what} (default {default_runs})"
    )
    parser.add_argument("paths", nargs="*", type=Path, help=f"{what} notebooks (default: every one)")
    args = parser.parse_args(argv)
    result = run(paths=args.paths or None, runs=args.runs)
    return report(result, json_path=args.json, strict=args.strict)
