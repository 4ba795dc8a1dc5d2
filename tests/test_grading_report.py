"""Grade reports: totals, the rich table, JSON, JUnit XML and the GitHub Classroom payload."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET

from rich.console import Console

from course_lib.grading.report import classroom_payload, junit_xml, print_notebook, print_summary, to_json
from course_lib.grading.results import GradeReport, NotebookResult, QuestionResult


def _report() -> GradeReport:
    good = NotebookResult(
        path="exercises/05_self_consistency.ipynb",
        exercise=5,
        questions=[
            QuestionResult(id="5.1", title="vote", points=2, score=2, status="passed"),
            QuestionResult(
                id="5.2", title="weights", points=1, status="failed", hint="got [1, 2]; expected [2, 1]"
            ),
            QuestionResult(
                id="5.3", title="gate", points=1.5, status="timeout", hint="did not finish \x1b[31m"
            ),
        ],
        notes=["cell 4 (`while True:`) was stopped after the per-cell limit of 30 s"],
        duration_s=3.2,
    )
    broken = NotebookResult(
        path="exercises/07_structured_output.ipynb",
        exercise=7,
        questions=[QuestionResult(id="7.1", title="extract", points=3, status="not_run", hint="not checked")],
        error="the file is not valid JSON",
    )
    return GradeReport(notebooks=[good, broken])


def test_totals_and_full_marks():
    report = _report()
    assert (report.score, report.max_score, report.full_marks) == (2, 7.5, False)
    assert report.notebooks[0].score == 2 and report.notebooks[0].max_score == 4.5
    perfect = NotebookResult(
        path="x", questions=[QuestionResult(id="1.1", title="t", points=1, score=1, status="passed")]
    )
    assert GradeReport(notebooks=[perfect]).full_marks
    assert not GradeReport(notebooks=[]).full_marks
    assert not NotebookResult(path="x").full_marks  # nothing graded is not full marks
    errored = perfect.model_copy(update={"error": "kernel died"})
    assert not errored.full_marks


def test_json_is_well_formed_and_complete():
    data = json.loads(to_json(_report()))
    assert (data["score"], data["max_score"], data["full_marks"]) == (2, 7.5, False)
    first = data["notebooks"][0]
    assert (first["path"], first["exercise"], first["score"], first["max_score"]) == (
        "exercises/05_self_consistency.ipynb",
        5,
        2,
        4.5,
    )
    assert [q["status"] for q in first["questions"]] == ["passed", "failed", "timeout"]
    assert first["questions"][1]["hint"] == "got [1, 2]; expected [2, 1]"
    assert data["notebooks"][1]["error"] == "the file is not valid JSON"


def test_junit_is_well_formed_xml_with_failures_and_errors():
    root = ET.fromstring(junit_xml(_report()).encode("utf-8"))
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("4", "1", "2")
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["05_self_consistency", "07_structured_output"]
    cases = suites[0].findall("testcase")
    assert [c.get("name") for c in cases] == ["5.1 vote", "5.2 weights", "5.3 gate"]
    assert cases[0].find("failure") is None and cases[0].find("error") is None
    assert cases[1].find("failure").get("message") == "got [1, 2]; expected [2, 1]"
    assert cases[2].find("error").get("type") == "timeout"
    assert "\x1b" not in cases[2].find("error").get("message")  # control characters are not valid XML
    assert "per-cell limit" in suites[0].find("system-out").text
    assert "not valid JSON" in suites[1].find("system-out").text
    props = {p.get("name"): p.get("value") for p in suites[0].iter("property")}
    assert props == {"path": "exercises/05_self_consistency.ipynb", "score": "2", "max_score": "4.5"}


def test_classroom_payload_has_per_question_scores():
    payload = classroom_payload(_report())
    assert (payload["version"], payload["status"], payload["max_score"]) == (1, "fail", 7.5)
    assert [t["status"] for t in payload["tests"]] == ["pass", "fail", "error", "error"]
    assert [t["score"] for t in payload["tests"]] == [2, 0, 0, 0]
    assert sum(t["max_score"] for t in payload["tests"]) == payload["max_score"]
    assert payload["tests"][1]["message"] == "got [1, 2]; expected [2, 1]"
    json.dumps(payload)


def test_table_shows_hints_literally_and_the_total():
    out = io.StringIO()
    console = Console(file=out, width=200, color_system=None)
    report = _report()
    print_notebook(console, report.notebooks[0])
    print_notebook(console, report.notebooks[1])
    print_summary(console, report)
    text = out.getvalue()
    assert "got [1, 2]; expected [2, 1]" in text  # square brackets are not eaten as rich markup
    assert "05_self_consistency.ipynb — exercise 5" in text
    assert "Total: 2/4.5 points" in text
    assert "✘ the file is not valid JSON" in text
    assert "• cell 4 (`while True:`)" in text
    assert "Points 2/7.5" in text
    assert "⏱ timeout" in text and "– not run" in text
