"""PII and key redaction before text reaches a provider, reversible for the response (lessons 09 and 12).

:class:`Redactor` finds e-mail addresses, phone numbers, payment-card numbers (Luhn-checked), IBANs
(ISO 13616 mod-97 checked) and API keys (the token families of :mod:`course_lib.guards.secrets`) and
replaces each with a placeholder such as ``<EMAIL_1>``. The same value gets the same placeholder within
one :class:`Redaction`, so the model can still refer to it, and :meth:`Redaction.restore` puts the
values back into the model's answer where the design calls for it (a reply to the customer), or not
(a log line). The originals live only in the :class:`Redaction` object, never in a log.

Detection is by tested patterns plus checksums, not by an NLP model: a digit run that fails Luhn is
not a card, a string that fails mod 97 is not an IBAN. The patterns have limits (a phone number written
as plain digits without ``+``, ``0`` or brackets is left alone, so that order numbers and dates are),
which the tests pin down.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .guards.secrets import SECRET_FAMILIES
from .providers.base import BaseProvider, ChatResult, Message

__all__ = [
    "IBAN_LENGTHS",
    "KINDS",
    "Redacting",
    "Redaction",
    "Redactor",
    "Span",
    "find_pii",
    "iban_valid",
    "luhn_valid",
    "redact_messages",
]

KINDS: tuple[str, ...] = ("API_KEY", "IBAN", "CARD", "EMAIL", "PHONE")
"""What :class:`Redactor` finds, in priority order when two matches overlap (lesson 12)."""

IBAN_LENGTHS: dict[str, int] = {
    "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "EE": 20, "ES": 24,
    "FI": 18, "FR": 27, "GB": 22, "GR": 27, "HR": 21, "HU": 28, "IE": 22, "IS": 26, "IT": 27, "LI": 21,
    "LT": 20, "LU": 20, "LV": 21, "MT": 31, "NL": 18, "NO": 15, "PL": 28, "PT": 25, "RO": 24, "SE": 24,
    "SI": 19, "SK": 24,
}  # fmt: skip
"""IBAN length by country for the SEPA countries; other countries are checked by checksum only (lesson 12)."""


def luhn_valid(number: str) -> bool:
    """The Luhn check every payment-card number passes; spaces and dashes are ignored (lesson 12)."""
    digits = number.replace(" ", "").replace("-", "")
    if not digits.isascii() or not digits.isdigit() or len(digits) < 2:
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_valid(iban: str) -> bool:
    """An IBAN's ISO 13616 check: shape, known length for its country, and mod 97 == 1 (lesson 12)."""
    s = iban.replace(" ", "").upper()
    if not re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}", s) or not s.isascii():
        return False
    if s[:2] in IBAN_LENGTHS and len(s) != IBAN_LENGTHS[s[:2]]:
        return False
    rearranged = s[4:] + s[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


_EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w-])")
_CARD = re.compile(r"(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b")
_PHONE = re.compile(
    r"(?<![\w+])(?:\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,4}){1,4}"  # +44 20 7946 0958
    r"|\(\d{2,4}\)[ .-]?\d{3,4}[ .-]?\d{3,4}"  # (555) 123-4567
    r"|0\d{1,4}(?:[ .-]\d{2,4}){2,3}"  # 020 7946 0958
    r"|\d{3}-\d{3}-\d{4})(?![\w-])"  # 555-123-4567
)


@dataclass(frozen=True)
class Span:
    """One value found in a text: its kind and where it is (lesson 12)."""

    kind: str
    start: int
    end: int


def _digits(text: str) -> int:
    return sum(c.isdigit() for c in text)


def _iban_spans(text: str) -> list[Span]:
    spans = []
    for m in _IBAN.finditer(text):
        candidate = m.group(0)
        while candidate:  # a trailing word in capitals may have been swallowed: shorten until valid
            if iban_valid(candidate):
                spans.append(Span("IBAN", m.start(), m.start() + len(candidate)))
                break
            candidate = candidate.rsplit(" ", 1)[0] if " " in candidate else ""
    return spans


def find_pii(text: str, kinds: Sequence[str] = KINDS) -> list[Span]:
    """Every e-mail, phone, card, IBAN and API key in ``text``, overlaps resolved by :data:`KINDS` order (lesson 12)."""
    found: list[Span] = []
    if "API_KEY" in kinds:
        for pattern in SECRET_FAMILIES.values():
            found += [Span("API_KEY", m.start(), m.end()) for m in pattern.finditer(text)]
    if "IBAN" in kinds:
        found += _iban_spans(text)
    if "CARD" in kinds:
        found += [Span("CARD", m.start(), m.end()) for m in _CARD.finditer(text) if luhn_valid(m.group(0))]
    if "EMAIL" in kinds:
        found += [Span("EMAIL", m.start(), m.end()) for m in _EMAIL.finditer(text)]
    if "PHONE" in kinds:
        found += [
            Span("PHONE", m.start(), m.end()) for m in _PHONE.finditer(text) if 7 <= _digits(m.group(0)) <= 15
        ]
    chosen: list[Span] = []
    for span in sorted(found, key=lambda s: (KINDS.index(s.kind), s.start, -(s.end - s.start))):
        if all(span.end <= c.start or span.start >= c.end for c in chosen):
            chosen.append(span)
    return sorted(chosen, key=lambda s: s.start)


@dataclass
class Redaction:
    """Placeholders handed out for one request, and the values behind them (kept in memory only) (lesson 12)."""

    values: dict[str, str] = field(default_factory=dict)
    """Placeholder → original value. Never log this."""
    _by_value: dict[str, str] = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:  # the originals must not leak through a repr into a log or a notebook
        return f"Redaction({self.counts()})"

    def placeholder(self, kind: str, value: str) -> str:
        """The placeholder for ``value``: the same one each time it appears (lesson 12)."""
        if value not in self._by_value:
            n = sum(p.startswith(f"<{kind}_") for p in self.values) + 1
            token = f"<{kind}_{n}>"
            self._by_value[value] = token
            self.values[token] = value
        return self._by_value[value]

    def counts(self) -> dict[str, int]:
        """Distinct values redacted, by kind: what an audit record may say (lesson 12)."""
        return dict(sorted(Counter(p[1:].rsplit("_", 1)[0] for p in self.values).items()))

    def restore(self, text: str) -> str:
        """Put the original values back in place of their placeholders (lesson 12)."""
        if not self.values:
            return text
        pattern = re.compile("|".join(re.escape(p) for p in sorted(self.values, key=len, reverse=True)))
        return pattern.sub(lambda m: self.values[m.group(0)], text)


class Redactor:
    """Replaces PII and keys with placeholders; ``kinds`` picks what to find (default all of :data:`KINDS`) (lesson 12)."""

    def __init__(
        self, kinds: Sequence[str] = KINDS, *, finder: Callable[[str], list[Span]] | None = None
    ) -> None:
        unknown = set(kinds) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown kinds {sorted(unknown)}; choose from {KINDS}")
        self.kinds = tuple(kinds)
        self._finder = finder or (lambda text: find_pii(text, self.kinds))

    def redact(self, text: str, redaction: Redaction | None = None) -> tuple[str, Redaction]:
        """``text`` with every value found replaced, and the :class:`Redaction` that can undo it (lesson 12)."""
        redaction = redaction if redaction is not None else Redaction()
        out, last = [], 0
        for span in self._finder(text):
            out.append(text[last : span.start])
            out.append(redaction.placeholder(span.kind, text[span.start : span.end]))
            last = span.end
        out.append(text[last:])
        return "".join(out), redaction


def redact_messages(
    messages: Sequence[Mapping[str, Any]], redactor: Redactor, redaction: Redaction | None = None
) -> tuple[list[dict[str, Any]], Redaction]:
    """Every message's text content redacted with one shared :class:`Redaction` (lesson 12)."""
    redaction = redaction if redaction is not None else Redaction()
    out = []
    for message in messages:
        copy = dict(message)
        if isinstance(copy.get("content"), str):
            copy["content"], _ = redactor.redact(copy["content"], redaction)
        out.append(copy)
    return out, redaction


class Redacting(BaseProvider):
    """A provider that redacts every prompt before the inner one sees it and audits each call (lesson 12).

    ``restore=True`` puts the original values back into the answer (a reply the customer reads);
    ``restore=False`` leaves the placeholders (a summary for a log or another team). With an ``audit``
    log (:class:`~course_lib.audit.AuditLog`), each call appends who, model, tokens, cost and the
    redaction counts, also when the call fails. ``last_redaction`` is the most recent call's mapping.
    """

    def __init__(
        self,
        inner: Any,
        redactor: Redactor | None = None,
        *,
        audit: Any = None,
        who: str = "anonymous",
        restore: bool = True,
        prices: Any = None,
    ) -> None:
        self.inner = inner
        self.redactor = redactor or Redactor()
        self.audit = audit
        self.who = who
        self.restore = restore
        self.prices = prices
        self.model = getattr(inner, "model", "")
        self.name = f"redacting({getattr(inner, 'name', type(inner).__name__)})"
        self.last_redaction: Redaction | None = None

    def _cost(self, result: ChatResult) -> float | None:
        from .cost import request_cost

        try:
            return request_cost(result.usage, result.model or self.model, prices=self.prices).total
        except (KeyError, ValueError, TypeError, LookupError):
            return None  # a model with no price (a local one) is audited without a cost

    def _audit(self, redaction: Redaction, result: ChatResult | None, error: BaseException | None) -> None:
        if self.audit is None:
            return
        usage = result.usage if result is not None else None
        self.audit.append(
            who=self.who,
            model=(result.model if result is not None else "") or self.model,
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
            cost_usd=self._cost(result) if result is not None else None,
            redactions=redaction.counts(),
            outcome="ok" if error is None else type(error).__name__,
        )

    def _finish(self, result: ChatResult, redaction: Redaction) -> ChatResult:
        if not self.restore or not redaction.values:
            return result
        choices = [c.model_copy(update={"text": redaction.restore(c.text)}) for c in result.choices]
        return result.model_copy(update={"choices": choices})

    def complete(self, messages: Sequence[Message], **params: Any) -> ChatResult:
        """Redact, call the inner provider, audit, and restore the answer if asked (lesson 12)."""
        outgoing, redaction = redact_messages(messages, self.redactor)
        self.last_redaction = redaction
        try:
            result = self.inner.complete(outgoing, **params)
        except Exception as error:
            self._audit(redaction, None, error)
            raise
        self._audit(redaction, result, None)
        return self._finish(result, redaction)

    async def acomplete(self, messages: Sequence[Message], **params: Any) -> ChatResult:
        """Async form of :meth:`complete`."""
        outgoing, redaction = redact_messages(messages, self.redactor)
        self.last_redaction = redaction
        try:
            result = await self.inner.acomplete(outgoing, **params)
        except Exception as error:
            self._audit(redaction, None, error)
            raise
        self._audit(redaction, result, None)
        return self._finish(result, redaction)
