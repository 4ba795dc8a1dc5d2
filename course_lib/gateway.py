"""A small AI gateway for teams, composed from the course's parts, and traffic to try it on (lesson 09).

:class:`Gateway` adds nothing of its own: every request goes through existing components, in this order::

    MeteredProvider(gateway.metrics, label=tenant)   what each team sees: latency, errors, traffic
      CachedProvider(cache)                          an exact repeat is answered at once, for free
        GuardedProvider(quotas, tenant=...)          refuses a call the team's token quota cannot cover
          MeteredProvider(gateway.upstream, label=tier)   what the vendors did
            FailoverProvider(vendors of the tier)    vendors in priority order; 429/5xx/timeout → next

With a ``redactor`` (:class:`~course_lib.redaction.Redactor`, lesson 12) a ``Redacting`` layer sits just
below the team's meter: e-mail addresses, phone, card and IBAN numbers and API keys become placeholders
before the cache, the quota or any vendor sees the prompt, and the answer gets the values back. With an
``audit`` log (:class:`~course_lib.audit.AuditLog`) that layer appends one record per request: team,
model, tokens, cost and redaction counts, never a value.

A cache hit costs no quota and reaches no vendor. The cache is shared by all teams; its key is the whole
request (model, messages, parameters), so two teams share an entry only when they sent the very same
request. Teams ask for a tier by name ("fast", "smart"), never for a vendor, so the platform team can
change vendors without touching their code.

:func:`simulated_vendor` and :func:`synthetic_traffic` / :func:`run_traffic` drive a gateway, or any
provider, on a manual clock: seeded latencies, popular questions asked again and again, several teams.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .cache import CachedProvider, PromptCache
from .cost import PriceTable
from .failover import FailoverProvider
from .guards import GuardedProvider, ManualClock, TenantQuotas
from .metrics import MeteredProvider, MetricsRecorder
from .providers.base import BaseProvider, ChatResult, Message, ProviderError, ProviderTimeout
from .providers.scripted import ScriptedProvider
from .retry import RetryPolicy

__all__ = [
    "Gateway",
    "TrafficOutcome",
    "TrafficRequest",
    "run_traffic",
    "simulated_vendor",
    "synthetic_traffic",
]


class Gateway:
    """Cache → per-team quota → tier → vendor failover, metered at the edge and upstream (lessons 09 and 12).

    ``tiers`` maps a tier name to its vendors in priority order (a list, a ``{label: provider}``
    mapping, or one provider). ``redactor``, ``audit`` and ``restore`` add the redaction and audit layer
    (see the module). ``tier_models`` names the price-table model that prices a tier's calls
    and keys its cache entries (default: the first vendor's model). ``clock`` (seconds) drives the
    quotas, the metrics and failover's circuit breakers; ``sleep`` is what retries wait with.
    """

    def __init__(
        self,
        tiers: Mapping[str, Any],
        *,
        quotas: TenantQuotas,
        cache: PromptCache | None = None,
        default_tier: str | None = None,
        tier_models: Mapping[str, str] | None = None,
        retry_policy: RetryPolicy | None = None,
        breaker_threshold: int | None = None,
        default_max_tokens: int = 512,
        prices: PriceTable | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Any] = time.sleep,
        redactor: Any = None,
        audit: Any = None,
        restore: bool = True,
    ) -> None:
        if not tiers:
            raise ValueError("a gateway needs at least one tier, e.g. {'fast': [vendor_a, vendor_b]}")
        self.quotas = quotas
        self.cache = cache if cache is not None else PromptCache(clock=clock)
        self.metrics = MetricsRecorder(clock=clock)
        self.upstream = MetricsRecorder(clock=clock)
        self.default_tier = default_tier or next(iter(tiers))
        if self.default_tier not in tiers:
            raise ValueError(f"default_tier {self.default_tier!r} is not one of the tiers {list(tiers)}")
        self._clock = clock
        self.redactor = redactor
        self.audit = audit
        self.restore = restore
        self._prices = prices
        self.failover: dict[str, FailoverProvider] = {}
        self._guarded: dict[str, GuardedProvider] = {}
        for name, vendors in tiers.items():
            vendors = vendors if isinstance(vendors, (Sequence, Mapping)) else [vendors]
            failover = FailoverProvider(
                vendors,
                retry_policy=retry_policy,
                breaker_threshold=breaker_threshold,
                clock=clock,
                sleep=sleep,
            )
            metered = MeteredProvider(failover, self.upstream, label=name, clock=clock)
            model = (tier_models or {}).get(name) or failover.model
            self.failover[name] = failover
            self._guarded[name] = GuardedProvider(
                metered,
                quotas,
                model=model,
                default_max_tokens=default_max_tokens,
                clock=clock,
                prices=prices,
            )
        self._clients: dict[tuple[str, str], MeteredProvider] = {}

    @property
    def tiers(self) -> list[str]:
        """The tier names, in the order given."""
        return list(self._guarded)

    def client(self, tenant: str, tier: str | None = None) -> BaseProvider:
        """The provider a team uses: ``gateway.client("team-support", "fast").complete(messages)``."""
        tier = tier or self.default_tier
        if tier not in self._guarded:
            raise ValueError(f"unknown tier {tier!r}; this gateway offers {self.tiers}")
        key = (tenant, tier)
        if key not in self._clients:
            guarded = self._guarded[tier].as_user(user=tenant, tenant=tenant)
            inner: BaseProvider = CachedProvider(guarded, self.cache)
            if self.redactor is not None or self.audit is not None:
                from .redaction import Redacting, Redactor

                redactor = self.redactor if self.redactor is not None else Redactor(kinds=())
                inner = Redacting(
                    inner, redactor, audit=self.audit, who=tenant, restore=self.restore, prices=self._prices
                )
            self._clients[key] = MeteredProvider(inner, self.metrics, label=tenant, clock=self._clock)
        return self._clients[key]

    def complete(
        self, messages: Sequence[Message], *, tenant: str, tier: str | None = None, **params: Any
    ) -> ChatResult:
        """Answer a team's request through the whole chain."""
        return self.client(tenant, tier).complete(messages, **params)

    async def acomplete(
        self, messages: Sequence[Message], *, tenant: str, tier: str | None = None, **params: Any
    ) -> ChatResult:
        """Async form of :meth:`complete`."""
        return await self.client(tenant, tier).acomplete(messages, **params)

    def hit_rate_series(self, window: int | None = None) -> list[tuple[float, float]]:
        """(time, cache hit rate) after each request: cumulative, or over the last ``window`` requests."""
        return self.cache.hit_rate_series(window)

    def spend(self, tenant: str | None = None) -> float:
        """USD the vendors' calls cost, priced from their usage (one team's, or everyone's)."""
        return sum(
            r.cost
            for guarded in self._guarded.values()
            for r in guarded.spend_log.records
            if tenant is None or r.tenant == tenant
        )

    def tenant_report(self) -> list[dict[str, Any]]:
        """Per team: requests, errors by type, spend, tokens used this window, quota and what is left."""
        rows = []
        for tenant, s in self.metrics.by_label().items():
            rows.append(
                {
                    "tenant": tenant,
                    "requests": s["requests"],
                    "errors": s["errors_by_type"],
                    "spend": self.spend(tenant),
                    "tokens_used": self.quotas.used(tenant),
                    "quota": self.quotas.limit(tenant),
                    "remaining": self.quotas.remaining(tenant),
                }
            )
        return rows

    def vendor_report(self) -> dict[str, dict[str, dict[str, Any]]]:
        """Per tier, per vendor: requests answered, calls made, errors by type (from failover)."""
        return {tier: failover.summary() for tier, failover in self.failover.items()}


# --------------------------------------------------------------------------- simulated traffic


def simulated_vendor(
    clock: ManualClock,
    *,
    name: str = "vendor",
    model: str = "gpt-4o-mini",
    median_s: float = 0.8,
    spread: float = 0.5,
    timeout_s: float | None = None,
    seed: int = 0,
    reply: Callable[[list[dict[str, Any]]], str] | None = None,
) -> ScriptedProvider:
    """A stand-in vendor whose calls take seeded log-normal time on ``clock`` (lesson 09).

    Latency has median ``median_s`` and log-spread ``spread``; a call slower than ``timeout_s`` costs
    ``timeout_s`` and raises :class:`ProviderTimeout`, as a client timeout would. Answers are scripted
    (``reply(messages)``, default a line naming the question).
    """
    if median_s <= 0 or spread < 0:
        raise ValueError("median_s must be positive and spread zero or positive")
    rng = random.Random(seed)

    def respond(messages: list[dict[str, Any]], params: dict[str, Any]) -> str | BaseException:
        latency = rng.lognormvariate(math.log(median_s), spread)
        if timeout_s is not None and latency > timeout_s:
            clock.advance(timeout_s)
            return ProviderTimeout(f"{name}: no answer within {timeout_s:g} s (simulated)")
        clock.advance(latency)
        return reply(messages) if reply else f"[{name}] answer to: {messages[-1]['content'][:60]}"

    vendor = ScriptedProvider(respond, model=model)
    vendor.name = name
    return vendor


@dataclass(frozen=True)
class TrafficRequest:
    """One request of a simulated workload: when it arrives, from which team, to which tier (lesson 09)."""

    t: float
    tenant: str
    tier: str
    question: str


@dataclass(frozen=True)
class TrafficOutcome:
    """What happened to a :class:`TrafficRequest`: start, end, who answered, or the error type (lesson 09)."""

    request: TrafficRequest
    started: float
    ended: float
    answered_by: str | None = None
    error_type: str | None = None

    @property
    def ok(self) -> bool:
        """True when the request got an answer."""
        return self.error_type is None


def _pick(rng: random.Random, weights: Mapping[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def synthetic_traffic(
    n: int,
    questions: Sequence[str],
    *,
    tenants: Mapping[str, float] | None = None,
    tiers: Mapping[str, float] | None = None,
    popularity: float = 1.1,
    rate_per_s: float = 1.0,
    seed: int = 0,
) -> list[TrafficRequest]:
    """``n`` seeded requests: Poisson arrivals, popular questions asked far more often (lesson 09).

    Question *k* (1-based) is asked with weight 1 / k^popularity. ``tenants`` and ``tiers`` map names
    to shares (default one ``"default"`` team and tier).
    """
    if n < 0 or not questions or rate_per_s <= 0:
        raise ValueError("need n >= 0, at least one question and a positive rate")
    rng = random.Random(seed)
    tenants, tiers = tenants or {"default": 1.0}, tiers or {"default": 1.0}
    weights = [1 / (k**popularity) for k in range(1, len(questions) + 1)]
    t, out = 0.0, []
    for _ in range(n):
        t += rng.expovariate(rate_per_s)
        question = rng.choices(list(questions), weights=weights)[0]
        out.append(TrafficRequest(t, _pick(rng, tenants), _pick(rng, tiers), question))
    return out


def run_traffic(
    target: Gateway | Any,
    traffic: Sequence[TrafficRequest],
    clock: ManualClock,
    *,
    system: str | None = None,
    **params: Any,
) -> list[TrafficOutcome]:
    """Send each request when it arrives (one at a time) to a :class:`Gateway` or any provider (lesson 09).

    The clock jumps to each arrival time unless the previous call ran past it (then the request waits).
    Provider errors are recorded in the outcome, not raised.
    """
    outcomes = []
    for request in traffic:
        if clock() < request.t:
            clock.advance(request.t - clock())
        messages = [{"role": "system", "content": system}] if system else []
        messages.append({"role": "user", "content": request.question})
        start = clock()
        try:
            if isinstance(target, Gateway):
                result = target.complete(messages, tenant=request.tenant, tier=request.tier, **params)
            else:
                result = target.complete(messages, **params)
        except ProviderError as error:
            outcomes.append(TrafficOutcome(request, start, clock(), error_type=type(error).__name__))
            continue
        outcomes.append(TrafficOutcome(request, start, clock(), answered_by=result.provider or result.model))
    return outcomes
