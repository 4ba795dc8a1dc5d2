"""A spend cap per process for paid providers, so re-running the lessons cannot run up a bill (lesson 08).

Every provider ``get_provider()`` builds for a kind whose row in the provider table is ``paid`` (OpenAI,
Anthropic, or recording from one of them) runs behind one :class:`SpendCap` shared by the whole
process. Before each call it reserves the call's worst case (prompt plus ``max_tokens``, or the model's
maximum output from the model table); a call that could take the process past the cap is refused with
:class:`~course_lib.guards.base.BudgetExceededError`, before anything is sent. When the process ends it
prints what it spent on paid providers to stderr.

The cap is ``COURSE_SPEND_CAP_USD`` dollars (default :data:`DEFAULT_SPEND_CAP_USD`); ``none`` switches it off.
"""

from __future__ import annotations

import atexit
import math
import os
import sys
import threading
from collections.abc import Mapping
from typing import Any, TextIO

from ..providers.base import ConfigurationError
from .base import BudgetExceededError, CallInfo

__all__ = [
    "DEFAULT_SPEND_CAP_USD",
    "SPEND_CAP_ENV",
    "SpendCap",
    "cap_from_env",
    "describe_cap",
    "guard_paid",
    "process_cap",
]

SPEND_CAP_ENV = "COURSE_SPEND_CAP_USD"
DEFAULT_SPEND_CAP_USD = 2.00
"""Dollars a process may spend on paid providers unless ``COURSE_SPEND_CAP_USD`` says otherwise."""


def _usd(amount: float) -> str:
    return f"${amount:.2f}" if round(amount, 2) == amount else f"${amount:g}"


def cap_from_env(env: Mapping[str, str] | None = None) -> float | None:
    """The cap in USD from ``COURSE_SPEND_CAP_USD`` (default 2.00); None when it is ``none`` (switched off)."""
    raw = (os.environ if env is None else env).get(SPEND_CAP_ENV)
    if raw is None or not raw.strip():
        return DEFAULT_SPEND_CAP_USD
    text = raw.strip().lower().removeprefix("$")
    if text in ("none", "off"):
        return None
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not math.isfinite(value) or value < 0:
        raise ConfigurationError(
            f"{SPEND_CAP_ENV}={raw!r} is not a dollar amount: set it to a number such as 5 or 0.50, or to "
            "'none' to run paid providers without a cap"
        )
    return value


def describe_cap(env: Mapping[str, str] | None = None) -> str:
    """One line for ``course doctor``: the cap paid providers run under in this environment."""
    cap = cap_from_env(env)
    if cap is None:
        return f"off ({SPEND_CAP_ENV}=none): paid providers run without a spend cap"
    source = SPEND_CAP_ENV if (os.environ if env is None else env).get(SPEND_CAP_ENV) else "default"
    return f"{_usd(cap)} per process on paid providers ({source}; set {SPEND_CAP_ENV} to change, 'none' to switch off)"


class SpendCap:
    """A guard: the process's spend on paid providers, plus calls in flight, stays within ``cap_usd`` (lesson 08)."""

    name = "spend cap"

    def __init__(
        self, cap_usd: float, *, report_to: TextIO | None = None, report_at_exit: bool = False
    ) -> None:
        if cap_usd < 0:
            raise ValueError("cap_usd must be >= 0")
        self.cap_usd = float(cap_usd)
        self.spent = 0.0
        self.calls = 0
        self.refused = 0
        self._held: dict[int, float] = {}
        self._lock = threading.Lock()
        self._report_to = report_to
        if report_at_exit:
            atexit.register(self.report)

    @property
    def in_flight(self) -> float:
        """USD reserved by calls still running."""
        with self._lock:
            return sum(self._held.values())

    def check(self, call: CallInfo) -> None:
        """Refuse the call if its worst case could take the process past the cap."""
        with self._lock:
            held = sum(self._held.values())
            if self.spent + held + call.estimated_cost <= self.cap_usd:
                return
            self.refused += 1
        raise BudgetExceededError(
            f"spend cap reached: this process has spent ${self.spent:.4f} on paid providers"
            f"{f' (+ ${held:.4f} in flight)' if held else ''} and this call to {call.model} could cost up to "
            f"${call.estimated_cost:.4f}, past the {_usd(self.cap_usd)} cap. Nothing was sent. Raise "
            f"{SPEND_CAP_ENV} if you mean to spend more, lower max_tokens, or use COURSE_PROVIDER=replay.",
            guard=self.name,
        )

    def admit(self, call: CallInfo) -> None:
        """Reserve the call's worst case."""
        with self._lock:
            self._held[call.id] = call.estimated_cost

    def settle(self, call: CallInfo, cost: float, tokens: int) -> None:
        """Replace the reservation by what the call cost."""
        with self._lock:
            self._held.pop(call.id, None)
            self.spent += cost
            self.calls += 1

    def summary(self) -> str:
        """The running spend, for the end of a run."""
        refused = f"; {self.refused} call(s) refused at the cap" if self.refused else ""
        return (
            f"course: spent ${self.spent:.4f} of the {_usd(self.cap_usd)} spend cap ({SPEND_CAP_ENV}) on paid "
            f"providers in {self.calls} call(s){refused}"
        )

    def report(self) -> None:
        """Print :meth:`summary` (to stderr unless told otherwise) if any paid call was made."""
        if self.calls or self.refused:
            print(self.summary(), file=self._report_to or sys.stderr, flush=True)


_process_cap: SpendCap | None = None
_process_lock = threading.Lock()


def process_cap(env: Mapping[str, str] | None = None) -> SpendCap | None:
    """The process's one :class:`SpendCap` (created on first use, reported at exit); None when switched off."""
    global _process_cap
    cap = cap_from_env(env)
    if cap is None:
        return None
    with _process_lock:
        if _process_cap is None:
            _process_cap = SpendCap(cap, report_at_exit=True)
        return _process_cap


def guard_paid(provider: Any, model: str, env: Mapping[str, str] | None = None) -> Any:
    """``provider`` behind the process's spend cap (unchanged when the cap is switched off) (lesson 08).

    Nothing is added to the request: a call without ``max_tokens`` is reserved against the model's
    maximum output from the model table.
    """
    cap = process_cap(env)
    if cap is None:
        return provider
    from ..cost import UnknownModelError
    from .provider import GuardedProvider

    try:
        return GuardedProvider(provider, cap, model=model, default_max_tokens=None)
    except UnknownModelError as exc:
        raise ConfigurationError(
            f"{exc} The spend cap for paid providers needs the model's price; add it to the model table, or "
            f"set {SPEND_CAP_ENV}=none to run without a cap."
        ) from exc
