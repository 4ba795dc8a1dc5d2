"""A dead-letter queue in SQLite: failed items kept with every attempt, resolved by a person, replayed (lesson 07).

When self-correction runs out of attempts the item must not be dropped, and the pipeline must not
wait for a person either. It goes here, with its payload, every raw output and error, the reason
and timestamps from an injected clock. A reviewer lists what is pending (oldest first, or only
what has waited too long), resolves an item with corrected data that a pydantic model validates
(invalid corrections are rejected with the error), or replays items through a processor once the
cause is fixed. SQLite in WAL mode with explicit transactions means a crash loses nothing that was
committed. :mod:`course_lib.batch` builds a crash-safe batch runner on the same database.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from .validators import ValidationFailedError, format_validation_error

__all__ = [
    "DeadLetter",
    "DeadLetterQueue",
    "ReplayReport",
    "ResolutionRejectedError",
    "to_jsonable",
]

T = TypeVar("T", bound=BaseModel)
LetterStatus = Literal["pending", "resolved", "replayed", "discarded"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id TEXT NOT NULL UNIQUE,
    payload TEXT NOT NULL,
    reason TEXT NOT NULL,
    attempts TEXT NOT NULL DEFAULT '[]',
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'resolved', 'replayed', 'discarded')),
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    resolved_at REAL,
    resolved_by TEXT,
    resolution TEXT,
    replays INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS dead_letters_status ON dead_letters (status, created_at);
"""


def to_jsonable(value: Any) -> Any:
    """Plain JSON data from a value, a pydantic model, or a list of them (lesson 07)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    return json.loads(json.dumps(value, default=str))


class DeadLetter(BaseModel):
    """One failed item: payload, reason, every attempt, status and timestamps (lesson 07)."""

    id: int
    item_id: str
    payload: Any
    reason: str
    attempts: list[dict[str, Any]]
    status: LetterStatus
    created_at: float
    updated_at: float
    resolved_at: float | None = None
    resolved_by: str | None = None
    resolution: Any = None
    replays: int = 0

    def age(self, now: float) -> timedelta:
        """How long the item has waited at ``now`` (a timedelta; use ``.total_seconds()``, never ``.seconds``)."""
        return timedelta(seconds=now - self.created_at)


class ResolutionRejectedError(ValueError):
    """A person's correction failed validation; the item stays pending; ``str()`` lists the errors (lesson 07)."""

    def __init__(self, item_id: str, errors: str) -> None:
        super().__init__(
            f"correction for {item_id!r} rejected; fix these fields and resolve again:\n{errors}"
        )
        self.item_id = item_id
        self.errors = errors


@dataclass(frozen=True)
class ReplayReport:
    """What a replay did: ids that now succeed and ids that failed again with their errors (lesson 07)."""

    replayed: list[str]
    failed: dict[str, str]


def _seconds(value: timedelta | float) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class DeadLetterQueue:
    """A SQLite-backed dead-letter queue (WAL mode, one transaction per change) (lesson 07).

    ``DeadLetterQueue(path, clock=time.time)``; ``clock`` returns seconds and is injected in tests.
    Use it as a context manager, or call :meth:`close`.
    """

    def __init__(self, path: str | Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self.clock = clock
        self.conn = sqlite3.connect(str(self.path), isolation_level=None, timeout=30.0)
        self.conn.row_factory = sqlite3.Row
        mode = self.conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise ValueError(
                f"{self.path}: SQLite could not switch to WAL mode (got {mode!r}); use a file path"
            )
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.executescript(_SCHEMA)
        self._depth = 0
        self._lock = threading.RLock()

    def close(self) -> None:
        """Close the database connection."""
        self.conn.close()

    def __enter__(self) -> DeadLetterQueue:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic write transaction (``BEGIN IMMEDIATE``); nested uses join the outer one."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self.conn
                finally:
                    self._depth -= 1
                return
            self.conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            else:
                self.conn.execute("COMMIT")
            finally:
                self._depth = 0

    # ------------------------------------------------------------------ adding

    def add(
        self,
        item_id: str,
        payload: Any,
        *,
        reason: str,
        attempts: Iterable[Any] = (),
    ) -> DeadLetter:
        """Store a failed item; adding an id again appends its new attempts and makes it pending again."""
        now = self.clock()
        new = [to_jsonable(a) for a in attempts]
        with self.transaction() as conn:
            row = conn.execute("SELECT attempts FROM dead_letters WHERE item_id = ?", (item_id,)).fetchone()
            if row is None:
                conn.execute(
                    "INSERT INTO dead_letters (item_id, payload, reason, attempts, created_at, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (item_id, json.dumps(to_jsonable(payload)), reason, json.dumps(new), now, now),
                )
            else:
                merged = json.loads(row["attempts"]) + new
                conn.execute(
                    "UPDATE dead_letters SET reason = ?, attempts = ?, status = 'pending', updated_at = ?, "
                    "resolved_at = NULL, resolved_by = NULL, resolution = NULL WHERE item_id = ?",
                    (reason, json.dumps(merged), now, item_id),
                )
        return self.get(item_id)

    def add_failure(self, item_id: str, payload: Any, error: BaseException) -> DeadLetter:
        """Store an item whose processing raised ``error``; a :class:`ValidationFailedError` keeps its attempts."""
        attempts: list[Any] = list(error.attempts) if isinstance(error, ValidationFailedError) else []
        if not attempts:
            attempts = [{"raw": None, "error": f"{type(error).__name__}: {error}"}]
        return self.add(item_id, payload, reason=f"{type(error).__name__}: {error}", attempts=attempts)

    # ------------------------------------------------------------------ reading

    @staticmethod
    def _letter(row: sqlite3.Row) -> DeadLetter:
        data = dict(row)
        data["payload"] = json.loads(data["payload"])
        data["attempts"] = json.loads(data["attempts"])
        data["resolution"] = json.loads(data["resolution"]) if data["resolution"] is not None else None
        return DeadLetter.model_validate(data)

    def get(self, item_id: str) -> DeadLetter:
        """The item with ``item_id``; ``KeyError`` if there is none."""
        row = self.conn.execute("SELECT * FROM dead_letters WHERE item_id = ?", (item_id,)).fetchone()
        if row is None:
            raise KeyError(f"no dead letter with id {item_id!r}; list them with .pending() or .items()")
        return self._letter(row)

    def items(self, status: LetterStatus | None = None) -> list[DeadLetter]:
        """Every item (or those with ``status``), oldest first."""
        sql, args = "SELECT * FROM dead_letters", ()
        if status is not None:
            sql, args = sql + " WHERE status = ?", (status,)
        return [self._letter(r) for r in self.conn.execute(sql + " ORDER BY created_at, id", args)]

    def pending(
        self,
        *,
        older_than: timedelta | float | None = None,
        reason_contains: str | None = None,
        limit: int | None = None,
    ) -> list[DeadLetter]:
        """Items awaiting review, oldest first; optionally only those older than ``older_than``."""
        sql, args = "SELECT * FROM dead_letters WHERE status = 'pending'", []
        if older_than is not None:
            sql += " AND created_at < ?"
            args.append(self.clock() - _seconds(older_than))
        if reason_contains:
            sql += " AND instr(lower(reason), lower(?)) > 0"
            args.append(reason_contains)
        sql += " ORDER BY created_at, id"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(int(limit))
        return [self._letter(r) for r in self.conn.execute(sql, args)]

    def counts(self) -> dict[str, int]:
        """How many items are in each status."""
        counts = dict.fromkeys(("pending", "resolved", "replayed", "discarded"), 0)
        for row in self.conn.execute("SELECT status, COUNT(*) AS n FROM dead_letters GROUP BY status"):
            counts[row["status"]] = row["n"]
        return counts

    def oldest_age(self) -> timedelta | None:
        """How long the oldest pending item has waited, or None when nothing is pending."""
        row = self.conn.execute(
            "SELECT MIN(created_at) AS t FROM dead_letters WHERE status = 'pending'"
        ).fetchone()
        return None if row["t"] is None else timedelta(seconds=self.clock() - row["t"])

    def resolved_examples(self) -> list[tuple[Any, Any]]:
        """``(payload, resolution)`` pairs from human resolutions: labelled data for evaluation or tuning."""
        rows = self.conn.execute(
            "SELECT payload, resolution FROM dead_letters WHERE status = 'resolved' ORDER BY resolved_at, id"
        )
        return [(json.loads(r["payload"]), json.loads(r["resolution"])) for r in rows]

    # ------------------------------------------------------------------ resolving

    def _close_item(self, item_id: str, status: LetterStatus, resolution: Any, by: str | None) -> None:
        now = self.clock()
        with self.transaction() as conn:
            row = conn.execute("SELECT status FROM dead_letters WHERE item_id = ?", (item_id,)).fetchone()
            if row is None:
                raise KeyError(f"no dead letter with id {item_id!r}")
            if row["status"] != "pending":
                raise ValueError(f"{item_id!r} is already {row['status']}; only pending items can be closed")
            conn.execute(
                "UPDATE dead_letters SET status = ?, resolution = ?, resolved_by = ?, resolved_at = ?, "
                "updated_at = ? WHERE item_id = ?",
                (status, json.dumps(to_jsonable(resolution)), by, now, now, item_id),
            )

    def resolve(self, item_id: str, data: Mapping[str, Any] | str, model_cls: type[T], *, by: str) -> T:
        """Resolve an item with a person's corrected data, validated as ``model_cls``; returns the model.

        Invalid data raises :class:`ResolutionRejectedError` and the item stays pending.
        """
        if not by or not by.strip():
            raise ValueError("say who resolves the item (by='alice@example.com'): resolutions are audited")
        self.get(item_id)
        try:
            value = (
                model_cls.model_validate_json(data)
                if isinstance(data, str)
                else model_cls.model_validate(data)
            )
        except ValidationError as exc:
            raise ResolutionRejectedError(item_id, format_validation_error(exc)) from None
        self._close_item(item_id, "resolved", value, by)
        return value

    def discard(self, item_id: str, *, by: str, note: str) -> None:
        """Close an item that needs no processing (spam, duplicate), saying why."""
        self._close_item(item_id, "discarded", {"note": note}, by)

    def replay(
        self, processor: Callable[[Any], Any], *, item_ids: Iterable[str] | None = None
    ) -> ReplayReport:
        """Run pending items (or ``item_ids``) through ``processor(payload)`` again, e.g. after a fix.

        A success closes the item as ``replayed`` with the processor's result; a failure keeps it
        pending and records the new error as another attempt.
        """
        letters = self.pending() if item_ids is None else [self.get(i) for i in item_ids]
        replayed: list[str] = []
        failed: dict[str, str] = {}
        for letter in letters:
            if letter.status != "pending":
                continue
            try:
                result = processor(letter.payload)
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"
                failed[letter.item_id] = error
                with self.transaction() as conn:
                    conn.execute(
                        "UPDATE dead_letters SET attempts = ?, replays = replays + 1, updated_at = ? "
                        "WHERE item_id = ?",
                        (
                            json.dumps([*letter.attempts, {"raw": None, "error": error}]),
                            self.clock(),
                            letter.item_id,
                        ),
                    )
                continue
            with self.transaction() as conn:
                conn.execute(
                    "UPDATE dead_letters SET replays = replays + 1 WHERE item_id = ?", (letter.item_id,)
                )
                self._close_item(letter.item_id, "replayed", result, "replay")
            replayed.append(letter.item_id)
        return ReplayReport(replayed=replayed, failed=failed)
