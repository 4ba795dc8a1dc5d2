#!/usr/bin/env python
"""Generate exercises/NN_slug.ipynb from solutions/NN_slug.ipynb (solution regions become stubs).

    python scripts/build_exercises.py           # write the exercise notebooks
    python scripts/build_exercises.py --check   # exit 1 if any exercise is missing or out of date

Exit codes: 0 in sync (or written), 1 out of sync or a solution problem, 2 usage error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from course_lib.grading.sync import build_exercises  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Build (or check) the exercise notebooks; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="only compare; exit 1 if anything is out of sync"
    )
    parser.add_argument(
        "--solutions", type=Path, default=ROOT / "solutions", help="solution notebooks folder"
    )
    parser.add_argument(
        "--exercises", type=Path, default=ROOT / "exercises", help="exercise notebooks folder"
    )
    args = parser.parse_args(argv)
    if not args.solutions.is_dir():
        print(f"no solutions folder at {args.solutions}", file=sys.stderr)
        return 2
    issues = build_exercises(args.solutions, args.exercises, check=args.check)
    for issue in issues:
        print(f"✘ {issue}")
    count = len(list(args.solutions.glob("[0-9]*.ipynb")))
    if issues:
        print(f"{len(issues)} problem(s) in {count} solution notebook(s)")
        return 1
    print(f"✔ {count} exercise notebook(s) {'in sync' if args.check else 'written'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
