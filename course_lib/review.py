"""A human review queue for cases the automation will not decide (lesson 05).

Escalation is only a safety net if someone works the queue: cases wait here, oldest first, until a
reviewer records a decision. The queue is in memory and takes a clock, so tests control time; the
durable, crash-safe variant for failed pipeline items is the dead-letter queue of lesson 07.
"""

from __future__ import annotations

import builtins
import threading
import time
from collections.abc import Callable, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ReviewItem", "ReviewQueue"]


class ReviewItem(BaseModel):
    """A case waiting for (or resolved by) a human reviewer (lesson 05)."""

    model_config = ConfigDict(frozen=True)

    case_id: str
    symptoms: str
    reason: str
    votes: dict[str, int] = Field(default_factory=dict)
    confidence: float = 0.0
    created_at: float
    status: Literal["pending", "resolved"] = "pending"
    decision: str | None = None
    reviewer: str | None = None
    note: str = ""
    resolved_at: float | None = None


class ReviewQueue:
    """In-memory queue of escalated cases: add, list, resolve (lesson 05)."""

    def __init__(
        self, *, decisions: Sequence[str] | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        self.decisions = tuple(decisions) if decisions is not None else None
        """The decisions a reviewer may record (``None``: any text)."""
        self._clock = clock
        self._items: dict[str, ReviewItem] = {}
        self._lock = threading.Lock()

    def add(
        self,
        case_id: str,
        symptoms: str,
        reason: str,
        *,
        votes: dict[str, int] | None = None,
        confidence: float = 0.0,
    ) -> ReviewItem:
        """Queue a case for review; a case id can be queued once."""
        item = ReviewItem(
            case_id=case_id,
            symptoms=symptoms,
            reason=reason,
            votes=dict(votes or {}),
            confidence=confidence,
            created_at=self._clock(),
        )
        with self._lock:
            if case_id in self._items:
                raise ValueError(f"case {case_id!r} is already in the review queue; use a new case id")
            self._items[case_id] = item
        return item

    def list(self, status: Literal["pending", "resolved"] | None = None) -> list[ReviewItem]:
        """Items, oldest first, optionally only ``pending`` or ``resolved`` ones."""
        with self._lock:
            items = list(self._items.values())
        return sorted((i for i in items if status is None or i.status == status), key=lambda i: i.created_at)

    def pending(self) -> builtins.list[ReviewItem]:
        """Cases still waiting for a reviewer, oldest first."""
        return self.list("pending")

    def get(self, case_id: str) -> ReviewItem:
        """One item by case id."""
        with self._lock:
            if case_id not in self._items:
                raise KeyError(f"no case {case_id!r} in the review queue; pending: {[*self._pending_ids()]}")
            return self._items[case_id]

    def _pending_ids(self) -> builtins.list[str]:
        return [k for k, v in self._items.items() if v.status == "pending"]

    def resolve(self, case_id: str, decision: str, *, reviewer: str, note: str = "") -> ReviewItem:
        """Record the reviewer's decision and close the case."""
        if self.decisions is not None and decision not in self.decisions:
            raise ValueError(f"decision must be one of {tuple(self.decisions)}, got {decision!r}")
        item = self.get(case_id)
        if item.status == "resolved":
            raise ValueError(f"case {case_id!r} was already resolved by {item.reviewer} as {item.decision}")
        done = item.model_copy(
            update={
                "status": "resolved",
                "decision": decision,
                "reviewer": reviewer,
                "note": note,
                "resolved_at": self._clock(),
            }
        )
        with self._lock:
            self._items[case_id] = done
        return done

    def __len__(self) -> int:
        return len(self._pending_ids())
