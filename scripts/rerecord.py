"""Re-record every local-model measurement the lessons use, resumably (``make rerecord``).

    python scripts/rerecord.py            # start (or resume) the run; about an hour on two cores
    python scripts/rerecord.py --list     # what it would run, and what this run has done already
    python scripts/rerecord.py --fresh    # forget the previous run's progress and start over

Runs each ``scripts/recordings/*_local.py`` and ``scripts/experiments/*.py`` against the local model
(SmolLM2-135M-Instruct under llama-cpp-python, started once for the whole run) through ``course record``
(``COURSE_PROVIDER=record``), into the recordings of the lesson with the same number. Experiments that
take ``--write`` also rewrite their ``*.result.json``. Every entry recorded gets the llama-cpp-python
version and the model file's sha256 in its provenance.

Progress goes to the terminal and to a state file (default ``build/rerecord-state.json``), written after
each script: interrupt the run at any point (Ctrl+C) and the next start skips what is already done and
carries on. A script that fails is reported and retried on the next start; the others still run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from course_lib.providers.local import engine_provenance, file_sha256

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_STATE = ROOT / "build" / "rerecord-state.json"
PATTERNS = ("scripts/recordings/*_local.py", "scripts/experiments/*.py")

__all__ = [
    "DEFAULT_STATE",
    "PATTERNS",
    "Target",
    "discover",
    "engine_provenance",
    "file_sha256",
    "main",
    "run_all",
]


@dataclass(frozen=True)
class Target:
    """One script to re-record: its path, the recordings it writes into, and its arguments."""

    script: Path
    into: str
    args: tuple[str, ...] = ()
    root: Path = ROOT

    @property
    def name(self) -> str:
        """The script's path relative to the project root (the key in the state file)."""
        try:
            return self.script.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return self.script.as_posix()


def _lessons(root: Path) -> dict[str, str]:
    """Lesson number → slug, from the notebook sources (``05`` → ``05_self_consistency``)."""
    return {p.stem[:2]: p.stem for p in sorted((root / "notebooks" / "src").glob("[0-9][0-9]_*.py"))}


def discover(root: Path = ROOT, patterns: Sequence[str] = PATTERNS) -> list[Target]:
    """Every script the run re-records, in order, each with the lesson recordings it writes into."""
    lessons = _lessons(root)
    targets = []
    for pattern in patterns:
        for script in sorted(root.glob(pattern)):
            lesson = lessons.get(script.name[:2])
            if lesson is None:
                raise ValueError(
                    f"{script}: its name must start with a lesson number (one of {sorted(lessons)})"
                )
            takes_write = '"--write"' in script.read_text(encoding="utf-8")
            targets.append(Target(script, lesson, ("--write",) if takes_write else (), root))
    return targets


# --------------------------------------------------------------------------- the state of a run


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def load_state(path: Path, provenance: Mapping[str, str]) -> dict[str, Any]:
    """This run's state, or a new one; a run on another engine or model file starts over."""
    if path.exists():
        state = json.loads(path.read_text(encoding="utf-8"))
        if state.get("provenance") == dict(provenance):
            return state
        print(f"{path}: recorded with another engine or model file; starting a new run", flush=True)
    return {"started": _now(), "provenance": dict(provenance), "done": {}, "failed": {}}


def save_state(path: Path, state: Mapping[str, Any]) -> None:
    """Write the state atomically (a crash mid-write leaves the previous state)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)


# --------------------------------------------------------------------------- running


Runner = Callable[[Target, Mapping[str, str]], tuple[int, dict[str, Any]]]


def record_runner(upstream: str, recordings_dir: Path | None = None, timeout: float = 3600) -> Runner:
    """Run a target through ``course record``'s machinery: (exit code, what it recorded)."""
    from course_lib.cli.record import record_target

    def run(target: Target, env: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        into: str | Path = target.into if recordings_dir is None else recordings_dir / f"{target.into}.jsonl"
        code, summary = record_target(
            target.script, upstream=upstream, into=into, args=target.args, env=env, timeout=timeout
        )
        return code, {"entries": summary.entries, "samples": summary.samples, "into": str(summary.path)}

    return run


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def run_all(
    targets: Sequence[Target],
    runner: Runner,
    state_path: Path,
    provenance: Mapping[str, str],
    *,
    env: Mapping[str, str] | None = None,
    out: Callable[[str], None] = lambda line: print(line, flush=True),
    clock: Callable[[], float] = time.monotonic,
) -> int:
    """Run every target not yet done in this run's state; 0 when all are done, 1 if any failed."""
    state = load_state(state_path, provenance)
    save_state(state_path, state)
    todo = [t for t in targets if t.name not in state["done"]]
    out(f"{len(targets) - len(todo)} of {len(targets)} scripts already done in this run ({state_path}); "
        f"{len(todo)} to go")  # fmt: skip
    spent: list[float] = []
    for i, target in enumerate(todo, 1):
        position = len(targets) - len(todo) + i
        eta = f"; about {_duration(sum(spent) / len(spent) * (len(todo) - i + 1))} left" if spent else ""
        out(f"[{position}/{len(targets)}] {target.name} → {target.into}{eta}")
        start = clock()
        code, recorded = runner(target, {**(env or {}), **provenance})
        seconds = clock() - start
        spent.append(seconds)
        row = {"code": code, "seconds": round(seconds, 1), "finished": _now(), **recorded}
        if code == 0:
            state["done"][target.name] = row
            state["failed"].pop(target.name, None)
            out(f"      done in {_duration(seconds)}: {recorded.get('entries', 0)} entries, "
                f"{recorded.get('samples', 0)} samples")  # fmt: skip
        else:
            state["failed"][target.name] = row
            out(f"      FAILED with exit code {code} after {_duration(seconds)}; kept what it recorded, "
                "will retry on the next start")  # fmt: skip
        save_state(state_path, state)
    failed = [name for name in state["failed"] if name not in state["done"]]
    if failed:
        out(f"{len(failed)} script(s) failed: {', '.join(failed)}; run again to retry them")
        return 1
    out(f"all {len(targets)} scripts re-recorded ({state_path})")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state", type=Path, default=DEFAULT_STATE, help="this run's state file")
    parser.add_argument("--fresh", action="store_true", help="forget the state file's progress first")
    parser.add_argument("--list", action="store_true", help="show the scripts and their state, run nothing")
    parser.add_argument("--only", default="", help="run only scripts whose path contains this text")
    parser.add_argument("--upstream", default="local", help="the recordable provider to ask (default local)")
    parser.add_argument("--no-start-local", action="store_true", help="use a local server already running")
    parser.add_argument(
        "--recordings-dir", type=Path, help="write DIR/<lesson>.jsonl instead of the course's"
    )
    parser.add_argument("--timeout", type=float, default=3600, help="seconds allowed per notebook cell")
    parser.add_argument("--patterns", nargs="+", default=list(PATTERNS), help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    targets = [t for t in discover(args.root, args.patterns) if args.only in t.name]
    if not targets:
        print(f"error: no script matches {args.only!r}", file=sys.stderr)
        return 2
    if args.fresh and args.state.exists():
        args.state.unlink()
    if args.list:
        done = json.loads(args.state.read_text())["done"] if args.state.exists() else {}
        for t in targets:
            print(
                f"{'done' if t.name in done else 'todo':4}  {t.name} → {t.into} {' '.join(t.args)}".rstrip()
            )
        return 0

    provenance = engine_provenance() if args.upstream == "local" else {}
    server = None
    env: dict[str, str] = {}
    if args.upstream == "local" and not args.no_start_local:
        from course_lib.providers.local import LocalServer

        server = LocalServer().start()
        env["COURSE_LOCAL_URL"] = server.url
        print(f"started the local model at {server.url} ({server.startup_s:.1f} s)", flush=True)
    try:
        return run_all(targets, record_runner(args.upstream, args.recordings_dir, args.timeout),
                       args.state, provenance, env=env)  # fmt: skip
    except KeyboardInterrupt:
        print(
            f"\ninterrupted: progress is saved in {args.state}; run the same command to continue", flush=True
        )
        return 130
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    sys.exit(main())
