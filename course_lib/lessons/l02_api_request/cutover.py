"""A blue-green cutover of a self-hosted model, simulated with the course's failover (lesson 02).

*Blue* is the model in production, *green* the new deployment. :class:`BlueGreenRouter` sends a share
of the traffic to green, spread evenly over the requests (no randomness), and every green request goes
through a :class:`~course_lib.failover.FailoverProvider` that falls back to blue when green times out,
is rate limited or errors, so a bad deployment costs latency, not answers. :func:`run_cutover` walks a
plan of shares (10 %, 50 %, 100 % …), sends a batch at each stage, and moves on only while green's error
rate stays under a gate; otherwise it rolls back to all blue.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from course_lib.failover import FailoverProvider
from course_lib.providers.base import ChatResult, Message

__all__ = ["BlueGreenRouter", "CutoverStage", "run_cutover"]


class BlueGreenRouter:
    """Routes ``green_share`` of the requests to green (with failover to blue), the rest to blue (lesson 02)."""

    def __init__(self, blue: Any, green: Any, green_share: float = 0.0) -> None:
        self.blue = blue
        self.green = FailoverProvider({"green": green, "blue": blue})
        self.green_share = green_share
        self.sent = 0

    @property
    def green_share(self) -> float:
        """The share of requests sent to green, between 0 and 1."""
        return self._share

    @green_share.setter
    def green_share(self, share: float) -> None:
        if not 0 <= share <= 1:
            raise ValueError(f"green_share must be between 0 and 1, got {share}")
        self._share = share

    def to_green(self, i: int) -> bool:
        """Whether request number ``i`` (from 0) goes to green: evenly spread, exact over any prefix."""
        return math.floor((i + 1) * self._share) > math.floor(i * self._share)

    def complete(self, messages: Sequence[Message], **params: Any) -> tuple[str, ChatResult]:
        """Answer one request; return who answered (``blue``, ``green``, or ``blue`` after green failed)."""
        i, self.sent = self.sent, self.sent + 1
        if not self.to_green(i):
            return "blue", self.blue.complete(messages, **params)
        outcome = self.green.complete_with_attempts(messages, **params)
        assert outcome.result is not None and outcome.answered_by is not None
        return outcome.answered_by, outcome.result


@dataclass(frozen=True)
class CutoverStage:
    """One stage of the cutover: its share, what was sent where, and the decision (lesson 02)."""

    green_share: float
    requests: int
    to_green: int
    green_answered: int
    fell_back: int
    decision: str

    @property
    def green_error_rate(self) -> float:
        """Share of green's requests that failed and were answered by blue."""
        return self.fell_back / self.to_green if self.to_green else 0.0


def run_cutover(
    router: BlueGreenRouter,
    messages: Sequence[Message],
    plan: Sequence[float] = (0.1, 0.5, 1.0),
    *,
    requests_per_stage: int = 20,
    max_error_rate: float = 0.05,
) -> list[CutoverStage]:
    """Walk ``plan``; at each stage send a batch, then advance, finish or roll back (lesson 02).

    A stage whose green error rate exceeds ``max_error_rate`` rolls back: the share returns to 0 and
    the walk stops. Every request is answered either way (failover to blue).
    """
    stages = []
    for k, share in enumerate(plan):
        router.green_share = share
        start = router.sent
        who = [router.complete(messages)[0] for _ in range(requests_per_stage)]
        to_green = sum(router.to_green(i) for i in range(start, start + requests_per_stage))
        green_answered = who.count("green")
        fell_back = to_green - green_answered
        rate = fell_back / to_green if to_green else 0.0
        if rate > max_error_rate:
            decision = "roll back to blue"
            router.green_share = 0.0
        else:
            decision = "done: green serves all" if k == len(plan) - 1 else "advance"
        stages.append(CutoverStage(share, requests_per_stage, to_green, green_answered, fell_back, decision))
        if decision == "roll back to blue":
            break
    return stages
