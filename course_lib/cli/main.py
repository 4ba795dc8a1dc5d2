"""The ``course`` command: grade, record, serve-local, doctor (lesson 00)."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

__all__ = [
    "SUBCOMMANDS",
    "build_parser",
    "main",
]

#: Subcommand modules; each offers ``register(subparsers)`` and ``run(args) -> int``.
SUBCOMMANDS = {
    "grade": "course_lib.grading.cli",
    "record": "course_lib.cli.record",
    "serve-local": "course_lib.providers.local",
    "doctor": "course_lib.cli.doctor",
}


def _providers_epilog() -> str:
    from course_lib.providers.base import ConfigurationError
    from course_lib.providers.kinds import load_kinds

    try:
        kinds = load_kinds()
    except ConfigurationError as exc:
        return f"provider table: {exc}"
    width = max(len(k) for k in kinds)
    lines = [f"  {k.name:<{width}}  {k.talks_to}" for k in kinds.values()]
    return "COURSE_PROVIDER (default replay) picks who answers:\n" + "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="course",
        description="Prompt Engineering as System Design: grade exercises, record and replay model calls.",
        epilog=_providers_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in SUBCOMMANDS.items():
        module = importlib.import_module(module_name)
        before = set(sub.choices)
        module.register(sub)
        for added in set(sub.choices) - before:
            sub.choices[added].set_defaults(_run=module.run)
        if name not in sub.choices:  # pragma: no cover - a module registered under another name
            raise RuntimeError(f"{module_name}.register did not add the {name!r} subcommand")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``course``; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    try:
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
