"""Recording without a real model: the recorder's safety rules, merging runs, and ``course record``.

The upstream is an ``httpx2.MockTransport`` or a tiny fake OpenAI server on loopback; nothing here
needs the ``local`` extra or the network.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import httpx2
import openai
import pytest

from course_lib.cli.record import RecordSummary, merge_run, record_target, record_with, register
from course_lib.providers.local import free_port
from course_lib.providers.openai_adapter import OpenAIProvider
from course_lib.providers.replay import recordings as recordings_module
from course_lib.providers.replay.recorder import RecordingTransport
from course_lib.providers.replay.recordings import (
    RecordingStore,
    SecretInRecordingError,
    canonical_request,
    request_key,
)
from course_lib.providers.replay.transport import ReplayTransport

KEY = "sk-" + "test-0123456789abcdefghijklmnop"  # built at run time: no key-shaped text in the repo
HI = [{"role": "user", "content": "hi"}]


def _body(content: str, model: str = "fake-model") -> dict:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
    }


class Upstream:
    """A MockTransport upstream that answers ``reply #n`` and remembers what it saw."""

    def __init__(self, reply=lambda request, n: f"reply #{n}") -> None:
        self.reply = reply
        self.requests: list[httpx2.Request] = []

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        content = self.reply(request, len(self.requests))
        return httpx2.Response(
            200, json=_body(content), headers={"set-cookie": "session=abc", "x-request-id": "req-1"}
        )


def _recording_provider(store, upstream, **kw) -> tuple[OpenAIProvider, RecordingTransport]:
    recorder = RecordingTransport(
        store, httpx2.MockTransport(upstream.handle), server="mock", today=lambda: date(2025, 1, 2), **kw
    )
    client = openai.OpenAI(
        api_key=KEY,
        base_url="http://upstream.invalid/v1",
        max_retries=0,
        http_client=httpx2.Client(transport=httpx2.MockTransport(recorder.handle)),
    )
    return OpenAIProvider(client, model="fake-model", sleep=lambda _: None), recorder


def test_recorder_refuses_a_response_that_contains_a_key(tmp_path):
    path = tmp_path / "r.jsonl"
    upstream = Upstream(reply=lambda request, n: f"the key is {KEY}")
    provider, _ = _recording_provider(RecordingStore(path), upstream)
    with pytest.raises(SecretInRecordingError, match="looks like a key"):
        provider.complete(HI)
    assert len(upstream.requests) == 1  # refused once, not retried
    assert not path.exists()


def test_recorder_stores_no_request_headers_and_only_allowed_response_headers(tmp_path):
    path = tmp_path / "r.jsonl"
    upstream = Upstream()
    provider, _ = _recording_provider(RecordingStore(path), upstream)
    raw = provider.client.chat.completions.with_raw_response.create(
        model="fake-model", messages=HI, temperature=0
    )
    assert raw.parse().choices[0].message.content == "reply #1"
    assert "set-cookie" not in raw.headers and raw.headers["x-request-id"] == "req-1"
    assert upstream.requests[0].headers["authorization"] == f"Bearer {KEY}"  # it was sent upstream …
    text = path.read_text(encoding="utf-8")  # … and is nowhere in the file
    assert KEY not in text and "authorization" not in text.lower() and "bearer" not in text.lower()
    (entry,) = (json.loads(line) for line in text.splitlines())
    assert set(entry) == {"key", "request", "samples", "provenance"}
    assert entry["request"] == {
        "endpoint": "chat.completions",
        "model": "fake-model",
        "messages": HI,
        "temperature": 0,
    }
    assert entry["provenance"] == {
        "source": "recorded",
        "model": "fake-model",
        "server": "mock",
        "date": "2025-01-02",
        "note": None,
        "usage": "reported",
    }
    assert entry["samples"][0]["usage"] == {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}


def test_rerecording_keeps_scripted_entries_and_untouched_entries(tmp_path):
    path = tmp_path / "lesson.jsonl"
    store = RecordingStore(path)
    store.add_scripted(messages=HI, responses=["scripted answer"], model="fake-model", note="ours")
    old = [{"role": "user", "content": "old question"}]
    other = [{"role": "user", "content": "not asked again"}]
    for messages in (old, other):
        canon = canonical_request("chat.completions", {"model": "fake-model", "messages": messages})
        store.put(
            recordings_module.Entry(
                key=request_key(canon),
                request=canon,
                samples=[{"model": "fake-model", "choices": [], "usage": {}}],
                provenance=recordings_module.Provenance(source="recorded", server="old", date="2024-01-01"),
            )
        )
    store.save()
    before = {json.loads(line)["key"]: line for line in path.read_text().splitlines()}

    upstream = Upstream()
    replay = ReplayTransport(path)
    provider, _ = _recording_provider(RecordingStore(path), upstream, replay_scripted=replay.handle)
    assert provider.complete(HI).text == "scripted answer"
    assert provider.complete(old).text == "reply #1"
    assert len(upstream.requests) == 1  # the scripted request never went upstream

    after = {json.loads(line)["key"]: line for line in path.read_text().splitlines()}
    assert set(after) == set(before)
    old_key = request_key(canonical_request("chat.completions", {"model": "fake-model", "messages": old}))
    for key in before:
        if key == old_key:
            assert json.loads(after[key])["provenance"]["date"] == "2025-01-02"
        else:
            assert after[key] == before[key]  # byte for byte


def test_recorder_saves_atomically_after_each_response(tmp_path, monkeypatch):
    path = tmp_path / "r.jsonl"
    seen: list[int] = []

    def reply(request, n):
        # When request n arrives, the file already holds the n-1 answers before it, and parses.
        seen.append(len(RecordingStore(path)) if path.exists() else 0)
        return f"reply #{n}"

    provider, recorder = _recording_provider(RecordingStore(path), Upstream(reply))
    for i in range(3):
        provider.complete([{"role": "user", "content": f"question {i}"}])
        assert len(RecordingStore(path)) == i + 1
    assert seen == [0, 1, 2]
    assert recorder.recorded == 3

    good = path.read_text(encoding="utf-8")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(recordings_module.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        provider.complete([{"role": "user", "content": "question 3"}])
    assert path.read_text(encoding="utf-8") == good  # the old file is intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.jsonl"]  # no temp file left behind


# --------------------------------------------------------------------------- merging runs


def _run_file(path: Path, messages, texts) -> Path:
    """A scratch file as one recording run leaves it: one entry with ``texts`` as samples."""
    upstream = Upstream(reply=lambda request, n: texts[n - 1])
    provider, _ = _recording_provider(RecordingStore(path), upstream)
    for _ in texts:
        provider.complete(messages)
    return path


def test_merge_run_replaces_on_the_first_run_and_appends_on_later_runs(tmp_path):
    target = RecordingStore(tmp_path / "target.jsonl")
    target.add_scripted(messages=HI, responses=["scripted"], model="fake-model", note="ours")
    q = [{"role": "user", "content": "q"}]
    canon = canonical_request("chat.completions", {"model": "fake-model", "messages": q})
    target.put(
        recordings_module.Entry(
            key=request_key(canon),
            request=canon,
            samples=[{"model": "x", "choices": [], "usage": {}}],
            provenance=recordings_module.Provenance(source="recorded", date="2024-01-01"),
        )
    )
    summary = RecordSummary(path=target.path)
    merge_run(target, _run_file(tmp_path / "run0.jsonl", q, ["a", "b"]), summary)
    merge_run(target, _run_file(tmp_path / "run1.jsonl", q, ["c"]), summary)
    merge_run(target, tmp_path / "missing.jsonl", summary)

    saved = RecordingStore(target.path)
    entry = saved.get(request_key(canon))
    assert [s["choices"][0]["message"]["content"] for s in entry.samples] == ["a", "b", "c"]
    assert entry.provenance.date == "2025-01-02"
    scripted = [e for e in saved.entries.values() if e.provenance.source == "scripted"]
    assert len(scripted) == 1 and scripted[0].samples[0]["choices"][0]["message"]["content"] == "scripted"
    assert (summary.entries, summary.samples) == (1, 3)
    assert "recorded 1 entries (3 samples)" in summary.describe()


# --------------------------------------------------------------------------- a fake server on loopback


class _FakeOpenAI(BaseHTTPRequestHandler):
    calls: ClassVar[list[dict]] = []

    def log_message(self, *args) -> None:  # keep stderr quiet
        pass

    def _send(self, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._send({"object": "list", "data": [{"id": "fake-model", "object": "model"}]})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        self.calls.append({"body": body, "auth": self.headers.get("authorization")})
        self._send(_body(f"{body['messages'][-1]['content']} → answer {len(self.calls)}", body["model"]))


@pytest.fixture
def fake_server() -> Iterator[str]:
    """An OpenAI-shaped server on a free loopback port; yields its base URL."""
    _FakeOpenAI.calls = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeOpenAI)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_record_with_runs_a_function_k_times_and_appends_samples(fake_server, tmp_path):
    into = tmp_path / "api.jsonl"

    def lesson(provider):
        provider.complete([{"role": "user", "content": "vote"}], temperature=0.9)

    env = {"COURSE_BASE_URL": fake_server, "COURSE_API_KEY": KEY}
    summary = record_with("openai-compatible", into, lesson, samples=3, model="fake-model", env=env)
    assert (summary.entries, summary.samples, summary.runs) == (1, 3, 3)
    (entry,) = RecordingStore(into).entries.values()
    texts = [s["choices"][0]["message"]["content"] for s in entry.samples]
    assert texts == ["vote → answer 1", "vote → answer 2", "vote → answer 3"]
    assert entry.provenance.server == "openai-compatible"
    assert _FakeOpenAI.calls[0]["auth"] == f"Bearer {KEY}" and KEY not in into.read_text()

    replay = ReplayTransport(into).openai_client()
    again = [
        replay.chat.completions.create(
            model="fake-model", messages=[{"role": "user", "content": "vote"}], temperature=0.9
        )
        for _ in range(3)
    ]
    assert [r.choices[0].message.content for r in again] == texts


def test_record_with_rejects_unknown_upstreams(tmp_path):
    with pytest.raises(ValueError, match="cannot record from 'replay'"):
        record_with("replay", tmp_path / "x.jsonl", lambda p: None)
    with pytest.raises(ValueError, match="at least 1"):
        record_with("local", tmp_path / "x.jsonl", lambda p: None, samples=0)


SCRIPT = """
from course_lib.providers.registry import get_provider
p = get_provider(model="fake-model")
print(p.complete([{"role": "user", "content": "from a script"}]).text)
"""


def test_record_target_runs_a_script_with_the_record_provider(fake_server, tmp_path):
    script = tmp_path / "lesson.py"
    script.write_text(SCRIPT, encoding="utf-8")
    into = tmp_path / "lesson.jsonl"
    env = {"COURSE_BASE_URL": fake_server, "COURSE_API_KEY": "none"}
    code, summary = record_target(script, upstream="openai-compatible", into=into, samples=2, env=env)
    assert code == 0
    assert (summary.entries, summary.samples, summary.runs) == (1, 2, 2)
    (entry,) = RecordingStore(into).entries.values()
    assert entry.request["messages"] == [{"role": "user", "content": "from a script"}]
    assert len(entry.samples) == 2


def test_record_target_keeps_what_a_failing_script_recorded(fake_server, tmp_path):
    script = tmp_path / "lesson.py"
    script.write_text(SCRIPT + "raise SystemExit(3)\n", encoding="utf-8")
    into = tmp_path / "lesson.jsonl"
    env = {"COURSE_BASE_URL": fake_server}
    code, summary = record_target(script, upstream="openai-compatible", into=into, samples=3, env=env)
    assert code == 3 and summary.runs == 1 and summary.samples == 1
    assert len(RecordingStore(into)) == 1


def test_record_target_executes_a_notebook(fake_server, tmp_path):
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(f"import sys\nassert sys.executable == {sys.executable!r}, sys.executable"),
        nbformat.v4.new_code_cell(SCRIPT),
    ]
    notebook = tmp_path / "lesson.ipynb"
    nbformat.write(nb, notebook)
    into = tmp_path / "nb.jsonl"
    env = {"COURSE_BASE_URL": fake_server}
    code, summary = record_target(notebook, upstream="openai-compatible", into=into, env=env, timeout=60)
    assert code == 0 and summary.samples == 1
    assert _FakeOpenAI.calls[0]["body"]["messages"][0]["content"] == "from a script"


def test_a_failing_notebook_keeps_its_recordings_and_reports_the_cell(fake_server, tmp_path, capsys):
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(SCRIPT), nbformat.v4.new_code_cell("raise ValueError('boom')")]
    notebook = tmp_path / "broken.ipynb"
    nbformat.write(nb, notebook)
    into = tmp_path / "nb.jsonl"
    env = {"COURSE_BASE_URL": fake_server}
    code, summary = record_target(notebook, upstream="openai-compatible", into=into, samples=2, env=env)
    assert code == 1 and summary.runs == 1 and summary.samples == 1
    assert len(RecordingStore(into)) == 1
    err = capsys.readouterr().err
    assert "broken.ipynb failed while recording" in err and "boom" in err


# --------------------------------------------------------------------------- the CLI's checks


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="course")
    register(parser.add_subparsers())
    return parser.parse_args(argv)


@pytest.fixture
def script(tmp_path) -> Path:
    path = tmp_path / "lesson.py"
    path.write_text(SCRIPT, encoding="utf-8")
    return path


def test_cli_refuses_start_local_with_another_upstream(script, tmp_path, capsys):
    args = _parse(
        ["record", "--into", str(tmp_path / "x.jsonl"), "--upstream", "openai", "--start-local", str(script)]
    )
    assert args.func(args) == 2
    assert "--start-local only applies to --upstream local" in capsys.readouterr().err


def test_cli_explains_a_missing_key(script, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    args = _parse(["record", "--into", str(tmp_path / "x.jsonl"), "--upstream", "openai", "--", str(script)])
    assert args.func(args) == 2
    assert "OPENAI_API_KEY" in capsys.readouterr().err
    assert not (tmp_path / "x.jsonl").exists()


def test_cli_explains_that_no_local_server_answers(script, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COURSE_LOCAL_URL", f"http://127.0.0.1:{free_port()}/v1")
    args = _parse(["record", "--into", str(tmp_path / "x.jsonl"), "--", str(script)])
    assert args.func(args) == 2
    err = capsys.readouterr().err
    assert "nothing answers at" in err and "course serve-local" in err and "--start-local" in err


def test_cli_rejects_a_target_that_is_not_a_script_or_notebook(tmp_path, capsys):
    args = _parse(["record", "--into", "x", str(tmp_path / "missing.py")])
    assert args.func(args) == 2
    assert "not an existing .py script or .ipynb notebook" in capsys.readouterr().err


def test_cli_records_a_script_and_prints_the_counts(fake_server, script, tmp_path, capfd, monkeypatch):
    monkeypatch.setenv("COURSE_BASE_URL", fake_server)
    into = tmp_path / "cli.jsonl"
    args = _parse(
        [
            "record",
            "--into",
            str(into),
            "--upstream",
            "openai-compatible",
            "--samples",
            "2",
            "--",
            str(script),
        ]
    )
    assert args.func(args) == 0
    out = capfd.readouterr().out
    assert "from a script → answer 1" in out and "from a script → answer 2" in out
    assert f"recorded 1 entries (2 samples) into {into} in 2 runs" in out
