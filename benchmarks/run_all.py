"""Run every benchmark, check the performance budgets, and record the results (`make bench`).

Writes ``benchmarks/results.json`` (machine, date, load average, every measurement),
``benchmarks/RESULTS.md`` (the full tables) and the short table in README.md between the lines
``<!-- bench:start -->`` and ``<!-- bench:end -->``. Prints each budget as PASS or FAIL with its
measured value. ``--quick`` skips the test-suite timing (several minutes); benchmarks not run this
time keep their previous results, marked with the date they were measured.
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import bench_embeddings
import bench_fanout
import bench_grading
import bench_import
import bench_lessons
import bench_local
import bench_replay
import bench_test_suite
import common

#: Run order: cheap, in-process measurements first; the test suite, which loads both cores, last.
BENCHMARKS: dict[str, ModuleType] = {
    "import": bench_import,
    "replay": bench_replay,
    "fanout": bench_fanout,
    "embeddings": bench_embeddings,
    "lessons": bench_lessons,
    "grading": bench_grading,
    "local": bench_local,
    "test_suite": bench_test_suite,
}
README_START = "<!-- bench:start -->"
README_END = "<!-- bench:end -->"
BUDGET_NAMES = {
    "import": "import course_lib",
    "lessons": "lesson notebook, kernel time",
    "fanout": "self-consistency, N ≤ 11 in parallel (× one sample)",
    "grading": "grading one exercise",
    "test_suite": "whole test suite",
}


class MarkerError(RuntimeError):
    """README.md lacks the pair of marker comments the results table goes between."""


def replace_between_markers(text: str, block: str, start: str = README_START, end: str = README_END) -> str:
    """``text`` with everything between the ``start`` and ``end`` markers replaced by ``block``."""
    if text.count(start) != 1 or text.count(end) != 1 or text.index(start) > text.index(end):
        found = f"found {text.count(start)} {start!r} and {text.count(end)} {end!r}"
        raise MarkerError(
            f"README.md needs exactly one {start} line followed by one {end} line ({found}); "
            "add them where the performance table belongs, or run with --no-readme"
        )
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{block.strip()}\n{end}{tail}"


def crashed_result(name: str, exc: BaseException) -> dict[str, Any]:
    """The result of a benchmark that raised: no rows, the error as its reason."""
    result = common.make_result(name, name, [], skipped=f"crashed: {type(exc).__name__}: {exc}")
    result["crashed"] = True
    return result


def rerun_loaded_lessons(result: dict[str, Any], cores: int, runs: int) -> dict[str, Any]:
    """Re-run each lesson that failed its budget while the load average was at least the core count.

    The re-run replaces a row only when its median is lower; either way a note says what happened.
    """
    rows = result["rows"]
    by_name = {p.stem: p for p in bench_lessons.lesson_paths()}
    for i, r in enumerate(rows):
        load = r.get("load_after") or [0.0]
        if r.get("status") != "FAIL" or r.get("error") or load[0] < cores or r["label"] not in by_name:
            continue
        again = bench_lessons.run([by_name[r["label"]]], runs=runs)["rows"][0]
        kept = again if again.get("median") is not None and again["median"] < r["median"] else r
        kept = {**kept, "detail": f"{kept['detail']}; re-run (load {load[0]:.1f} on {cores} cores)"}
        rows[i] = kept
        result["notes"].append(
            f"{r['label']} failed at load {load[0]:.1f} and was re-run: "
            f"{common.format_value(r['median'], 's')} then {common.format_value(again.get('median'), 's')}; "
            "the lower is kept."
        )
    return result


def budget_summary(results: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One line per budgeted benchmark: its worst row, how many rows hold, and PASS only if all do."""
    out = []
    for res in results:
        rows = common.budget_rows(res)
        if not rows:
            continue
        measured = [r for r in rows if r.get("median") is not None]
        worst = max(measured, key=lambda r: r["median"]) if measured else rows[0]
        held = sum(r["status"] == "PASS" for r in rows)
        out.append(
            {
                "benchmark": res["name"],
                "budget": BUDGET_NAMES.get(res["name"], res["title"]),
                "limit": worst["budget"],
                "unit": worst["unit"],
                "worst_label": worst["label"],
                "worst": worst.get("median"),
                "held": held,
                "total": len(rows),
                "status": "PASS" if held == len(rows) else "FAIL",
                "date": res.get("date"),
            }
        )
    return out


def _measured_text(line: Mapping[str, Any]) -> str:
    value = common.format_value(line["worst"], line["unit"])
    if line["total"] == 1:
        return value
    return f"worst {value} ({line['worst_label']}); {line['held']}/{line['total']} within"


def _limit_text(line: Mapping[str, Any]) -> str:
    return f"≤ {common.format_value(line['limit'], line['unit'])}"


def _load_range(data: Mapping[str, Any]) -> str:
    """The lowest and highest 1-minute load average recorded around the benchmarks."""
    loads = [
        res[key][0]
        for res in data["benchmarks"].values()
        for key in ("load_before", "load_after")
        if res.get(key)
    ]
    if not loads:
        return ""
    low, high = min(loads), max(loads)
    return f", load average {low:.1f}" if low == high else f", load average {low:.1f}–{high:.1f}"


def _machine_line(data: Mapping[str, Any]) -> str:
    machine = data["machine"]
    memory = f", {machine['memory_gb']} GB RAM" if machine.get("memory_gb") else ""
    dates = sorted({(res.get("date") or "")[:10] for res in data["benchmarks"].values()} - {""})
    when = " to ".join(dict.fromkeys([dates[0], dates[-1]])) if dates else machine["date"][:10]
    return (
        f"{machine['cores']} cores ({machine['cpu_model']}){memory}, Python {machine['python']}, "
        f"{when}{_load_range(data)}"
    )


def readme_block(data: Mapping[str, Any]) -> str:
    """The short README table: every budget, then the headline throughput and latency figures."""
    results = list(data["benchmarks"].values())
    lines = [
        f"Measured on {_machine_line(data)}; medians over several runs. "
        "`make bench` regenerates this table; details in [benchmarks/RESULTS.md](benchmarks/RESULTS.md).",
        "",
        "| Budget | Limit | Measured | Status |",
        "| --- | --- | --- | --- |",
    ]
    for line in data["budgets"]:
        status = line["status"] if line["status"] == "PASS" else f"**{line['status']}**"
        lines.append(f"| {line['budget']} | {_limit_text(line)} | {_measured_text(line)} | {status} |")
    headline = [(res, r) for res in results for r in res.get("rows", []) if r.get("headline")]
    if headline:
        lines += ["", "| Throughput and latency | Median |", "| --- | --- |"]
        for res, r in headline:
            lines.append(f"| {res['title']}: {r['label']} | {common.format_value(r['median'], r['unit'])} |")
    skipped = [res for res in results if res.get("skipped")]
    for res in skipped:
        lines.append(f"\n{res['title']}: not measured ({res['skipped']}).")
    return "\n".join(lines)


def results_markdown(data: Mapping[str, Any]) -> str:
    """RESULTS.md: machine, budgets, then every benchmark's full table and notes."""
    machine = data["machine"]
    out = [
        "# Benchmark results",
        "",
        "Generated by `make bench` (`benchmarks/run_all.py`); do not edit by hand.",
        "",
        f"Machine: {_machine_line(data)}. Platform: {machine['platform']}.",
        "",
        "Each figure is the median over the runs shown; the spread is min–max, or the interquartile "
        "range (IQR) where marked. A budget holds when the median is within it. Ratios (×) divide by a "
        "baseline measured in the same run, so the machine's speed cancels out. Wall times on a "
        "loaded machine run long: the load average is recorded with every benchmark.",
        "",
        "## Budgets",
        "",
        "| Budget | Limit | Measured | Status | Measured on |",
        "| --- | --- | --- | --- | --- |",
    ]
    for line in data["budgets"]:
        out.append(
            f"| {line['budget']} | {_limit_text(line)} | {_measured_text(line)} | {line['status']} | "
            f"{(line.get('date') or '')[:10]} |"
        )
    for res in data["benchmarks"].values():
        out += ["", f"## {res['title']}", ""]
        facts = [f"measured {res.get('date', '')}"]
        if res.get("load_before"):
            facts.append(f"load average {res['load_before'][0]:.1f} before")
        if res.get("load_after"):
            facts.append(f"{res['load_after'][0]:.1f} after")
        if res.get("carried_over"):
            facts.append("not re-run this time: kept from the earlier run")
        out += [f"_{', '.join(facts)}._", ""]
        if res.get("skipped"):
            out.append(f"Not measured: {res['skipped']}.")
        else:
            out.append(common.markdown_table(res["rows"]))
        notes = res.get("notes") or []
        if notes:
            out.append("")
            out += [f"- {n}" for n in notes]
    return "\n".join(out) + "\n"


SAME_MACHINE = ("cores", "cpu_model", "python", "platform")


def _load_previous(path: Path, machine: Mapping[str, Any]) -> dict[str, Any]:
    """Earlier results measured on this same machine and Python (results from elsewhere are not mixed in)."""
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    before = data.get("machine") or {}
    if any(before.get(k) != machine.get(k) for k in SAME_MACHINE):
        print(f"note: {path} was measured on another machine or Python; its results are not kept", flush=True)
        return {}
    return data.get("benchmarks", {})


def write_outputs(data: Mapping[str, Any], out_dir: Path, readme: Path | None) -> None:
    """Write results.json, RESULTS.md and (unless ``readme`` is None) the README table."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(
        json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (out_dir / "RESULTS.md").write_text(results_markdown(data), encoding="utf-8")
    if readme is not None:
        text = readme.read_text(encoding="utf-8")
        readme.write_text(replace_between_markers(text, readme_block(data)), encoding="utf-8")


def run_all(
    names: Sequence[str],
    *,
    out_dir: Path,
    readme: Path | None,
    lesson_runs: int = 3,
    retry_loaded: bool = True,
    runners: Mapping[str, Callable[[], dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    """Run the named benchmarks, merge with earlier results, write every output; return the data."""
    if readme is not None:
        replace_between_markers(readme.read_text(encoding="utf-8"), "")  # fail before measuring
    machine = common.machine_info()
    results_path = out_dir / "results.json"
    previous = _load_previous(results_path, machine)
    fresh: dict[str, dict[str, Any]] = {}
    for name in names:
        print(f"== {name}", flush=True)
        runner = (runners or {}).get(name) or (
            (lambda: bench_lessons.run(runs=lesson_runs)) if name == "lessons" else BENCHMARKS[name].run
        )
        try:
            result = runner()
        except Exception as exc:  # one broken benchmark must not lose the others' results
            traceback.print_exc()
            result = crashed_result(name, exc)
        if name == "lessons" and retry_loaded and not result.get("skipped"):
            result = rerun_loaded_lessons(result, machine["cores"] or 1, lesson_runs)
        common.report(result)
        print(flush=True)
        fresh[name] = result
    ordered: dict[str, dict[str, Any]] = {}
    for name in BENCHMARKS:
        if name in fresh:
            ordered[name] = fresh[name]
        elif name in previous:
            ordered[name] = {**previous[name], "carried_over": True}
    for name in fresh:
        ordered.setdefault(name, fresh[name])
    data = {"machine": machine, "benchmarks": ordered, "budgets": budget_summary(list(ordered.values()))}
    write_outputs(data, out_dir, readme)
    return data


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the options, run the benchmarks, print every budget; exit 1 on a failed budget with --strict."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the test-suite timing (minutes)")
    parser.add_argument("--only", nargs="+", choices=list(BENCHMARKS), metavar="NAME", help="run only these")
    parser.add_argument("--skip", nargs="+", choices=list(BENCHMARKS), default=[], metavar="NAME")
    parser.add_argument("--no-readme", action="store_true", help="do not update README.md's table")
    parser.add_argument("--readme", type=Path, default=common.ROOT / "README.md", help=argparse.SUPPRESS)
    parser.add_argument(
        "--out", type=Path, default=common.BENCH_DIR, help="folder for results.json, RESULTS.md"
    )
    parser.add_argument("--lesson-runs", type=int, default=3, help="runs per lesson notebook (default 3)")
    parser.add_argument(
        "--no-retry", action="store_true", help="do not re-run lessons that failed under load"
    )
    parser.add_argument("--strict", action="store_true", help="exit with 1 when a budget does not hold")
    parser.add_argument(
        "--render",
        action="store_true",
        help="measure nothing: rewrite RESULTS.md and the README from results.json",
    )
    args = parser.parse_args(argv)
    names = list(args.only or BENCHMARKS)
    skip = set(args.skip) | ({"test_suite"} if args.quick else set())
    names = [n for n in names if n not in skip]
    try:
        if args.render:
            path = args.out / "results.json"
            if not path.exists():
                print(f"error: {path} does not exist yet; run the benchmarks first", file=sys.stderr)
                return 2
            data = json.loads(path.read_text(encoding="utf-8"))
            data["budgets"] = budget_summary(list(data["benchmarks"].values()))
            write_outputs(data, args.out, None if args.no_readme else args.readme)
        else:
            data = run_all(
                names,
                out_dir=args.out,
                readme=None if args.no_readme else args.readme,
                lesson_runs=args.lesson_runs,
                retry_loaded=not args.no_retry,
            )
    except MarkerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("Budgets:")
    for line in data["budgets"]:
        print(f"  {line['status']}  {line['budget']}: {_measured_text(line)} ({_limit_text(line)})")
    failed = common.failed_budgets(data["benchmarks"].values())
    for name, r in failed:
        reason = f" [{r['error']}]" if r.get("error") else ""
        print(f"  FAIL  {name}/{r['label']}: {common.format_value(r.get('median'), r['unit'])}{reason}")
    crashed = [res["name"] for res in data["benchmarks"].values() if res.get("crashed")]
    if crashed:
        print(f"Crashed (see the traceback above): {', '.join(crashed)}")
    print(
        f"Wrote {args.out / 'results.json'} and {args.out / 'RESULTS.md'}"
        + ("" if args.no_readme else " and README.md")
    )
    return 1 if args.strict and (failed or crashed) else 0


if __name__ == "__main__":
    raise SystemExit(main())
