"""Call metrics and the golden signals an SRE watches, as plain data (lesson 09).

:class:`MetricsRecorder` keeps one :class:`CallRecord` per model call: latency, tokens, cost (when a
cost function ``cost(usage, model) -> float`` is injected), error type and a label (tier, provider,
team). :class:`MeteredProvider` wraps any provider and records every call it makes.

:meth:`MetricsRecorder.summary` turns the records into the four golden signals:
latency (p50/p95/p99), traffic (requests, requests per second), errors (rate and count by type)
and saturation, which for a model API is best read from two proxies: how many calls were in flight
at once, and the share of calls the vendor refused with a 429 (the quota is full).
Everything returned is a dict or list of dicts, ready for a table or a plot.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from .providers.base import BaseProvider, ChatResult, Message, Usage, provider_label

__all__ = [
    "CallRecord",
    "CostFn",
    "MeteredProvider",
    "MetricsRecorder",
    "percentile",
]

CostFn = Callable[[Usage, str], float]
"""``cost(usage, model) -> dollars``: how a recorder prices a call (lesson 08 writes one)."""


def percentile(values: Iterable[float], q: float) -> float:
    """The ``q``-th percentile (0–100) with linear interpolation, like ``numpy.percentile`` (lesson 09)."""
    data = sorted(values)
    if not data:
        return math.nan
    if not 0 <= q <= 100:
        raise ValueError(f"percentile q must be between 0 and 100 (got {q})")
    pos = (len(data) - 1) * q / 100
    lo = math.floor(pos)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


@dataclass(frozen=True)
class CallRecord:
    """One model call: when it ended, label, model, latency, tokens, cost and error type (lesson 09)."""

    t: float
    label: str
    model: str
    latency_s: float
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    cost: float = 0.0
    error_type: str | None = None

    @property
    def ok(self) -> bool:
        """True when the call returned an answer."""
        return self.error_type is None


class MetricsRecorder:
    """Collects :class:`CallRecord` s and summarises them as golden signals (lesson 09).

    ``cost`` prices successful calls from their usage and model; ``clock`` (seconds, default
    :func:`time.monotonic`) stamps each record so traffic per second and timelines can be computed.
    """

    def __init__(self, cost: CostFn | None = None, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.cost_fn = cost
        self._clock = clock
        self._lock = threading.Lock()
        self._records: list[CallRecord] = []
        self._in_flight: Counter[str] = Counter()
        self._peak: Counter[str] = Counter()

    # ------------------------------------------------------------------ recording

    def record(
        self,
        *,
        latency_s: float,
        label: str = "default",
        model: str = "",
        usage: Usage | None = None,
        error: BaseException | str | None = None,
        cost: float | None = None,
    ) -> CallRecord:
        """Record one call; ``error`` is the exception (or its type name) when the call failed."""
        usage = usage or Usage()
        if cost is None:
            cost = self.cost_fn(usage, model) if self.cost_fn is not None and error is None else 0.0
        error_type = error if isinstance(error, str) or error is None else type(error).__name__
        rec = CallRecord(
            t=self._clock(),
            label=label,
            model=model,
            latency_s=latency_s,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            cached_tokens=usage.cached_tokens,
            cost=float(cost),
            error_type=error_type,
        )
        with self._lock:
            self._records.append(rec)
        return rec

    def started(self, label: str = "default") -> None:
        """A call began (for the in-flight saturation gauge); pair with :meth:`finished`."""
        with self._lock:
            self._in_flight[label] += 1
            self._in_flight["*"] += 1
            for key in (label, "*"):
                self._peak[key] = max(self._peak[key], self._in_flight[key])

    def finished(self, label: str = "default") -> None:
        """A call ended (successfully or not)."""
        with self._lock:
            self._in_flight[label] -= 1
            self._in_flight["*"] -= 1

    def reset(self) -> None:
        """Forget every record and gauge."""
        with self._lock:
            self._records.clear()
            self._in_flight.clear()
            self._peak.clear()

    # ------------------------------------------------------------------ reading

    @property
    def records(self) -> list[CallRecord]:
        """A copy of every record, in the order they were made."""
        with self._lock:
            return list(self._records)

    def labels(self) -> list[str]:
        """The labels seen, in first-seen order."""
        return list(dict.fromkeys(r.label for r in self.records))

    def latencies(self, label: str | None = None, *, ok_only: bool = False) -> list[float]:
        """Latencies (seconds) of the calls with ``label`` (all labels if None), e.g. for a histogram."""
        return [
            r.latency_s for r in self.records if (label is None or r.label == label) and (r.ok or not ok_only)
        ]

    def summary(self, label: str | None = None) -> dict[str, Any]:
        """Golden signals for one label (or all calls): latency, traffic, errors, saturation, tokens, cost."""
        recs = [r for r in self.records if label is None or r.label == label]
        return _summarise(recs, label or "all", self._peak["*" if label is None else label])

    def by_label(self) -> dict[str, dict[str, Any]]:
        """:meth:`summary` for every label."""
        return {label: self.summary(label) for label in self.labels()}

    def table(self) -> list[dict[str, Any]]:
        """One summary row per label plus an ``all`` row, ready to tabulate."""
        return [*self.by_label().values(), self.summary()]

    def rows(self) -> list[dict[str, Any]]:
        """Every record as a plain dict (for a data frame or CSV)."""
        return [asdict(r) for r in self.records]

    def timeline(self, bucket_s: float = 1.0, label: str | None = None) -> list[dict[str, Any]]:
        """Per time bucket (by end time): requests, errors, tokens, cost and p95 latency, for a plot."""
        if bucket_s <= 0:
            raise ValueError(f"bucket_s must be positive seconds (got {bucket_s})")
        recs = [r for r in self.records if label is None or r.label == label]
        if not recs:
            return []
        t0 = min(r.t for r in recs)
        buckets: dict[int, list[CallRecord]] = {}
        for r in recs:
            buckets.setdefault(int((r.t - t0) // bucket_s), []).append(r)
        out = []
        for i in range(max(buckets) + 1):
            group = buckets.get(i, [])
            out.append(
                {
                    "t": t0 + i * bucket_s,
                    "requests": len(group),
                    "errors": sum(not r.ok for r in group),
                    "tokens": sum(r.prompt_tokens + r.completion_tokens for r in group),
                    "cost": sum(r.cost for r in group),
                    "latency_p95": percentile((r.latency_s for r in group), 95),
                }
            )
        return out


def _summarise(recs: Sequence[CallRecord], label: str, peak_in_flight: int) -> dict[str, Any]:
    n = len(recs)
    lat = [r.latency_s for r in recs]
    errors = Counter(r.error_type for r in recs if not r.ok)
    n_err = sum(errors.values())
    window = max(r.t for r in recs) - min(r.t - r.latency_s for r in recs) if recs else 0.0
    return {
        "label": label,
        "requests": n,
        "ok": n - n_err,
        "errors": n_err,
        "error_rate": n_err / n if n else 0.0,
        "errors_by_type": dict(sorted(errors.items())),
        "latency_mean": sum(lat) / n if n else math.nan,
        "latency_p50": percentile(lat, 50),
        "latency_p95": percentile(lat, 95),
        "latency_p99": percentile(lat, 99),
        "latency_max": max(lat) if lat else math.nan,
        "window_s": window,
        "requests_per_s": n / window if window > 0 else math.nan,
        "prompt_tokens": sum(r.prompt_tokens for r in recs),
        "completion_tokens": sum(r.completion_tokens for r in recs),
        "total_tokens": sum(r.prompt_tokens + r.completion_tokens for r in recs),
        "cost": sum(r.cost for r in recs),
        "peak_in_flight": peak_in_flight,
        "rate_limited_share": errors.get("RateLimitError", 0) / n if n else 0.0,
    }


class MeteredProvider(BaseProvider):
    """Wraps a provider and records every call (latency, tokens, cost, errors) in a recorder (lesson 09).

    ``label`` names the series (default ``name:model`` of the inner provider); ``clock`` times calls
    (default :func:`time.perf_counter`). Errors are recorded, then re-raised unchanged.
    """

    def __init__(
        self,
        inner: Any,
        recorder: MetricsRecorder,
        *,
        label: str | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.inner = inner
        self.recorder = recorder
        self.label = label or provider_label(inner)
        self.model = getattr(inner, "model", "")
        self.name = f"metered({getattr(inner, 'name', type(inner).__name__)})"
        self._clock = clock

    def _done(self, start: float, result: ChatResult | None, error: BaseException | None) -> None:
        model = (result.model if result is not None else "") or self.model
        usage = result.usage if result is not None else None
        self.recorder.record(
            latency_s=self._clock() - start, label=self.label, model=model, usage=usage, error=error
        )

    def complete(self, messages: Sequence[Message], **params: Any) -> ChatResult:
        """Call the inner provider and record the call."""
        self.recorder.started(self.label)
        start = self._clock()
        try:
            result = self.inner.complete(messages, **params)
        except Exception as error:
            self._done(start, None, error)
            raise
        finally:
            self.recorder.finished(self.label)
        self._done(start, result, None)
        return result

    async def acomplete(self, messages: Sequence[Message], **params: Any) -> ChatResult:
        """Async form of :meth:`complete`."""
        self.recorder.started(self.label)
        start = self._clock()
        try:
            result = await self.inner.acomplete(messages, **params)
        except Exception as error:
            self._done(start, None, error)
            raise
        finally:
            self.recorder.finished(self.label)
        self._done(start, result, None)
        return result
