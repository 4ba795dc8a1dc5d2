"""Helpers for the exercise tests: a notebook's code cells run in-process, planted bugs, failing checks.

The tests in ``test_exNN.py`` grade a solution notebook's definitions (or another implementation) without
a kernel: read the code cells, run them into a fresh namespace, replace one line to plant a bug, and run
one question's check. ``test_exercises.py`` grades every notebook end to end.
"""

from __future__ import annotations

import contextlib
import functools
import sys
import types
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import nbformat
import pytest

from course_lib.grading import CheckFailed, QuestionResult, get_question, run_question

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS_DIR = ROOT / "solutions"
EXERCISES_DIR = ROOT / "exercises"
CHECK_TIMEOUT = 10.0
"""Seconds one question's check may take in these tests (the grader's default too)."""


def solution_path(number: int) -> Path:
    """The solution notebook ``solutions/NN_*.ipynb`` of an exercise."""
    found = sorted(SOLUTIONS_DIR.glob(f"{number:02d}_*.ipynb"))
    assert len(found) == 1, f"expected one solutions/{number:02d}_*.ipynb, found {found}"
    return found[0]


@functools.cache
def _code_cells(path: Path) -> tuple[str, ...]:
    nb = nbformat.read(str(path), as_version=4)
    return tuple(c.source for c in nb.cells if c.cell_type == "code" and not c.source.startswith("check("))


def solution_sources(path: Path, *, skip: Callable[[str], bool] | None = None) -> list[str]:
    """A notebook's code cells, in order, without its ``check(...)`` cells nor those ``skip`` picks."""
    return [source for source in _code_cells(path) if skip is None or not skip(source)]


def exec_namespace(sources: Iterable[str], *, allow_stubs: bool = False) -> dict[str, Any]:
    """Run the cells in a fresh module named ``__notebook__`` and return its namespace.

    The module is registered in ``sys.modules`` so that dataclasses defined in a cell can be built.
    With ``allow_stubs``, a cell that raises NotImplementedError (an untouched exercise calling its
    stubs) is passed over, as a student running the notebook would see it fail and go on.
    """
    module = types.ModuleType("__notebook__")
    sys.modules[module.__name__] = module
    for source in sources:
        code = compile(source, "<cell>", "exec")
        if allow_stubs:
            with contextlib.suppress(NotImplementedError):
                exec(code, module.__dict__)
        else:
            exec(code, module.__dict__)
    return module.__dict__


def with_planted_bug(sources: list[str], old: str, new: str) -> list[str]:
    """A copy of ``sources`` with ``old`` replaced by ``new`` in the one cell that contains it."""
    hits = [i for i, source in enumerate(sources) if old in source]
    assert len(hits) == 1, f"fixture text not found in exactly one cell ({len(hits)}): {old!r}"
    planted = list(sources)
    planted[hits[0]] = planted[hits[0]].replace(old, new)
    return planted


def run_check(qid: str, namespace: dict[str, Any]) -> QuestionResult:
    """Run one question's check on a namespace (in a worker thread, with a time limit)."""
    return run_question(get_question(qid), namespace, timeout=CHECK_TIMEOUT)


def assert_fails(check: Callable[[Any], None], impl: Any, *hint_fragments: str) -> str:
    """Assert that ``check(impl)`` raises CheckFailed whose message holds every fragment; return it."""
    with pytest.raises(CheckFailed) as info:
        check(impl)
    message = str(info.value)
    for fragment in hint_fragments:
        assert fragment in message, message
    return message


def stub(*args: Any, **kwargs: Any) -> Any:
    """What an exercise function does before the student writes it."""
    raise NotImplementedError("replace this line with your solution")


class StubClass:
    """What an exercise class does before the student writes it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("replace this line with your solution")


def assert_stubs_fail(stubs: dict[str, tuple[str, Any]], *, missing: str) -> None:
    """Each question ``qid -> (name, stub)`` fails with 0 points and a NotImplementedError hint, and
    question ``missing`` reports its name as missing from an empty notebook."""
    for qid, (name, value) in stubs.items():
        result = run_question(get_question(qid), {name: value})
        assert result.status == "failed" and result.score == 0, (qid, result)
        assert "NotImplementedError" in result.hint, (qid, result.hint)
    assert run_question(get_question(missing), {}).status == "missing"
