"""A provider wrapper that checks every guard before each call and records what it cost (lesson 08).

``GuardedProvider(inner, breaker, limiter, kill_switch, model="gpt-4o")`` estimates each call before
it runs (prompt tokens counted with tiktoken plus ``max_tokens`` × ``n`` as the output bound), asks
every guard, runs the call, then records the real cost from ``ChatResult.usage`` in every guard and
in a :class:`SpendLog` a lesson can plot as a budget burn-down. When the caller sets no
``max_tokens``, ``default_max_tokens`` is sent, so the estimate really bounds the output; with
``default_max_tokens=None`` nothing is sent and the call is reserved against the model's maximum
output from the model table. The estimate is an upper bound when ``model``'s tokenizer is the one
the server counts with.

A call that fails *after* the request was sent (a timeout, a dropped connection, a malformed body,
a stream cut short: ``ProviderError.sent``) may already have been generated and billed, so it is
charged its reserved estimate; a call refused before generation (a 429, a 4xx, a guard) costs nothing.
"""

from __future__ import annotations

import copy
import itertools
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..cost import PriceTable, RequestCost, estimate_request_cost, load_prices, request_cost
from ..providers.base import (
    BaseProvider,
    ChatResult,
    Message,
    ProviderError,
    StreamChunk,
    Usage,
    validate_messages,
)
from ..tokens import count_message_tokens, count_tokens
from .base import CallInfo, Clock, Guard, GuardError

__all__ = ["BlockedCall", "GuardedProvider", "SpendLog", "SpendRecord"]

Estimator = Callable[[list[dict[str, Any]], dict[str, Any]], "float | RequestCost"]


@dataclass(frozen=True)
class SpendRecord:
    """One settled call: when, what it cost, the running total, who made it (lesson 08)."""

    time: float
    cost: float
    cumulative: float
    estimated_cost: float
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int
    user: str
    tenant: str


@dataclass(frozen=True)
class BlockedCall:
    """A call a guard refused: when, which guard, and its message (lesson 08)."""

    time: float
    guard: str
    error: str
    message: str
    user: str
    tenant: str


@dataclass
class SpendLog:
    """Every settled call's cost with a running total, ready to plot as a burn-down (lesson 08)."""

    records: list[SpendRecord] = field(default_factory=list)

    @property
    def total(self) -> float:
        """USD spent so far."""
        return self.records[-1].cumulative if self.records else 0.0

    @property
    def times(self) -> list[float]:
        """Settlement times, in order."""
        return [r.time for r in self.records]

    @property
    def cumulative(self) -> list[float]:
        """Running total after each call."""
        return [r.cumulative for r in self.records]

    @property
    def cache_hit_rate(self) -> float:
        """Cached share of all prompt tokens so far (over the whole log, not just the last call)."""
        prompt = sum(r.prompt_tokens for r in self.records)
        return sum(r.cached_tokens for r in self.records) / prompt if prompt else 0.0

    def cost_between(self, start: float, end: float) -> float:
        """USD settled in ``start <= time < end`` (e.g. the last hour, to project a month)."""
        return sum(r.cost for r in self.records if start <= r.time < end)

    def burn_down(self, cap: float) -> list[tuple[float, float]]:
        """(time, budget left) after each call, for a budget of ``cap`` USD."""
        return [(r.time, cap - r.cumulative) for r in self.records]

    def as_records(self) -> list[dict[str, Any]]:
        """Plain dicts, one per call."""
        return [r.__dict__.copy() for r in self.records]

    def add(self, **fields: Any) -> SpendRecord:
        """Append a call and update the running total."""
        record = SpendRecord(cumulative=self.total + fields["cost"], **fields)
        self.records.append(record)
        return record


class GuardedProvider(BaseProvider):
    """Checks every guard before each call and records actual spend after it (lesson 08).

    ``model`` names the price-table entry used to price calls (default: ``inner.model``);
    ``estimate(messages, params)`` may replace the built-in estimate (USD or a RequestCost).
    :meth:`as_user` gives a view for another user or tenant that shares the guards and the log.
    """

    name = "guarded"

    def __init__(
        self,
        inner: Any,
        *guards: Guard,
        model: str | None = None,
        estimate: Estimator | None = None,
        user: str = "default",
        tenant: str = "default",
        default_max_tokens: int | None = 1024,
        clock: Clock = time.time,
        prices: PriceTable | None = None,
    ) -> None:
        self.inner, self.guards = inner, tuple(guards)
        self.prices = prices or load_prices()
        self.model = self.prices.resolve(model or getattr(inner, "model", ""))
        self.estimate, self.user, self.tenant = estimate, user, tenant
        self.default_max_tokens, self.clock = default_max_tokens, clock
        self.spend_log = SpendLog()
        self.blocked: list[BlockedCall] = []
        self._lock = threading.RLock()
        self._ids = itertools.count(1)

    def as_user(self, user: str | None = None, tenant: str | None = None) -> GuardedProvider:
        """The same guarded provider acting for another user and/or tenant."""
        view = copy.copy(self)
        view.user = self.user if user is None else user
        view.tenant = self.tenant if tenant is None else tenant
        return view

    # ------------------------------------------------------------------ the two halves of a call

    def _before(self, messages: Sequence[Message], params: dict[str, Any]) -> tuple[CallInfo, dict]:
        msgs = validate_messages(messages)
        forwarded = dict(params)
        if forwarded.get("max_tokens") is None and self.default_max_tokens is not None:
            forwarded["max_tokens"] = self.default_max_tokens
        if forwarded.get("max_tokens") is None:
            forwarded.pop("max_tokens", None)
            max_tokens = self._model_max_output()
        else:
            max_tokens = int(forwarded["max_tokens"])
        n = int(forwarded.get("n") or 1)
        bound = estimate_request_cost(msgs, self.model, max_tokens=max_tokens, n=n, prices=self.prices)
        cost = bound.total
        if self.estimate is not None:
            custom = self.estimate(msgs, forwarded)
            cost = custom.total if isinstance(custom, RequestCost) else float(custom)
        with self._lock:
            call = CallInfo(
                id=next(self._ids),
                time=self.clock(),
                model=self.model,
                estimated_cost=cost,
                estimated_tokens=bound.prompt_tokens + bound.completion_tokens,
                user=self.user,
                tenant=self.tenant,
            )
            for guard in self.guards:
                try:
                    guard.check(call)
                except GuardError as exc:
                    self.blocked.append(
                        BlockedCall(
                            call.time, exc.guard, type(exc).__name__, str(exc), self.user, self.tenant
                        )
                    )
                    raise
            for guard in self.guards:
                guard.admit(call)
        return call, forwarded

    def _model_max_output(self) -> int:
        """The model's maximum output from the model table (its context window when none is listed)."""
        price = self.prices.get(self.model)
        return int(price.max_output_tokens or price.context_window)

    @staticmethod
    def _charge_estimate(error: BaseException) -> bool:
        """Whether a failed call may have been generated (and billed): the request reached the server."""
        return isinstance(error, ProviderError) and bool(getattr(error, "sent", False))

    def _usage(self, result: ChatResult, messages: Sequence[Message]) -> Usage:
        if result.usage.total_tokens > 0:
            return result.usage
        # The server sent no usage: count it ourselves rather than record a free call.
        return Usage(
            prompt_tokens=count_message_tokens(messages, self.model),
            completion_tokens=sum(count_tokens(t, self.model) for t in result.texts),
            computed=True,
        )

    def _settle(self, call: CallInfo, result: ChatResult | None, messages: Sequence[Message], *,
                charge_estimate: bool = False) -> None:  # fmt: skip
        usage = self._usage(result, messages) if result is not None else Usage()
        cost = request_cost(usage, self.model, prices=self.prices).total
        if result is None and charge_estimate:
            cost = call.estimated_cost  # sent but failed (or a stream cut short): assume the worst
        with self._lock:
            for guard in self.guards:
                guard.settle(call, cost, usage.total_tokens)
            if result is not None or cost:
                self.spend_log.add(
                    time=self.clock(),
                    cost=cost,
                    estimated_cost=call.estimated_cost,
                    prompt_tokens=usage.prompt_tokens,
                    completion_tokens=usage.completion_tokens,
                    cached_tokens=usage.cached_tokens,
                    user=call.user,
                    tenant=call.tenant,
                )

    # ------------------------------------------------------------------ the provider interface

    def complete(self, messages: Sequence[Message], **params: Any) -> ChatResult:
        """Check every guard, call the inner provider, record what the call cost."""
        call, forwarded = self._before(messages, params)
        try:
            result = self.inner.complete(messages, **forwarded)
        except BaseException as error:
            self._settle(call, None, messages, charge_estimate=self._charge_estimate(error))
            raise
        self._settle(call, result, messages)
        return result

    async def acomplete(self, messages: Sequence[Message], **params: Any) -> ChatResult:
        """Async form of :meth:`complete`."""
        call, forwarded = self._before(messages, params)
        try:
            result = await self.inner.acomplete(messages, **forwarded)
        except BaseException as error:
            self._settle(call, None, messages, charge_estimate=self._charge_estimate(error))
            raise
        self._settle(call, result, messages)
        return result

    def stream(self, messages: Sequence[Message], **params: Any) -> Iterator[StreamChunk]:
        """Guarded streaming; a stream stopped before its last chunk is charged its estimate."""
        call, forwarded = self._before(messages, params)
        result, charge = None, False
        try:
            for chunk in self.inner.stream(messages, **forwarded):
                charge = True
                if chunk.done and chunk.result is not None:
                    result = chunk.result
                yield chunk
        except BaseException as error:
            charge = charge or self._charge_estimate(error)
            raise
        finally:
            self._settle(call, result, messages, charge_estimate=charge)

    async def astream(self, messages: Sequence[Message], **params: Any) -> AsyncIterator[StreamChunk]:
        """Async form of :meth:`stream`."""
        call, forwarded = self._before(messages, params)
        result, charge = None, False
        try:
            async for chunk in self.inner.astream(messages, **forwarded):
                charge = True
                if chunk.done and chunk.result is not None:
                    result = chunk.result
                yield chunk
        except BaseException as error:
            charge = charge or self._charge_estimate(error)
            raise
        finally:
            self._settle(call, result, messages, charge_estimate=charge)

    def __getattr__(self, name: str) -> Any:
        # Attributes of the wrapped provider (its client, retry policy, transport …) stay reachable.
        if name.startswith("_") or name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    def __repr__(self) -> str:
        names = ", ".join(g.name for g in self.guards)
        return f"GuardedProvider({self.inner!r}, guards=[{names}], model={self.model!r})"
