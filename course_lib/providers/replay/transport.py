"""The recorded-response fake: an HTTP transport that answers the official ``openai`` SDK from recordings (lesson 00).

``client.chat.completions.create(...)`` runs unchanged offline: the SDK builds a real HTTP request,
this transport looks up its canonical key in the JSONL recordings and answers with a real-shaped
response (JSON or a server-sent-event stream), which the SDK then parses for real.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import openai

from course_lib.providers.replay.recordings import (
    RECORDINGS_DIR,
    Entry,
    RecordingStore,
    canonical_request,
    endpoint_of,
    field_diff,
    nearest_request,
    request_key,
    resolve_recordings,
)
from course_lib.providers.replay.responses import (
    chat_chunks,
    chat_completion_body,
    completion_body,
    completion_chunks,
    embeddings_body,
)
from course_lib.providers.replay.scope import current_sample

__all__ = [
    "REPLAY_BASE_URL",
    "LatencyModel",
    "ReplayAmbiguousError",
    "ReplayExhaustedError",
    "ReplayMissError",
    "ReplayTransport",
    "default_recording_files",
    "replay_clients",
]

REPLAY_BASE_URL = "http://replay.course.invalid/v1"


class ReplayMissError(openai.OpenAIError):
    """No recording matches this request; the message shows the nearest one and how to record it."""


class ReplayAmbiguousError(openai.OpenAIError):
    """Two recordings files answer this request differently; name the file with ``recordings=``."""


class ReplayExhaustedError(openai.OpenAIError):
    """This request was recorded, but every recorded sample has been used already."""


@dataclass(frozen=True)
class LatencyModel:
    """Simulated latency: time to first token plus time per streamed piece, scaled (lesson 04)."""

    ttft_s: float = 0.0
    per_token_s: float = 0.0
    use_recorded: bool = False
    scale: float = 1.0

    def first(self, sample: dict[str, Any]) -> float:
        """Seconds before the first byte of the answer."""
        if self.use_recorded and sample.get("latency_s") is not None:
            return float(sample["latency_s"]) * self.scale
        return self.ttft_s * self.scale

    def per_piece(self) -> float:
        """Seconds between streamed pieces."""
        return 0.0 if self.use_recorded else self.per_token_s * self.scale

    def total(self, sample: dict[str, Any], pieces: int) -> float:
        """Seconds a non-streamed answer takes in all."""
        return self.first(sample) + self.per_piece() * pieces


def default_recording_files() -> list[Path]:
    """Every packaged recordings file plus the files named in ``COURSE_RECORDINGS`` (os.pathsep-separated)."""
    files = sorted(RECORDINGS_DIR.glob("*.jsonl"))
    extra = os.environ.get("COURSE_RECORDINGS", "")
    files += [Path(p) for p in extra.split(os.pathsep) if p]
    return files


class ReplayTransport:
    """Serves recorded samples to the ``openai`` SDK through ``httpx2.MockTransport`` (sync and async)."""

    def __init__(
        self,
        recordings: str | os.PathLike[str] | Iterable[str | os.PathLike[str]] | None = None,
        *,
        latency: LatencyModel | None = None,
    ) -> None:
        if recordings is None:
            paths = default_recording_files()
        elif isinstance(recordings, (str, os.PathLike)):
            paths = [resolve_recordings(recordings)]
        else:
            paths = [resolve_recordings(r) for r in recordings]
        missing = [p for p in paths if not p.exists()]
        if missing:
            raise FileNotFoundError(
                f"recordings file not found: {', '.join(map(str, missing))}; "
                f"packaged recordings are in {RECORDINGS_DIR}"
            )
        self.paths = paths
        self.entries: dict[str, Entry] = {}
        self.origin: dict[str, Path] = {}
        self.conflicts: dict[str, list[Path]] = {}
        """Keys that several files answer differently; looking one up raises ReplayAmbiguousError."""
        for path in paths:
            store = RecordingStore(path)
            for key, entry in store.entries.items():
                if key not in self.entries:
                    self.entries[key] = entry
                    self.origin[key] = path
                elif entry.samples != self.entries[key].samples:
                    self.conflicts.setdefault(key, [self.origin[key]]).append(path)
        self.latency = latency or LatencyModel()
        self._lock = threading.Lock()
        self._counters: dict[str, int] = defaultdict(int)
        self.requests: list[dict[str, Any]] = []

    # ----------------------------------------------------------------- lookup (pure-ish)

    def reset(self) -> None:
        """Start sample numbering again from the first sample of every entry."""
        with self._lock:
            self._counters.clear()
            self.requests.clear()

    def lookup(self, endpoint: str, body: dict[str, Any]) -> tuple[Entry, dict[str, Any], int]:
        """Find the entry and sample for a request; the sample number is assigned here, at entry."""
        canon = canonical_request(endpoint, body)
        key = request_key(canon)
        entry = self.entries.get(key)
        if entry is None:
            raise ReplayMissError(self.miss_message(canon, key))
        if key in self.conflicts:
            names = ", ".join(p.stem for p in self.conflicts[key])
            raise ReplayAmbiguousError(
                f"request {key[:12]}… is recorded differently in {names}; "
                f"choose one with get_provider(recordings=...), e.g. recordings={self.conflicts[key][0].stem!r}"
            )
        scoped = current_sample()
        with self._lock:
            if scoped is None:
                index = self._counters[key]
                self._counters[key] += 1
            else:
                index = scoped
            self.requests.append({"key": key, "sample": index})
        if index >= len(entry.samples):
            raise ReplayExhaustedError(
                f"request {key[:12]}… in {self.origin[key].name} has {len(entry.samples)} recorded "
                f"sample(s) and sample #{index + 1} was asked for. Record more samples "
                f"(`course record --into {self.origin[key].stem} --samples {index + 1} …`) or call "
                "`reset()` on the replay transport to start again."
            )
        return entry, entry.samples[index], index

    def miss_message(self, canon: dict[str, Any], key: str) -> str:
        """Explain a miss: which files were searched, the key, the nearest entry with a diff, the fix."""
        files = ", ".join(p.name for p in self.paths) or "(no recordings files)"
        lines = [f"no recording for this request (key {key[:16]}…) in {files}."]
        same = [e for e in self.entries.values() if e.endpoint == canon["endpoint"]]
        if same:
            nearest = nearest_request(canon, same)
            lines.append(
                f"Nearest recorded request ({nearest.key[:16]}… in {self.origin[nearest.key].name}):"
            )
            lines += ["  " + d for d in field_diff(canon, nearest.request)[:12]]
        target = self.paths[0].stem if len(self.paths) == 1 else "<lesson>"
        lines.append(
            "To record it: `course record --into "
            f"{target} --upstream local -- <your notebook or script>` (or COURSE_PROVIDER=openai to call a real model)."
        )
        return "\n".join(lines)

    # ----------------------------------------------------------------- HTTP

    def _prepare(self, request: httpx2.Request) -> tuple[dict[str, Any], dict[str, Any], dict[str, str], str]:
        endpoint = endpoint_of(request.url.path)
        body = json.loads(request.content or b"{}")
        entry, sample, index = self.lookup(endpoint, body)
        headers = {
            "x-course-source": entry.provenance.source,
            "x-course-recording": self.origin[entry.key].name,
            "x-course-key": entry.key[:16],
            "x-course-sample": str(index),
            "x-course-usage": entry.provenance.usage,
        }
        return body, sample, headers, endpoint

    def _json_response(
        self, body: dict[str, Any], sample: dict[str, Any], headers: dict[str, str], endpoint: str
    ):
        if endpoint == "embeddings":
            payload = embeddings_body(sample, encoding_format=body.get("encoding_format"))
        elif endpoint == "completions":
            payload = completion_body(sample)
        else:
            payload = chat_completion_body(sample)
        headers = {**headers, "content-type": "application/json"}
        return httpx2.Response(200, headers=headers, content=json.dumps(payload).encode())

    def _sse_lines(self, body: dict[str, Any], sample: dict[str, Any]) -> list[bytes]:
        if "text" in (sample.get("choices") or [{}])[0]:
            return [f"data: {json.dumps(c)}\n\n".encode() for c in completion_chunks(sample)] + [
                b"data: [DONE]\n\n"
            ]
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        chunks = chat_chunks(sample, include_usage=include_usage)
        return [f"data: {json.dumps(c)}\n\n".encode() for c in chunks] + [b"data: [DONE]\n\n"]

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        """Synchronous handler for ``httpx2.MockTransport``."""
        body, sample, headers, endpoint = self._prepare(request)
        if body.get("stream"):
            lines = self._sse_lines(body, sample)
            first, step = self.latency.first(sample), self.latency.per_piece()

            def gen() -> Iterator[bytes]:
                if first:
                    time.sleep(first)
                for line in lines:
                    yield line
                    if step:
                        time.sleep(step)

            return httpx2.Response(
                200, headers={**headers, "content-type": "text/event-stream"}, content=gen()
            )
        wait = self.latency.total(sample, _pieces(sample))
        if wait:
            time.sleep(wait)
        return self._json_response(body, sample, headers, endpoint)

    async def ahandle(self, request: httpx2.Request) -> httpx2.Response:
        """Asynchronous handler for ``httpx2.MockTransport`` under ``httpx2.AsyncClient``."""
        body, sample, headers, endpoint = self._prepare(request)
        if body.get("stream"):
            lines = self._sse_lines(body, sample)
            first, step = self.latency.first(sample), self.latency.per_piece()

            async def agen() -> AsyncIterator[bytes]:
                if first:
                    await asyncio.sleep(first)
                for line in lines:
                    yield line
                    if step:
                        await asyncio.sleep(step)

            return httpx2.Response(
                200, headers={**headers, "content-type": "text/event-stream"}, content=agen()
            )
        wait = self.latency.total(sample, _pieces(sample))
        if wait:
            await asyncio.sleep(wait)
        return self._json_response(body, sample, headers, endpoint)

    def http_client(self) -> httpx2.Client:
        """An ``httpx2.Client`` to hand to ``openai.OpenAI(http_client=...)``."""
        return httpx2.Client(transport=httpx2.MockTransport(self.handle))

    def async_http_client(self) -> httpx2.AsyncClient:
        """An ``httpx2.AsyncClient`` to hand to ``openai.AsyncOpenAI(http_client=...)``."""
        return httpx2.AsyncClient(transport=httpx2.MockTransport(self.ahandle))

    def openai_client(self) -> openai.OpenAI:
        """The official SDK client, wired to this transport."""
        return openai.OpenAI(
            api_key="replay", base_url=REPLAY_BASE_URL, max_retries=0, http_client=self.http_client()
        )

    def async_openai_client(self) -> openai.AsyncOpenAI:
        """The official async SDK client, wired to this transport."""
        return openai.AsyncOpenAI(
            api_key="replay", base_url=REPLAY_BASE_URL, max_retries=0, http_client=self.async_http_client()
        )


def _pieces(sample: dict[str, Any]) -> int:
    """Completion tokens of a sample: what per-token latency is charged for."""
    return int((sample.get("usage") or {}).get("completion_tokens", 0))


def replay_clients(
    recordings: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
    *,
    latency: LatencyModel | None = None,
) -> tuple[openai.OpenAI, openai.AsyncOpenAI, ReplayTransport]:
    """Sync and async ``openai`` clients sharing one replay transport (and so one sample numbering)."""
    transport = ReplayTransport(recordings, latency=latency)
    return transport.openai_client(), transport.async_openai_client(), transport
