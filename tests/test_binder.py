"""The Binder recipe in ``binder/``: pins, start script, and a full build that runs every lesson offline.

The fast tests read the recipe's files and run ``binder/start``. The slow test does what repo2docker
does on a clean clone: a fresh virtual environment with the Python that ``runtime.txt`` names,
``pip install -r binder/requirements.txt``, ``binder/postBuild`` in the repository root, and then every
lesson notebook executed through ``binder/start`` with no network. It is the one test that reaches the
package registry (pip, with its cache), as Binder's build does; on two cores it takes about two
minutes when the machine is otherwise idle (pip 60 s, postBuild 6 s, the eleven lessons 45 s).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;#]+)$")


def _runtime_version() -> str:
    text = (BINDER / "runtime.txt").read_text().strip()
    match = re.fullmatch(r"python-(\d+\.\d+)", text)
    assert match, f"binder/runtime.txt should read like 'python-3.11', not {text!r}"
    return match.group(1)


def _pins() -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for number, raw in enumerate((BINDER / "requirements.txt").read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = PIN.match(line)
        assert match, f"binder/requirements.txt line {number} is not an exact pin (name==version): {raw!r}"
        name = canonicalize_name(match["name"])
        assert name not in pins, f"binder/requirements.txt pins {name} twice"
        pins[name] = Version(match["version"])
    return pins


def _project() -> dict:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        tomllib = pytest.importorskip("tomli", reason="reading pyproject.toml on Python 3.10 needs tomli")
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_runtime_names_a_supported_python() -> None:
    version = _runtime_version()
    requires = SpecifierSet(_project()["requires-python"])
    assert Version(version) in requires, (
        f"binder/runtime.txt asks for {version}; the project needs {requires}"
    )


def _binder_extras() -> tuple[str, ...]:
    spec = importlib.util.spec_from_file_location("pin_binder", ROOT / "scripts" / "pin_binder.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return tuple(module.EXTRAS)


def test_requirements_pin_every_dependency_the_lessons_need() -> None:
    pins = _pins()
    assert "course-lib" not in pins, "the course itself is installed by postBuild, not pinned"
    project = _project()
    extras = _binder_extras()
    missing = set(extras) - set(project.get("optional-dependencies", {}))
    assert not missing, f"scripts/pin_binder.py names extras that pyproject.toml lacks: {sorted(missing)}"
    wanted = list(project["dependencies"])
    for extra in extras:
        wanted += project["optional-dependencies"][extra]
    env = {**default_environment(), "python_version": _runtime_version()}
    stale = []
    for spec in wanted:
        req = Requirement(spec)
        if req.marker is not None and not req.marker.evaluate(env):
            continue
        pinned = pins.get(canonicalize_name(req.name))
        if pinned is None or not req.specifier.contains(pinned, prereleases=True):
            stale.append(f"{req} (pinned: {pinned or 'nothing'})")
    assert not stale, (
        "binder/requirements.txt is stale; run `python scripts/pin_binder.py`. Unmet: " + "; ".join(stale)
    )


def test_build_scripts_are_executable_bash() -> None:
    for name in ("postBuild", "start"):
        path = BINDER / name
        assert path.read_text().startswith("#!/usr/bin/env bash\n"), f"binder/{name} needs a bash shebang"
        assert os.access(path, os.X_OK), f"binder/{name} is not executable (chmod +x)"
    assert "set -euo pipefail" in (BINDER / "postBuild").read_text(), "postBuild must stop at the first error"
    if shutil.which("git") and (ROOT / ".git").exists():
        listed = subprocess.run(
            ["git", "ls-files", "-s", "binder/postBuild", "binder/start"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split("\n")
        modes = {line.split("\t")[1]: line.split()[0] for line in listed if line}
        for name, mode in modes.items():
            assert mode == "100755", (
                f"{name} is committed without the executable bit (git update-index --chmod=+x)"
            )


def test_jupyterlab_overrides_name_real_settings() -> None:
    """A misspelt plugin or setting would be ignored without a word, so check them against the schemas."""
    commands = pytest.importorskip("jupyterlab.commands", reason="JupyterLab is not installed here")
    jsonschema = pytest.importorskip("jsonschema")
    overrides = json.loads((BINDER / "jupyterlab-overrides.json").read_text())
    assert overrides, "binder/jupyterlab-overrides.json is empty"
    schemas = Path(commands.get_app_dir()) / "schemas"
    for plugin, values in overrides.items():
        package, name = plugin.split(":")
        schema_file = schemas / package / f"{name}.json"
        assert schema_file.exists(), f"JupyterLab has no settings plugin {plugin}"
        schema = json.loads(schema_file.read_text())
        assert set(values) <= set(schema["properties"]), (
            f"{plugin} has no setting(s) {set(values) - set(schema['properties'])}"
        )
        jsonschema.validate(values, {**schema, "required": []})


def _start(*command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BINDER / "start"), *command], env=env, capture_output=True, text=True, timeout=30
    )


def test_start_sets_the_offline_environment_and_keeps_a_chosen_provider() -> None:
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    shown = _start("env", env=base)
    assert shown.returncode == 0, shown.stderr
    env = dict(line.split("=", 1) for line in shown.stdout.splitlines() if "=" in line)
    assert env["COURSE_PROVIDER"] == "replay"
    assert env["HF_HUB_OFFLINE"] == "1"
    kept = _start("env", env={**base, "COURSE_PROVIDER": "openai"})
    assert "COURSE_PROVIDER=openai" in kept.stdout.splitlines()


def test_start_passes_the_command_exit_status_through() -> None:
    result = _start("sh", "-c", "echo out; exit 7", env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})
    assert (result.returncode, result.stdout) == (7, "out\n")


# --- the full build -------------------------------------------------------------------------------

RUNNER = r'''
"""Execute notebooks with nbclient; report errors, stderr and the kernel's interpreter as JSON."""
import json, re, sys, time
from datetime import datetime
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

PROBE = "import sys; print(sys.prefix)"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
report = []
for name in sys.argv[1:]:
    path = Path(name).resolve()
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(PROBE))
    client = NotebookClient(nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    error = None
    try:
        client.execute()
    except CellExecutionError as exc:
        error = ANSI.sub("", str(exc))[-3000:]
    except Exception as exc:  # a kernel that dies or a timeout
        error = f"{type(exc).__name__}: {exc}"[-3000:]
    seconds = time.perf_counter() - start
    problems, prefix, slowest = [], None, (None, 0.0)
    for index, cell in enumerate(nb.cells):
        timing = cell.get("metadata", {}).get("execution", {})
        if "iopub.execute_input" in timing and "shell.execute_reply" in timing:
            took = (datetime.fromisoformat(timing["shell.execute_reply"].replace("Z", "+00:00"))
                    - datetime.fromisoformat(timing["iopub.execute_input"].replace("Z", "+00:00"))).total_seconds()
            if took > slowest[1]:
                slowest = (index, round(took, 1))
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                problems.append(f"cell {index}: {out['ename']}: {ANSI.sub('', out['evalue'])}")
            elif out.get("output_type") == "stream" and out.get("name") == "stderr":
                problems.append(f"cell {index} wrote to stderr: {out['text'][:500]}")
    probe = nb.cells[-1].get("outputs", [])
    if probe and probe[0].get("output_type") == "stream":
        prefix = probe[0]["text"].strip()
    report.append({"notebook": path.name, "seconds": round(seconds, 1), "error": error,
                   "problems": problems, "kernel_prefix": prefix, "slowest_cell": slowest})
print(json.dumps(report))
'''


def _binder_python() -> str:
    version = _runtime_version()
    found = shutil.which(f"python{version}")
    if found:
        return found
    if f"{sys.version_info.major}.{sys.version_info.minor}" == version:
        return sys.executable
    pytest.skip(f"binder/runtime.txt asks for Python {version}, and no python{version} is on PATH")


def _copy_checkout(dest: Path) -> None:
    """The files a clean clone would have: every tracked file, as it is in the working tree."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for rel in filter(None, listed.decode().split("\0")):
        src = ROOT / rel
        if src.is_file():
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target)


def _run(cmd: list[str], *, cwd: Path, env: dict[str, str], timeout: float, what: str) -> str:
    try:
        done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{what} took longer than {timeout:.0f} s")
    if done.returncode != 0:
        pytest.fail(f"{what} failed (exit {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_binder_build_runs_every_lesson_offline(tmp_path: Path) -> None:
    if not (shutil.which("git") and (ROOT / ".git").exists()):
        pytest.skip("needs a git checkout to know which files a clean clone has")
    python = _binder_python()
    timings: dict[str, float] = {}
    repo, venv = tmp_path / "repo", tmp_path / "venv"
    _copy_checkout(repo)
    notebooks = sorted(
        p.relative_to(repo).as_posix() for p in (repo / "notebooks").glob("[0-9][0-9]_*.ipynb")
    )
    assert notebooks, "no lesson notebooks found in the checkout"

    # The build: the registry is reachable (pip cache allowed), as on Binder.
    env = {
        **os.environ,
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        "VIRTUAL_ENV": str(venv),
        "JUPYTER_CONFIG_DIR": str(tmp_path / "jupyter-config"),
        "JUPYTER_DATA_DIR": str(tmp_path / "jupyter-data"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "jupyter-runtime"),
        "JUPYTER_PLATFORM_DIRS": "1",
        "PYTHONNOUSERSITE": "1",
    }
    for var in ("PYTHONPATH", "PYTHONHOME", "COURSE_PROVIDER", "COURSE_RECORDINGS", "COURSE_MODEL"):
        env.pop(var, None)
    started = time.perf_counter()
    _run([python, "-m", "venv", str(venv)], cwd=repo, env=env, timeout=120, what="creating the venv")
    pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "--quiet"]
    _run(
        [*pip, "install", "-r", "binder/requirements.txt"], cwd=repo, env=env, timeout=900, what="pip install"
    )
    timings["venv + requirements"] = time.perf_counter() - started

    frozen = _run([*pip, "freeze"], cwd=repo, env=env, timeout=120, what="pip freeze")
    extra = sorted(
        line
        for line in frozen.splitlines()
        if "==" in line and canonicalize_name(line.split("==")[0]) not in _pins()
    )
    assert not extra, f"requirements.txt is not a closed set; pip also installed: {extra}"

    started = time.perf_counter()
    _run([str(repo / "binder" / "postBuild")], cwd=repo, env=env, timeout=600, what="binder/postBuild")
    timings["postBuild"] = time.perf_counter() - started
    installed = venv / "share" / "jupyter" / "lab" / "settings" / "overrides.d" / "course-lib.json"
    assert installed.exists(), "postBuild did not install the course's JupyterLab settings"
    assert json.loads(installed.read_text()) == json.loads((BINDER / "jupyterlab-overrides.json").read_text())
    _run([*pip, "check"], cwd=repo, env=env, timeout=120, what="pip check")

    # The lessons: offline. A proxy that refuses every connection catches any stray request.
    refuse = "http://127.0.0.1:9"
    offline = {
        **env,
        "HTTP_PROXY": refuse,
        "HTTPS_PROXY": refuse,
        "ALL_PROXY": refuse,
        "http_proxy": refuse,
        "https_proxy": refuse,
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    runner = tmp_path / "run_notebooks.py"
    runner.write_text(RUNNER)
    started = time.perf_counter()
    out = _run(
        [str(repo / "binder" / "start"), "python", str(runner), *notebooks],
        cwd=repo,
        env=offline,
        timeout=900,
        what="executing the lessons",
    )
    timings["lessons"] = time.perf_counter() - started
    report = json.loads(out.strip().splitlines()[-1])

    lines = [f"{name}: {seconds:.0f} s" for name, seconds in timings.items()]
    lines += [
        f"  {r['notebook']}: {r['seconds']} s (slowest: cell {r['slowest_cell'][0]}, {r['slowest_cell'][1]} s)"
        for r in report
    ]
    print("Binder build timings:\n" + "\n".join(lines))
    assert [r["notebook"] for r in report] == [Path(n).name for n in notebooks]
    failures = [
        f"{r['notebook']}: {r['error'] or ''} {' | '.join(r['problems'])}".strip()
        for r in report
        if r["error"] or r["problems"]
    ]
    assert not failures, "lessons failed on the Binder build:\n" + "\n".join(failures)
    wrong_kernel = [
        r["notebook"] for r in report if Path(r["kernel_prefix"] or "/").resolve() != venv.resolve()
    ]
    assert not wrong_kernel, f"these lessons ran outside the Binder environment {venv}: {wrong_kernel}"
