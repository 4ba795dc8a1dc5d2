"""The 3 am cost runaway, replayed against the guards on a manual clock (lesson 08).

The incident: a refunds agent loops until the model writes a line starting with ``FINAL ANSWER:``.
Its draft is long, so the model is cut off at ``max_tokens`` (``finish_reason == "length"``) before
it reaches that line. The loop reads "no final answer yet" as "not done" and sends the very same
request again, and again: about 2,000 prompt tokens and 2,000 completion tokens a call, all night.

:func:`simulate_runaway` replays that loop on a :class:`~course_lib.guards.ManualClock`, so 35 minutes
of incident take a fraction of a second, through :class:`~course_lib.guards.GuardedProvider` with the
guards a :class:`Protection` names (or through a bare spend meter, with ``protection=None``). The
on-call engineer is part of the simulation: ``respond_after_s`` after the first page (an anomaly
alert or a breaker trip) they engage the kill switch. When a guard refuses a call, the loop waits as
a well-behaved client does: ``retry_after`` when the error gives one, else an exponential back-off.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from course_lib.cost import PriceTable, load_prices, request_cost
from course_lib.guards import (
    AnomalyDetector,
    BudgetCircuitBreaker,
    GuardedProvider,
    GuardError,
    KillSwitch,
    ManualClock,
    SlidingWindowRateLimiter,
    SpendLog,
)
from course_lib.providers.base import ChatResult, Choice, Message, Usage
from course_lib.providers.scripted import ScriptedProvider
from course_lib.tokens import count_message_tokens, encoding_for

__all__ = [
    "DONE_MARKER",
    "Incident",
    "Protection",
    "RunawayResult",
    "agent_done",
    "agent_messages",
    "clock_label",
    "simulate_runaway",
    "stuck_agent_provider",
    "stuck_draft",
]

DONE_MARKER = "FINAL ANSWER:"
"""The line the agent loop waits for before it stops (lesson 08)."""

_ITEMS = ("USB-C cable", "wireless mouse", "laptop stand", "27-inch monitor", "mechanical keyboard",
          "webcam", "desk lamp", "noise-cancelling headphones", "docking station")  # fmt: skip
_STATUSES = ("delivered", "delivered 3 days late", "refunded", "returned", "delivered 6 days late")
_ORDERS = 40

_SYSTEM = (
    "You are the refunds agent of an online electronics shop. Work step by step: check every order "
    "line against the refund policy and write down your reasoning. Refunds are allowed within 30 days "
    "of delivery, and a late delivery extends that window by the days it was late. When you have "
    "decided, write one line that starts with 'FINAL ANSWER:' followed by the reply to the customer."
)


def _order(i: int) -> tuple[str, str, str, str]:
    """Order id, item, status and delivery date of the i-th line of the ticket's order history."""
    month, day = 1 + i % 11, 1 + (7 * i) % 28
    return (
        f"A{10_400 + 17 * i}",
        _ITEMS[i % len(_ITEMS)],
        _STATUSES[i % len(_STATUSES)],
        f"2026-{month:02d}-{day:02d}",
    )


def agent_messages() -> list[dict[str, str]]:
    """The request the stuck agent sends on every step: policy plus a ticket with 40 orders (lesson 08)."""
    lines = [
        f"- order {o}: 1 x {item}, ${12 + 7 * (i % 23)}.90, paid by card ending {4000 + 37 * i % 6000}, "
        f"shipped with ParcelNow (tracking PN{448_100 + 31 * i}), {status} on {date}"
        for i, (o, item, status, date) in enumerate(map(_order, range(_ORDERS)))
    ]
    ticket = (
        "Ticket 4471. The customer writes: 'Several of my orders this year arrived late. Please refund "
        "every order that qualifies.' Their order history:\n" + "\n".join(lines)
    )
    return [{"role": "system", "content": _SYSTEM}, {"role": "user", "content": ticket}]


def _full_draft() -> str:
    """Everything the agent would write with no output limit; its last line is the final answer."""
    notes = [
        f"Order {o} ({item}, {status} on {date}): the policy allows a refund within 30 days of delivery. "
        "I need the date of the request and the number of days the delivery was late, because a late "
        "delivery extends the window by those days. I will note this order and compare it with the "
        "others before deciding, so that the customer gets one consistent answer."
        for o, item, status, date in map(_order, range(_ORDERS))
    ]
    return (
        "Thought: I will go through the order history line by line before I answer.\n"
        + "\n".join(notes)
        + f"\n{DONE_MARKER} We will refund the orders that arrived late and are still within the extended window."
    )


@functools.lru_cache(maxsize=16)
def stuck_draft(max_tokens: int, model: str = "gpt-4") -> tuple[str, int, bool]:
    """The agent's draft cut at ``max_tokens``: (text, completion tokens, was it cut?) (lesson 08)."""
    enc = encoding_for(model)
    tokens = enc.encode(_full_draft())
    if len(tokens) <= max_tokens:
        return enc.decode(tokens), len(tokens), False
    return enc.decode(tokens[:max_tokens]), max_tokens, True


def agent_done(result: ChatResult) -> bool:
    """The loop's stop test: did the answer contain the final-answer line? (lesson 08)."""
    return DONE_MARKER in result.text


def stuck_agent_provider(model: str = "gpt-4") -> ScriptedProvider:
    """A scripted model that writes the same long draft to every request, cut at ``max_tokens`` (lesson 08).

    Usage is counted with ``model``'s tokenizer, so a guard pricing ``model`` sees what a bill would.
    """
    prompt_counts: dict[str, int] = {}

    def respond(messages: list[dict[str, Any]], params: dict[str, Any]) -> ChatResult:
        text, completion, cut = stuck_draft(int(params.get("max_tokens") or 4096), model)
        key = repr(messages)
        if key not in prompt_counts:
            prompt_counts[key] = count_message_tokens(messages, model)
        return ChatResult(
            choices=[Choice(text=text, finish_reason="length" if cut else "stop")],
            usage=Usage(prompt_tokens=prompt_counts[key], completion_tokens=completion, computed=True),
            model=model,
            provider="scripted",
            source="scripted",
        )

    return ScriptedProvider(respond, model=model)


# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class Incident:
    """The runaway: when it starts, how fast the loop calls, for how long, on which model (lesson 08).

    The defaults are the lesson's assumptions: 100 requests a minute from 3:00 am, about 4,000 tokens a
    request on GPT-4, the bug rolled back 35 minutes later.
    """

    requests_per_minute: float = 100.0
    duration_s: float = 35 * 60.0
    start: float = 3 * 3600.0
    model: str = "gpt-4"
    max_tokens: int = 2000

    def __post_init__(self) -> None:
        if self.requests_per_minute <= 0 or self.duration_s <= 0 or self.max_tokens < 1:
            raise ValueError("requests_per_minute and duration_s must be > 0 and max_tokens >= 1")


@dataclass(frozen=True)
class Protection:
    """Which guards stand in front of the model, and how fast the on-call engineer reacts (lesson 08).

    ``None`` for a setting removes that guard. The defaults: 100 requests per user per minute, $100 an
    hour, $1,000 a day. The anomaly detector compares the last ``anomaly_window_s``
    with a normal rate of ``baseline_per_min``; the engineer engages the kill switch
    ``respond_after_s`` after the first page (``None``: nobody answers).
    """

    rate_limit_per_min: int | None = 100
    hourly_cap: float | None = 100.0
    daily_cap: float | None = 1000.0
    anomaly_threshold: float | None = 5.0
    anomaly_window_s: float = 60.0
    baseline_per_min: float = 10.0
    respond_after_s: float | None = 240.0


@dataclass(frozen=True)
class RunawayResult:
    """What the runaway cost and when each guard acted; times are seconds after the start (lesson 08)."""

    label: str
    start: float
    duration_s: float
    times: tuple[float, ...]
    """Settlement time of every call that reached the model."""
    spend: tuple[float, ...]
    """Cumulative USD after each of those calls."""
    attempts: int
    blocked: dict[str, int]
    """Refused attempts by guard name."""
    first_alert: float | None
    breaker_trip: float | None
    kill_engaged: float | None
    hourly_cap: float | None
    events: tuple[tuple[float, str], ...] = field(default=())

    @property
    def calls(self) -> int:
        """Calls that reached the model (and were billed)."""
        return len(self.times)

    @property
    def total(self) -> float:
        """USD spent over the whole incident."""
        return self.spend[-1] if self.spend else 0.0

    @property
    def cost_per_call(self) -> float:
        """USD of the first call (every call of the stuck loop costs the same)."""
        return self.spend[0] if self.spend else 0.0

    def spend_at(self, t: float) -> float:
        """USD spent before ``t`` seconds after the start (a call at exactly ``t`` is not counted)."""
        total = 0.0
        for when, cumulative in zip(self.times, self.spend, strict=True):
            if when >= t:
                break
            total = cumulative
        return total

    def timeline(self) -> list[dict[str, Any]]:
        """The incident as rows: clock time, event, spend so far."""
        return [
            {"time": clock_label(self.start + t), "event": what, "spent": round(self.spend_at(t), 4)}
            for t, what in self.events
        ]


def clock_label(t: float) -> str:
    """``h:mm:ss`` for a clock reading in seconds after midnight, e.g. 10833.6 → ``3:00:33`` (lesson 08)."""
    whole = int(t + 1e-9)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


# --------------------------------------------------------------------------- the simulation


class _Meter:
    """No guards: only records what each call cost, as a bill would."""

    def __init__(self, inner: Any, model: str, clock: ManualClock, prices: PriceTable) -> None:
        self.inner, self.model, self.clock, self.prices = inner, model, clock, prices
        self.spend_log = SpendLog()

    def complete(self, messages: Sequence[Message], **params: Any) -> ChatResult:
        result = self.inner.complete(messages, **params)
        u = result.usage
        cost = request_cost(u, self.model, prices=self.prices).total
        self.spend_log.add(time=self.clock(), cost=cost, estimated_cost=cost, prompt_tokens=u.prompt_tokens,
                           completion_tokens=u.completion_tokens, cached_tokens=u.cached_tokens,
                           user="agent", tenant="default")  # fmt: skip
        return result


def simulate_runaway(
    incident: Incident | None = None,
    protection: Protection | None = None,
    *,
    label: str = "",
    provider: Any = None,
    prices: PriceTable | None = None,
) -> RunawayResult:
    """Replay the stuck agent loop for ``incident.duration_s`` behind ``protection`` (lesson 08).

    ``protection=None`` runs with no guards at all. ``provider`` replaces the scripted stuck model.
    """
    inc = incident or Incident()
    table = prices or load_prices()
    clock = ManualClock(inc.start)
    inner = provider if provider is not None else stuck_agent_provider(inc.model)
    events: list[tuple[float, str]] = [(0.0, "bug deployed: the agent loop starts")]
    pages: list[float] = []
    kill = KillSwitch(clock=clock)
    detector = breaker = None
    if protection is None:
        llm: Any = _Meter(inner, inc.model, clock, table)
    else:
        guards: list[Any] = [kill]
        if protection.rate_limit_per_min is not None:
            guards.append(SlidingWindowRateLimiter(protection.rate_limit_per_min, 60.0, clock=clock))
        if protection.hourly_cap is not None or protection.daily_cap is not None:

            def tripped(window: str, message: str) -> None:
                pages.append(clock())
                events.append((clock() - inc.start, f"budget breaker trips ({window} cap): P0 page"))

            breaker = BudgetCircuitBreaker(hourly_cap=protection.hourly_cap, daily_cap=protection.daily_cap,
                                           clock=clock, on_trip=tripped)  # fmt: skip
            guards.append(breaker)
        if protection.anomaly_threshold is not None:

            def alerted(alert: Any) -> None:
                pages.append(alert.time)
                events.append(
                    (alert.time - inc.start, f"anomaly alert ({alert.ratio:.1f}x the baseline): P1 page")
                )

            detector = AnomalyDetector(threshold=protection.anomaly_threshold, window_s=protection.anomaly_window_s,
                                       baseline_rate=protection.baseline_per_min / 60, clock=clock,
                                       on_alert=alerted)  # fmt: skip
            guards.append(detector)
        llm = GuardedProvider(inner, *guards, model=inc.model, user="agent", clock=clock, prices=table)

    messages = agent_messages()
    interval, end = 60.0 / inc.requests_per_minute, inc.start + inc.duration_s
    respond = None if protection is None else protection.respond_after_s
    attempts, blocked, backoff = 0, Counter[str](), 1.0
    anchor, k, finished = inc.start, 0, False  # calls are due at anchor + k × interval
    while True:
        next_at = anchor + k * interval
        kill_at = pages[0] + respond if pages and respond is not None and not kill.engaged else None
        if kill_at is not None and kill_at <= next_at and kill_at < end:
            clock.advance(kill_at - clock())
            kill.engage("on-call engineer: runaway agent loop")
            events.append((kill_at - inc.start, "engineer engages the kill switch"))
            continue
        if next_at >= end:
            break
        clock.advance(next_at - clock())
        attempts += 1
        try:
            result = llm.complete(messages, max_tokens=inc.max_tokens)
        except GuardError as exc:
            blocked[exc.guard] += 1
            if exc.retry_after:  # a well-behaved client waits as long as it is told
                wait = exc.retry_after
            else:
                wait, backoff = backoff, min(backoff * 2, 60.0)
            anchor, k = clock() + max(wait, interval), 0
            continue
        if agent_done(result):  # never true while the draft is cut at max_tokens
            events.append((clock() - inc.start, "the agent wrote its final answer"))
            finished = True
            break
        k += 1  # the bug: no final answer yet, so the same request goes out again
    if not finished:
        events.append((inc.duration_s, "bug rolled back: the loop stops"))
    log = llm.spend_log
    return RunawayResult(
        label=label or ("no guards" if protection is None else "guarded"),
        start=inc.start,
        duration_s=inc.duration_s,
        times=tuple(r.time - inc.start for r in log.records),
        spend=tuple(log.cumulative),
        attempts=attempts,
        blocked=dict(blocked),
        first_alert=detector.alerts[0].time - inc.start if detector is not None and detector.alerts else None,
        breaker_trip=breaker.trips[0][0] - inc.start if breaker is not None and breaker.trips else None,
        kill_engaged=kill.engaged_at - inc.start if kill.engaged_at is not None else None,
        hourly_cap=None if protection is None else protection.hourly_cap,
        events=tuple(sorted(events, key=lambda e: e[0])),
    )
