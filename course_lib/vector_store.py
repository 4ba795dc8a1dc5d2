"""Long-term memory storage: a vector-store interface and an in-memory store (lesson 06).

Long-term memory only needs two operations, ``add(texts, metadatas)`` and ``query(text, k)``, so any
store with them fits, a chromadb collection wrapper included. :class:`InMemoryVectorStore` is the
smallest such store: it keeps vectors in a list and ranks by cosine similarity over an injected
embedding function. :func:`hashing_embedding` is a deterministic, model-free embedding for tests and
plots; real similarity needs a real embedding model.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = [
    "EmbeddingFunction",
    "Hit",
    "InMemoryVectorStore",
    "VectorStore",
    "cosine_similarity",
    "hashing_embedding",
    "hit_text",
]

EmbeddingFunction = Callable[[list[str]], Sequence[Sequence[float]]]
"""Texts in, one vector per text out: chromadb's embedding-function shape (lesson 06)."""


@dataclass(frozen=True)
class Hit:
    """A text found in long-term memory, with its similarity score and metadata (lesson 06)."""

    text: str
    score: float
    metadata: dict[str, Any] = field(default_factory=dict)


class VectorStore(Protocol):
    """What long-term memory needs from a store: ``add(texts, metadatas)`` and ``query(text, k)`` (lesson 06)."""

    def add(self, texts: Sequence[str], metadatas: Sequence[Mapping[str, Any]] | None = None) -> Any: ...

    def query(self, text: str, k: int) -> Sequence[Any]: ...


def cosine_similarity(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine of the angle between two vectors; 0.0 when either is all zeros (lesson 06)."""
    if len(a) != len(b):
        raise ValueError(f"vectors have different lengths: {len(a)} and {len(b)}")
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return sum(x * y for x, y in zip(a, b, strict=True)) / norm if norm else 0.0


def hashing_embedding(dim: int = 256) -> EmbeddingFunction:
    """A deterministic bag-of-words embedding (hashed word counts), model-free, for tests (lesson 06)."""

    def embed(texts: list[str]) -> list[list[float]]:
        vectors = []
        for text in texts:
            v = [0.0] * dim
            for word in re.findall(r"\w+", text.lower()):
                v[int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "big") % dim] += 1.0
            vectors.append(v)
        return vectors

    return embed


class InMemoryVectorStore:
    """A vector store in a list: cosine similarity over an injected embedding function (lesson 06)."""

    def __init__(self, embed: EmbeddingFunction) -> None:
        self.embed = embed
        self._items: list[tuple[str, list[float], dict[str, Any]]] = []

    def add(self, texts: Sequence[str], metadatas: Sequence[Mapping[str, Any]] | None = None) -> None:
        """Embed and store ``texts`` with optional metadata (one mapping per text)."""
        texts = list(texts)
        if metadatas is not None and len(metadatas) != len(texts):
            raise ValueError(f"got {len(texts)} texts but {len(metadatas)} metadatas; pass one per text")
        if not texts:
            return
        vectors = list(self.embed(texts))
        if len(vectors) != len(texts):
            raise ValueError(f"the embedding function returned {len(vectors)} vectors for {len(texts)} texts")
        for i, (text, vector) in enumerate(zip(texts, vectors, strict=True)):
            self._items.append((text, list(vector), dict(metadatas[i]) if metadatas else {}))

    def query(self, text: str, k: int = 3) -> list[Hit]:
        """The ``k`` stored texts most similar to ``text``, best first (ties keep insertion order)."""
        if k <= 0 or not self._items:
            return []
        q = list(self.embed([text])[0])
        scored = [Hit(t, cosine_similarity(q, v), m) for t, v, m in self._items]
        return sorted(scored, key=lambda h: -h.score)[:k]

    def __len__(self) -> int:
        return len(self._items)


def hit_text(hit: Any) -> str:
    """The text of a result from any store: a Hit, a str, a mapping or an object with text (lesson 06)."""
    if isinstance(hit, str):
        return hit
    if isinstance(hit, Mapping):
        for key in ("text", "document", "content"):
            if key in hit:
                return str(hit[key])
    for attr in ("text", "document", "content"):
        if hasattr(hit, attr):
            return str(getattr(hit, attr))
    raise TypeError(f"cannot read the text of a store result of type {type(hit).__name__}")
