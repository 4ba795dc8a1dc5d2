"""Evidence boxes: every measured figure still follows from recordings made on the real local model."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

import course_lib
from course_lib.lessons._evidence import Claim, evidence_markdown, verify
from course_lib.providers.registry import get_provider
from course_lib.providers.replay.recordings import (
    Entry,
    Provenance,
    RecordingStore,
    canonical_request,
    request_key,
)
from course_lib.providers.replay.responses import chat_sample

LESSONS = Path(course_lib.__file__).parent / "lessons"
WITH_EVIDENCE = sorted(p.parent.name for p in LESSONS.glob("l*/evidence.py"))
ASK = [{"role": "user", "content": "Name one colour."}]


@pytest.mark.parametrize("lesson", WITH_EVIDENCE)
def test_every_measured_figure_follows_from_recorded_answers(lesson):
    claims = importlib.import_module(f"course_lib.lessons.{lesson}.evidence").CLAIMS
    assert claims, f"{lesson}: an evidence box needs claims"
    assert verify(claims) == []


def _store(tmp_path: Path, source: str) -> Path:
    store = RecordingStore(tmp_path / f"{source}.jsonl")
    canon = canonical_request("chat.completions", {"model": "SmolLM2-135M-Instruct", "messages": ASK})
    sample = chat_sample("blue", model="SmolLM2-135M-Instruct", messages=ASK, n=1)
    prov = Provenance(source=source, model="SmolLM2-135M-Instruct", usage="computed")
    store.put(Entry(key=request_key(canon), request=canon, samples=[sample], provenance=prov))
    return store.save()


def _answer(path: Path) -> str:
    provider = get_provider("replay", recordings=path, model="SmolLM2-135M-Instruct")
    return provider.complete(ASK).text


def test_verify_accepts_a_figure_from_recorded_answers(tmp_path):
    path = _store(tmp_path, "recorded")
    claim = Claim("it says blue", "measured", "blue", recordings=str(path), figure=lambda: _answer(path))
    assert verify([claim]) == []


def test_verify_rejects_a_stale_figure(tmp_path):
    path = _store(tmp_path, "recorded")
    claim = Claim("it says red", "measured", "red", recordings=str(path), figure=lambda: _answer(path))
    assert verify([claim]) == ["'it says red': recordings give 'blue', the box says 'red'"]


def test_verify_rejects_scripted_answers_presented_as_measured(tmp_path):
    path = _store(tmp_path, "scripted")
    claim = Claim("it says blue", "measured", "blue", recordings=str(path), figure=lambda: _answer(path))
    assert verify([claim]) == ["'it says blue': 1 of 1 answers used are scripted"]
    offline = Claim("read directly", "measured", "x", recordings=str(path), figure=lambda: "x")
    assert "scripted answers" in verify([offline])[0]


def test_a_measured_claim_must_say_where_it_comes_from():
    with pytest.raises(ValueError, match="recordings= and figure="):
        Claim("voting helps", "measured", "3 of 5")
    with pytest.raises(ValueError, match="kind"):
        Claim("voting helps", "believed", "3 of 5")  # type: ignore[arg-type]


def test_the_box_is_a_table_with_one_row_per_claim():
    text = evidence_markdown(
        [
            Claim("CoT helps large models", "cited", "Wei et al. 2022, PaLM 540B, GSM8K 18% → 57%"),
            Claim("a | pipe", "illustrated", "scripted replies"),
        ]
    )
    lines = text.splitlines()
    assert lines[0] == "| claim | evidence | support | where |"
    assert len(lines) == 4 and "cited" in lines[2] and "a \\| pipe" in lines[3]


def test_every_lesson_closes_with_its_evidence_box():
    """Each lesson notebook has an evidence module and shows it in its last code cell."""
    import json

    root = LESSONS.parents[1]
    for notebook in sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        package = f"l{notebook.stem}"
        assert package in WITH_EVIDENCE, f"{notebook.name}: no course_lib/lessons/{package}/evidence.py"
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        last_code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"][-1]
        assert "evidence_box(CLAIMS)" in last_code, (
            f"{notebook.name}: the last code cell is not the evidence box"
        )
