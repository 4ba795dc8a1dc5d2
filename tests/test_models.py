"""The model table: every model the course names is in it, and retirements reach `course doctor`."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from course_lib.cli.doctor import diagnose
from course_lib.cost import load_prices
from course_lib.models import retirement, retirements
from course_lib.providers.kinds import load_kinds
from course_lib.providers.replay.recordings import RECORDINGS_DIR, RecordingStore

ROOT = Path(__file__).resolve().parents[1]
TABLE = load_prices()


def test_every_model_a_recording_asks_for_is_in_the_table():
    asked = {
        e.request["model"]
        for f in RECORDINGS_DIR.glob("*.jsonl")
        for e in RecordingStore(f).entries.values()
        if "model" in e.request
    }
    assert asked, "no recordings found"
    unknown = []
    for model in sorted(asked):
        try:
            TABLE.resolve(model)
        except Exception:
            unknown.append(model)
    assert unknown == [], f"add these models to course_lib/data/models.json: {unknown}"


def test_every_model_a_lesson_names_is_in_the_table():
    named = set()
    for source in [*(ROOT / "notebooks" / "src").glob("*.py"), *(ROOT / "solutions" / "src").glob("*.py")]:
        named |= set(re.findall(r"""\bmodel\s*=\s*["']([\w.:-]+)["']""", source.read_text(encoding="utf-8")))
    assert named
    unknown = [m for m in sorted(named) if m not in TABLE.models]
    assert unknown == [], f"lessons name models the table lacks: {unknown}"


def test_every_preset_default_model_is_in_the_table():
    for kind in load_kinds({}).values():
        if kind.default_model:
            assert kind.default_model in TABLE.models, kind.name


def test_retirement_before_on_and_after_the_day():
    day = dt.date.fromisoformat(TABLE.models["gpt-4"].retirement_date)
    before = retirement("gpt-4", today=day - dt.timedelta(days=1))
    on = retirement("gpt-4", today=day)
    assert before is not None and not before.retired
    assert on is not None and on.retired and on.replacement == "gpt-4o"
    assert "was retired on" in on.message() and "use gpt-4o instead" in on.message()
    assert "retires on" in before.message()


def test_models_without_a_date_and_unknown_models_are_not_retired():
    assert retirement("SmolLM2-135M-Instruct") is None
    assert retirement("no-such-model") is None
    found = retirements(["gpt-4", "gpt-4", "SmolLM2-135M-Instruct"], today=dt.date(2030, 1, 1))
    assert [r.model for r in found] == ["gpt-4"]


def test_a_dated_snapshot_resolves_to_its_base_model():
    assert retirement("gpt-4o-2024-08-06", today=dt.date(2030, 1, 1)).retired


@pytest.mark.parametrize(("model", "expect"), [("gpt-4", True), ("SmolLM2-135M-Instruct", False)])
def test_doctor_warns_about_a_retired_course_model(monkeypatch, model, expect):
    monkeypatch.setenv("COURSE_MODEL", model)
    rows = [r for r in diagnose() if r["check"] == "models"]
    warned = [r for r in rows if r.get("warn") and r["detail"].startswith("COURSE_MODEL")]
    assert bool(warned) is expect
    if expect:
        assert "gpt-4o" in warned[0]["detail"]
        assert all(r["ok"] for r in rows)  # a warning, not a failure
