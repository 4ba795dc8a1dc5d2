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
        "--learner-python",
        metavar="PYTHON",
        help="the Python that runs the notebooks (default: this one); CI points it at the student's environment",
    )
    parser.add_argument(
        "--learner-path",
        metavar="FOLDER",
        help="where the notebooks import course_lib from (default: the grader's own); CI gives the student's copy",
    )
    parser.add_argument(
        "--hide",
        metavar="FOLDER",
        action="append",
        default=[],
        help="a folder the notebooks must not read (say, the checks in the student's copy); repeatable",
    )
    parser.add_argument(
        "--same-user",
        action="store_true",
        help="run notebooks as this user even where a separate one is possible (partial isolation)",
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


def _check_destination(option: str, path: Path) -> str | None:
    """Why ``path`` cannot receive a report, checked before any grading; None when it can."""
    import stat
    import tempfile

    try:
        if path.exists() or path.is_symlink():
            mode = path.stat().st_mode
            if stat.S_ISDIR(mode):
                return f"{option} {path}: is a folder; give a file name"
            if not stat.S_ISREG(mode):
                return f"{option} {path}: is not a regular file (a pipe or a device?); give a file name"
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".course-grade-", delete=True):
            pass
    except OSError as exc:
        return f"{option} {path}: cannot write there ({exc.strerror or exc}); choose another path"
    return None


def _write(path: Path, text: str) -> str | None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.partial")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        return f"could not write {path}: {exc.strerror or exc}"
    return None


def run(args: argparse.Namespace) -> int:
    """Grade the notebooks named in ``args``; return the exit code (exercises)."""
    from rich.console import Console

    from . import report as rep
    from .runner import grade_notebook

    jobs, errors = _collect(args.paths, getattr(args, "exercise", None))
    for option in ("json", "junit", "classroom"):
        destination = getattr(args, option, None)
        if destination is not None:
            problem = _check_destination(f"--{option}", Path(destination))
            if problem:
                errors.append(problem)
    if errors:
        for error in errors:
            print(f"course grade: {error}", file=sys.stderr)
        return EXIT_USAGE
    console = Console(highlight=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = 120  # CI logs: wide enough that hints do not wrap into slivers
    from .isolation import plan_isolation

    python = getattr(args, "learner_python", None) or sys.executable
    plan = plan_isolation(python, allow=not getattr(args, "same_user", False))
    plan.hide = [str(Path(h).resolve()) for h in getattr(args, "hide", []) or []]
    console.print(f"isolation: {plan.reason}", markup=False, highlight=False)
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
            plan.uid = plan.gid = None if plan.mode != "separate-user" else _fresh_uid()
            graded = grade_notebook(
                path,
                exercise=number,
                cell_timeout=args.timeout,
                check_timeout=args.check_timeout,
                isolation=plan,
                python=python,
                learner_path=str(Path(args.learner_path).resolve())
                if getattr(args, "learner_path", None)
                else None,
            )
            result.notebooks.append(graded)
            rep.print_notebook(console, graded)
            if progress is not None:
                progress.advance(task)
    finally:
        if progress is not None:
            progress.stop()
    rep.print_summary(console, result)
    failures = []
    if args.json:
        failures.append(_write(args.json, rep.to_json(result)))
    if args.junit:
        failures.append(_write(args.junit, rep.junit_xml(result)))
    if getattr(args, "classroom", None):
        failures.append(_write(args.classroom, json.dumps(rep.classroom_payload(result), indent=2) + "\n"))
    for failure in filter(None, failures):
        print(f"course grade: {failure}", file=sys.stderr)
    if any(failures):
        return EXIT_USAGE
    return EXIT_OK if result.full_marks else EXIT_BELOW_FULL


def _fresh_uid() -> int:
    """A new unprivileged user id for the next notebook, so no two notebooks share processes or files."""
    import secrets

    from .isolation import _UID_BASE

    return _UID_BASE + secrets.randbelow(90_000_000)


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
