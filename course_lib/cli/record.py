"""``course record``: run a lesson against a real model and store its answers for replay (lesson 00).

``course record --into 05_self_consistency --upstream local --start-local -- notebooks/05_self_consistency.ipynb``
runs the notebook (or a Python script) with ``COURSE_PROVIDER=record``, so every model call goes to
the upstream and is written as a ``recorded`` sample. ``--samples K`` runs the target K times and
appends, so each request ends up with K samples. Each run records into a scratch file seeded with
the target's ``scripted`` entries (replayed, never overwritten); after each run the fresh entries are
merged into the target file, which is saved atomically. Entries the run did not touch stay as they were.

The destination is checked before anything runs (a directory, a parent that is a file, a folder that
cannot be written or a corrupt recordings file stop the command at once), and if saving still fails
after a run, that run's answers are kept in a file whose path the error names: nothing recorded is lost.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from course_lib.providers.replay.recordings import RecordingStore, resolve_recordings

__all__ = [
    "RecordSummary",
    "check_destination",
    "merge_run",
    "prefill_scratch",
    "record_target",
    "record_with",
    "register",
    "run",
    "run_notebook",
    "run_target",
]


@dataclass
class RecordSummary:
    """What a recording session wrote: file, entries (re)recorded, samples, runs (lesson 00)."""

    path: Path
    keys: set[str] = field(default_factory=set)
    samples: int = 0
    runs: int = 0
    scripted_kept: int = 0

    @property
    def entries(self) -> int:
        """Number of distinct requests recorded."""
        return len(self.keys)

    def describe(self) -> str:
        """One line for the terminal (lesson 00)."""
        kept = f"; {self.scripted_kept} scripted entries kept as they were" if self.scripted_kept else ""
        runs = "run" if self.runs == 1 else "runs"
        return (
            f"recorded {self.entries} entries ({self.samples} samples) into {self.path} "
            f"in {self.runs} {runs}{kept}"
        )


def prefill_scratch(target: RecordingStore, scratch: Path) -> None:
    """Copy the target's scripted entries into a scratch file, where the recorder replays them (lesson 00)."""
    store = RecordingStore(scratch)
    for entry in target.entries.values():
        if entry.provenance.source == "scripted":
            store.put(entry)
    store.save()


def merge_run(target: RecordingStore, scratch: Path, summary: RecordSummary) -> None:
    """Merge one run's fresh recorded entries into ``target`` and save it atomically (lesson 00).

    The first run that records a request replaces its old entry; later runs append their samples.
    Scripted entries in the target are never replaced.
    """
    if not scratch.exists():
        return
    run_store = RecordingStore(scratch)
    for key, entry in sorted(run_store.entries.items()):
        if entry.provenance.source != "recorded" or not entry.samples:
            continue
        existing = target.get(key)
        if existing is not None and existing.provenance.source == "scripted":
            continue
        if key in summary.keys and existing is not None:
            merged = existing.model_copy(deep=True)
            merged.samples.extend(entry.samples)
            target.put(merged)
        else:
            target.put(entry)
            summary.keys.add(key)
        summary.samples += len(entry.samples)
    target.save()


def check_destination(into: str | os.PathLike[str]) -> Path:
    """The recordings file ``into`` names, once it is known to be writable; ``ValueError`` saying why not (lesson 00)."""
    path = resolve_recordings(into)
    if path.is_dir():
        raise ValueError(
            f"--into {into}: {path} is a directory; name a .jsonl file (or a lesson name) instead"
        )
    parent = path.parent
    for folder in (parent, *parent.parents):
        if folder.exists():
            if not folder.is_dir():
                raise ValueError(f"--into {into}: {folder} is a file, so {path} cannot be created in it")
            break
    try:
        parent.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=parent, prefix=f".{path.name}.", suffix=".probe")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ValueError(
            f"--into {into}: cannot write to {parent} ({exc.strerror or exc}); choose a writable place"
        ) from exc
    if path.exists() and not os.access(path, os.W_OK):
        raise ValueError(f"--into {into}: {path} is read-only; make it writable or choose another file")
    return path


def _keep_scratch(scratch: Path) -> Path:
    """Copy a run's scratch recordings somewhere that outlives the command; return the copy's path."""
    import shutil

    keep_dir = Path(tempfile.mkdtemp(prefix="course-record-kept-"))
    return Path(shutil.copy2(scratch, keep_dir / scratch.name))


def _session(into: str | os.PathLike[str]) -> tuple[RecordingStore, RecordSummary]:
    target = RecordingStore(resolve_recordings(into))
    scripted = sum(1 for e in target.entries.values() if e.provenance.source == "scripted")
    return target, RecordSummary(path=target.path, scripted_kept=scripted)


def _record_runs(
    upstream: str,
    into: str | os.PathLike[str],
    samples: int,
    env: Mapping[str, str] | None,
    step: Callable[[dict[str, str]], int],
) -> tuple[int, RecordSummary]:
    """Run ``step(env)`` up to ``samples`` times, each into a fresh scratch file merged afterwards."""
    _check_upstream(upstream, samples)
    check_destination(into)
    try:
        target, summary = _session(into)
    except ValueError as exc:  # a corrupt recordings file: stop before recording anything
        raise ValueError(f"--into {into}: {exc}") from exc
    code = 0
    with tempfile.TemporaryDirectory(prefix="course-record-") as tmp:
        for i in range(samples):
            scratch = Path(tmp) / f"run{i}.jsonl"
            prefill_scratch(target, scratch)
            run_env = {
                **os.environ,
                **(env or {}),
                "COURSE_PROVIDER": "record",
                "COURSE_RECORD_UPSTREAM": upstream,
                "COURSE_RECORD_TO": str(scratch),
            }
            try:
                code = step(run_env)
            finally:
                try:
                    merge_run(target, scratch, summary)
                except OSError as exc:
                    kept = _keep_scratch(scratch) if scratch.exists() else None
                    where = f"; this run's answers are kept in {kept}" if kept else ""
                    raise ValueError(
                        f"could not save the recordings to {target.path} ({exc}){where}"
                    ) from exc
                summary.runs += 1
            if code != 0:
                break
    return code, summary


def record_with(
    upstream: str,
    into: str | os.PathLike[str],
    fn: Callable[[Any], object],
    *,
    samples: int = 1,
    model: str | None = None,
    env: Mapping[str, str] | None = None,
) -> RecordSummary:
    """Call ``fn(provider)`` ``samples`` times with a recording provider; store the answers (lesson 00).

    ``env`` adds to ``os.environ`` (e.g. ``{"COURSE_LOCAL_URL": server.url}``).
    """
    from course_lib.providers.registry import get_provider

    def step(run_env: dict[str, str]) -> int:
        fn(get_provider("record", model=model, env=run_env))
        return 0

    return _record_runs(upstream, into, samples, env, step)[1]


def _check_upstream(upstream: str, samples: int) -> None:
    from course_lib.providers.kinds import recordable_kinds

    allowed = recordable_kinds()
    if upstream not in allowed:
        raise ValueError(f"cannot record from {upstream!r}; choose one of: {', '.join(allowed)}")
    if samples < 1:
        raise ValueError(f"samples must be at least 1, got {samples}")


# --------------------------------------------------------------------------- running a target


def run_notebook(path: Path, env: Mapping[str, str], *, timeout: float | None = 600) -> int:
    """Execute a notebook in a kernel on this interpreter (``sys.executable``); 0 or 1 (lesson 00)."""
    import nbformat
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    class _ThisPython(KernelSpecManager):
        def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
            argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
            return KernelSpec(argv=argv, display_name="Python (course)", language="python")

    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:
        print(f"error: cannot read notebook {path}: {exc}", file=sys.stderr)
        return 1
    km = AsyncKernelManager(kernel_name="python3", kernel_spec_manager=_ThisPython())
    client = NotebookClient(
        nb, km=km, timeout=timeout, resources={"metadata": {"path": str(path.parent.resolve())}}
    )
    try:
        # The kernel's own log lines (not cell output, which arrives over ZeroMQ) stay off the console.
        client.execute(env=dict(env), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
        print(f"error: {path} failed while recording:\n{exc}", file=sys.stderr)
        return 1
    return 0


def run_target(
    target: Path, env: Mapping[str, str], *, args: Sequence[str] = (), timeout: float | None = 600
) -> int:
    """Run a ``.py`` script (``sys.executable``) or ``.ipynb`` notebook with ``env``; its exit code (lesson 00)."""
    if not target.exists():
        raise FileNotFoundError(f"{target} does not exist; pass a .py script or an .ipynb notebook")
    if target.suffix == ".ipynb":
        if args:
            raise ValueError("arguments after a notebook are not supported; pass only the notebook")
        return run_notebook(target, env, timeout=timeout)
    if target.suffix == ".py":
        return subprocess.run([sys.executable, str(target), *args], env=dict(env), check=False).returncode
    raise ValueError(f"{target} is neither a .py script nor an .ipynb notebook")


def record_target(
    target: Path,
    *,
    upstream: str,
    into: str | os.PathLike[str],
    samples: int = 1,
    args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    timeout: float | None = 600,
) -> tuple[int, RecordSummary]:
    """Run a script or notebook ``samples`` times with ``COURSE_PROVIDER=record``: exit code, summary (lesson 00).

    Stops after the first run that fails; what it recorded until then is kept.
    """
    return _record_runs(
        upstream, into, samples, env, lambda run_env: run_target(target, run_env, args=args, timeout=timeout)
    )


# --------------------------------------------------------------------------- CLI


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    """Add the ``record`` subcommand to the ``course`` CLI (lesson 00)."""
    parser = subparsers.add_parser(
        "record",
        help="run a notebook or script against a real model and store its answers for replay",
        description="Run TARGET (a .py script or .ipynb notebook) with COURSE_PROVIDER=record so every "
        "model call is forwarded to the upstream and stored as a recorded sample.",
        epilog="example: course record --into 05_self_consistency --upstream local --start-local "
        "-- notebooks/05_self_consistency.ipynb",
    )
    parser.add_argument("--into", required=True, help="a lesson name (05_self_consistency) or a .jsonl path")
    from course_lib.providers.kinds import recordable_kinds

    parser.add_argument(
        "--upstream",
        choices=recordable_kinds(),
        default="local",
        help="the real model to ask (default: local)",
    )
    parser.add_argument(
        "--samples", type=int, default=1, help="run the target K times, appending K samples per request"
    )
    parser.add_argument(
        "--start-local", action="store_true", help="start the local model server for the duration"
    )
    parser.add_argument("--timeout", type=float, default=600, help="seconds per notebook cell (default 600)")
    parser.add_argument("target", help="the .py script or .ipynb notebook to run")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="arguments passed to a script")
    parser.set_defaults(func=run)
    return parser


def _preflight(upstream: str, env: Mapping[str, str]) -> str | None:
    """A reason the recording cannot start, or None."""
    from course_lib.providers.base import ConfigurationError
    from course_lib.providers.local import server_ready
    from course_lib.providers.registry import provider_config

    try:
        config = provider_config("record", env={**env, "COURSE_RECORD_UPSTREAM": upstream})
    except ConfigurationError as exc:
        return str(exc)
    if upstream == "local" and not server_ready(config["base_url"]):
        return (
            f"nothing answers at {config['base_url']}: start the model with `course serve-local` "
            "in another terminal, or add --start-local"
        )
    return None


def run(args: argparse.Namespace) -> int:
    """Entry point of ``course record``: returns the exit code (lesson 00)."""
    from course_lib.providers.local import LocalServer, LocalServerError

    target = Path(args.target)
    if args.start_local and args.upstream != "local":
        print("error: --start-local only applies to --upstream local", file=sys.stderr)
        return 2
    if args.samples < 1:
        print(f"error: --samples must be at least 1, got {args.samples}", file=sys.stderr)
        return 2
    if not target.exists() or target.suffix not in (".py", ".ipynb"):
        print(f"error: {target} is not an existing .py script or .ipynb notebook", file=sys.stderr)
        return 2
    try:  # before starting a model or running anything: a run whose answers cannot be saved is lost work
        check_destination(args.into)
        RecordingStore(resolve_recordings(args.into))
    except ValueError as exc:
        message = str(exc) if str(exc).startswith("--into") else f"--into {args.into}: {exc}"
        print(f"error: {message}", file=sys.stderr)
        return 2
    env: dict[str, str] = {"COURSE_RECORD_TO": str(resolve_recordings(args.into))}
    server = LocalServer() if args.start_local else None
    try:
        if server is not None:
            server.start()
            env["COURSE_LOCAL_URL"] = server.url
            print(f"started the local model at {server.url} ({server.startup_s:.1f} s)", flush=True)
        problem = _preflight(args.upstream, {**os.environ, **env})
        if problem:
            print(f"error: {problem}", file=sys.stderr)
            return 2
        code, summary = record_target(
            target,
            upstream=args.upstream,
            into=args.into,
            samples=args.samples,
            args=args.args,
            env=env,
            timeout=args.timeout,
        )
    except (LocalServerError, ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        if server is not None:
            server.stop()
    print(summary.describe())
    if code != 0:
        print(
            f"error: {target} exited with code {code}; what it recorded before that was kept", file=sys.stderr
        )
    return code
