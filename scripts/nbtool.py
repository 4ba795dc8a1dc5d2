"""Author and execute the course notebooks from their committed sources.

Each lesson ``notebooks/NN_slug.ipynb`` and each solution ``solutions/NN_slug.ipynb`` has a source
``<folder>/src/NN_slug.py`` in jupytext's percent format. Edit the source, then:

    python scripts/nbtool.py run notebooks/src/05_self_consistency.py   # source -> notebook, execute, check
    python scripts/nbtool.py build notebooks/src/05_self_consistency.py # source -> notebook, keep outputs
    python scripts/nbtool.py check notebooks/*.ipynb solutions/*.ipynb  # conventions and sync, no execution
    python scripts/nbtool.py export notebooks/05_self_consistency.ipynb # notebook -> source (after editing in Lab)
    python scripts/build_exercises.py                                     # solutions -> exercises

``run`` executes top to bottom in a fresh kernel of this environment on the replay provider, writes
the notebook without volatile metadata (no execution timestamps, no widget state or ids, fixed cell
ids), so re-running an unchanged lesson changes nothing, and checks the course's conventions:
execution counts in order, no error outputs, no stderr, no empty code cells, widget cells tagged
``nbval-ignore-output``. It prints the kernel time per notebook.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from pathlib import Path

import nbformat

__all__ = [
    "build",
    "cell_signature",
    "export",
    "notebook_for",
    "out_of_sync",
    "problems",
    "quiet",
    "run",
    "source_for",
    "write_quietly",
]

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
SOURCE_FORMAT = "py:percent"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
_CELL_META_KEEP = ("tags",)


def source_for(notebook: Path) -> Path:
    """``notebooks/05_x.ipynb`` -> ``notebooks/src/05_x.py``."""
    return notebook.parent / "src" / f"{notebook.stem}.py"


def notebook_for(source: Path) -> Path:
    """``notebooks/src/05_x.py`` -> ``notebooks/05_x.ipynb``."""
    return source.parent.parent / f"{source.stem}.ipynb"


def _cell_id(cell: nbformat.NotebookNode, seen: set[str]) -> str:
    base = hashlib.sha1(f"{cell.cell_type}\n{cell.source}".encode()).hexdigest()[:8]
    cid, n = base, 1
    while cid in seen:
        cid, n = f"{base}-{n}", n + 1
    seen.add(cid)
    return cid


def _merge_streams(outputs: list) -> list:
    """Join consecutive stream outputs of the same name: how the kernel split them depends on timing."""
    merged: list = []
    for out in outputs:
        prev = merged[-1] if merged else None
        if (
            prev is not None
            and out.get("output_type") == "stream"
            and prev.get("output_type") == "stream"
            and prev.get("name") == out.get("name")
        ):
            prev["text"] = prev["text"] + out["text"]
        else:
            merged.append(out)
    return merged


def quiet(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop everything that changes from run to run without the content changing (in place)."""
    nb.metadata = nbformat.from_dict(
        {"kernelspec": KERNELSPEC, "language_info": {"name": "python", "pygments_lexer": "ipython3"}}
    )
    nb.nbformat, nb.nbformat_minor = 4, 5
    seen: set[str] = set()
    for cell in nb.cells:
        cell.metadata = nbformat.from_dict(
            {k: cell.metadata[k] for k in _CELL_META_KEEP if cell.metadata.get(k)}
        )
        cell["id"] = _cell_id(cell, seen)
        if cell.cell_type != "code":
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
            continue
        for out in cell.get("outputs", []):
            data = out.get("data")
            if data and WIDGET_MIME in data:
                del data[WIDGET_MIME]  # a random model id; the text/plain form stays
            out.get("metadata", {}).pop("transient", None)
    return nb


def write_quietly(nb: nbformat.NotebookNode, path: Path) -> None:
    """Write ``nb`` without volatile metadata; a file whose bytes would not change is left untouched."""
    text = nbformat.writes(quiet(nb)) + "\n"
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def cell_signature(nb: nbformat.NotebookNode) -> list[tuple[str, str, tuple[str, ...]]]:
    """What a source decides about a notebook: each cell's type, text and tags."""
    return [(c.cell_type, c.source.strip("\n"), tuple(c.metadata.get("tags", []))) for c in nb.cells]


def _read_source(source: Path) -> nbformat.NotebookNode:
    import jupytext

    return jupytext.read(source, fmt=SOURCE_FORMAT)


def out_of_sync(notebook: Path) -> str | None:
    """Why ``notebook`` and its source disagree, or None when they match."""
    source = source_for(notebook)
    if not source.exists():
        return f"no source {source}; create it with `python scripts/nbtool.py export {notebook}`"
    want = cell_signature(_read_source(source))
    have = cell_signature(nbformat.read(notebook, as_version=4))
    if want == have:
        return None
    for i, (w, h) in enumerate(zip(want, have, strict=False)):
        if w != h:
            return f"cell {i} differs from {source}; run `python scripts/nbtool.py build {source}`"
    return f"{len(have)} cells, but {source} has {len(want)}; run `python scripts/nbtool.py build {source}`"


def build(source: Path) -> Path:
    """Write the notebook of ``source``: cells from the source, outputs kept where a cell is unchanged."""
    target = notebook_for(source)
    fresh = _read_source(source)
    old: dict[tuple[str, str], nbformat.NotebookNode] = {}
    if target.exists():
        for cell in nbformat.read(target, as_version=4).cells:
            if cell.cell_type == "code":
                old.setdefault((cell.source.strip("\n"), str(cell.metadata.get("tags", []))), cell)
    cells = []
    for cell in fresh.cells:
        if cell.cell_type == "code":
            kept = old.get((cell.source.strip("\n"), str(cell.metadata.get("tags", []))))
            cell.outputs = kept.outputs if kept is not None else []
            cell.execution_count = kept.execution_count if kept is not None else None
        cells.append(cell)
    fresh.cells = cells
    write_quietly(fresh, target)
    return target


def export(notebook: Path) -> Path:
    """Write (or overwrite) the source of ``notebook`` from its cells."""
    import jupytext

    nb = nbformat.read(notebook, as_version=4)
    nb.metadata = nbformat.from_dict(
        {"jupytext": {"notebook_metadata_filter": "-all", "cell_metadata_filter": "tags,-all"}}
    )
    text = jupytext.writes(nb, fmt=SOURCE_FORMAT)
    source = source_for(notebook)
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_text(text, encoding="utf-8")
    return source


def problems(nb: nbformat.NotebookNode, *, executed: bool = True) -> list[str]:
    """Convention violations of a notebook (empty list if none)."""
    out: list[str] = []
    expected = 1
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if not cell.source.strip():
            out.append(f"cell {i}: empty code cell")
        tags = cell.metadata.get("tags", [])
        if executed:
            if cell.execution_count != expected:
                out.append(f"cell {i}: execution count {cell.execution_count}, expected {expected}")
            expected += 1
        for o in cell.get("outputs", []):
            if o.output_type == "error":
                out.append(f"cell {i}: error output {o.get('ename')}: {o.get('evalue')}")
            if o.output_type == "stream" and o.get("name") == "stderr":
                out.append(f"cell {i}: stderr output: {o.text[:200]!r}")
            if WIDGET_MIME in o.get("data", {}) and "nbval-ignore-output" not in tags:
                out.append(f"cell {i}: widget output but no 'nbval-ignore-output' tag")
            if "image/svg+xml" in o.get("data", {}):
                out.append(f"cell {i}: SVG output (use PNG figures)")
    return out


def run(path: Path, timeout: int = 120) -> tuple[float, list[str]]:
    """Execute a notebook in place in a fresh kernel; return the kernel time and its convention problems."""
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    env_backup = dict(os.environ)
    for var in ("COURSE_PROVIDER", "COURSE_MODEL", "COURSE_RECORDINGS", "COURSE_PROVIDER_TABLE"):
        os.environ.pop(var, None)
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    os.environ["PYTHONHASHSEED"] = "0"
    try:
        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            record_timing=False,
            resources={"metadata": {"path": str(path.parent)}},
        )
        start = time.perf_counter()
        client.execute()
        elapsed = time.perf_counter() - start
    finally:
        os.environ.clear()
        os.environ.update(env_backup)
    found = problems(nb)  # before quieting, while widget outputs still carry their MIME type
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = _merge_streams(cell.outputs)
    write_quietly(nb, path)
    return elapsed, found


def _notebooks(paths: list[Path]) -> list[Path]:
    """Sources and notebooks given on the command line, as notebooks."""
    return [notebook_for(p) if p.suffix == ".py" else p for p in paths]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    for name in ("run", "build", "check", "export"):
        q = sub.add_parser(name)
        q.add_argument("paths", type=Path, nargs="+")
    args = parser.parse_args(argv)
    failed = False
    for path in args.paths:
        if not path.exists():
            print(f"{path}: no such file", file=sys.stderr)
            return 2
    for notebook in _notebooks(args.paths):
        if args.cmd == "export":
            print(f"{notebook} -> {export(notebook)}")
            continue
        if args.cmd in ("build", "run"):
            build(source_for(notebook))
        found: list[str] = []
        if args.cmd == "run":
            elapsed, found = run(notebook)
            print(f"{notebook}: executed in {elapsed:.1f} s")
        found += problems(nbformat.read(notebook, as_version=4), executed=args.cmd != "build")
        reason = out_of_sync(notebook)
        if reason:
            found.append(reason)
        for line in found:
            print(f"{notebook}: {line}")
        failed |= bool(found)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
