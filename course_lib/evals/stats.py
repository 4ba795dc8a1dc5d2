"""The statistics of an eval: pass rates with intervals, agreement, and the paired test (lesson 11).

One run of a stochastic function proves little. :func:`wilson_interval` puts a 95 % interval around a
pass rate; :func:`standard_error` is the simpler normal approximation. :func:`cohen_kappa` measures
how far a model judge agrees with human labels beyond chance. :func:`flips` and :func:`mcnemar_exact`
compare two prompt versions case by case, on the same cases.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence

__all__ = ["cohen_kappa", "flips", "mcnemar_exact", "standard_error", "wilson_interval"]


def wilson_interval(passed: int, total: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of ``passed`` out of ``total`` (95 % by default) (lesson 11)."""
    if total <= 0:
        raise ValueError("a pass rate needs at least one case")
    if not 0 <= passed <= total:
        raise ValueError(f"passed must be between 0 and total, got {passed} of {total}")
    p = passed / total
    denom = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denom
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def standard_error(passed: int, total: int) -> float:
    """The standard error sqrt(p(1-p)/n) of a pass rate (lesson 11)."""
    if total <= 0:
        raise ValueError("a pass rate needs at least one case")
    p = passed / total
    return math.sqrt(p * (1 - p) / total)


def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> float:
    """Cohen's kappa of two raters' labels on the same items: 1 agrees fully, 0 is chance (lesson 11)."""
    if len(a) != len(b) or not a:
        raise ValueError("kappa needs two equally long, non-empty label lists")
    n = len(a)
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / n
    ca, cb = Counter(a), Counter(b)
    expected = sum(ca[k] * cb[k] for k in ca) / (n * n)
    if expected == 1.0:
        return 1.0 if observed == 1.0 else 0.0
    return (observed - expected) / (1 - expected)


def flips(before: Mapping[str, bool], after: Mapping[str, bool]) -> tuple[list[str], list[str]]:
    """Cases that passed before and fail after (lost), and the reverse (gained) (lesson 11)."""
    if set(before) != set(after):
        raise ValueError("compare two versions on the same cases")
    lost = sorted(k for k in before if before[k] and not after[k])
    gained = sorted(k for k in before if after[k] and not before[k])
    return lost, gained


def mcnemar_exact(lost: int, gained: int) -> float:
    """Two-sided exact McNemar p-value: could ``lost`` vs ``gained`` flips be a coin toss? (lesson 11)."""
    n = lost + gained
    if n == 0:
        return 1.0
    k = min(lost, gained)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2 * tail)
