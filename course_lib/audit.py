"""An append-only audit log of model requests: who, which model, tokens, cost, redactions (lessons 09 and 12).

Each :class:`AuditRecord` says who asked, which model answered, the tokens and their cost, how many
values of each kind were redacted, and whether the call failed. It never holds a prompt, an answer or
a redacted value: only counts. :class:`AuditLog` can only append; each line carries the SHA-256 of
the line before it, so :meth:`AuditLog.verify` notices a line edited or removed after the fact.
With a ``path`` the lines go to a JSON Lines file opened in append mode; without, they stay in memory.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["GENESIS", "AuditLog", "AuditRecord"]

GENESIS = "0" * 64
"""The ``prev`` of the first record: there is no line before it (lesson 12)."""


class AuditRecord(BaseModel):
    """One request as the audit log keeps it: counts and names, never content (lesson 12)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seq: int = Field(ge=1)
    at: float
    who: str
    model: str
    prompt_tokens: int = Field(default=0, ge=0)
    completion_tokens: int = Field(default=0, ge=0)
    cost_usd: float | None = None
    redactions: dict[str, int] = Field(default_factory=dict)
    outcome: str = "ok"
    """``ok``, or the error's type name."""
    prev: str = GENESIS
    """SHA-256 of the previous line (hex)."""


def _digest(line: str) -> str:
    return hashlib.sha256(line.encode()).hexdigest()


class AuditLog:
    """Append-only, hash-chained audit records, in memory or in a JSON Lines file (lesson 12)."""

    def __init__(
        self, path: str | os.PathLike[str] | None = None, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.path = Path(path) if path is not None else None
        self._clock = clock
        self._lock = threading.Lock()
        self._lines: list[str] = []
        if self.path is not None and self.path.exists():
            self._lines = [line for line in self.path.read_text().splitlines() if line.strip()]

    def append(
        self,
        *,
        who: str,
        model: str,
        prompt_tokens: int = 0,
        completion_tokens: int = 0,
        cost_usd: float | None = None,
        redactions: Mapping[str, int] | None = None,
        outcome: str = "ok",
    ) -> AuditRecord:
        """Add one record at the end (the only way to write) and return it (lesson 12)."""
        with self._lock:
            record = AuditRecord(
                seq=len(self._lines) + 1,
                at=self._clock(),
                who=who,
                model=model,
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
                cost_usd=cost_usd,
                redactions=dict(redactions or {}),
                outcome=outcome,
                prev=_digest(self._lines[-1]) if self._lines else GENESIS,
            )
            line = json.dumps(record.model_dump(), sort_keys=True, separators=(",", ":"))
            if self.path is not None:
                with self.path.open("a", encoding="utf-8") as handle:
                    handle.write(line + "\n")
            self._lines.append(line)
            return record

    def __len__(self) -> int:
        return len(self._lines)

    def __iter__(self) -> Iterator[AuditRecord]:
        return iter(self.records())

    def records(self) -> list[AuditRecord]:
        """Every record, oldest first (lesson 12)."""
        return [AuditRecord.model_validate_json(line) for line in self._lines]

    def text(self) -> str:
        """The log exactly as stored, one JSON object a line (lesson 12)."""
        lines = self.path.read_text().splitlines() if self.path is not None else self._lines
        return "\n".join(lines) + ("\n" if lines else "")

    def verify(self) -> list[str]:
        """Problems with the stored chain: a line changed, removed or out of order (empty when intact) (lesson 12)."""
        problems, prev = [], GENESIS
        lines = [line for line in self.text().splitlines() if line.strip()]
        for i, line in enumerate(lines, start=1):
            try:
                record = AuditRecord.model_validate_json(line)
            except ValueError:
                problems.append(f"line {i} is not an audit record")
                prev = _digest(line)
                continue
            if record.seq != i:
                problems.append(f"line {i} has seq {record.seq}")
            if record.prev != prev:
                problems.append(f"line {i} does not follow line {i - 1}: changed or removed")
            prev = _digest(line)
        return problems
