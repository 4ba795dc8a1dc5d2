"""The published mutation scores cover every current question, and are current (grading; fast).

``make mutation`` (scripts/mutation_scores.py) measures how many planted bugs the checks catch and
writes tests/data/grading/mutation_scores.json and the README table; this test only reads them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from course_lib.grading import exercise_number, load_exercise

ROOT = Path(__file__).resolve().parents[1]
SCORES = ROOT / "tests" / "data" / "grading" / "mutation_scores.json"
EQUIVALENT = ROOT / "tests" / "data" / "grading" / "equivalent_mutants.json"
PROMPT_QUESTIONS = {"1.1", "1.5", "3.5", "4.5", "11.4"}
TARGET = 0.90


def _table() -> dict[str, list[str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("<!-- mutation:start -->", 1)[1].split("<!-- mutation:end -->", 1)[0]
    rows = {}
    for line in block.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and re.fullmatch(r"\d\d", cells[0]):
            rows[str(int(cells[0]))] = [q.strip() for q in cells[1].split(",")]
    return rows


def test_the_published_table_covers_every_current_question() -> None:
    rows = _table()
    for source in sorted((ROOT / "solutions" / "src").glob("[0-9][0-9]_*.py")):
        number = exercise_number(source)
        expected = [q.id for q in load_exercise(number) if q.id not in PROMPT_QUESTIONS]
        assert rows.get(str(number)) == expected, (
            f"exercise {number}: run `make mutation` (table: {rows.get(str(number))})"
        )


def test_the_results_file_matches_the_table() -> None:
    results = json.loads(SCORES.read_text(encoding="utf-8"))
    assert set(results) == set(_table())
    for key, result in results.items():
        counted = result["killed"] + len(result["survived"])
        assert counted == 0 or abs(result["score"] - result["killed"] / counted) < 1e-3, key


def test_every_equivalent_mutant_has_a_reason() -> None:
    listed = json.loads(EQUIVALENT.read_text(encoding="utf-8"))
    for exercise, mutants in listed.items():
        assert mutants, exercise
        for mutant, reason in mutants.items():
            assert " -> " in mutant and len(reason) > 20, (exercise, mutant)
