"""Recording: a transport that forwards requests to a real server and writes what it answers (lesson 00).

Wrap a real transport (OpenAI, a local llama.cpp server) in :class:`RecordingTransport` and hand it to
the official SDK: every answer is stored as a ``recorded`` sample in a JSONL file, saved atomically
after each response so nothing is lost if the run dies. Request headers are never stored, response
headers are not stored either (replay adds its own), and anything shaped like a key is refused:
checked in the request *before* it is sent upstream (so it is neither sent nor billed), and again in
the answer before it is written (:mod:`course_lib.guards.secrets` lists the token families).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from datetime import date
from typing import Any

import httpx2
import openai

from course_lib.providers.replay.recordings import (
    Entry,
    Provenance,
    RecordingStore,
    SecretInRecordingError,
    canonical_request,
    check_no_secrets,
    endpoint_of,
    request_key,
)
from course_lib.providers.replay.responses import computed_usage

__all__ = [
    "ALLOWED_RESPONSE_HEADERS",
    "ENGINE_ENV",
    "MODEL_HASH_ENV",
    "RecordingTransport",
    "body_from_sse",
    "sample_from_body",
]

#: Environment variables a recording run uses to stamp the engine version and model hash on each entry.
ENGINE_ENV = "COURSE_RECORD_LLAMA_CPP_PYTHON"
MODEL_HASH_ENV = "COURSE_RECORD_MODEL_SHA256"

#: Response headers worth keeping on the response handed back to the SDK.
ALLOWED_RESPONSE_HEADERS = ("content-type", "retry-after", "retry-after-ms", "x-request-id")


class SecretInRequestError(SecretInRecordingError, openai.OpenAIError):
    """A request to be recorded holds something shaped like a credential; it was not sent."""


#: Usage fields a recording keeps: the counts, cached prompt tokens and hidden reasoning tokens.
_USAGE_FIELDS = (
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "prompt_tokens_details",
    "completion_tokens_details",
)


def sample_from_body(
    endpoint: str, body: dict[str, Any], request: dict[str, Any]
) -> tuple[dict[str, Any], bool]:
    """Normalise a real response body to a stored sample; return it and whether usage was computed."""
    if endpoint == "embeddings":
        sample = {
            "model": body.get("model", ""),
            "data": [{"index": d["index"], "embedding": d["embedding"]} for d in body["data"]],
            "usage": body.get("usage") or {},
        }
        return sample, False
    if endpoint == "completions":
        sample = {
            "model": body.get("model", ""),
            "choices": [
                {
                    "index": c.get("index", 0),
                    "text": c.get("text", ""),
                    "finish_reason": c.get("finish_reason"),
                }
                for c in body.get("choices", [])
            ],
            "usage": body.get("usage") or {},
        }
        return sample, not body.get("usage")
    choices = []
    for c in body.get("choices", []):
        message = c.get("message") or {}
        out = {"role": "assistant", "content": message.get("content")}
        if message.get("tool_calls"):
            out["tool_calls"] = message["tool_calls"]
        choice: dict[str, Any] = {
            "index": c.get("index", 0),
            "message": out,
            "finish_reason": c.get("finish_reason"),
        }
        if c.get("logprobs"):
            choice["logprobs"] = {"content": c["logprobs"].get("content")}
        choices.append(choice)
    sample: dict[str, Any] = {"model": body.get("model", ""), "choices": choices}
    usage = body.get("usage")
    computed = not usage
    sample["usage"] = (
        {k: usage[k] for k in _USAGE_FIELDS if usage.get(k) is not None}
        if usage
        else computed_usage(sample, model=body.get("model", ""), messages=request.get("messages", []))
    )
    return sample, computed


def body_from_sse(text: str) -> dict[str, Any]:
    """Assemble a streamed answer (server-sent events) into one ``chat.completion``-shaped body."""
    choices: dict[int, dict[str, Any]] = {}
    body: dict[str, Any] = {"model": "", "choices": []}
    for line in text.splitlines():
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]" or not data:
            continue
        event = json.loads(data)
        body["model"] = event.get("model") or body["model"]
        if event.get("usage"):
            body["usage"] = event["usage"]
        for c in event.get("choices", []):
            slot = choices.setdefault(
                c.get("index", 0),
                {"index": c.get("index", 0), "message": {"content": ""}, "finish_reason": None},
            )
            delta = c.get("delta") or {}
            slot["message"]["content"] += delta.get("content") or ""
            if c.get("finish_reason"):
                slot["finish_reason"] = c["finish_reason"]
            lp = (c.get("logprobs") or {}).get("content")
            if lp:
                slot.setdefault("logprobs", {"content": []})["content"].extend(lp)
    body["choices"] = [choices[i] for i in sorted(choices)]
    return body


class RecordingTransport:
    """Forwards to ``upstream`` (a real httpx2 transport) and stores each answer as a recorded sample."""

    def __init__(
        self,
        store: RecordingStore,
        upstream: httpx2.BaseTransport | None = None,
        *,
        server: str,
        replay_scripted: Callable[[httpx2.Request], httpx2.Response] | None = None,
        model_label: str | None = None,
        today: Callable[[], date] = date.today,
        llama_cpp_python: str | None = None,
        model_sha256: str | None = None,
    ) -> None:
        self.store = store
        self.upstream = upstream or httpx2.HTTPTransport()
        self.server = server
        self.replay_scripted = replay_scripted
        # The model that really answers, when the server echoes the requested name (llama.cpp does).
        self.model_label = model_label
        # The serving engine's version and the model file's hash for each entry's provenance; when not
        # given, COURSE_RECORD_LLAMA_CPP_PYTHON and COURSE_RECORD_MODEL_SHA256 (scripts/rerecord.py sets them).
        self.llama_cpp_python = llama_cpp_python or os.environ.get(ENGINE_ENV) or None
        self.model_sha256 = model_sha256 or os.environ.get(MODEL_HASH_ENV) or None
        self._today = today
        self._fresh: set[str] = set()
        self._lock = threading.Lock()
        self.recorded = 0

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        """Forward the request, store the answer, hand the SDK a clean copy of it."""
        endpoint = endpoint_of(request.url.path)
        body = json.loads(request.content or b"{}")
        canon = canonical_request(endpoint, body)
        try:  # before anything is sent: a refused prompt must not reach the server (or its bill)
            check_no_secrets(json.dumps(canon, ensure_ascii=False), what="to send this request for recording")
        except SecretInRecordingError as exc:
            raise SecretInRequestError(f"{exc} Nothing was sent.") from None
        key = request_key(canon)
        existing = self.store.get(key)
        if existing is not None and existing.provenance.source == "scripted" and self.replay_scripted:
            return self.replay_scripted(request)
        start = time.perf_counter()
        response = self.upstream.handle_request(request)
        content = response.read()
        latency = time.perf_counter() - start
        headers = {k: v for k, v in response.headers.items() if k.lower() in ALLOWED_RESPONSE_HEADERS}
        if response.status_code != 200:
            return httpx2.Response(response.status_code, headers=headers, content=content)
        text = content.decode("utf-8")
        if body.get("stream") and endpoint == "completions":
            raise ValueError(
                "recording streamed raw completions is not supported; record without stream=True"
            )
        real = body_from_sse(text) if body.get("stream") else json.loads(text)
        sample, computed = sample_from_body(endpoint, real, canon)
        sample["latency_s"] = round(latency, 4)
        self._store(key, canon, sample, computed, real.get("model") or canon.get("model"))
        return httpx2.Response(200, headers=headers, content=content)

    def _store(
        self, key: str, canon: dict[str, Any], sample: dict[str, Any], computed: bool, model: Any
    ) -> None:
        check_no_secrets(json.dumps(sample))
        with self._lock:
            entry = self.store.get(key)
            if entry is None or key not in self._fresh:
                entry = Entry(
                    key=key,
                    request=canon,
                    samples=[],
                    provenance=Provenance(
                        source="recorded",
                        model=str(self.model_label or model or ""),
                        server=self.server,
                        date=self._today().isoformat(),
                        usage="computed" if computed else "reported",
                        llama_cpp_python=self.llama_cpp_python,
                        model_sha256=self.model_sha256,
                    ),
                )
                self._fresh.add(key)
            entry.samples.append(sample)
            self.store.put(entry)
            self.store.save()
            self.recorded += 1
