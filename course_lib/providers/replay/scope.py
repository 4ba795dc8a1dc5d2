"""Explicit sample scopes for deterministic fan-out under replay (lesson 05).

``asyncio.gather`` may start or finish identical requests in any order. Inside ``with sample_scope(i):``
a replayed request gets the i-th recorded sample whatever the order, so self-consistency voting
replays the same votes on every run. Outside a scope, samples are numbered as requests arrive.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

__all__ = ["current_sample", "sample_scope"]

_SAMPLE: contextvars.ContextVar[int | None] = contextvars.ContextVar("course_sample", default=None)


@contextlib.contextmanager
def sample_scope(index: int) -> Iterator[None]:
    """Replay the ``index``-th recorded sample (0-based) for requests made inside this block (lesson 05)."""
    if index < 0:
        raise ValueError(f"sample index must be >= 0, got {index}")
    token = _SAMPLE.set(index)
    try:
        yield
    finally:
        _SAMPLE.reset(token)


def current_sample() -> int | None:
    """The sample index of the enclosing :func:`sample_scope`, or None outside one."""
    return _SAMPLE.get()
