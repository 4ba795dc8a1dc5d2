"""The curated public API and the design choices that keep `import course_lib` fast."""

from __future__ import annotations

import subprocess
import sys

import course_lib

HEAVY = (
    "openai",
    "anthropic",
    "chromadb",
    "matplotlib",
    "onnxruntime",
    "tiktoken",
    "numpy",
    "ipywidgets",
    "httpx2",
)


def test_every_public_name_resolves_and_has_a_docstring():
    for name in course_lib.__all__:
        obj = getattr(course_lib, name)
        assert obj is not None, name
        if callable(obj):
            assert (obj.__doc__ or "").strip(), f"{name} has no docstring"


def test_all_is_sorted_and_unknown_names_raise():
    assert course_lib.__all__ == sorted(course_lib.__all__)
    try:
        course_lib.no_such_thing  # noqa: B018
    except AttributeError as err:
        assert "no_such_thing" in str(err)
    else:
        raise AssertionError("unknown attribute did not raise")


def test_import_does_not_load_heavy_dependencies():
    code = f"import sys, course_lib; print([m for m in {HEAVY!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_library_modules_import_lightly():
    """Importing the pure-logic modules must not drag in the SDKs, chromadb or matplotlib either."""
    modules = [
        "course_lib.conversation",
        "course_lib.prompts",
        "course_lib.voting",
        "course_lib.validators",
        "course_lib.orchestrator",
        "course_lib.cost",
        "course_lib.guards",
        "course_lib.routing",
        "course_lib.retrieval",
        "course_lib.plots",
        "course_lib.widgets",
    ]
    code = "import sys\n" + "\n".join(f"import {m}" for m in modules)
    code += "\nprint([m for m in ('openai', 'anthropic', 'chromadb', 'matplotlib', 'onnxruntime') if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
