"""The provider table is the one place provider kinds are defined; everything else derives from it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

from course_lib.providers.base import ConfigurationError
from course_lib.providers.kinds import TABLE_ENV, kind_names, load_kinds, markdown_table, recordable_kinds
from course_lib.providers.registry import get_provider, provider_config

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _table() -> dict:
    return json.loads((resources.files("course_lib") / "data" / "providers.json").read_text(encoding="utf-8"))


@pytest.fixture
def extra_preset(tmp_path) -> dict[str, str]:
    """An environment whose provider table is a copy of the course's with one more row."""
    table = _table()
    table["kinds"].append(
        {
            "name": "lmstudio",
            "adapter": "openai",
            "talks_to": "LM Studio on this machine",
            "base_url": "http://127.0.0.1:1234/v1",
            "url_env": "COURSE_BASE_URL",
            "key_env": None,
            "key_required": False,
            "default_model": "qwen2.5-0.5b-instruct",
            "recordable": True,
            "paid": False,
        }
    )
    path = tmp_path / "providers.json"
    path.write_text(json.dumps(table), encoding="utf-8")
    return {TABLE_ENV: str(path), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)


def test_the_readme_table_is_the_provider_table():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- providers:start -->\n(.*?)\n<!-- providers:end -->", readme, re.S)
    assert found, "README.md lost its <!-- providers:start --> … <!-- providers:end --> block"
    assert found.group(1).strip() == markdown_table(), (
        "README's provider table differs from course_lib/data/providers.json; paste markdown_table()"
    )


def test_lesson_00_shows_the_table_from_the_data():
    nb = json.loads((ROOT / "notebooks" / "00_setup.ipynb").read_text(encoding="utf-8"))
    sources = ["".join(c["source"]) for c in nb["cells"]]
    assert any("markdown_table()" in s for s in sources if s), "lesson 00 should render markdown_table()"
    assert not any("| `openai-compatible` |" in s for s in sources), "lesson 00 keeps a hand-written copy"


def test_an_added_row_reaches_get_provider(extra_preset):
    assert "lmstudio" in kind_names(extra_preset)
    assert "lmstudio" in recordable_kinds(extra_preset)
    assert "lmstudio" not in kind_names({})
    config = provider_config("lmstudio", env=extra_preset)
    assert config == {
        "provider": "lmstudio",
        "model": "qwen2.5-0.5b-instruct",
        "base_url": "http://127.0.0.1:1234/v1",
        "key_set": False,
    }
    provider = get_provider("lmstudio", env=extra_preset)
    assert provider.name == "lmstudio"
    assert provider.model == "qwen2.5-0.5b-instruct"
    with pytest.raises(ConfigurationError, match="lmstudio"):
        get_provider("lmstudio", env={"PATH": "/usr/bin"})  # not in the course's own table


def test_an_added_row_reaches_the_command_line_help(extra_preset):
    course = _run([str(BIN / "course"), "--help"], extra_preset)
    assert course.returncode == 0, course.stderr
    assert "lmstudio" in course.stdout and "LM Studio on this machine" in course.stdout
    cot = _run([str(BIN / "cot-orchestrator"), "--help"], extra_preset)
    assert cot.returncode == 0, cot.stderr
    assert "lmstudio" in cot.stdout
    record = _run([str(BIN / "course"), "record", "--help"], extra_preset)
    assert "lmstudio" in record.stdout
    plain = _run([str(BIN / "course"), "--help"], {"PATH": "/usr/bin:/bin"})
    assert "lmstudio" not in plain.stdout and "ollama" in plain.stdout


def test_an_added_row_reaches_course_doctor(extra_preset):
    doctor = _run([str(BIN / "course"), "doctor"], {**extra_preset, "COURSE_PROVIDER": "lmstudio"})
    assert "lmstudio" in doctor.stdout
    assert "provider=lmstudio, model=qwen2.5-0.5b-instruct" in doctor.stdout


def test_ollama_and_vllm_are_one_row_each():
    kinds = load_kinds({})
    assert kinds["ollama"].base_url == "http://127.0.0.1:11434/v1"
    assert kinds["vllm"].base_url == "http://127.0.0.1:8000/v1"
    assert provider_config("ollama", env={})["base_url"] == "http://127.0.0.1:11434/v1"
    assert provider_config("vllm", env={"COURSE_BASE_URL": "http://127.0.0.1:9000/v1"})["base_url"] == (
        "http://127.0.0.1:9000/v1"
    )
    with pytest.raises(ConfigurationError, match="COURSE_MODEL"):
        get_provider("vllm", env={})


def test_a_broken_table_says_what_to_fix(tmp_path):
    bad = tmp_path / "providers.json"
    bad.write_text('{"kinds": [{"name": "x", "adapter": "openai", "talks_to": "?"}]}', encoding="utf-8")
    with pytest.raises(ConfigurationError, match="base_url or url_env"):
        load_kinds({TABLE_ENV: str(bad)})
    with pytest.raises(ConfigurationError, match="cannot be read"):
        load_kinds({TABLE_ENV: str(tmp_path / "missing.json")})


def test_record_and_replay_agree_on_the_default_model():
    """A script that names no model records under the model replay will ask for."""
    env = {"COURSE_RECORD_TO": "x.jsonl", "COURSE_RECORD_UPSTREAM": "local"}
    assert provider_config("record", env=env)["model"] == provider_config("replay", env={})["model"]
