"""Every lesson and solution notebook is built from a committed source, and writing it is quiet."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")) + sorted(
    (ROOT / "solutions").glob("[0-9][0-9]_*.ipynb")
)


def _nbtool():
    spec = importlib.util.spec_from_file_location("nbtool", ROOT / "scripts" / "nbtool.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["nbtool"] = module
    spec.loader.exec_module(module)
    return module


nbtool = _nbtool()


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_notebook_matches_its_source(notebook):
    assert nbtool.out_of_sync(notebook) is None


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_notebook_is_written_quietly(notebook):
    """No execution timestamps, widget state or random ids: the stored file is already quiet."""
    text = notebook.read_text(encoding="utf-8")
    nb = nbformat.reads(text, as_version=4)
    assert nbformat.writes(nbtool.quiet(nbformat.reads(text, as_version=4))) + "\n" == text
    assert "widgets" not in nb.metadata
    assert all(set(c.metadata) <= {"tags"} for c in nb.cells)
    assert "iopub." not in text and "application/vnd.jupyter.widget-view+json" not in text


def test_sync_check_notices_an_edit(tmp_path):
    """The sync test can fail: a notebook edited without its source is reported, and build repairs it."""
    folder = tmp_path / "notebooks"
    (folder / "src").mkdir(parents=True)
    shutil.copy(ROOT / "notebooks" / "src" / "08_token_economics.py", folder / "src")
    shutil.copy(ROOT / "notebooks" / "08_token_economics.ipynb", folder)
    notebook = folder / "08_token_economics.ipynb"
    assert nbtool.out_of_sync(notebook) is None
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    first_code = next(c for c in nb["cells"] if c["cell_type"] == "code")
    first_code["source"] = "print('edited in the notebook only')"
    notebook.write_text(json.dumps(nb), encoding="utf-8")
    assert "differs" in nbtool.out_of_sync(notebook)
    nbtool.build(folder / "src" / "08_token_economics.py")
    assert nbtool.out_of_sync(notebook) is None


def test_quiet_drops_volatile_metadata_and_fixes_ids():
    nb = nbformat.v4.new_notebook()
    nb.metadata["widgets"] = {"state": {}}
    cell = nbformat.v4.new_code_cell("1 + 1")
    cell.metadata["execution"] = {"iopub.status.busy": "2026-01-01T00:00:00Z"}
    cell.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={
                "application/vnd.jupyter.widget-view+json": {"model_id": "abc"},
                "text/plain": "IntSlider()",
            },
        )
    ]
    nb.cells = [cell, nbformat.v4.new_markdown_cell("text")]
    once = nbformat.writes(nbtool.quiet(nb))
    assert "iopub" not in once and "model_id" not in once and '"widgets"' not in once
    assert "IntSlider()" in once
    again = nbformat.writes(nbtool.quiet(nbformat.reads(once, as_version=4)))
    assert once == again


@pytest.mark.slow
def test_rerunning_an_unchanged_lesson_changes_no_byte(tmp_path):
    """Fresh kernel, replay: the lesson file is byte-identical after a re-run."""
    folder = tmp_path / "notebooks"
    (folder / "src").mkdir(parents=True)
    name = "08_token_economics"
    shutil.copy(ROOT / "notebooks" / "src" / f"{name}.py", folder / "src")
    shutil.copy(ROOT / "notebooks" / f"{name}.ipynb", folder)
    before = (folder / f"{name}.ipynb").read_bytes()
    nbtool.build(folder / "src" / f"{name}.py")
    _elapsed, found = nbtool.run(folder / f"{name}.ipynb")
    assert found == []
    assert (folder / f"{name}.ipynb").read_bytes() == before
