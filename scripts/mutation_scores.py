"""Mutation scores of the exercise checks: how many planted bugs in the solutions do the checks catch?

mutmut's mutation operators (the same ones ``mutmut run`` applies) change one thing at a time in the
solution regions (between ``# BEGIN SOLUTION`` and ``# END SOLUTION``) of each committed solution source,
``solutions/src/NN_slug.py``. Each mutant's definitions are run in a fresh namespace and graded by the
exercise's checks, in this process (the checks are the tests). A mutant is *killed* when a question of
its exercise no longer scores full marks.

Not every mutant is a bug. Mutants that only change free-form text the exercise leaves free (an error
message, prompt wording) are counted as equivalent automatically; other equivalent mutants are listed
with the reason in tests/data/grading/equivalent_mutants.json. Prompt-writing questions (1.1, 1.5, 3.5, 4.5,
11.4) are left out. The results go to tests/data/grading/mutation_scores.json and to the table in the README.

    python scripts/mutation_scores.py            # every exercise (minutes)
    python scripts/mutation_scores.py 5 9        # some exercises; the others keep their last results
    python scripts/mutation_scores.py --list 5   # print the surviving mutants of exercise 5
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import re
import sys
import time
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "solutions" / "src"
DATA = ROOT / "tests" / "data" / "grading"
SCORES = DATA / "mutation_scores.json"
EQUIVALENT = DATA / "equivalent_mutants.json"
README = ROOT / "README.md"
START, END = "<!-- mutation:start -->", "<!-- mutation:end -->"
PROMPT_QUESTIONS = {
    "1.1": "writes a prompt: its wording is free, so mutants of it are not bugs",
    "1.5": "writes a prompt: its wording is free",
    "3.5": "writes a prompt: its wording is free",
    "4.5": "writes a prompt: its wording is free",
    "11.4": "writes a prompt graded on the real local model: its wording is free",
}
PROMPT_TARGETS = {
    "intent_messages",
    "grounded_messages",
    "clause_messages",
    "refund_messages",
    "name_messages",
}
"""The functions of the prompt-writing questions: their mutants are not counted."""
CHECK_TIMEOUT = 10.0

__all__ = ["Mutant", "main", "mutants_of", "score_exercise"]


@dataclass
class Mutant:
    """One change mutmut made: where, what it looks like, and how the checks took it."""

    line: int
    before: str
    after: str
    source: str
    free_text: bool
    outcome: str = ""

    @property
    def key(self) -> str:
        return f"{self.line}: {self.before.strip()} -> {self.after.strip()}"


def _cells(text: str) -> list[tuple[int, str]]:
    """The code cells of a jupytext percent source: (first line number, source)."""
    cells: list[tuple[int, str]] = []
    current: list[str] = []
    start, markdown = 1, False
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        if line.startswith("# %%"):
            if current and not markdown:
                cells.append((start, "".join(current)))
            current, start, markdown = [], number + 1, "[markdown]" in line
            continue
        current.append(line)
    if current and not markdown:
        cells.append((start, "".join(current)))
    return cells


def _program(path: Path) -> tuple[str, set[int]]:
    """The definitions of a solution source as one program (demo and check cells left out), and the
    line numbers (in that program) inside solution regions."""
    kept: list[str] = []
    for _, cell in _cells(path.read_text(encoding="utf-8")):
        body = cell.strip()
        if not body or body.startswith("check(") or "check(" in body.splitlines()[-1]:
            continue
        defines = re.search(r"^(def |class |async def |import |from |[A-Z_][A-Z0-9_]* *=)", cell, re.M)
        if "BEGIN SOLUTION" in cell or (defines and not re.search(r"^(print|display)\(", cell, re.M)):
            kept.append(cell.rstrip() + "\n\n")
    program = "".join(kept)
    inside, regions = False, set()
    for number, line in enumerate(program.splitlines(), start=1):
        if "# BEGIN SOLUTION" in line:
            inside = True
        elif "# END SOLUTION" in line:
            inside = False
        elif inside:
            regions.add(number)
    return program, regions


def mutants_of(path: Path) -> tuple[str, list[Mutant]]:
    """The program of ``path`` and its mutants inside solution regions, made by mutmut's operators."""
    import libcst as cst
    from libcst.metadata import MetadataWrapper, PositionProvider
    from mutmut.mutation.file_mutation import create_mutations, deep_replace

    program, regions = _program(path)
    with contextlib.chdir(SOURCES.parent):  # mutmut reads its settings from here: solutions/ holds src/
        module, mutations, _, _ = create_mutations(str(path), program)
    positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    lines = program.splitlines()
    out = []
    for m in mutations:
        pos = positions.get(m.original_node)
        if pos is None or pos.start.line not in regions:
            continue
        mutated = deep_replace(module, m.original_node, m.mutated_node)
        code = mutated.code if isinstance(mutated, cst.Module) else module.code
        before = lines[pos.start.line - 1]
        after_lines = code.splitlines()
        after = after_lines[pos.start.line - 1] if pos.start.line <= len(after_lines) else ""
        if _enclosing_def(lines, pos.start.line) in PROMPT_TARGETS:
            continue
        out.append(Mutant(pos.start.line, before, after, code, _free_text(m, before, after)))
    return program, out


def _enclosing_def(lines: list[str], line: int) -> str | None:
    for text in reversed(lines[:line]):
        found = re.match(r"^(?:async def|def|class) (\w+)", text)
        if found:
            return found.group(1)
    return None


def _free_text(mutation: Any, before: str, after: str) -> bool:
    """Whether a mutant only changes an error's message (free text the exercise leaves to the learner)."""
    import libcst as cst

    raised = re.match(r"\s*raise (\w+)\(", before)
    if raised and re.match(rf"\s*raise {raised.group(1)}\(", after):
        strings = (cst.SimpleString, cst.FormattedString, cst.ConcatenatedString, cst.Arg, cst.Call)
        return isinstance(mutation.original_node, strings)
    return False


def _run_program(code: str) -> dict[str, Any]:
    module = types.ModuleType("__notebook__")
    sys.modules[module.__name__] = module
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        exec(compile(code, "<solution>", "exec"), module.__dict__)
    return module.__dict__


def _graded(number: int, code: str) -> str:
    """'survived' when every checked question still passes, else which question caught the mutant."""
    from course_lib.grading import load_exercise, run_question
    from course_lib.grading.sandbox import TimeLimitExceeded, run_with_time_limit

    try:
        namespace = run_with_time_limit(_run_program, code, timeout=20)
    except TimeLimitExceeded:
        return "killed: the definitions hang"
    except BaseException as exc:
        return f"killed: the definitions raise {type(exc).__name__}"
    for q in load_exercise(number):
        if q.id in PROMPT_QUESTIONS:
            continue
        result = run_question(q, namespace, timeout=q.timeout or CHECK_TIMEOUT)
        if not result.passed:
            return f"killed by {q.id}"
    return "survived"


def score_exercise(number: int, equivalent: dict[str, str]) -> dict[str, Any]:
    """Grade every mutant of exercise ``number``'s solution; return its score and survivors."""
    path = next(SOURCES.glob(f"{number:02d}_*.py"))
    program, mutants = mutants_of(path)
    baseline = _graded(number, program)
    if baseline != "survived":
        raise SystemExit(f"{path.name}: the unmutated solution does not pass its checks ({baseline})")
    killed, survivors, listed, free = 0, [], [], 0
    for mutant in mutants:
        if mutant.free_text:
            free += 1
            continue
        mutant.outcome = _graded(number, mutant.source)
        if mutant.outcome != "survived":
            killed += 1
        elif mutant.key in equivalent:
            listed.append({"mutant": mutant.key, "reason": equivalent[mutant.key]})
        else:
            survivors.append(mutant.key)
    counted = killed + len(survivors)
    return {
        "exercise": number,
        "source": str(path.relative_to(ROOT)),
        "mutants": len(mutants),
        "free_text": free,
        "equivalent": listed,
        "killed": killed,
        "survived": survivors,
        "score": round(killed / counted, 4) if counted else 1.0,
    }


def _table(results: dict[str, Any]) -> str:
    from course_lib.grading import load_exercise

    rows = [
        "| exercise | questions | mutants | free text | equivalent | killed | survived | score |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for key in sorted(results, key=int):
        r = results[key]
        qids = [q.id for q in load_exercise(int(key)) if q.id not in PROMPT_QUESTIONS]
        rows.append(
            f"| {int(key):02d} | {', '.join(qids)} | {r['mutants']} | {r['free_text']} | {len(r['equivalent'])} "
            f"| {r['killed']} | {len(r['survived'])} | {r['score']:.0%} |"
        )
    left_out = ", ".join(f"{q} ({why})" for q, why in PROMPT_QUESTIONS.items())
    return "\n".join(rows) + f"\n\nLeft out: {left_out}."


def publish(results: dict[str, Any]) -> None:
    """Write the results file and the README table between its markers."""
    SCORES.parent.mkdir(parents=True, exist_ok=True)
    SCORES.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    text = README.read_text(encoding="utf-8")
    if START in text and END in text:
        head, rest = text.split(START, 1)
        _, tail = rest.split(END, 1)
        README.write_text(f"{head}{START}\n{_table(results)}\n{END}{tail}", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Measure the exercises named (all by default), publish, and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("exercises", nargs="*", type=int)
    parser.add_argument("--list", action="store_true", help="print the surviving mutants")
    args = parser.parse_args(argv)
    numbers = args.exercises or sorted(int(p.name[:2]) for p in SOURCES.glob("[0-9][0-9]_*.py"))
    equivalent = json.loads(EQUIVALENT.read_text(encoding="utf-8")) if EQUIVALENT.exists() else {}
    results = json.loads(SCORES.read_text(encoding="utf-8")) if SCORES.exists() else {}
    for number in numbers:
        start = time.perf_counter()
        result = score_exercise(number, equivalent.get(str(number), {}))
        results[str(number)] = result
        print(f"exercise {number:02d}: {result['score']:.0%} of {result['killed'] + len(result['survived'])} "
              f"mutants killed ({time.perf_counter() - start:.0f} s)", flush=True)  # fmt: skip
        if args.list:
            for key in result["survived"]:
                print("   survived:", key)
    publish(results)
    print(_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
