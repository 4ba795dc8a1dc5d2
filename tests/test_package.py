"""The curated public API and the design choices that keep `import course_lib` fast."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import course_lib

PACKAGE = Path(course_lib.__file__).parent
LESSON_PACKAGES = sorted(p for p in (PACKAGE / "lessons").iterdir() if p.is_dir() and p.name.startswith("l"))

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
    ] + [
        f"course_lib.lessons.{pkg.name}.{part}"
        for pkg in LESSON_PACKAGES
        for part in ("plots", "widgets")
        if (pkg / f"{part}.py").exists()
    ]
    code = "import sys\n" + "\n".join(f"import {m}" for m in modules)
    code += "\nprint([m for m in ('openai', 'anthropic', 'chromadb', 'matplotlib', 'onnxruntime') if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_the_public_api_is_small_and_sorted():
    assert len(course_lib.__all__) <= 50
    assert course_lib.__all__ == sorted(course_lib.__all__)


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "data" not in p.relative_to(PACKAGE).parts)


def test_every_module_defines_all():
    missing = []
    for path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {
            t.id
            for node in tree.body
            if isinstance(node, ast.Assign | ast.AnnAssign)
            for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
            if isinstance(t, ast.Name)
        }
        if "__all__" not in names:
            missing.append(str(path.relative_to(PACKAGE)))
    assert missing == [], f"modules without __all__: {missing}"


def _imported_modules(path: Path) -> set[str]:
    """Every module a file imports (relative imports resolved), at any depth of the file."""
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = parts if parts[-1] == "__init__" else parts[:-1]
    if package[-1] == "__init__":
        package = package[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                found.add(".".join(base + ([node.module] if node.module else [])))
            elif node.module:
                found.add(node.module)
    return found


def test_the_core_never_imports_a_lesson_or_a_command():
    """Lessons sit above the reusable core: the arrows point one way."""
    offenders = []
    for path in _modules():
        rel = path.relative_to(PACKAGE).parts
        if rel[0] in ("lessons", "cli", "grading"):
            continue
        bad = {m for m in _imported_modules(path) if m.startswith(("course_lib.lessons", "course_lib.cli"))}
        if bad:
            offenders.append(f"{'/'.join(rel)} imports {sorted(bad)}")
    assert offenders == []


def test_the_checker_of_imports_sees_a_violation(tmp_path):
    """The check above can fail: a core-shaped file that imports a lesson is reported."""
    fake = PACKAGE / "lessons" / "l01_gigo" / "banking.py"
    assert any(
        m.startswith("course_lib.lessons")
        for m in _imported_modules(PACKAGE / "lessons" / "l01_gigo" / "scenario.py")
    )
    assert "course_lib.routing" in _imported_modules(fake)


def test_each_lesson_has_one_package_named_after_its_notebook():
    notebooks = {p.stem for p in (PACKAGE.parent / "notebooks").glob("[0-9][0-9]_*.ipynb")}
    for pkg in LESSON_PACKAGES:
        assert pkg.name[1:] in notebooks, f"{pkg.name} names no lesson notebook"
