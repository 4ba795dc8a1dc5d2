"""scripts/rerecord.py: every local-model measurement re-recorded, resumably, with the engine in provenance."""

from __future__ import annotations

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx2
import pytest

from course_lib.providers.replay.recorder import ENGINE_ENV, MODEL_HASH_ENV, RecordingTransport
from course_lib.providers.replay.recordings import Provenance, RecordingStore

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import rerecord  # noqa: E402

ASK = {"model": "fake-model", "messages": [{"role": "user", "content": "Name one colour."}]}
ANSWER = {
    "id": "x",
    "object": "chat.completion",
    "created": 0,
    "model": "fake-model",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "blue"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6},
}


# --------------------------------------------------------------------------- provenance


def _record_one(tmp_path: Path, **kwargs) -> Provenance:
    upstream = httpx2.MockTransport(lambda request: httpx2.Response(200, json=ANSWER))
    store = RecordingStore(tmp_path / "r.jsonl")
    recorder = RecordingTransport(store, upstream, server="fake", **kwargs)
    request = httpx2.Request("POST", "http://fake/v1/chat/completions", json=ASK)
    assert recorder.handle(request).status_code == 200
    (entry,) = RecordingStore(tmp_path / "r.jsonl").entries.values()
    return entry.provenance


def test_each_entry_stores_the_engine_version_and_model_hash(tmp_path):
    prov = _record_one(tmp_path, llama_cpp_python="0.3.36", model_sha256="ab" * 32)
    assert (prov.llama_cpp_python, prov.model_sha256) == ("0.3.36", "ab" * 32)
    saved = json.loads((tmp_path / "r.jsonl").read_text())["provenance"]
    assert saved["llama_cpp_python"] == "0.3.36" and saved["model_sha256"] == "ab" * 32


def test_the_recorder_reads_them_from_the_environment_of_a_recording_run(tmp_path, monkeypatch):
    monkeypatch.setenv(ENGINE_ENV, "9.9.9")
    monkeypatch.setenv(MODEL_HASH_ENV, "cd" * 32)
    prov = _record_one(tmp_path)
    assert (prov.llama_cpp_python, prov.model_sha256) == ("9.9.9", "cd" * 32)


def test_entries_without_them_keep_their_stored_form(tmp_path, monkeypatch):
    monkeypatch.delenv(ENGINE_ENV, raising=False)
    monkeypatch.delenv(MODEL_HASH_ENV, raising=False)
    _record_one(tmp_path)
    saved = json.loads((tmp_path / "r.jsonl").read_text())["provenance"]
    assert "llama_cpp_python" not in saved and "model_sha256" not in saved
    assert set(Provenance(source="scripted").model_dump(mode="json")) == {
        "source", "model", "server", "date", "note", "usage"
    }  # fmt: skip


def test_file_sha256_is_the_hash_of_the_bytes(tmp_path):
    import hashlib

    path = tmp_path / "model.gguf"
    path.write_bytes(b"x" * 3_000_000)
    assert rerecord.file_sha256(path, chunk=1 << 16) == hashlib.sha256(b"x" * 3_000_000).hexdigest()


# --------------------------------------------------------------------------- what it runs


def test_it_finds_every_local_recording_script_and_experiment():
    targets = {t.name: t for t in rerecord.discover()}
    local = sorted(
        p.relative_to(ROOT).as_posix() for p in (ROOT / "scripts" / "recordings").glob("*_local.py")
    )
    experiments = sorted(
        p.relative_to(ROOT).as_posix() for p in (ROOT / "scripts" / "experiments").glob("*.py")
    )
    assert sorted(targets) == sorted(local + experiments)
    assert targets["scripts/recordings/05_self_consistency_local.py"].into == "05_self_consistency"
    vote = targets["scripts/experiments/05_vote_accuracy.py"]
    assert vote.into == "05_self_consistency" and vote.args == ("--write",)
    assert not any(name.endswith(("/08_token_economics.py", "/09_role_deep_dives.py")) for name in targets)


# --------------------------------------------------------------------------- resuming


def _targets(tmp_path: Path, n: int) -> list[rerecord.Target]:
    return [rerecord.Target(tmp_path / f"0{i}_x_local.py", f"0{i}_x") for i in range(n)]


def test_an_interrupted_run_resumes_where_it_stopped(tmp_path):
    targets, state, calls, lines = _targets(tmp_path, 4), tmp_path / "state.json", [], []
    provenance = {ENGINE_ENV: "0.3.36", MODEL_HASH_ENV: "ab" * 32}

    def interrupted(target, env):
        if len(calls) == 2:
            raise KeyboardInterrupt
        calls.append((target.name, dict(env)))
        return 0, {"entries": 3, "samples": 5}

    with pytest.raises(KeyboardInterrupt):
        rerecord.run_all(
            targets, interrupted, state, provenance, env={"COURSE_LOCAL_URL": "u"}, out=lines.append
        )
    assert [name for name, _ in calls] == [t.name for t in targets[:2]]
    assert calls[0][1] == {"COURSE_LOCAL_URL": "u", **provenance}
    assert sorted(json.loads(state.read_text())["done"]) == [t.name for t in targets[:2]]

    resumed: list[str] = []
    code = rerecord.run_all(targets, lambda t, env: (resumed.append(t.name) or 0, {}), state, provenance,
                            out=lines.append)  # fmt: skip
    assert code == 0 and resumed == [t.name for t in targets[2:]]
    progress = lines[next(i for i, line in enumerate(lines) if "2 of 4 scripts already done" in line) :]
    assert progress[1].startswith("[3/4]") and progress[2].strip().startswith("done in")
    assert progress[3].startswith("[4/4]") and "left" in progress[3]  # an estimate once one script has run
    assert progress[-1].startswith("all 4 scripts re-recorded")


def test_a_failed_script_is_reported_and_retried_next_time(tmp_path):
    targets, state, lines = _targets(tmp_path, 3), tmp_path / "state.json", []
    code = rerecord.run_all(
        targets, lambda t, env: (1 if "01_" in t.name else 0, {}), state, {}, out=lines.append
    )
    assert code == 1 and any("FAILED with exit code 1" in line for line in lines)
    retried: list[str] = []
    assert (
        rerecord.run_all(
            targets, lambda t, env: (retried.append(t.name) or 0, {}), state, {}, out=lines.append
        )
        == 0
    )
    assert retried == [targets[1].name]


def test_another_engine_or_model_starts_a_new_run(tmp_path):
    targets, state = _targets(tmp_path, 2), tmp_path / "state.json"
    rerecord.run_all(targets, lambda t, env: (0, {}), state, {ENGINE_ENV: "1"}, out=lambda line: None)
    again: list[str] = []
    rerecord.run_all(targets, lambda t, env: (again.append(t.name) or 0, {}), state, {ENGINE_ENV: "2"},
                     out=lambda line: None)  # fmt: skip
    assert again == [t.name for t in targets]


# --------------------------------------------------------------------------- end to end


SCRIPT = """
from course_lib.providers.registry import get_provider

print(get_provider(model="fake-model").complete([{"role": "user", "content": "Name one colour."}]).text)
"""


def _project(tmp_path: Path, script: str = SCRIPT) -> Path:
    root = tmp_path / "project"
    (root / "notebooks" / "src").mkdir(parents=True)
    (root / "notebooks" / "src" / "01_demo.py").write_text("# %%\n")
    (root / "scripts" / "recordings").mkdir(parents=True)
    (root / "scripts" / "recordings" / "01_demo_local.py").write_text(script)
    return root


class _FakeUpstream(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers["content-length"]))
        body = json.dumps(ANSWER).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_the_command_records_a_script_against_a_fake_upstream(tmp_path, monkeypatch, capsys):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeUpstream)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("COURSE_BASE_URL", f"http://127.0.0.1:{server.server_port}/v1")
        monkeypatch.setenv(ENGINE_ENV, "0.0.0-test")
        monkeypatch.setenv(MODEL_HASH_ENV, "ef" * 32)
        root, state = _project(tmp_path), tmp_path / "state.json"
        argv = ["--root", str(root), "--patterns", "scripts/recordings/*_local.py", "--upstream",
                "openai-compatible", "--recordings-dir", str(tmp_path / "rec"), "--state", str(state)]  # fmt: skip
        assert rerecord.main(argv) == 0
        out = capsys.readouterr().out
        assert "[1/1] scripts/recordings/01_demo_local.py → 01_demo" in out and "1 entries, 1 samples" in out
        (entry,) = RecordingStore(tmp_path / "rec" / "01_demo.jsonl").entries.values()
        assert (
            entry.provenance.source == "recorded"
            and entry.samples[0]["choices"][0]["message"]["content"] == "blue"
        )
        assert (entry.provenance.llama_cpp_python, entry.provenance.model_sha256) == ("0.0.0-test", "ef" * 32)
        assert rerecord.main(argv) == 0  # the state says it is done: nothing runs again
        assert "1 of 1 scripts already done" in capsys.readouterr().out
    finally:
        server.shutdown()


@pytest.mark.local
def test_the_command_records_one_small_script_on_the_real_local_model(tmp_path, local_server, monkeypatch):
    script = (ROOT / "scripts" / "recordings" / "00_setup_local.py").read_text()
    root, state = _project(tmp_path, script.replace("range(3)", "range(1)")), tmp_path / "state.json"
    argv = ["--root", str(root), "--patterns", "scripts/recordings/*_local.py", "--no-start-local",
            "--recordings-dir", str(tmp_path / "rec"), "--state", str(state)]  # fmt: skip
    monkeypatch.setenv("COURSE_LOCAL_URL", local_server.url)
    assert rerecord.main(argv) == 0
    (entry,) = RecordingStore(tmp_path / "rec" / "01_demo.jsonl").entries.values()
    prov = entry.provenance
    from importlib.metadata import version

    from course_lib.providers.local import model_path

    assert prov.source == "recorded" and prov.model == "SmolLM2-135M-Instruct"
    assert prov.llama_cpp_python == version("llama-cpp-python")
    assert prov.model_sha256 == rerecord.file_sha256(model_path())
    assert json.loads(state.read_text())["done"]["scripts/recordings/01_demo_local.py"]["code"] == 0
