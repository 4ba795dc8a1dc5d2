"""A prompt/response cache: exact keys, TTL, LRU eviction and hit-rate metrics (lessons 08 and 09).

An AI gateway answers a request it has already seen without calling the model. The key must cover
everything that changes the answer: the model, the whole message list and the sampling parameters.
Hashing only the system and user text joined by a separator (as simple gateways do) lets two
different models, or two temperatures, share one entry, and lets ``"a|b" + "c"`` collide with
``"a" + "b|c"``. Here the key is the sha256 of canonical JSON of all three.

This is an *exact* cache: a paraphrased question misses. A hit costs no tokens, so a cached answer
is returned with zero usage, and the tokens it saved are counted in :class:`CacheStats`.
Note that caching a call made at temperature > 0 freezes one sample: fine for an FAQ, wrong for
self-consistency voting, which needs fresh samples.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .providers.base import (
    ANSWER_PARAMS,
    BaseProvider,
    ChatResult,
    Message,
    Usage,
    check_params,
    validate_messages,
)

__all__ = [
    "CacheStats",
    "CachedProvider",
    "PromptCache",
    "cache_key",
]


def _jsonable(value: Any) -> Any:
    """Turn values JSON cannot encode (pydantic models or classes, sets, tuples) into stable data."""
    if isinstance(value, type) and hasattr(value, "model_json_schema"):
        return {"pydantic_schema": value.model_json_schema()}
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, (set, frozenset)):
        return sorted(_jsonable(v) for v in value)
    raise TypeError(
        f"cannot build a cache key from a {type(value).__name__}; pass JSON-like values "
        "(str, number, list, dict) or a pydantic model"
    )


def _canonical_json(model: str, messages: Sequence[Message], params: Mapping[str, Any]) -> str:
    """Canonical JSON of a request: model, messages, answer-changing params, sorted keys (lesson 08)."""
    kept = {k: v for k, v in params.items() if k in ANSWER_PARAMS and v is not None}
    body = {"model": model, "messages": [dict(m) for m in messages], "params": kept}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_jsonable)


def cache_key(model: str, messages: Sequence[Message], params: Mapping[str, Any] | None = None) -> str:
    """sha256 of the request's canonical JSON: equal requests share it, any change breaks it (lesson 08)."""
    return hashlib.sha256(_canonical_json(model, messages, params or {}).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CacheStats:
    """Counters of a :class:`PromptCache`: hits, misses, evictions, expiries, tokens saved (lesson 08)."""

    hits: int
    misses: int
    evictions: int
    expirations: int
    size: int
    max_size: int
    tokens_saved: int

    @property
    def lookups(self) -> int:
        """Hits plus misses."""
        return self.hits + self.misses

    @property
    def hit_rate(self) -> float:
        """Share of lookups that hit (0.0 before the first lookup)."""
        return self.hits / self.lookups if self.lookups else 0.0


@dataclass
class _Entry:
    value: Any
    expires_at: float


class PromptCache:
    """An in-memory LRU cache with a TTL and an injected clock; counts hits and misses (lesson 08).

    ``max_size`` bounds the entries (least recently used evicted first); ``ttl_s=None`` means entries
    never expire. ``clock`` returns seconds (default :func:`time.monotonic`); tests pass a fake one.
    Every lookup is kept (time, hit) for :meth:`hit_rate_series`, up to ``history`` lookups.
    """

    def __init__(
        self,
        max_size: int = 1024,
        ttl_s: float | None = 86_400.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        history: int = 100_000,
    ) -> None:
        if max_size < 1:
            raise ValueError(f"max_size must be at least 1 (got {max_size})")
        if ttl_s is not None and ttl_s <= 0:
            raise ValueError(f"ttl_s must be positive seconds or None for no expiry (got {ttl_s})")
        self.max_size = max_size
        self.ttl_s = ttl_s
        self._clock = clock
        self._data: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._events: deque[tuple[float, bool]] = deque(maxlen=history)
        self._hits = self._misses = self._evictions = self._expirations = self._saved = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)

    def __contains__(self, key: object) -> bool:
        """True if ``key`` holds a live entry (does not count as a lookup nor refresh recency)."""
        with self._lock:
            entry = self._data.get(key)  # type: ignore[call-overload]
            return entry is not None and self._clock() < entry.expires_at

    def get(self, key: str) -> Any | None:
        """The cached value for ``key`` or None; counts a hit or a miss and refreshes recency on a hit."""
        with self._lock:
            now = self._clock()
            entry = self._data.get(key)
            if entry is not None and now >= entry.expires_at:
                del self._data[key]
                self._expirations += 1
                entry = None
            hit = entry is not None
            self._events.append((now, hit))
            if entry is None:
                self._misses += 1
                return None
            self._hits += 1
            self._data.move_to_end(key)
            usage = getattr(entry.value, "usage", None)
            if isinstance(usage, Usage):
                self._saved += usage.total_tokens
            return entry.value

    def put(self, key: str, value: Any) -> None:
        """Store ``value`` under ``key``; evict least recently used entries beyond ``max_size``."""
        with self._lock:
            expires = self._clock() + self.ttl_s if self.ttl_s is not None else float("inf")
            self._data[key] = _Entry(value, expires)
            self._data.move_to_end(key)
            while len(self._data) > self.max_size:
                self._data.popitem(last=False)
                self._evictions += 1

    def clear(self) -> None:
        """Drop every entry (counters and history are kept)."""
        with self._lock:
            self._data.clear()

    @property
    def stats(self) -> CacheStats:
        """A snapshot of the counters."""
        with self._lock:
            return CacheStats(
                hits=self._hits,
                misses=self._misses,
                evictions=self._evictions,
                expirations=self._expirations,
                size=len(self._data),
                max_size=self.max_size,
                tokens_saved=self._saved,
            )

    def hit_rate_series(self, window: int | None = None) -> list[tuple[float, float]]:
        """(time, hit rate) after each lookup: cumulative, or over the last ``window`` lookups."""
        if window is not None and window < 1:
            raise ValueError(f"window must be a positive number of lookups or None (got {window})")
        with self._lock:
            events = list(self._events)
        out: list[tuple[float, float]] = []
        hits = 0
        for i, (t, hit) in enumerate(events):
            hits += hit
            if window is not None and i >= window:
                hits -= events[i - window][1]
            seen = min(i + 1, window) if window is not None else i + 1
            out.append((t, hits / seen))
        return out


class CachedProvider(BaseProvider):
    """Wraps a provider with a :class:`PromptCache`; a hit costs nothing (lesson 09).

    A hit returns the stored answer with zero usage, zero latency and ``provider="cache"``.
    Errors are never cached. The key uses ``inner.model`` plus the messages and answer-changing params.
    ``hits`` / ``misses`` mirror the cache counters for this wrapper alone.
    """

    def __init__(self, inner: Any, cache: PromptCache | None = None) -> None:
        self.inner = inner
        self.cache = cache if cache is not None else PromptCache()
        self.model = getattr(inner, "model", "")
        self.name = f"cached({getattr(inner, 'name', type(inner).__name__)})"
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def key(self, messages: Sequence[Message], params: Mapping[str, Any]) -> str:
        """The cache key this wrapper uses for a request."""
        return cache_key(self.model, validate_messages(messages), check_params(params))

    def _lookup(self, key: str) -> ChatResult | None:
        cached = self.cache.get(key)
        with self._lock:
            if cached is None:
                self.misses += 1
                return None
            self.hits += 1
        return cached.model_copy(update={"usage": Usage(), "latency_s": 0.0, "provider": "cache"})

    def complete(self, messages: Sequence[Message], **params: Any) -> ChatResult:
        """Return the cached answer, or call the inner provider and cache its answer."""
        key = self.key(messages, params)
        cached = self._lookup(key)
        if cached is not None:
            return cached
        result = self.inner.complete(messages, **params)
        self.cache.put(key, result)
        return result

    async def acomplete(self, messages: Sequence[Message], **params: Any) -> ChatResult:
        """Async form of :meth:`complete`."""
        key = self.key(messages, params)
        cached = self._lookup(key)
        if cached is not None:
            return cached
        result = await self.inner.acomplete(messages, **params)
        self.cache.put(key, result)
        return result
