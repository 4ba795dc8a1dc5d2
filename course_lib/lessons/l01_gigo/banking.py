"""The banking support bot: a multi-tier pipeline that applies GIGO at every step (lesson 01).

FAQ rules answer for free → a small model names the intent → policies for that intent are injected
→ a small or large model (by intent and confidence) writes the answer → the answer is checked (no
refund promises, no account numbers, no hedging, length) and, if it fails, rewritten once with the
problems named → if it still fails, or the model is down, the customer is handed to a human.
Each query gives a :class:`BankingRecord` (tier, answer, tokens, cost, latency); :func:`run_batch`
adds per-tier totals. :func:`cascade_economics` is the same cascade on paper: cost per day and
mean latency for any tier mix, with every per-tier figure a parameter.

A common mistake in such validators: lower-case the answer, then look for "I think" and "I'm not
sure", which contain capitals and so never match; :func:`validate_answer` lower-cases both sides.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from course_lib.classify import Classification, ProviderClassifier
from course_lib.providers.base import ProviderError, Usage
from course_lib.routing import RouteResult, Rule, RuleTier, summarize_tiers

__all__ = [
    "ASSUMED_BASELINE",
    "ASSUMED_SHARES",
    "ASSUMED_TIER_COSTS",
    "HANDOFF_MESSAGE",
    "BankingPipeline",
    "BankingRecord",
    "BatchReport",
    "KeywordRetriever",
    "KnowledgeBase",
    "PolicyDoc",
    "TierCost",
    "cascade_economics",
    "load_banking_kb",
    "run_batch",
    "support_messages",
    "validate_answer",
]

HANDOFF_MESSAGE = (
    "I'll connect you with a specialist who can look into this with you. Please stay in the chat."
)
TIERS = ("faq", "small", "large", "human")
UNCERTAINTY_MARKERS = ("i think", "probably", "maybe", "i'm not sure")
GENERIC_MARKERS = ("contact your branch", "contact your bank")
_REFUND_PROMISES = [
    r"\b(?:we|i)(?:'ll| will| shall| are going to| am going to)\s+(?:\w+\s+)?(?:refund|reimburse|credit)",
    r"\byou(?:'ll| will)\s+(?:\w+\s+)?(?:get|receive|be given)\s+(?:a\s+|your\s+|the\s+)?(?:full\s+)?"
    r"(?:refund|reimbursement|money back)",
    r"\brefund\s+(?:has been|is|was)\s+(?:issued|approved|processed|guaranteed)",
    r"\bguarantee[ds]?\b[^.]*\brefund|\brefund\b[^.]*\bguarantee",
]
_DIGIT_RUN = re.compile(r"\d(?:[ -]?\d){7,}")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class PolicyDoc:
    """One policy article of the knowledge base (lesson 01)."""

    id: str
    category: str
    title: str
    text: str
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class KnowledgeBase:
    """FAQ rules, policies, intent categories, their tiers and roles, and numbers safe to show (lesson 01)."""

    bank: str
    faq: list[Rule]
    policies: list[PolicyDoc]
    categories: list[str]
    tiers: dict[str, str]
    roles: dict[str, str] = field(default_factory=dict)
    public_numbers: tuple[str, ...] = ()


def load_banking_kb(path: str | None = None) -> KnowledgeBase:
    """Load the fictional Example Bank's knowledge base (``data/banking_faq.json``, or ``path``) (lesson 01)."""
    if path is None:
        raw = resources.files("course_lib").joinpath("data/banking_faq.json").read_text(encoding="utf-8")
    else:
        with open(path, encoding="utf-8") as fh:
            raw = fh.read()
    d = json.loads(raw)
    return KnowledgeBase(
        bank=d["bank"],
        faq=[Rule(f["pattern"], f["answer"], f["name"]) for f in d["faq"]],
        policies=[
            PolicyDoc(p["id"], p["category"], p["title"], p["text"], tuple(p["keywords"]))
            for p in d["policies"]
        ],
        categories=list(d["categories"]),
        tiers=dict(d["tiers"]),
        roles=dict(d.get("roles", {})),
        public_numbers=tuple(d.get("public_numbers", ())),
    )


class KeywordRetriever:
    """Ranks policies by keywords shared with the query, plus a bonus for the query's category (lesson 01).

    A stand-in for vector search with the same call shape: ``retriever(query, category, k)``.
    """

    def __init__(self, docs: Sequence[PolicyDoc], *, category_bonus: float = 2.0) -> None:
        self.docs = list(docs)
        self.category_bonus = category_bonus

    def score(self, query: str, doc: PolicyDoc, category: str | None = None) -> float:
        """Keywords of ``doc`` found among the query's words, plus the bonus if the category matches."""
        words = set(re.findall(r"[a-z0-9']+", query.lower()))
        hits = sum(1 for kw in doc.keywords if kw.lower() in words)
        return hits + (self.category_bonus if category and doc.category == category else 0.0)

    def __call__(self, query: str, category: str | None = None, k: int = 3) -> list[PolicyDoc]:
        """The ``k`` best-scoring policies with a score above zero, best first (ties keep file order)."""
        scored = [(self.score(query, d, category), i, d) for i, d in enumerate(self.docs)]
        ranked = sorted((s for s in scored if s[0] > 0), key=lambda s: (-s[0], s[1]))
        return [d for _, _, d in ranked[:k]]


def validate_answer(
    text: str,
    *,
    public_numbers: Iterable[str] = (),
    max_chars: int = 800,
    markers: Iterable[str] = UNCERTAINTY_MARKERS,
) -> list[str]:
    """Problems that stop an answer reaching a customer; an empty list means it may be sent (lesson 01)."""
    problems: list[str] = []
    low = text.lower()
    if not text.strip():
        return ["the answer is empty"]
    if len(text) > max_chars:
        problems.append(f"the answer is {len(text)} characters long; keep it under {max_chars}")
    if any(re.search(p, low) for p in _REFUND_PROMISES):
        problems.append("it promises a refund; only the review team can decide on refunds")
    allowed = {re.sub(r"\D", "", n) for n in public_numbers}
    for m in _DIGIT_RUN.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if digits not in allowed and not _ISO_DATE.fullmatch(m.group()):
            problems.append(f"it shows a {len(digits)}-digit number that may be an account or card number")
    hedges = [w for w in markers if w.lower() in low]
    if hedges:
        problems.append(f"it hedges ({', '.join(hedges)}); state only what the context supports")
    if any(g in low for g in GENERIC_MARKERS):
        problems.append("it is a generic brush-off; answer from the context or say what you cannot access")
    return problems


def support_messages(
    query: str,
    category: str,
    docs: Sequence[PolicyDoc],
    *,
    bank: str = "Example Bank",
    role: str = "customer support specialist",
    user_context: str | None = None,
    max_words: int = 120,
) -> list[dict[str, str]]:
    """The generation prompt: role, rules, retrieved policies and account summary, then the query (lesson 01)."""
    context = "\n".join(f"[{d.id}] {d.title}: {d.text}" for d in docs) or "(no policy found)"
    system = (
        f"You are a {role} for {bank}. The customer's question was classified as {category}.\n"
        "Rules:\n- Use only the context below; if it does not cover the question, say you don't have "
        "access to that information.\n- Never promise refunds, reversals or outcomes of a review.\n"
        "- Never write out account or card numbers.\n"
        f"- Answer in at most {max_words} words, with concrete next steps, citing policy ids.\n\n"
        f"Context:\n{context}"
    )
    if user_context:
        system += f"\n\nAccount summary:\n{user_context}"
    return [{"role": "system", "content": system}, {"role": "user", "content": query}]


@dataclass(frozen=True)
class BankingRecord(RouteResult):
    """A routed query (:class:`~course_lib.routing.RouteResult`) plus the bot's own facts: generations,
    answer problems, the policy documents it cited and why it was handed off (lesson 01)."""

    generations: int = 0
    problems: tuple[str, ...] = ()
    docs: tuple[str, ...] = ()
    handoff_reason: str | None = None
    source: str = ""
    """Where the last answer came from: the model's ``recorded``/``scripted``/``live``, or ``rule``."""


class BankingPipeline:
    """The tiered banking bot; it receives its providers and never builds one (lesson 01).

    ``classifier`` is a provider (wrapped in a :class:`ProviderClassifier`) or a function of the
    query returning a :class:`Classification` or ``(category, confidence)``. ``retriever(query,
    category, k)`` defaults to :class:`KeywordRetriever`; ``cost(usage, model)`` prices each call.
    A confidence below ``min_confidence`` sends the query to the large model.
    """

    def __init__(
        self,
        *,
        small: Any,
        large: Any,
        classifier: Any,
        kb: KnowledgeBase | None = None,
        retriever: Callable[[str, str | None, int], Sequence[PolicyDoc]] | None = None,
        cost: Callable[[Usage, str], float] | None = None,
        min_confidence: float = 0.6,
        max_attempts: int = 2,
        top_k: int = 3,
        max_chars: int = 800,
        params: Mapping[str, Any] | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1 generation (got {max_attempts})")
        self.kb = kb or load_banking_kb()
        self.models = {"small": small, "large": large}
        if hasattr(classifier, "complete"):
            classifier = ProviderClassifier(classifier, self.kb.categories, default="OTHER", domain="banking")
        self.classifier = classifier
        self.rules = RuleTier(self.kb.faq)
        self.retriever = retriever or KeywordRetriever(self.kb.policies)
        self.cost = cost or (lambda usage, model: 0.0)
        self.min_confidence = min_confidence
        self.max_attempts = max_attempts
        self.top_k = top_k
        self.max_chars = max_chars
        self.params = dict(params if params is not None else {"temperature": 0, "max_tokens": 300})
        self._clock = clock

    def _classify(self, query: str) -> Classification:
        try:
            raw = self.classifier(query)
        except ProviderError:
            return Classification("OTHER", 0.0)
        if isinstance(raw, Classification):
            return raw
        return Classification(str(raw[0]), float(raw[1]))

    def answer(self, query: str, *, user_context: str | None = None) -> BankingRecord:
        """Run one query through every tier and return its record."""
        start = self._clock()
        rule = self.rules.match(query)
        if rule is not None:
            return BankingRecord(query, "faq", rule.answer, latency_s=self._clock() - start, source="rule")
        c = self._classify(query)
        tier = "large" if c.confidence < self.min_confidence else self.kb.tiers.get(c.category, "large")
        docs = list(self.retriever(query, c.category, self.top_k))
        role = self.kb.roles.get(c.category, "customer support specialist")
        messages = support_messages(
            query, c.category, docs, bank=self.kb.bank, role=role, user_context=user_context
        )
        usage, calls, cost = c.usage, c.model_calls, self.cost(c.usage, c.model) if c.model_calls else 0.0
        problems: list[str] = []
        text, model, reason, source = "", "", None, ""
        generations = 0
        provider = self.models[tier]
        for _ in range(self.max_attempts):
            try:
                result = provider.complete(messages, **self.params)
            except ProviderError as exc:
                reason = f"model unavailable ({type(exc).__name__})"
                break
            generations += 1
            calls += 1
            usage = usage + result.usage
            model = result.model or getattr(provider, "model", "")
            cost += self.cost(result.usage, model)
            text, source = result.text, result.source
            problems = validate_answer(text, public_numbers=self.kb.public_numbers, max_chars=self.max_chars)
            if not problems:
                break
            messages = [
                *messages,
                {"role": "assistant", "content": text},
                {
                    "role": "user",
                    "content": "Your answer failed our checks: "
                    + "; ".join(problems)
                    + ". Rewrite it, fixing every problem and using only the context.",
                },
            ]
        else:
            reason = "answer failed validation: " + "; ".join(problems)
        handed_off = reason is not None
        return BankingRecord(
            query=query,
            tier="human" if handed_off else tier,
            answer=HANDOFF_MESSAGE if handed_off else text,
            category=c.category,
            confidence=c.confidence,
            model=model,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            cost=cost,
            latency_s=self._clock() - start,
            model_calls=calls,
            generations=generations,
            problems=tuple(problems),
            docs=tuple(d.id for d in docs),
            handoff_reason=reason,
            source=source,
        )


@dataclass(frozen=True)
class BatchReport:
    """Every record of a batch and the per-tier totals (lesson 01)."""

    records: list[BankingRecord]

    def by_tier(self) -> list[dict[str, Any]]:
        """One row per tier (faq, small, large, human) plus ``total``: count, share, tokens, cost, latency."""
        return summarize_tiers(self.records, TIERS)

    def rows(self) -> list[dict[str, Any]]:
        """Every record as a plain dict."""
        return [r.as_row() for r in self.records]


def run_batch(pipeline: BankingPipeline, queries: Iterable[str]) -> BatchReport:
    """Answer every query in order and collect the records (lesson 01)."""
    return BatchReport([pipeline.answer(q) for q in queries])


# --------------------------------------------------------------------------- the cascade on paper


@dataclass(frozen=True)
class TierCost:
    """What a query that ends at a tier costs in total, in dollars and seconds, all steps included (lesson 01)."""

    cost_per_query: float
    latency_s: float


#: Assumed per-tier figures, each a query's total at that tier: rules are free (10 ms); the small tier
#: pays the classifier ($0.0005, 50 ms), retrieval (10 ms) and a GPT-3.5-class answer ($0.002,
#: 500 ms); the large tier pays the classifier, retrieval and a GPT-4-class answer ($0.03, 2.5 s).
ASSUMED_TIER_COSTS: dict[str, TierCost] = {
    "faq": TierCost(0.0, 0.010),
    "small": TierCost(0.0005 + 0.002, 0.050 + 0.010 + 0.5),
    "large": TierCost(0.0005 + 0.03, 0.050 + 0.010 + 2.5),
}
#: An assumed tier mix: 30 % answered by the FAQ rules, 30 % by the small tier, 40 % by the large one.
ASSUMED_SHARES: dict[str, float] = {"faq": 0.30, "small": 0.30, "large": 0.40}
#: The assumed starting point: every query to a GPT-4-class model at $0.05 and 2.5 s.
ASSUMED_BASELINE = TierCost(0.05, 2.5)


def cascade_economics(
    shares: Mapping[str, float],
    tier_costs: Mapping[str, TierCost] = ASSUMED_TIER_COSTS,
    *,
    queries_per_day: float = 100_000,
    baseline: TierCost = ASSUMED_BASELINE,
) -> dict[str, Any]:
    """Cost per day and mean latency of a tier mix, against sending everything to one model (lesson 01).

    ``shares`` gives the fraction of queries that *end* at each tier; they must add up to 1.
    """
    unknown = sorted(set(shares) - set(tier_costs))
    if unknown:
        raise ValueError(f"no cost given for tier(s) {unknown}; known tiers: {sorted(tier_costs)}")
    if any(s < 0 for s in shares.values()) or abs(sum(shares.values()) - 1) > 1e-6:
        raise ValueError(
            f"tier shares add up to {sum(shares.values()):.3f} (each must be ≥ 0 and the total 1): "
            "every query ends at exactly one tier"
        )
    rows = [
        {
            "tier": name,
            "share": share,
            "queries_per_day": share * queries_per_day,
            "cost_per_query": tier_costs[name].cost_per_query,
            "cost_per_day": share * queries_per_day * tier_costs[name].cost_per_query,
            "latency_s": tier_costs[name].latency_s,
        }
        for name, share in shares.items()
    ]
    per_query = sum(r["share"] * r["cost_per_query"] for r in rows)
    latency = sum(r["share"] * r["latency_s"] for r in rows)
    base_day = baseline.cost_per_query * queries_per_day
    return {
        "tiers": rows,
        "cost_per_query": per_query,
        "cost_per_day": per_query * queries_per_day,
        "cost_per_year": per_query * queries_per_day * 365,
        "mean_latency_s": latency,
        "baseline_cost_per_day": base_day,
        "savings_per_day": base_day - per_query * queries_per_day,
        "savings_share": 1 - per_query / baseline.cost_per_query if baseline.cost_per_query else 0.0,
        "latency_change": latency / baseline.latency_s - 1 if baseline.latency_s else 0.0,
    }
