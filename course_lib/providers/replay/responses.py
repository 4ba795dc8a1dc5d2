"""OpenAI-shaped response bodies built from stored samples: JSON, SSE chunks and embeddings (lesson 00).

A sample is stored once, in a normal form, and served either as one ``chat.completion`` body or as a
stream of ``chat.completion.chunk`` events, so the same recording answers streaming and
non-streaming calls. Pure functions: no I/O.
"""

from __future__ import annotations

import base64
import re
import struct
from collections.abc import Mapping, Sequence
from typing import Any

from course_lib.tokens import count_message_tokens, count_tokens, encoding_for

__all__ = [
    "chat_chunks",
    "chat_completion_body",
    "chat_sample",
    "completion_body",
    "completion_chunks",
    "computed_usage",
    "embedding_sample",
    "embeddings_body",
    "split_stream_pieces",
]

_PIECES = re.compile(r"\s*\S+|\s+")


def chat_sample(
    response: str | Mapping[str, Any],
    *,
    model: str,
    messages: Sequence[Mapping[str, Any]],
    n: int = 1,
) -> dict[str, Any]:
    """Normalise a scripted reply (a string, or a dict with ``content``/``choices``) to a stored sample."""
    if isinstance(response, str):
        choices = [
            {"index": i, "message": {"role": "assistant", "content": response}, "finish_reason": "stop"}
            for i in range(n)
        ]
        sample: dict[str, Any] = {"choices": choices}
    elif "choices" in response:
        sample = {"choices": [dict(c) for c in response["choices"]]}
    else:
        message = {"role": "assistant", "content": response.get("content")}
        if response.get("tool_calls"):
            message["tool_calls"] = response["tool_calls"]
        choice = {"index": 0, "message": message, "finish_reason": response.get("finish_reason", "stop")}
        if response.get("logprobs") is not None:
            choice["logprobs"] = response["logprobs"]
        sample = {"choices": [choice]}
    sample["model"] = model
    if isinstance(response, Mapping) and response.get("usage"):
        sample["usage"] = dict(response["usage"])
    else:
        sample["usage"] = computed_usage(sample, model=model, messages=messages)
    return sample


def computed_usage(
    sample: Mapping[str, Any], *, model: str, messages: Sequence[Mapping[str, Any]]
) -> dict[str, int]:
    """Usage counted with tiktoken, for samples whose server reported none."""
    prompt = count_message_tokens(messages, model)
    completion = sum(count_tokens(c["message"].get("content") or "", model) for c in sample["choices"])
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def chat_completion_body(sample: Mapping[str, Any], *, request_id: str = "chatcmpl-replay") -> dict[str, Any]:
    """A full ``chat.completion`` response body for a stored sample."""
    choices = []
    for i, c in enumerate(sample["choices"]):
        message = {"role": "assistant", "content": c["message"].get("content")}
        if c["message"].get("tool_calls"):
            message["tool_calls"] = c["message"]["tool_calls"]
        choices.append(
            {
                "index": c.get("index", i),
                "message": message,
                "finish_reason": c.get("finish_reason", "stop"),
                "logprobs": c.get("logprobs"),
            }
        )
    return {
        "id": request_id,
        "object": "chat.completion",
        "created": 0,
        "model": sample.get("model", ""),
        "choices": choices,
        "usage": dict(sample.get("usage") or {}),
    }


def split_stream_pieces(text: str) -> list[str]:
    """Cut text into stream deltas (a word with its leading space each), losslessly."""
    return _PIECES.findall(text) if text else []


def chat_chunks(
    sample: Mapping[str, Any], *, include_usage: bool, request_id: str = "chatcmpl-replay"
) -> list[dict[str, Any]]:
    """The ``chat.completion.chunk`` events that stream a stored sample, usage last if asked."""
    model = sample.get("model", "")
    base = {"id": request_id, "object": "chat.completion.chunk", "created": 0, "model": model}
    chunks: list[dict[str, Any]] = []
    for i, c in enumerate(sample["choices"]):
        index = c.get("index", i)
        chunks.append({**base, "choices": [{"index": index, "delta": {"role": "assistant", "content": ""}}]})
        pieces = split_stream_pieces(c["message"].get("content") or "")
        lp_content = (c.get("logprobs") or {}).get("content") or []
        for j, piece in enumerate(pieces):
            choice: dict[str, Any] = {"index": index, "delta": {"content": piece}, "finish_reason": None}
            if lp_content and j == 0:
                choice["logprobs"] = {"content": lp_content}
            chunks.append({**base, "choices": [choice]})
        chunks.append(
            {
                **base,
                "choices": [{"index": index, "delta": {}, "finish_reason": c.get("finish_reason", "stop")}],
            }
        )
    if include_usage:
        chunks.append({**base, "choices": [], "usage": dict(sample.get("usage") or {})})
    return chunks


def embedding_sample(
    vectors: Sequence[Sequence[float]], *, model: str, inputs: Sequence[str]
) -> dict[str, Any]:
    """Normalise embedding vectors to a stored sample (usage counted with tiktoken)."""
    enc = encoding_for("text-embedding-3-small")
    tokens = sum(len(enc.encode(t, disallowed_special=())) for t in inputs)
    return {
        "model": model,
        "data": [{"index": i, "embedding": [float(x) for x in v]} for i, v in enumerate(vectors)],
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


def embeddings_body(sample: Mapping[str, Any], *, encoding_format: str | None) -> dict[str, Any]:
    """An ``embeddings`` response body; base64 float32 when the SDK asks for it (its default)."""
    data = []
    for item in sample["data"]:
        vector = item["embedding"]
        if encoding_format == "base64":
            packed = struct.pack(f"<{len(vector)}f", *vector)
            embedding: Any = base64.b64encode(packed).decode("ascii")
        else:
            embedding = vector
        data.append({"object": "embedding", "index": item["index"], "embedding": embedding})
    return {"object": "list", "model": sample.get("model", ""), "data": data, "usage": dict(sample["usage"])}


def completion_body(sample: Mapping[str, Any], *, request_id: str = "cmpl-replay") -> dict[str, Any]:
    """A full ``text_completion`` response body (the raw ``/completions`` endpoint) for a stored sample."""
    choices = [
        {
            "index": c.get("index", i),
            "text": c.get("text", ""),
            "finish_reason": c.get("finish_reason", "stop"),
            "logprobs": c.get("logprobs"),
        }
        for i, c in enumerate(sample["choices"])
    ]
    return {
        "id": request_id,
        "object": "text_completion",
        "created": 0,
        "model": sample.get("model", ""),
        "choices": choices,
        "usage": dict(sample.get("usage") or {}),
    }


def completion_chunks(sample: Mapping[str, Any], *, request_id: str = "cmpl-replay") -> list[dict[str, Any]]:
    """The ``text_completion`` events that stream a stored raw-completion sample."""
    base = {"id": request_id, "object": "text_completion", "created": 0, "model": sample.get("model", "")}
    chunks: list[dict[str, Any]] = []
    for i, c in enumerate(sample["choices"]):
        index = c.get("index", i)
        for piece in split_stream_pieces(c.get("text", "")):
            chunks.append({**base, "choices": [{"index": index, "text": piece, "finish_reason": None}]})
        chunks.append(
            {**base, "choices": [{"index": index, "text": "", "finish_reason": c.get("finish_reason")}]}
        )
    return chunks
