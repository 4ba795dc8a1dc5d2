"""Tiered routing: rules first, then a cheap classifier, then a model tier sized to the query (lessons 01, 08).

The cascade pattern: the cheapest step that can answer a query does. A rule tier answers FAQs
with canned text for free; a small classifier names the query's category (with a confidence); the
category picks a model tier (small for simple questions, large for hard ones) and a low confidence
escalates to the most capable tier. Every answer records which tier produced it, its tokens, cost
and latency, so a lesson can tabulate the tier mix and what it saves.

A common mistake: the rule tier must use ``re.search``. ``re.match`` only matches at the start of the
text, so "hi, what is your routing number?" would miss the "routing number" rule.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from .classify import Classification
from .providers.base import Usage

__all__ = [
    "RouteResult",
    "Rule",
    "RuleTier",
    "TieredRouter",
    "summarize_tiers",
]

CostFn = Callable[[Usage, str], float]


@dataclass(frozen=True)
class Rule:
    """A canned answer for every query in which ``pattern`` is found anywhere (``re.search``) (lesson 01)."""

    pattern: str
    answer: str
    name: str = ""
    flags: int = re.IGNORECASE


class RuleTier:
    """The free tier: the first rule whose regex is found in the query answers it (lesson 01).

    Accepts :class:`Rule` s, ``(pattern, answer)`` pairs or a ``{pattern: answer}`` mapping; a bad
    regex fails at construction, naming the rule. ``hits`` counts answers per rule name.
    """

    def __init__(self, rules: Iterable[Rule | tuple[str, str]] | Mapping[str, str] = ()) -> None:
        items = rules.items() if isinstance(rules, Mapping) else rules
        self.rules: list[Rule] = []
        self._compiled: list[re.Pattern[str]] = []
        for i, item in enumerate(items):
            rule = item if isinstance(item, Rule) else Rule(item[0], item[1])
            if not rule.name:
                rule = Rule(rule.pattern, rule.answer, f"rule_{i}", rule.flags)
            try:
                self._compiled.append(re.compile(rule.pattern, rule.flags))
            except re.error as exc:
                raise ValueError(f"rule {rule.name!r} has an invalid regex {rule.pattern!r}: {exc}") from exc
            self.rules.append(rule)
        self.hits: dict[str, int] = {r.name: 0 for r in self.rules}

    def match(self, query: str) -> Rule | None:
        """The first rule found anywhere in ``query``, or None."""
        for rule, regex in zip(self.rules, self._compiled, strict=True):
            if regex.search(query):
                self.hits[rule.name] += 1
                return rule
        return None


@dataclass(frozen=True)
class RouteResult:
    """Which tier answered a query, the answer, and its tokens, cost, latency and model calls (lesson 01)."""

    query: str
    tier: str
    answer: str
    rule: str | None = None
    category: str | None = None
    confidence: float | None = None
    model: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    latency_s: float = 0.0
    model_calls: int = 0

    def as_row(self) -> dict[str, Any]:
        """This result as a plain dict (a table row)."""
        return asdict(self)


def summarize_tiers(results: Iterable[Any], order: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Per-tier count, share, tokens, cost, mean latency and model calls, plus a ``total`` row (lesson 01).

    Works on anything with ``tier``, ``prompt_tokens``, ``completion_tokens``, ``cost``, ``latency_s``
    and ``model_calls`` attributes (:class:`RouteResult`, the banking pipeline's records). Tiers in
    ``order`` come first (with zero rows if unused), then the others as first seen.
    """
    results = list(results)
    tiers = list(dict.fromkeys([*order, *(r.tier for r in results)]))

    def row(name: str, group: list[Any]) -> dict[str, Any]:
        n = len(group)
        return {
            "tier": name,
            "count": n,
            "share": n / len(results) if results else 0.0,
            "prompt_tokens": sum(r.prompt_tokens for r in group),
            "completion_tokens": sum(r.completion_tokens for r in group),
            "cost": sum(r.cost for r in group),
            "mean_latency_s": sum(r.latency_s for r in group) / n if n else 0.0,
            "model_calls": sum(r.model_calls for r in group),
        }

    return [*(row(t, [r for r in results if r.tier == t]) for t in tiers), row("total", results)]


def _as_classification(value: Any) -> Classification:
    if isinstance(value, Classification):
        return value
    if isinstance(value, str):
        return Classification(value)
    category, confidence = value
    return Classification(str(category), float(confidence))


class TieredRouter:
    """Rules → classifier → model tiers; keeps every :class:`RouteResult` in ``results`` (lessons 01, 08).

    ``models`` maps tier names to providers, cheapest first. ``classifier`` is a function of the
    query returning a :class:`Classification`, a ``(category, confidence)`` pair or a category (a
    :class:`ProviderClassifier`, say). ``routes`` maps category → tier (or is a function of the
    classification); unknown categories go to ``default_tier`` and confidences below
    ``min_confidence`` to ``escalate_to`` (both default to the last, most capable tier).
    ``cost(usage, model)`` prices the classifier's and the model's tokens.
    """

    def __init__(
        self,
        models: Mapping[str, Any],
        *,
        rules: RuleTier | Iterable[Rule | tuple[str, str]] | Mapping[str, str] = (),
        classifier: Callable[[str], Any] | None = None,
        routes: Mapping[str, str] | Callable[[Classification], str] | None = None,
        default_tier: str | None = None,
        min_confidence: float = 0.0,
        escalate_to: str | None = None,
        cost: CostFn | None = None,
        system_prompt: str | None = None,
        params: Mapping[str, Any] | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        if not models:
            raise ValueError("TieredRouter needs at least one model tier, e.g. {'small': p1, 'large': p2}")
        self.models = dict(models)
        last = list(self.models)[-1]
        self.default_tier = default_tier or last
        self.escalate_to = escalate_to or last
        for name in (
            self.default_tier,
            self.escalate_to,
            *(routes.values() if isinstance(routes, Mapping) else ()),
        ):
            if name not in self.models:
                raise ValueError(f"tier {name!r} is not one of the model tiers {list(self.models)}")
        self.rules = rules if isinstance(rules, RuleTier) else RuleTier(rules)
        self.classifier = classifier
        self.routes = routes
        self.min_confidence = min_confidence
        self.cost = cost or (lambda usage, model: 0.0)
        self.system_prompt = system_prompt
        self.params = dict(params or {})
        self._clock = clock
        self.results: list[RouteResult] = []

    def choose_tier(self, c: Classification | None) -> str:
        """The model tier for a classification (``default_tier`` when there is none)."""
        if c is None:
            return self.default_tier
        if c.confidence < self.min_confidence:
            return self.escalate_to
        if callable(self.routes):
            tier = self.routes(c)
            if tier not in self.models:
                raise ValueError(f"routes returned {tier!r}, not one of the model tiers {list(self.models)}")
            return tier
        return (self.routes or {}).get(c.category, self.default_tier)

    def messages(self, query: str, c: Classification | None) -> list[dict[str, str]]:
        """The generation request for ``query`` (system prompt, if any, then the query)."""
        system = [{"role": "system", "content": self.system_prompt}] if self.system_prompt else []
        return [*system, {"role": "user", "content": query}]

    def _finish(
        self, query: str, start: float, c: Classification | None, tier: str, result: Any
    ) -> RouteResult:
        usage_c = c.usage if c is not None else Usage()
        calls_c = c.model_calls if c is not None else 0
        cost = self.cost(usage_c, c.model) if c is not None and calls_c else 0.0
        cost += self.cost(result.usage, result.model or getattr(self.models[tier], "model", ""))
        out = RouteResult(
            query=query,
            tier=tier,
            answer=result.text,
            category=c.category if c else None,
            confidence=c.confidence if c else None,
            model=result.model,
            prompt_tokens=usage_c.prompt_tokens + result.usage.prompt_tokens,
            completion_tokens=usage_c.completion_tokens + result.usage.completion_tokens,
            cost=cost,
            latency_s=self._clock() - start,
            model_calls=1 + calls_c,
        )
        self.results.append(out)
        return out

    def _rule(self, query: str, start: float) -> RouteResult | None:
        rule = self.rules.match(query)
        if rule is None:
            return None
        out = RouteResult(query, "rules", rule.answer, rule=rule.name, latency_s=self._clock() - start)
        self.results.append(out)
        return out

    def route(self, query: str) -> RouteResult:
        """Answer ``query`` with the cheapest tier that can."""
        start = self._clock()
        hit = self._rule(query, start)
        if hit is not None:
            return hit
        c = _as_classification(self.classifier(query)) if self.classifier else None
        tier = self.choose_tier(c)
        result = self.models[tier].complete(self.messages(query, c), **self.params)
        return self._finish(query, start, c, tier, result)

    async def aroute(self, query: str) -> RouteResult:
        """Async form of :meth:`route`."""
        start = self._clock()
        hit = self._rule(query, start)
        if hit is not None:
            return hit
        c = None
        if self.classifier is not None:
            aclassify = getattr(self.classifier, "aclassify", None)
            raw = await aclassify(query) if aclassify else await asyncio.to_thread(self.classifier, query)
            c = _as_classification(raw)
        tier = self.choose_tier(c)
        result = await self.models[tier].acomplete(self.messages(query, c), **self.params)
        return self._finish(query, start, c, tier, result)

    def run(self, queries: Iterable[str]) -> list[RouteResult]:
        """Route every query in order."""
        return [self.route(q) for q in queries]

    def summary(self) -> list[dict[str, Any]]:
        """:func:`summarize_tiers` over every query routed so far (rules first, then the model tiers)."""
        return summarize_tiers(self.results, ["rules", *self.models])
