"""Author and execute the course notebooks.

    python scripts/nbtool.py from-py SRC.py DEST.ipynb   # percent-format script -> notebook (jupytext)
    python scripts/nbtool.py run NOTEBOOK...             # execute in a fresh kernel, store outputs, check
    python scripts/nbtool.py check NOTEBOOK...           # conventions only, no execution
    python scripts/nbtool.py strip NOTEBOOK...           # remove outputs and execution counts (exercises)

``run`` executes top to bottom in a fresh kernel of this environment with the replay provider, then
checks the course's conventions: execution counts in order, no error outputs, no stderr, no empty
code cells, widget cells tagged ``nbval-ignore-output``. It prints the kernel time per notebook.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


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


def run(path: Path, timeout: int = 120) -> float:
    """Execute a notebook in place in a fresh kernel; return the kernel time in seconds."""
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    env_backup = dict(os.environ)
    os.environ.pop("COURSE_PROVIDER", None)
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    try:
        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}},
        )
        start = time.perf_counter()
        client.execute()
        elapsed = time.perf_counter() - start
    finally:
        os.environ.clear()
        os.environ.update(env_backup)
    nb.metadata["kernelspec"] = {
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
        "name": "python3",
    }
    nbformat.write(nb, path)
    return elapsed


def strip(path: Path) -> None:
    """Remove outputs and execution counts."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, path)


def from_py(src: Path, dest: Path) -> None:
    """Convert a percent-format script to a notebook (cell tags via ``# %% tags=["..."]``)."""
    import jupytext

    nb = jupytext.read(src, fmt="py:percent")
    nb.metadata.pop("jupytext", None)
    nb.metadata["kernelspec"] = {
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
        "name": "python3",
    }
    nbformat.write(nb, dest)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("from-py")
    p.add_argument("src", type=Path)
    p.add_argument("dest", type=Path)
    for name in ("run", "check", "strip"):
        q = sub.add_parser(name)
        q.add_argument("paths", type=Path, nargs="+")
    args = parser.parse_args(argv)
    if args.cmd == "from-py":
        from_py(args.src, args.dest)
        return 0
    failed = False
    for path in args.paths:
        if args.cmd == "strip":
            strip(path)
            continue
        if args.cmd == "run":
            elapsed = run(path)
            print(f"{path}: executed in {elapsed:.1f} s")
        found = problems(nbformat.read(path, as_version=4), executed=args.cmd == "run" or True)
        for line in found:
            print(f"{path}: {line}")
        failed |= bool(found)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
