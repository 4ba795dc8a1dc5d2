"""Offline token counting with tiktoken, used for usage accounting and costs (lessons 02 and 08).

The BPE files for ``cl100k_base`` and ``o200k_base`` ship in ``course_lib/data/tiktoken`` so no
network is needed. Chat messages are counted with OpenAI's documented per-message overhead.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import tiktoken

__all__ = [
    "DEFAULT_ENCODING",
    "TIKTOKEN_DIR",
    "TOKENS_PER_MESSAGE",
    "TOKENS_PER_NAME",
    "TOKENS_REPLY_PRIMER",
    "count_message_tokens",
    "count_tokens",
    "encoding_for",
    "encoding_name_for",
    "estimate_tokens_by_chars",
    "get_encoding",
]

TIKTOKEN_DIR = str(resources.files("course_lib") / "data" / "tiktoken")

#: Model-name prefixes and the encoding they use; longest prefix wins.
_ENCODINGS = {
    "gpt-4o": "o200k_base",
    "gpt-4.1": "o200k_base",
    "gpt-4.5": "o200k_base",
    "gpt-5": "o200k_base",
    "o1": "o200k_base",
    "o3": "o200k_base",
    "o4": "o200k_base",
    "gpt-4": "cl100k_base",
    "gpt-3.5": "cl100k_base",
    "text-embedding-3": "cl100k_base",
    "text-embedding-ada-002": "cl100k_base",
}
DEFAULT_ENCODING = "o200k_base"
TOKENS_PER_MESSAGE = 3
"""Each chat message costs its content plus 3 tokens of framing (``<|start|>role … <|end|>``)."""
TOKENS_PER_NAME = 1
TOKENS_REPLY_PRIMER = 3
"""Every reply is primed with ``<|start|>assistant<|message|>``: 3 tokens."""


def encoding_name_for(model: str) -> str:
    """The tiktoken encoding a model uses (``o200k_base`` for gpt-4o-class, ``cl100k_base`` for gpt-4/3.5)."""
    best = ""
    for prefix in _ENCODINGS:
        if model.startswith(prefix) and len(prefix) > len(best):
            best = prefix
    return _ENCODINGS[best] if best else DEFAULT_ENCODING


@functools.lru_cache(maxsize=4)
def get_encoding(name: str) -> tiktoken.Encoding:
    """Load a tiktoken encoding from the package's offline files."""
    os.environ.setdefault("TIKTOKEN_CACHE_DIR", TIKTOKEN_DIR)
    import tiktoken

    return tiktoken.get_encoding(name)


def encoding_for(model: str) -> tiktoken.Encoding:
    """The tiktoken encoding for ``model`` (unknown models fall back to ``o200k_base``)."""
    return get_encoding(encoding_name_for(model))


def count_tokens(text: str, model: str = "gpt-4o") -> int:
    """Number of tokens ``text`` encodes to for ``model`` (lesson 08)."""
    return len(encoding_for(model).encode(text, disallowed_special=()))


def estimate_tokens_by_chars(text: str) -> int:
    """The rule of thumb "1 token ≈ 4 characters", for comparison with the real count (lesson 08)."""
    return (len(text) + 3) // 4


def count_message_tokens(messages: Sequence[Mapping[str, Any]], model: str = "gpt-4o") -> int:
    """Prompt tokens of a chat request: per message 3 + content (+1 per name), plus 3 for the reply primer."""
    enc = encoding_for(model)
    total = TOKENS_REPLY_PRIMER
    for message in messages:
        total += TOKENS_PER_MESSAGE
        for key, value in message.items():
            if key in ("role", "content", "name") and isinstance(value, str):
                total += len(enc.encode(value, disallowed_special=()))
            if key == "name":
                total += TOKENS_PER_NAME
    return total
