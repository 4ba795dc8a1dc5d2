"""Intent classification by a model: the request, the parse, and a provider-backed classifier (lesson 01).

A small model names a query's category and, where the provider returns token log-probabilities, how
sure it was. :class:`ProviderClassifier` is what :class:`~course_lib.routing.TieredRouter` calls between
its rule tier and its model tiers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .providers.base import Usage

__all__ = ["Classification", "ProviderClassifier", "classification_messages", "parse_classification"]


@dataclass(frozen=True)
class Classification:
    """A category with a confidence in [0, 1], and what classifying cost (lesson 01)."""

    category: str
    confidence: float = 1.0
    usage: Usage = field(default_factory=Usage)
    model: str = ""
    raw: str = ""
    model_calls: int = 0
    """How many model calls classifying took (0 for a rule or a local function)."""


def classification_messages(
    query: str, categories: Sequence[str], *, domain: str = ""
) -> list[dict[str, str]]:
    """Messages asking a small model to put ``query`` in exactly one category with a confidence (lesson 01)."""
    about = f" {domain}" if domain else ""
    system = (
        f"You classify{about} customer queries. Reply with one category from this list and a confidence "
        f'between 0 and 1, as JSON: {{"category": "...", "confidence": 0.0}}.\n'
        f"Categories: {', '.join(categories)}.\n"
        "If no category fits, use the last one."
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": query}]


def _confidence(token: str) -> float | None:
    """``0.8`` → 0.8, ``80%`` and ``80`` → 0.8; other numbers (``3.5``, ``250``) are not confidences."""
    x = float(token.rstrip("%"))
    if token.endswith("%") or (x.is_integer() and 1 < x <= 100):
        x /= 100
    return x if 0 <= x <= 1 else None


def parse_classification(
    text: str, categories: Sequence[str], *, default: str | None = None, default_confidence: float = 1.0
) -> tuple[str, float]:
    """Read a category and confidence from a model's reply: JSON, ``LABEL 0.9`` or a bare label (lesson 01).

    The earliest category named in the text wins (case-insensitive, whole words). A reply naming no
    category gives ``(default, 0.0)``; ``default`` is the last category unless given. A reply without
    a number gets ``default_confidence``.
    """
    fallback = default if default is not None else categories[-1]
    try:
        data = json.loads(text.strip().removeprefix("```json").strip("`\n "))
    except ValueError:
        data = None
    if isinstance(data, dict) and "category" in data:
        text = f"{data.get('category')} {data.get('confidence', '')}".replace('"', "")
    found: list[tuple[int, int, str]] = []
    for cat in categories:
        m = re.search(rf"(?<![A-Za-z0-9_]){re.escape(cat)}(?![A-Za-z0-9_])", text, re.IGNORECASE)
        if m:
            found.append((m.start(), -len(cat), cat))
    if not found:
        return fallback, 0.0
    start, _, category = min(found)
    after = text[start + len(category) :]
    for number in re.findall(r"\d+(?:\.\d+)?%?", after):
        conf = _confidence(number)
        if conf is not None:
            return category, conf
    return category, default_confidence


class ProviderClassifier:
    """The cheap classifier tier: asks an injected (small) provider for a category (lesson 01).

    Call it with a query to get a :class:`Classification`; ``build`` replaces the prompt builder.
    """

    def __init__(
        self,
        provider: Any,
        categories: Sequence[str],
        *,
        default: str | None = None,
        domain: str = "",
        params: Mapping[str, Any] | None = None,
        build: Callable[[str, Sequence[str]], list[dict[str, str]]] | None = None,
    ) -> None:
        if not categories:
            raise ValueError("ProviderClassifier needs at least one category")
        self.provider = provider
        self.categories = list(categories)
        self.default = default
        self.params = dict(params if params is not None else {"temperature": 0, "max_tokens": 30})
        self._build = build or (lambda q, cats: classification_messages(q, cats, domain=domain))

    def _parse(self, result: Any) -> Classification:
        category, confidence = parse_classification(result.text, self.categories, default=self.default)
        model = result.model or getattr(self.provider, "model", "")
        return Classification(category, confidence, result.usage, model, result.text, model_calls=1)

    def __call__(self, query: str) -> Classification:
        """Classify ``query`` with one call to the provider."""
        return self._parse(self.provider.complete(self._build(query, self.categories), **self.params))

    async def aclassify(self, query: str) -> Classification:
        """Async form of calling the classifier."""
        return self._parse(await self.provider.acomplete(self._build(query, self.categories), **self.params))
