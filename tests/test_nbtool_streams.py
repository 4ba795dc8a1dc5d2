"""nbtool joins stream outputs the kernel split by timing, so a re-run writes the same bytes."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import nbtool


def _stream(name: str, text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_output("stream", name=name, text=text)


def test_consecutive_streams_of_one_name_are_joined():
    outputs = [_stream("stdout", "3,500 calls"), _stream("stdout", "\n"), _stream("stdout", "next\n")]
    assert [o.text for o in nbtool._merge_streams(outputs)] == ["3,500 calls\nnext\n"]


def test_other_outputs_and_other_streams_stay_apart():
    shown = nbformat.v4.new_output("display_data", data={"text/plain": "<Figure>"})
    outputs = [_stream("stdout", "a\n"), shown, _stream("stdout", "b\n"), _stream("stderr", "c\n")]
    merged = nbtool._merge_streams(outputs)
    assert [o.output_type for o in merged] == ["stream", "display_data", "stream", "stream"]
    assert [o.get("name") for o in merged] == ["stdout", None, "stdout", "stderr"]
