"""Grade reports: a rich table per notebook, JSON, JUnit XML and the GitHub Classroom payload (exercises).

All four are built from the same :class:`~course_lib.grading.results.GradeReport`; the terminal table
is for people, the files are for CI.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from .results import GradeReport, NotebookResult, QuestionResult

__all__ = ["classroom_payload", "junit_xml", "print_notebook", "print_summary", "to_json"]

_STYLE = {
    "passed": ("✔ pass", "green"),
    "failed": ("✘ fail", "red"),
    "error": ("✘ error", "red"),
    "timeout": ("⏱ timeout", "yellow"),
    "missing": ("? missing", "magenta"),
    "not_run": ("– not run", "dim"),
    "not_graded": ("– not graded", "yellow"),
}


def _num(x: float) -> int | float:
    return int(x) if float(x).is_integer() else round(x, 2)


def print_notebook(console: Any, result: NotebookResult) -> None:
    """Print one notebook's per-question table, its notes and its total (exercises)."""
    from rich.table import Table
    from rich.text import Text

    name = Path(result.path).name
    title = f"{name} — exercise {result.exercise}" if result.exercise is not None else name
    table = Table(title=Text(title, style="bold"), title_justify="left", show_lines=False, expand=False)
    table.add_column("#", no_wrap=True)
    table.add_column("question")
    table.add_column("points", justify="right", no_wrap=True)
    table.add_column("result", no_wrap=True)
    table.add_column("hint", overflow="fold")
    for q in result.questions:
        label, style = _STYLE[q.status]
        table.add_row(
            Text(q.id),
            Text(q.title),
            Text(f"{_num(q.score)}/{_num(q.points)}"),
            Text(label, style=style),
            Text(q.hint),
        )
    console.print(table)
    if result.error:
        console.print(Text(f"✘ {result.error}", style="red"))
    for note in result.notes:
        console.print(Text(f"  • {note}", style="yellow"))
    style = "bold green" if result.full_marks else "bold red"
    console.print(Text(f"Total: {_num(result.score)}/{_num(result.max_score)} points", style=style))
    if result.incomplete:
        skipped = [q.id for q in result.questions if q.status == "not_graded"]
        note = f"The grade is incomplete: {', '.join(skipped)} not graded here (see the hint)."
        console.print(Text(note, style="bold yellow"))


def print_summary(console: Any, report: GradeReport) -> None:
    """Print the per-notebook totals (when there are several) and the grand total (exercises)."""
    from rich.table import Table
    from rich.text import Text

    if len(report.notebooks) > 1:
        table = Table(title=Text("Summary", style="bold"), title_justify="left")
        table.add_column("notebook")
        table.add_column("points", justify="right")
        table.add_column("", no_wrap=True)
        for nb in report.notebooks:
            mark = Text("✔", style="green") if nb.full_marks else Text("✘", style="red")
            table.add_row(Text(Path(nb.path).name), Text(f"{_num(nb.score)}/{_num(nb.max_score)}"), mark)
        console.print(table)
    style = "bold green" if report.full_marks else "bold red"
    console.print(Text(f"Points {_num(report.score)}/{_num(report.max_score)}", style=style))


def to_json(report: GradeReport) -> str:
    """The report as pretty, stable JSON text (exercises)."""
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"


_XML_INVALID = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml(text: object) -> str:
    """Text with the characters XML 1.0 forbids (ANSI escapes, NUL …) removed."""
    return _XML_INVALID.sub("", str(text))


def _junit_kind(q: QuestionResult) -> str | None:
    if q.status in ("failed", "missing"):
        return "failure"
    if q.status in ("error", "timeout", "not_run"):
        return "error"
    if q.status == "not_graded":
        return "skipped"
    return None


def junit_xml(report: GradeReport) -> str:
    """The report as JUnit XML: one test suite per notebook, one test case per question (exercises)."""

    def count(items: list[QuestionResult], kind: str) -> str:
        return str(sum(1 for q in items if _junit_kind(q) == kind))

    every = [q for nb in report.notebooks for q in nb.questions]
    root = ET.Element(
        "testsuites",
        name="course grade",
        tests=str(len(every)),
        failures=count(every, "failure"),
        errors=count(every, "error"),
        time=f"{sum(nb.duration_s for nb in report.notebooks):.3f}",
    )
    for nb in report.notebooks:
        stem = Path(nb.path).stem
        suite = ET.SubElement(
            root,
            "testsuite",
            name=_xml(stem),
            tests=str(len(nb.questions)),
            failures=count(nb.questions, "failure"),
            errors=count(nb.questions, "error"),
            skipped=count(nb.questions, "skipped"),
            time=f"{nb.duration_s:.3f}",
        )
        props = ET.SubElement(suite, "properties")
        for key, value in (("path", nb.path), ("score", _num(nb.score)), ("max_score", _num(nb.max_score))):
            ET.SubElement(props, "property", name=key, value=_xml(value))
        for q in nb.questions:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=_xml(f"exercise{nb.exercise}.{stem}"),
                name=_xml(f"{q.id} {q.title}"),
                time=f"{q.duration_s:.3f}",
            )
            kind = _junit_kind(q)
            if kind is not None:
                detail = ET.SubElement(case, kind, message=_xml(q.hint or q.status), type=q.status)
                detail.text = _xml(f"{q.id} {q.title}: {q.status} (0/{_num(q.points)} points)\n{q.hint}")
        extra = ([f"error: {nb.error}"] if nb.error else []) + nb.notes
        if extra:
            ET.SubElement(suite, "system-out").text = _xml("\n".join(extra))
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def classroom_payload(report: GradeReport) -> dict[str, Any]:
    """The results shape GitHub Classroom's autograding reporter reads (base64 in ``<ID>_RESULTS``) (exercises)."""
    tests = []
    for nb in report.notebooks:
        for q in nb.questions:
            tests.append(
                {
                    "name": f"{Path(nb.path).name} {q.id} {q.title}",
                    "status": "pass" if q.passed else ("fail" if _junit_kind(q) == "failure" else "error"),
                    "score": _num(q.score),
                    "max_score": _num(q.points),
                    "message": q.hint or (nb.error or ""),
                    "test_code": f"course grade {nb.path}",
                    "filename": nb.path,
                    "line_no": 0,
                    "duration": int(q.duration_s * 1000),
                }
            )
    return {
        "version": 1,
        "status": "pass" if report.full_marks else "fail",
        "max_score": _num(report.max_score),
        "tests": tests,
    }
