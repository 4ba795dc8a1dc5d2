"""A crash-safe, idempotent batch runner whose per-item status lives in SQLite (lesson 07 checkpoint).

Each item of a batch is a row: ``pending`` until its result is committed (``done``) or it is sent
to the dead-letter queue (``dead``), in one transaction with the dead letter. If the process is
killed mid-batch, a re-run picks up exactly the items that are still pending: nothing committed is
redone and nothing is lost.

Several runners may work on one batch at once (two workers, or a re-run started while the first is
still going): each *claims* an item before processing it, with a lease of ``lease_s`` seconds written
in the same database. Another runner skips leased items, so the model is called once per item; if a
runner dies, its lease expires and another runner takes the item over.

The guarantee, precisely: every item's result is committed exactly once. The processor itself may
run a second time for the one item that was in flight when a runner died (its result was never
committed), or when a lease expired while the processor was still running, so a processor with
outside side effects should use the item id as an idempotency key. An item that keeps killing the
process is sent to the dead-letter queue after ``max_starts`` starts.
"""

from __future__ import annotations

import json
import os
import uuid
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
    lease_owner TEXT,
    lease_until REAL,
    PRIMARY KEY (batch_id, item_id)
);
"""
_LEASE_COLUMNS = {"lease_owner": "TEXT", "lease_until": "REAL"}


@dataclass(frozen=True)
class BatchReport:
    """What one :meth:`BatchRunner.run` did: items committed, items dead-lettered, items still pending (lesson 07)."""

    done: list[str]
    dead: list[str]
    remaining: int


class BatchRunner:
    """Runs ``processor(item_id, payload)`` over a batch, committing each item's status in SQLite (lesson 07).

    It shares the dead-letter queue's database, so "failed" and "in the DLQ" change together. Each
    item is claimed with a lease of ``lease_s`` seconds before it is processed; ``owner`` names this
    runner in the database (default: host, process id and a random suffix).
    """

    def __init__(
        self,
        dlq: DeadLetterQueue,
        processor: Callable[[str, Any], Any],
        *,
        max_starts: int = 3,
        lease_s: float = 300.0,
        owner: str | None = None,
    ) -> None:
        if max_starts < 1:
            raise ValueError(f"max_starts must be at least 1, got {max_starts}")
        if lease_s <= 0:
            raise ValueError(f"lease_s must be positive seconds, got {lease_s}")
        self.dlq = dlq
        self.processor = processor
        self.max_starts = max_starts
        self.lease_s = float(lease_s)
        self.owner = owner or f"{os.uname().nodename}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.dlq.conn.executescript(_SCHEMA)
        columns = {r[1] for r in self.dlq.conn.execute("PRAGMA table_info(batch_items)")}
        for name, kind in _LEASE_COLUMNS.items():  # a database made before leases existed
            if name not in columns:
                self.dlq.conn.execute(f"ALTER TABLE batch_items ADD COLUMN {name} {kind}")

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

    def _claim(self, batch_id: str) -> Any:
        """Lease the next pending item no live runner holds; None when there is none (one transaction).

        A lease is free when it has expired, or when it belongs to a runner on this machine whose
        process has died (so a re-run after a crash need not wait for the lease to run out).
        """
        now = self.dlq.clock()
        with self.dlq.transaction() as conn:
            rows = conn.execute(
                "SELECT item_id, payload, starts, lease_owner, lease_until FROM batch_items "
                "WHERE batch_id = ? AND status = 'pending' ORDER BY rowid",
                (batch_id,),
            )
            row = next((r for r in rows if self._claimable(r["lease_owner"], r["lease_until"], now)), None)
            if row is None:
                return None
            conn.execute(
                "UPDATE batch_items SET lease_owner = ?, lease_until = ?, updated_at = ? "
                "WHERE batch_id = ? AND item_id = ?",
                (self.owner, now + self.lease_s, now, batch_id, row["item_id"]),
            )
        return row

    def _claimable(self, owner: str | None, until: float | None, now: float) -> bool:
        if owner is None or until is None or until <= now or owner == self.owner:
            return True
        host, _, rest = owner.partition(":")
        pid = rest.partition(":")[0]
        if host != os.uname().nodename or not pid.isdigit() or int(pid) == os.getpid():
            return False
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True  # its runner died on this machine
        except PermissionError:
            return False
        return False

    def leases(self, batch_id: str) -> dict[str, tuple[str, float]]:
        """The live leases of the batch's pending items: item id -> (owner, expiry time)."""
        rows = self.dlq.conn.execute(
            "SELECT item_id, lease_owner, lease_until FROM batch_items WHERE batch_id = ? AND status = 'pending' "
            "AND lease_until > ?",
            (batch_id, self.dlq.clock()),
        )
        return {r["item_id"]: (r["lease_owner"], r["lease_until"]) for r in rows}

    def _dead(self, batch_id: str, item_id: str, payload: Any, error: BaseException | str) -> bool:
        message = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        with self.dlq.transaction() as conn:
            changed = conn.execute(
                "UPDATE batch_items SET status = 'dead', error = ?, updated_at = ?, lease_until = NULL "
                "WHERE batch_id = ? AND item_id = ? AND status = 'pending'",
                (message, self.dlq.clock(), batch_id, item_id),
            ).rowcount
            if not changed:  # another runner settled it first
                return False
            letter_id = f"{batch_id}/{item_id}"
            if isinstance(error, BaseException):
                self.dlq.add_failure(letter_id, payload, error)
            else:
                self.dlq.add(letter_id, payload, reason=message, attempts=[{"raw": None, "error": message}])
        return True

    def run(self, batch_id: str, *, limit: int | None = None) -> BatchReport:
        """Process the batch's pending items in order (at most ``limit`` of them); safe to re-run."""
        done: list[str] = []
        dead: list[str] = []
        while limit is None or len(done) + len(dead) < limit:
            row = self._claim(batch_id)
            if row is None:
                break
            item_id, payload = row["item_id"], json.loads(row["payload"])
            if row["starts"] >= self.max_starts:
                if self._dead(
                    batch_id,
                    item_id,
                    payload,
                    f"started {row['starts']} times without finishing (the process died each time)",
                ):
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
                if self._dead(batch_id, item_id, payload, exc):
                    dead.append(item_id)
                continue
            with self.dlq.transaction() as conn:
                committed = conn.execute(
                    "UPDATE batch_items SET status = 'done', result = ?, error = NULL, updated_at = ?, "
                    "lease_until = NULL WHERE batch_id = ? AND item_id = ? AND status = 'pending'",
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
