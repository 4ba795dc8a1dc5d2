"""The refund decision with an audit trail: the model reasons, the code does the dates and the policy (lesson 04).

The model classifies a refund request and shows its work as JSON (:class:`RefundClaim`). Its day
count and its verdict are claims: :func:`audit_refund` recomputes the days with ``total_seconds()``
(``timedelta.seconds`` drops whole days) and applies the policy itself, so a wrong calculation is
caught rather than trusted. Only :func:`decide_refund` calls a model; everything else is pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from course_lib.providers.base import ChatResult

__all__ = [
    "REFUND_CATEGORIES",
    "RefundAudit",
    "RefundClaim",
    "RefundDecision",
    "RefundOrder",
    "RefundPolicy",
    "audit_refund",
    "decide_refund",
    "elapsed_days",
    "naive_day_count",
    "refund_messages",
]

REFUND_CATEGORIES: tuple[str, ...] = ("defective_product", "changed_mind", "shipping_damage", "other")
"""The reason categories the refund policy knows (lesson 04)."""


class RefundPolicy(BaseModel):
    """Refund windows in days per reason category; a request is in time if at most that long after purchase (lesson 04)."""

    model_config = ConfigDict(frozen=True)

    windows: dict[str, int] = Field(
        default_factory=lambda: {
            "defective_product": 90,
            "changed_mind": 30,
            "shipping_damage": 14,
            "other": 30,
        }
    )

    def describe(self) -> str:
        """The policy as numbered lines for a prompt."""
        return "\n".join(
            f"{i}. {category}: refund if requested within {days} days of purchase"
            for i, (category, days) in enumerate(self.windows.items(), start=1)
        )


def _as_datetime(value: Any) -> Any:
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day)
    return value


class RefundOrder(BaseModel):
    """An order and its refund request; dates may be ``date``, ``datetime`` or ISO text (lesson 04)."""

    id: str
    purchased_at: datetime
    requested_at: datetime
    reason: str
    amount: Decimal

    @field_validator("purchased_at", "requested_at", mode="before")
    @classmethod
    def _midnight(cls, value: Any) -> Any:
        return _as_datetime(value)


class RefundClaim(BaseModel):
    """The model's step-by-step refund reasoning, as JSON (lesson 04): its numbers are claims, not facts."""

    step1_days_elapsed: int
    step2_reason_category: str
    step3_policy_check: str
    step4_decision: Literal["APPROVE", "DENY"]
    step4_justification: str

    @field_validator("step4_decision", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value


def elapsed_days(start: date | datetime, end: date | datetime) -> float:
    """Days from ``start`` to ``end`` as a float, from ``total_seconds()`` (``.seconds`` drops whole days) (lesson 04)."""
    delta: timedelta = _as_datetime(end) - _as_datetime(start)
    if delta.total_seconds() < 0:
        raise ValueError(f"the refund was requested ({end}) before the purchase ({start}); check the dates")
    return delta.total_seconds() / 86400


_NAIVE_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def naive_day_count(start: date | datetime, end: date | datetime) -> int:
    """A common mistake, kept to learn from: days from a month-length table with February always 28 (lesson 04).

    Right within a month and in most years; one day short across 29 February of a leap year.
    :func:`elapsed_days` subtracts real dates instead.
    """

    def ordinal(d: date) -> int:
        return d.year * 365 + sum(_NAIVE_MONTH_DAYS[: d.month - 1]) + d.day

    return ordinal(end) - ordinal(start)


class RefundAudit(BaseModel):
    """The code's verdict beside the model's claim, with every disagreement spelled out (lesson 04)."""

    order_id: str
    category: str
    days_elapsed: float
    window_days: int | None
    decision: Literal["APPROVE", "DENY", "REVIEW"]
    """The code's verdict; REVIEW when the model's category is not in the policy."""
    claimed_days: int
    claimed_decision: Literal["APPROVE", "DENY"]

    @property
    def days_ok(self) -> bool:
        """Whether the model's day count equals the whole days that really elapsed."""
        return self.claimed_days == int(self.days_elapsed)

    @property
    def decision_ok(self) -> bool:
        """Whether the model reached the code's verdict."""
        return self.claimed_decision == self.decision

    @property
    def discrepancies(self) -> list[str]:
        """What the model got wrong, in words for the audit log."""
        out = []
        if not self.days_ok:
            out.append(f"model said {self.claimed_days} days; {int(self.days_elapsed)} days elapsed")
        if self.window_days is None:
            out.append(f"category {self.category!r} is not in the policy: a person decides")
        elif not self.decision_ok:
            out.append(f"model said {self.claimed_decision}; the policy says {self.decision}")
        return out


def audit_refund(order: RefundOrder, claim: RefundClaim, policy: RefundPolicy | None = None) -> RefundAudit:
    """Recompute the days and apply the policy in code; the model contributes only the category (lesson 04).

    In time means at most ``window × 24`` hours after the purchase: exactly 30 days is inside a 30-day
    window, 30 days and a minute is not.
    """
    policy = policy or RefundPolicy()
    days = elapsed_days(order.purchased_at, order.requested_at)
    category = claim.step2_reason_category.strip().lower()
    window = policy.windows.get(category)
    if window is None:
        decision: Literal["APPROVE", "DENY", "REVIEW"] = "REVIEW"
    else:
        in_time = order.requested_at - order.purchased_at <= timedelta(days=window)
        decision = "APPROVE" if in_time else "DENY"
    return RefundAudit(
        order_id=order.id,
        category=category,
        days_elapsed=days,
        window_days=window,
        decision=decision,
        claimed_days=claim.step1_days_elapsed,
        claimed_decision=claim.step4_decision,
    )


def refund_messages(order: RefundOrder, policy: RefundPolicy | None = None) -> list[dict[str, str]]:
    """The refund prompt: the policy, four reasoning steps, one JSON object (lesson 04)."""
    policy = policy or RefundPolicy()
    fields = ", ".join(f'"{name}"' for name in RefundClaim.model_fields)
    system = (
        "You decide refund requests for an online shop.\n\nPolicy:\n"
        f"{policy.describe()}\n\n"
        "Think in four steps: 1) count the days from purchase to request, 2) put the reason in one "
        f"category ({', '.join(policy.windows)}), 3) check the category's window, 4) decide.\n"
        f"Reply with one JSON object with the keys {fields}; step4_decision is APPROVE or DENY."
    )
    user = (
        f"Order: {order.id}\nPurchase date: {order.purchased_at.date().isoformat()}\n"
        f"Refund request date: {order.requested_at.date().isoformat()}\n"
        f"Reason: {order.reason}\nAmount: ${order.amount}"
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


@dataclass(frozen=True)
class RefundDecision:
    """The model's reply, its parsed claim, and the code's audit of it (lesson 04)."""

    result: ChatResult
    claim: RefundClaim
    audit: RefundAudit


def decide_refund(
    provider: Any, order: RefundOrder, policy: RefundPolicy | None = None, **params: Any
) -> RefundDecision:
    """Ask the model for its reasoning as JSON (temperature 0 unless given), then audit it in code (lesson 04).

    A reply with no valid JSON claim raises ``ValueError`` (``JSONExtractionError`` or a pydantic
    ``ValidationError``): send such an order to a person.
    """
    from course_lib.validators import extract_json

    result = provider.complete(refund_messages(order, policy), **{"temperature": 0, **params})
    claim = RefundClaim.model_validate(extract_json(result.text))
    return RefundDecision(result, claim, audit_refund(order, claim, policy))
