"""Dynamic few-shot selection: retrieve the examples most like the input (lesson 03).

Sending every labelled example with every request makes each request pay for all of them. Storing
the examples in a vector store and sending only the ``k`` most similar ones keeps the prompt short
while the examples the model sees stay relevant. :class:`FewShotSelector` keeps the examples in a
chromadb collection embedded offline with MiniLM (:mod:`course_lib.embeddings`);
:func:`compare_fewshot_cost` counts both prompts with the real tokenizer and prices them with a
price you pass in, so the saving is computed, not quoted.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from .embeddings import minilm_embedding_function
from .prompts import few_shot_messages
from .tokens import count_message_tokens

__all__ = [
    "DEFAULT_SYSTEM",
    "FewShotCost",
    "FewShotSelector",
    "LabeledExample",
    "Retrieved",
    "chroma_client",
    "compare_fewshot_cost",
    "fewshot_messages",
    "load_examples",
]

DEFAULT_SYSTEM = (
    "You classify contract clauses. Categories: {labels}. Reply with the category name only, nothing else."
)
_EXAMPLES = resources.files("course_lib") / "data" / "fewshot_examples.json"


class LabeledExample(BaseModel):
    """One input with its correct label, used as a few-shot demonstration (lesson 03)."""

    model_config = ConfigDict(frozen=True)

    id: str
    text: str
    label: str


class Retrieved(BaseModel):
    """A retrieved example and how close it is to the query (cosine similarity, higher = closer) (lesson 03)."""

    model_config = ConfigDict(frozen=True)

    example: LabeledExample
    similarity: float


def load_examples(path: str | Path | None = None) -> list[LabeledExample]:
    """The course's 50 labelled contract clauses, or a JSON file of the same shape (lesson 03)."""
    text = Path(path).read_text(encoding="utf-8") if path else _EXAMPLES.read_text(encoding="utf-8")
    data = json.loads(text)
    items = data["examples"] if isinstance(data, Mapping) else data
    return [LabeledExample.model_validate(item) for item in items]


def fewshot_messages(
    examples: Sequence[LabeledExample],
    query: str,
    *,
    system: str = DEFAULT_SYSTEM,
    labels: Sequence[str] | None = None,
) -> list[dict[str, str]]:
    """System prompt, one user/assistant pair per example, then the query (lesson 03).

    ``{labels}`` in ``system`` becomes the list of categories, so the model knows every allowed
    answer even when the examples shown cover only a few of them.
    """
    if not query.strip():
        raise ValueError("the query is empty: pass the text to classify")
    names = list(labels) if labels is not None else sorted({e.label for e in examples})
    return few_shot_messages(
        [(ex.text, ex.label) for ex in examples],
        query,
        system=system.replace("{labels}", ", ".join(names)),
    )


def chroma_client(persist_dir: str | Path | None = None) -> Any:
    """An in-memory chromadb client, or a persistent one in ``persist_dir`` (use a temp folder) (lesson 03)."""
    import chromadb
    from chromadb.config import Settings

    minilm_embedding_function()  # registers the class, so persisted collections can be reopened
    settings = Settings(anonymized_telemetry=False)
    if persist_dir is None:
        return chromadb.EphemeralClient(settings=settings)
    return chromadb.PersistentClient(path=str(persist_dir), settings=settings)


class FewShotSelector:
    """Stores labelled examples in chromadb and returns the ``k`` nearest to a query (lesson 03)."""

    def __init__(
        self,
        examples: Sequence[LabeledExample] | None = None,
        *,
        client: Any = None,
        persist_dir: str | Path | None = None,
        collection_name: str | None = None,
        embedding_function: Any = None,
        system: str = DEFAULT_SYSTEM,
    ) -> None:
        self.examples = list(examples) if examples is not None else load_examples()
        if not self.examples:
            raise ValueError("no examples: give at least one LabeledExample to select from")
        ids = [e.id for e in self.examples]
        if len(set(ids)) != len(ids):
            raise ValueError("example ids must be unique; duplicates would overwrite each other in the store")
        self._by_id = {e.id: e for e in self.examples}
        self.labels = sorted({e.label for e in self.examples})
        self.system = system
        self.client = client if client is not None else chroma_client(persist_dir)
        digest = hashlib.sha256(
            json.dumps([e.model_dump() for e in self.examples], sort_keys=True).encode()
        ).hexdigest()
        self.collection = self.client.get_or_create_collection(
            name=collection_name or f"fewshot-{digest[:16]}",
            embedding_function=embedding_function or minilm_embedding_function(),
        )
        self.collection.upsert(
            ids=ids,
            documents=[e.text for e in self.examples],
            metadatas=[{"label": e.label} for e in self.examples],
        )

    def select(self, query: str, k: int = 3) -> list[Retrieved]:
        """The ``k`` stored examples most similar to ``query``, closest first."""
        if not query.strip():
            raise ValueError("the query is empty: pass the text to find examples for")
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        k = min(k, len(self.examples))
        result = self.collection.query(query_texts=[query], n_results=k, include=["distances"])
        space = (self.collection.configuration.get("hnsw") or {}).get("space", "cosine")
        out = []
        for id_, dist in zip(result["ids"][0], result["distances"][0], strict=True):
            # cosine distance = 1 - similarity; for unit vectors l2 (squared) distance = 2 - 2 * similarity
            similarity = 1.0 - dist if space != "l2" else 1.0 - dist / 2.0
            out.append(Retrieved(example=self._by_id[id_], similarity=round(float(similarity), 6)))
        return out

    def messages(self, query: str, k: int = 3) -> list[dict[str, str]]:
        """A few-shot prompt for ``query`` with its ``k`` nearest examples."""
        chosen = [r.example for r in self.select(query, k)]
        return fewshot_messages(chosen, query, system=self.system, labels=self.labels)

    def static_messages(self, query: str) -> list[dict[str, str]]:
        """The prompt that sends every stored example (the baseline)."""
        return fewshot_messages(self.examples, query, system=self.system, labels=self.labels)

    def cost_comparison(
        self,
        query: str,
        k: int = 3,
        *,
        model: str = "gpt-4o",
        price_per_million: float | None = None,
        requests: int = 1,
    ) -> FewShotCost:
        """Prompt tokens (and cost, given a price) of all examples vs the ``k`` retrieved ones."""
        return compare_fewshot_cost(
            self.static_messages(query),
            self.messages(query, k),
            k=k,
            model=model,
            price_per_million=price_per_million,
            requests=requests,
        )


class FewShotCost(BaseModel):
    """Prompt tokens and optional cost of a static vs a dynamic few-shot prompt (lesson 03)."""

    model_config = ConfigDict(frozen=True)

    k: int
    static_tokens: int
    dynamic_tokens: int
    requests: int = 1
    price_per_million: float | None = None

    @property
    def saved_tokens(self) -> int:
        """Prompt tokens saved per request."""
        return self.static_tokens - self.dynamic_tokens

    @property
    def reduction(self) -> float:
        """Fraction of prompt tokens saved (0.75 = 75 % fewer)."""
        return self.saved_tokens / self.static_tokens if self.static_tokens else 0.0

    @property
    def static_cost(self) -> float | None:
        """Cost of ``requests`` static prompts at ``price_per_million`` input tokens (None without a price)."""
        return self._cost(self.static_tokens)

    @property
    def dynamic_cost(self) -> float | None:
        """Cost of ``requests`` dynamic prompts (None without a price)."""
        return self._cost(self.dynamic_tokens)

    def _cost(self, tokens: int) -> float | None:
        if self.price_per_million is None:
            return None
        return tokens * self.requests * self.price_per_million / 1_000_000


def compare_fewshot_cost(
    static: Sequence[Mapping[str, Any]],
    dynamic: Sequence[Mapping[str, Any]],
    *,
    k: int,
    model: str = "gpt-4o",
    price_per_million: float | None = None,
    requests: int = 1,
) -> FewShotCost:
    """Count two prompts' tokens with ``model``'s tokenizer and price them per million tokens (lesson 03)."""
    if price_per_million is not None and price_per_million < 0:
        raise ValueError(f"price_per_million must be >= 0, got {price_per_million}")
    if requests < 0:
        raise ValueError(f"requests must be >= 0, got {requests}")
    return FewShotCost(
        k=k,
        static_tokens=count_message_tokens(static, model),
        dynamic_tokens=count_message_tokens(dynamic, model),
        requests=requests,
        price_per_million=price_per_million,
    )
