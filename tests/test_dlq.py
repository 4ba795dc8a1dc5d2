"""Tests for course_lib.dlq and course_lib.batch: storage, ageing, human resolution, replay, crash safety."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from datetime import timedelta

import pytest
from pydantic import BaseModel, Field

from course_lib.batch import BatchRunner
from course_lib.dlq import DeadLetterQueue, ResolutionRejectedError
from course_lib.providers.scripted import ScriptedProvider
from course_lib.validators import ValidationFailedError, generate_validated

T0 = 1_700_000_000.0


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Ticket(BaseModel):
    customer_email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    order_id: str = Field(pattern=r"^\d{5}$")
    issue_type: str


EMAIL = "From: alice@customer.com\nMy order #12345 hasn't arrived. Can I get a refund?"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def dlq(tmp_path, clock):
    with DeadLetterQueue(tmp_path / "dlq.sqlite", clock=clock) as queue:
        yield queue


def failed_extraction() -> ValidationFailedError:
    replies = ['{"order_id": "12345A"}', "I think it is a refund.", '{"customer_email": "alice"}']
    with pytest.raises(ValidationFailedError) as info:
        generate_validated(ScriptedProvider(replies), [{"role": "user", "content": EMAIL}], Ticket)
    return info.value


# --------------------------------------------------------------------------- storing and listing


def test_stores_a_failed_item_with_every_attempt(dlq, clock):
    error = failed_extraction()
    letter = dlq.add_failure("email-1", {"text": EMAIL}, error)
    assert letter.status == "pending"
    assert letter.payload == {"text": EMAIL}
    assert [a["raw"] for a in letter.attempts] == [
        '{"order_id": "12345A"}',
        "I think it is a refund.",
        '{"customer_email": "alice"}',
    ]
    assert all(a["error"] for a in letter.attempts)
    assert "ValidationFailedError" in letter.reason
    assert letter.created_at == letter.updated_at == T0


def test_survives_reopening_and_uses_wal(tmp_path, clock):
    path = tmp_path / "q.sqlite"
    with DeadLetterQueue(path, clock=clock) as queue:
        queue.add("a", {"x": 1}, reason="bad", attempts=[{"raw": "r", "error": "e"}])
    with DeadLetterQueue(path, clock=clock) as queue:
        assert queue.get("a").attempts == [{"raw": "r", "error": "e"}]
        assert queue.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with pytest.raises(ValueError, match="WAL"):
        DeadLetterQueue(":memory:")


def test_adding_again_appends_attempts_and_reopens(dlq, clock):
    dlq.add("a", {"x": 1}, reason="first", attempts=[{"raw": "1", "error": "e1"}])
    dlq.discard("a", by="bob", note="duplicate")
    clock.now += 60
    letter = dlq.add("a", {"x": 1}, reason="second", attempts=[{"raw": "2", "error": "e2"}])
    assert letter.status == "pending"
    assert letter.reason == "second"
    assert [a["raw"] for a in letter.attempts] == ["1", "2"]
    assert letter.created_at == T0
    assert letter.updated_at == T0 + 60
    assert letter.resolution is None


def test_pending_lists_oldest_first_and_filters(dlq, clock):
    for i, reason in enumerate(["schema: order_id", "timeout", "schema: email"]):
        clock.now = T0 + i * 600
        dlq.add(f"e{i}", {"i": i}, reason=reason)
    dlq.discard("e1", by="bob", note="spam")
    assert [d.item_id for d in dlq.pending()] == ["e0", "e2"]
    assert [d.item_id for d in dlq.pending(reason_contains="SCHEMA")] == ["e0", "e2"]
    assert [d.item_id for d in dlq.pending(limit=1)] == ["e0"]
    assert [d.item_id for d in dlq.items()] == ["e0", "e1", "e2"]
    assert [d.item_id for d in dlq.items("discarded")] == ["e1"]
    assert dlq.counts() == {"pending": 2, "resolved": 0, "replayed": 0, "discarded": 1}
    with pytest.raises(KeyError, match="nope"):
        dlq.get("nope")


def test_ageing_counts_whole_days(dlq, clock):
    """The common mistake ``(now - t).seconds`` says an item a day and 5 minutes old is 5 minutes old."""
    dlq.add("old", {}, reason="r")
    clock.now = T0 + 86_400 + 300
    dlq.add("new", {}, reason="r")
    letter = dlq.get("old")
    assert letter.age(clock()) == timedelta(days=1, seconds=300)
    assert letter.age(clock()).seconds == 300  # what the erratum would have used
    assert [d.item_id for d in dlq.pending(older_than=timedelta(hours=2))] == ["old"]
    assert [d.item_id for d in dlq.pending(older_than=7200)] == ["old"]
    assert dlq.oldest_age() == timedelta(days=1, seconds=300)


def test_a_failed_transaction_writes_nothing(dlq):
    with pytest.raises(RuntimeError), dlq.transaction() as conn:
        conn.execute(
            "INSERT INTO dead_letters (item_id, payload, reason, created_at, updated_at) VALUES ('x', '{}', 'r', 0, 0)"
        )
        raise RuntimeError("crash before commit")
    assert dlq.items() == []
    assert dlq.oldest_age() is None


# --------------------------------------------------------------------------- human resolution and replay


def test_resolution_is_validated_and_invalid_data_rejected(dlq, clock):
    dlq.add("email-1", {"text": EMAIL}, reason="3 failed attempts")
    with pytest.raises(ResolutionRejectedError) as info:
        dlq.resolve(
            "email-1", {"customer_email": "alice@customer.com", "order_id": "12345A"}, Ticket, by="bob"
        )
    message = str(info.value)
    assert "- order_id: String should match pattern" in message
    assert "- issue_type: Field required" in message
    assert dlq.get("email-1").status == "pending"
    clock.now += 900
    data = {"customer_email": "alice@customer.com", "order_id": "12345", "issue_type": "delivery_issue"}
    ticket = dlq.resolve("email-1", data, Ticket, by="bob")
    assert ticket == Ticket(**data)
    letter = dlq.get("email-1")
    assert (letter.status, letter.resolved_by, letter.resolved_at, letter.resolution) == (
        "resolved",
        "bob",
        T0 + 900,
        data,
    )
    assert dlq.resolved_examples() == [({"text": EMAIL}, data)]
    with pytest.raises(ValueError, match="already resolved"):
        dlq.resolve("email-1", data, Ticket, by="bob")


def test_resolve_accepts_json_and_requires_a_reviewer(dlq):
    dlq.add("e", {}, reason="r")
    with pytest.raises(ValueError, match="who resolves"):
        dlq.resolve("e", {}, Ticket, by=" ")
    with pytest.raises(KeyError):
        dlq.resolve("missing", {}, Ticket, by="bob")
    raw = '{"customer_email": "a@b.c", "order_id": "00001", "issue_type": "refund_request"}'
    assert dlq.resolve("e", raw, Ticket, by="bob").order_id == "00001"


def test_replay_closes_what_now_works_and_records_new_failures(dlq):
    dlq.add("good", {"n": 2}, reason="model was down")
    dlq.add("bad", {"n": 0}, reason="model was down", attempts=[{"raw": None, "error": "timeout"}])
    dlq.add("closed", {"n": 3}, reason="r")
    dlq.discard("closed", by="bob", note="duplicate")
    seen = []

    def processor(payload):
        seen.append(payload["n"])
        return {"inverse": 1 / payload["n"]}

    report = dlq.replay(processor)
    assert seen == [2, 0]
    assert report.replayed == ["good"]
    assert list(report.failed) == ["bad"]
    assert "ZeroDivisionError" in report.failed["bad"]
    good, bad = dlq.get("good"), dlq.get("bad")
    assert (good.status, good.resolution, good.resolved_by, good.replays) == (
        "replayed",
        {"inverse": 0.5},
        "replay",
        1,
    )
    assert (bad.status, bad.replays, len(bad.attempts)) == ("pending", 1, 2)
    assert dlq.replay(processor, item_ids=["closed"]).replayed == []


# --------------------------------------------------------------------------- batches


def test_batch_commits_results_and_dead_letters_failures(dlq):
    def processor(item_id, payload):
        if payload["text"] == "garbled":
            raise failed_extraction()
        return {"id": item_id, "length": len(payload["text"])}

    runner = BatchRunner(dlq, processor)
    items = {"m1": {"text": "hello"}, "m2": {"text": "garbled"}, "m3": {"text": "bye"}}
    assert runner.enqueue("b", items) == 3
    report = runner.run("b")
    assert (report.done, report.dead, report.remaining) == (["m1", "m3"], ["m2"], 0)
    assert runner.results("b") == {"m1": {"id": "m1", "length": 5}, "m3": {"id": "m3", "length": 3}}
    letter = dlq.get("b/m2")
    assert letter.payload == {"text": "garbled"}
    assert len(letter.attempts) == 3
    assert runner.counts("b") == {"pending": 0, "done": 2, "dead": 1}


def test_enqueue_and_run_are_idempotent(dlq):
    calls = []
    runner = BatchRunner(dlq, lambda item_id, payload: calls.append(item_id) or payload)
    assert runner.enqueue("b", [("a", 1), ("b", 2)]) == 2
    assert runner.enqueue("b", [("a", 100), ("c", 3)]) == 1
    assert runner.run("b", limit=2).remaining == 1
    assert runner.run("b").done == ["c"]
    assert runner.run("b").done == []
    assert calls == ["a", "b", "c"]
    assert runner.results("b") == {"a": 1, "b": 2, "c": 3}


def test_an_item_that_keeps_killing_the_process_is_dead_lettered(dlq):
    class Crash(BaseException):
        """Stands in for the process dying inside the processor."""

    calls = []

    def processor(item_id, payload):
        calls.append(item_id)
        if item_id == "poison":
            raise Crash
        return payload

    runner = BatchRunner(dlq, processor, max_starts=2)
    runner.enqueue("b", [("ok1", 1), ("poison", 2), ("ok2", 3)])
    for _ in range(2):
        with pytest.raises(Crash):
            runner.run("b")
    report = runner.run("b")
    assert report.dead == ["poison"]
    assert report.done == ["ok2"]
    assert calls == ["ok1", "poison", "poison", "ok2"]
    assert runner.starts("b") == {"ok1": 1, "poison": 2, "ok2": 1}
    assert "started 2 times" in dlq.get("b/poison").reason


CHILD = textwrap.dedent(
    """
    import os, sys, time
    from course_lib.batch import BatchRunner
    from course_lib.dlq import DeadLetterQueue

    db, log_path = sys.argv[1], sys.argv[2]

    def processor(item_id, payload):
        with open(log_path, "a") as log:
            log.write(item_id + "\\n")
            log.flush()
            os.fsync(log.fileno())
        time.sleep(0.02)
        return {"item": item_id, "double": payload["n"] * 2}

    with DeadLetterQueue(db) as dlq:
        BatchRunner(dlq, processor).run("batch")
    """
)


def test_sigkill_mid_batch_loses_nothing_and_a_rerun_processes_each_remaining_item_once(tmp_path):
    db, script, log1 = tmp_path / "q.sqlite", tmp_path / "child.py", tmp_path / "run1.log"
    script.write_text(CHILD)
    n = 60
    ids = [f"item-{i:03d}" for i in range(n)]
    with DeadLetterQueue(db) as queue:
        BatchRunner(queue, lambda i, p: None).enqueue("batch", {i: {"n": k} for k, i in enumerate(ids)})

    proc = subprocess.Popen(
        [sys.executable, str(script), str(db), str(log1)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    with DeadLetterQueue(db) as queue:
        watcher = BatchRunner(queue, lambda i, p: None)
        deadline = time.monotonic() + 60
        while watcher.counts("batch")["done"] < 10:
            assert proc.poll() is None, f"child exited early: {proc.stderr.read().decode()}"
            assert time.monotonic() < deadline, "child made no progress"
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stderr.close()
        assert proc.returncode == -signal.SIGKILL

    with DeadLetterQueue(db) as queue:
        calls: list[str] = []

        def processor(item_id, payload):
            calls.append(item_id)
            return {"item": item_id, "double": payload["n"] * 2}

        runner = BatchRunner(queue, processor)
        after_crash = runner.counts("batch")
        done_before = set(runner.results("batch"))
        run1 = log1.read_text().split()
        # Nothing lost: every item is either committed or still pending.
        assert after_crash["done"] + after_crash["pending"] == n
        assert after_crash["dead"] == 0
        assert 10 <= len(done_before) < n
        # Run 1 started each item at most once; at most one started item (the one in flight) is uncommitted.
        assert len(run1) == len(set(run1))
        assert done_before <= set(run1)
        assert len(set(run1) - done_before) <= 1

        report = runner.run("batch")
        remaining = [i for i in ids if i not in done_before]
        assert calls == remaining  # each remaining item exactly once, in order; nothing committed is redone
        assert report.done == remaining
        assert runner.counts("batch") == {"pending": 0, "done": n, "dead": 0}
        results = runner.results("batch")
        assert results == {i: {"item": i, "double": k * 2} for k, i in enumerate(ids)}
        rows = queue.conn.execute("SELECT COUNT(*) FROM batch_items WHERE batch_id = 'batch'").fetchone()[0]
        assert rows == n
        in_flight = set(run1) - done_before
        assert {i for i, s in runner.starts("batch").items() if s == 2} == in_flight

        assert runner.run("batch").done == []
        assert len(calls) == len(remaining)

    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
