"""A crash-safe, idempotent batch runner whose per-item status lives in SQLite (lesson 07 checkpoint).

Each item of a batch is a row: ``pending`` until its result is committed (``done``) or it is sent
to the dead-letter queue (``dead``), in one transaction with the dead letter. If the process is
killed mid-batch, a re-run picks up exactly the items that are still pending: nothing committed is
redone and nothing is lost.

The guarantee, precisely: every item's result is committed exactly once. The processor itself may
run a second time for the one item that was in flight when the process died (its result was never
committed), so a processor with outside side effects should use the item id as an idempotency key.
An item that keeps killing the process is sent to the dead-letter queue after ``max_starts`` starts.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .dlq import DeadLetterQueue, to_jsonable

__all__ = ["BatchReport", "BatchRunner"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS batch_items (
    batch_id TEXT NOT NULL,
    item_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'dead')),
    starts INTEGER NOT NULL DEFAULT 0,
    result TEXT,
    error TEXT,
    updated_at REAL NOT NULL,
    PRIMARY KEY (batch_id, item_id)
);
"""


@dataclass(frozen=True)
class BatchReport:
    """What one :meth:`BatchRunner.run` did: items committed, items dead-lettered, items still pending (lesson 07)."""

    done: list[str]
    dead: list[str]
    remaining: int


class BatchRunner:
    """Runs ``processor(item_id, payload)`` over a batch, committing each item's status in SQLite (lesson 07).

    It shares the dead-letter queue's database, so "failed" and "in the DLQ" change together.
    """

    def __init__(
        self,
        dlq: DeadLetterQueue,
        processor: Callable[[str, Any], Any],
        *,
        max_starts: int = 3,
    ) -> None:
        if max_starts < 1:
            raise ValueError(f"max_starts must be at least 1, got {max_starts}")
        self.dlq = dlq
        self.processor = processor
        self.max_starts = max_starts
        self.dlq.conn.executescript(_SCHEMA)

    def enqueue(self, batch_id: str, items: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> int:
        """Add items to a batch; ids already there are left as they are. Returns how many were new."""
        pairs = list(items.items()) if isinstance(items, Mapping) else list(items)
        now = self.dlq.clock()
        with self.dlq.transaction() as conn:
            before = conn.total_changes
            conn.executemany(
                "INSERT OR IGNORE INTO batch_items (batch_id, item_id, payload, updated_at) VALUES (?, ?, ?, ?)",
                [(batch_id, str(i), json.dumps(to_jsonable(p)), now) for i, p in pairs],
            )
            return conn.total_changes - before

    def _next(self, batch_id: str) -> Any:
        return self.dlq.conn.execute(
            "SELECT item_id, payload, starts FROM batch_items WHERE batch_id = ? AND status = 'pending' "
            "ORDER BY rowid LIMIT 1",
            (batch_id,),
        ).fetchone()

    def _dead(self, batch_id: str, item_id: str, payload: Any, error: BaseException | str) -> None:
        message = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        with self.dlq.transaction() as conn:
            conn.execute(
                "UPDATE batch_items SET status = 'dead', error = ?, updated_at = ? "
                "WHERE batch_id = ? AND item_id = ? AND status = 'pending'",
                (message, self.dlq.clock(), batch_id, item_id),
            )
            letter_id = f"{batch_id}/{item_id}"
            if isinstance(error, BaseException):
                self.dlq.add_failure(letter_id, payload, error)
            else:
                self.dlq.add(letter_id, payload, reason=message, attempts=[{"raw": None, "error": message}])

    def run(self, batch_id: str, *, limit: int | None = None) -> BatchReport:
        """Process the batch's pending items in order (at most ``limit`` of them); safe to re-run."""
        done: list[str] = []
        dead: list[str] = []
        while limit is None or len(done) + len(dead) < limit:
            row = self._next(batch_id)
            if row is None:
                break
            item_id, payload = row["item_id"], json.loads(row["payload"])
            if row["starts"] >= self.max_starts:
                self._dead(
                    batch_id,
                    item_id,
                    payload,
                    f"started {row['starts']} times without finishing (the process died each time)",
                )
                dead.append(item_id)
                continue
            with self.dlq.transaction() as conn:
                conn.execute(
                    "UPDATE batch_items SET starts = starts + 1, updated_at = ? WHERE batch_id = ? AND item_id = ?",
                    (self.dlq.clock(), batch_id, item_id),
                )
            try:
                result = self.processor(item_id, payload)
            except Exception as exc:
                self._dead(batch_id, item_id, payload, exc)
                dead.append(item_id)
                continue
            with self.dlq.transaction() as conn:
                committed = conn.execute(
                    "UPDATE batch_items SET status = 'done', result = ?, error = NULL, updated_at = ? "
                    "WHERE batch_id = ? AND item_id = ? AND status = 'pending'",
                    (json.dumps(to_jsonable(result)), self.dlq.clock(), batch_id, item_id),
                ).rowcount
            if committed:  # 0 when another runner committed this item first: its result stands
                done.append(item_id)
        return BatchReport(done=done, dead=dead, remaining=self.counts(batch_id)["pending"])

    def counts(self, batch_id: str) -> dict[str, int]:
        """How many of the batch's items are pending, done and dead."""
        counts = {"pending": 0, "done": 0, "dead": 0}
        rows = self.dlq.conn.execute(
            "SELECT status, COUNT(*) AS n FROM batch_items WHERE batch_id = ? GROUP BY status", (batch_id,)
        )
        for row in rows:
            counts[row["status"]] = row["n"]
        return counts

    def results(self, batch_id: str) -> dict[str, Any]:
        """The committed result of every done item, by item id."""
        rows = self.dlq.conn.execute(
            "SELECT item_id, result FROM batch_items WHERE batch_id = ? AND status = 'done' ORDER BY rowid",
            (batch_id,),
        )
        return {r["item_id"]: json.loads(r["result"]) for r in rows}

    def starts(self, batch_id: str) -> dict[str, int]:
        """How many times each item was started (more than 1 means a crash interrupted it)."""
        rows = self.dlq.conn.execute(
            "SELECT item_id, starts FROM batch_items WHERE batch_id = ? ORDER BY rowid", (batch_id,)
        )
        return {r["item_id"]: r["starts"] for r in rows}
