"""``course grade PATH…``: grade exercise notebooks from a shell or CI (exercises).

Prints a table per notebook and a total; ``--json``, ``--junit`` and ``--classroom`` write files for
CI. Exit code 0 only when every notebook earned full marks, 1 otherwise, 2 for usage errors (no such
file, no checks for that exercise, bad options). Wire it into the ``course`` command with
``register(subparsers)``; ``main(argv)`` runs it alone.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from .registry import UnknownExerciseError, exercise_number, load_exercise
from .results import GradeReport

__all__ = ["main", "register", "run"]

EXIT_OK, EXIT_BELOW_FULL, EXIT_USAGE = 0, 1, 2


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be more than 0 seconds")
    return value


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    from .runner import DEFAULT_CELL_TIMEOUT
    from .sandbox import DEFAULT_CHECK_TIMEOUT

    parser.add_argument("paths", nargs="+", metavar="PATH", help="exercise notebooks, or folders of them")
    parser.add_argument("--json", metavar="FILE", type=Path, help="write the grades as JSON")
    parser.add_argument("--junit", metavar="FILE", type=Path, help="write the grades as JUnit XML")
    parser.add_argument(
        "--classroom", metavar="FILE", type=Path, help="write GitHub Classroom's autograding results JSON"
    )
    parser.add_argument(
        "--timeout",
        metavar="S",
        type=_positive,
        default=DEFAULT_CELL_TIMEOUT,
        help=f"time limit per notebook cell (default {DEFAULT_CELL_TIMEOUT:g})",
    )
    parser.add_argument(
        "--check-timeout",
        metavar="S",
        type=_positive,
        default=DEFAULT_CHECK_TIMEOUT,
        help=f"time limit per check (default {DEFAULT_CHECK_TIMEOUT:g})",
    )
    parser.add_argument(
        "--exercise",
        metavar="N",
        type=int,
        help="grade as exercise N instead of reading N from the file name",
    )


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``grade`` subcommand to the ``course`` command's subparsers (exercises)."""
    parser = subparsers.add_parser(
        "grade",
        help="grade exercise notebooks",
        description="Execute exercise notebooks and run every check of their exercise.",
    )
    _add_arguments(parser)
    parser.set_defaults(func=run, handler=run)
    return parser


def _collect(paths: Sequence[str], exercise: int | None) -> tuple[list[tuple[Path, int]], list[str]]:
    """Expand folders, and check that each notebook exists and has checks; return (jobs, usage errors)."""
    jobs: list[tuple[Path, int]] = []
    errors: list[str] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(path.glob("[0-9]*.ipynb"))
            if not found:
                errors.append(f"{path}: no numbered notebooks (NN_name.ipynb) in this folder")
            candidates = found
        elif path.exists():
            candidates = [path]
        else:
            errors.append(f"{path}: no such file")
            continue
        for nb in candidates:
            try:
                number = exercise if exercise is not None else exercise_number(nb)
                load_exercise(number)
            except UnknownExerciseError as exc:
                errors.append(f"{nb}: {exc}")
                continue
            jobs.append((nb, number))
    return jobs, errors


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def run(args: argparse.Namespace) -> int:
    """Grade the notebooks named in ``args``; return the exit code (exercises)."""
    from rich.console import Console

    from . import report as rep
    from .runner import grade_notebook

    jobs, errors = _collect(args.paths, getattr(args, "exercise", None))
    if errors:
        for error in errors:
            print(f"course grade: {error}", file=sys.stderr)
        return EXIT_USAGE
    console = Console(highlight=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = 120  # CI logs: wide enough that hints do not wrap into slivers
    result = GradeReport()
    progress = None
    if len(jobs) > 1 and console.is_terminal:
        from rich.progress import Progress

        progress = Progress(console=console, transient=True)
        progress.start()
    task = progress.add_task("grading", total=len(jobs)) if progress else None
    try:
        for i, (path, number) in enumerate(jobs, start=1):
            if progress is not None:
                progress.update(task, description=f"grading {path.name}")
            elif len(jobs) > 1:
                console.print(f"[{i}/{len(jobs)}] grading {path}", markup=False)
            graded = grade_notebook(
                path, exercise=number, cell_timeout=args.timeout, check_timeout=args.check_timeout
            )
            result.notebooks.append(graded)
            rep.print_notebook(console, graded)
            if progress is not None:
                progress.advance(task)
    finally:
        if progress is not None:
            progress.stop()
    rep.print_summary(console, result)
    if args.json:
        _write(args.json, rep.to_json(result))
    if args.junit:
        _write(args.junit, rep.junit_xml(result))
    if getattr(args, "classroom", None):
        _write(args.classroom, json.dumps(rep.classroom_payload(result), indent=2) + "\n")
    return EXIT_OK if result.full_marks else EXIT_BELOW_FULL


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``course grade`` on its own: parse ``argv`` and return the exit code (exercises)."""
    parser = argparse.ArgumentParser(
        prog="course grade", description="Execute exercise notebooks and run every check of their exercise."
    )
    _add_arguments(parser)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    return run(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
