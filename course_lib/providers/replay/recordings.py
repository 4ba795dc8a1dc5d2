"""Recordings: canonical request keys, provenance and the JSONL files replay serves from (lesson 00).

One JSONL file per lesson under ``course_lib/data/recordings/``. Each line is an :class:`Entry`: the
canonical request, its key, a list of samples (response bodies, replayed 1st, 2nd, … for repeated
identical requests) and provenance — ``recorded`` (a real model answered: which model, server and
date) or ``scripted`` (written by the course to show a behaviour; never presented as a model's).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator, model_serializer

from course_lib.guards.secrets import FAKE_SECRET_MARKER, SECRET_FAMILIES, find_secrets
from course_lib.providers.base import ANSWER_PARAMS

__all__ = [
    "ANSWER_FIELDS",
    "MESSAGE_FIELDS",
    "RECORDINGS_DIR",
    "SECRET_PATTERNS",
    "Entry",
    "Provenance",
    "RecordingStore",
    "SecretInRecordingError",
    "canonical_request",
    "check_no_secrets",
    "endpoint_of",
    "field_diff",
    "nearest_request",
    "request_key",
    "resolve_recordings",
    "similarity",
]

RECORDINGS_DIR = Path(str(resources.files("course_lib") / "data" / "recordings"))

#: Request fields that change the answer; everything else (stream, user, headers …) is dropped.
ANSWER_FIELDS = {
    "chat.completions": ("model", "messages", *ANSWER_PARAMS),
    "completions": ("model", "prompt", "temperature", "top_p", "max_tokens", "n", "stop", "seed", "logprobs"),
    "embeddings": ("model", "input", "dimensions"),
}
MESSAGE_FIELDS = ("role", "content", "name", "tool_calls", "tool_call_id")
#: One pattern per token family (GitHub, AWS, Slack, Google, Hugging Face, OpenAI, Anthropic, private
#: keys, bearer tokens, ``api_key=…``): see :mod:`course_lib.guards.secrets`.
SECRET_PATTERNS = tuple(SECRET_FAMILIES.values())


class SecretInRecordingError(ValueError):
    """Refused to write a recording: something in it looks like an API key or an auth header."""


def endpoint_of(path: str) -> str:
    """Map a URL path such as ``/v1/chat/completions`` to an endpoint name (``chat.completions``)."""
    for suffix, name in (("/chat/completions", "chat.completions"), ("/embeddings", "embeddings")):
        if path.rstrip("/").endswith(suffix):
            return name
    if path.rstrip("/").endswith("/completions"):
        return "completions"
    raise ValueError(f"replay supports chat completions, completions and embeddings, not {path!r}")


def _canonical_message(message: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: message[k] for k in MESSAGE_FIELDS if message.get(k) is not None}
    return out


def canonical_request(endpoint: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """The request as it is keyed: answer-changing fields only, defaults dropped, messages normalised."""
    if endpoint not in ANSWER_FIELDS:
        raise ValueError(f"unknown endpoint {endpoint!r}; known: {sorted(ANSWER_FIELDS)}")
    body = dict(body)
    if "max_completion_tokens" in body and body.get("max_tokens") is None:
        body["max_tokens"] = body.pop("max_completion_tokens")
    canon: dict[str, Any] = {"endpoint": endpoint}
    for field in ANSWER_FIELDS[endpoint]:
        value = body.get(field)
        if value is None:
            continue
        if field == "n" and value == 1:
            continue
        if field == "logprobs" and value is False:
            continue
        if field == "messages":
            value = [_canonical_message(m) for m in value]
        if field == "stop" and isinstance(value, str):
            value = [value]
        canon[field] = value
    return canon


def request_key(canon: Mapping[str, Any]) -> str:
    """sha256 of the canonical request as sorted, compact JSON."""
    text = json.dumps(canon, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Provenance(BaseModel):
    """Where an entry's samples came from: a real model (``recorded``) or the course (``scripted``)."""

    source: Literal["recorded", "scripted"]
    model: str | None = None
    server: str | None = None
    date: str | None = None
    note: str | None = None
    usage: Literal["reported", "computed"] = "reported"
    llama_cpp_python: str | None = None
    """The llama-cpp-python version that served a local recording (``scripts/rerecord.py`` sets it)."""
    model_sha256: str | None = None
    """The sha256 of the model file that answered, when the recorder knows it."""

    @model_serializer(mode="wrap")
    def _drop_unset_engine(self, handler: Any) -> dict[str, Any]:
        # Entries recorded without these fields keep their stored form byte for byte.
        data = handler(self)
        for key in ("llama_cpp_python", "model_sha256"):
            if data.get(key) is None:
                data.pop(key, None)
        return data

    @field_validator("date")
    @classmethod
    def _iso_date(cls, value: str | None) -> str | None:
        if value is not None:
            date.fromisoformat(value)
        return value


class Entry(BaseModel):
    """One recorded request: its canonical form, key, samples and provenance."""

    key: str
    request: dict[str, Any]
    samples: list[dict[str, Any]] = Field(default_factory=list)
    provenance: Provenance

    @property
    def endpoint(self) -> str:
        """The endpoint the request was sent to."""
        return str(self.request["endpoint"])


def check_no_secrets(text: str, *, what: str = "a recording") -> None:
    """Raise :class:`SecretInRecordingError` if ``text`` holds something shaped like a credential.

    The course's own made-up secrets carry ``FAKE-COURSE-SECRET`` inside the token and are allowed.
    """
    matches = find_secrets(text)
    if matches:
        families = ", ".join(sorted({m.family for m in matches}))
        shown = ", ".join(f"{m.family} {m.preview}" for m in matches[:3])
        raise SecretInRecordingError(
            f"refusing {what}: it holds something that looks like a key or credential ({families}: {shown}). Remove it "
            f"from the prompt and record again; a made-up example for the course carries {FAKE_SECRET_MARKER} "
            "inside the token."
        )


def resolve_recordings(name: str | os.PathLike[str]) -> Path:
    """A recordings file from a lesson name (``05_self_consistency``) or a path."""
    path = Path(name)
    if path.suffix == ".jsonl" or path.parent != Path("."):
        return path
    return RECORDINGS_DIR / f"{name}.jsonl"


class RecordingStore:
    """A JSONL recordings file in memory: look up, add and save entries atomically (lesson 00)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = resolve_recordings(path)
        self.entries: dict[str, Entry] = {}
        if self.path.exists():
            self._load()

    def _load(self) -> None:
        for lineno, line in enumerate(self.path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                entry = Entry.model_validate_json(line)
            except ValueError as exc:
                raise ValueError(f"{self.path}:{lineno}: not a valid recording entry: {exc}") from exc
            if request_key(entry.request) != entry.key:
                raise ValueError(
                    f"{self.path}:{lineno}: key {entry.key[:12]}… does not match its request; "
                    "the file was edited by hand — re-record it or fix the key"
                )
            self.entries[entry.key] = entry

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, key: str) -> bool:
        return key in self.entries

    def get(self, key: str) -> Entry | None:
        """The entry for ``key``, or None."""
        return self.entries.get(key)

    def put(self, entry: Entry) -> None:
        """Add or replace an entry (checked for secrets first)."""
        check_no_secrets(entry.model_dump_json())
        self.entries[entry.key] = entry

    def add_scripted(
        self,
        *,
        messages: Sequence[Mapping[str, Any]],
        responses: Iterable[str | Mapping[str, Any]],
        model: str = "gpt-4o-mini",
        params: Mapping[str, Any] | None = None,
        note: str,
    ) -> Entry:
        """Add a scripted chat entry: our own text, labelled ``scripted``, usage counted with tiktoken."""
        from course_lib.providers.replay.responses import chat_sample

        body = {"model": model, "messages": list(messages), **dict(params or {})}
        canon = canonical_request("chat.completions", body)
        n = int(canon.get("n", 1))
        samples = [chat_sample(r, model=model, messages=canon["messages"], n=n) for r in responses]
        if not samples:
            raise ValueError("a scripted entry needs at least one response")
        entry = Entry(
            key=request_key(canon),
            request=canon,
            samples=samples,
            provenance=Provenance(source="scripted", model=model, note=note, usage="computed"),
        )
        self.put(entry)
        return entry

    def save(self) -> Path:
        """Write the file atomically, entries sorted by key, one JSON object per line."""
        lines = [
            json.dumps(self.entries[k].model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
            for k in sorted(self.entries)
        ]
        text = "\n".join(lines) + ("\n" if lines else "")
        check_no_secrets(text)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return self.path


def field_diff(wanted: Mapping[str, Any], recorded: Mapping[str, Any]) -> list[str]:
    """Readable field-level differences between a request and a recorded one."""
    lines: list[str] = []
    for field in sorted(set(wanted) | set(recorded)):
        a, b = wanted.get(field, "<absent>"), recorded.get(field, "<absent>")
        if a == b:
            continue
        if field == "messages" and isinstance(a, list) and isinstance(b, list):
            if len(a) != len(b):
                lines.append(f"messages: {len(a)} messages requested, {len(b)} recorded")
            for i, (ma, mb) in enumerate(zip(a, b, strict=False)):
                for k in sorted(set(ma) | set(mb)):
                    va, vb = ma.get(k, "<absent>"), mb.get(k, "<absent>")
                    if va != vb:
                        lines.append(f"messages[{i}].{k}: requested {_short(va)} | recorded {_short(vb)}")
        else:
            lines.append(f"{field}: requested {_short(a)} | recorded {_short(b)}")
    return lines


def _short(value: Any, width: int = 90) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def _field_score(a: Mapping[str, Any], b: Mapping[str, Any]) -> float:
    """Cheap likeness: shared equal fields, plus shared message contents."""
    score = sum(1.0 for k in set(a) | set(b) if k != "messages" and a.get(k) == b.get(k))
    ma = {json.dumps(m, sort_keys=True) for m in a.get("messages", [])}
    mb = {json.dumps(m, sort_keys=True) for m in b.get("messages", [])}
    if ma or mb:
        score += 3.0 * len(ma & mb) / len(ma | mb)
    return score


def similarity(a: Mapping[str, Any], b: Mapping[str, Any], *, limit: int = 4000) -> float:
    """How alike two canonical requests are (0..1), on their first ``limit`` characters of JSON."""
    sa = json.dumps(a, sort_keys=True, ensure_ascii=False)[:limit]
    sb = json.dumps(b, sort_keys=True, ensure_ascii=False)[:limit]
    return difflib.SequenceMatcher(None, sa, sb, autojunk=False).ratio()


def nearest_request(canon: Mapping[str, Any], candidates: Sequence[Any], *, shortlist: int = 8) -> Any:
    """The recorded entry most like ``canon``: a cheap field score picks a shortlist, text likeness decides."""
    ranked = sorted(candidates, key=lambda e: _field_score(canon, e.request), reverse=True)[:shortlist]
    return max(ranked, key=lambda e: similarity(canon, e.request))
