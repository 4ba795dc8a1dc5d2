"""Two batch runners on one batch: items are claimed with a lease, so the model is called once per item."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import Counter

from course_lib.batch import BatchRunner
from course_lib.dlq import DeadLetterQueue
from course_lib.guards import ManualClock


def test_two_runners_call_the_processor_once_per_item(tmp_path):
    path = tmp_path / "batch.db"
    calls: Counter[str] = Counter()
    lock = threading.Lock()

    def processor(item_id, payload):
        with lock:
            calls[item_id] += 1
        time.sleep(0.002)  # a model call: long enough for the runners to interleave
        return {"label": payload["text"].upper()}

    BatchRunner(DeadLetterQueue(path), processor).enqueue(
        "b1", {f"t{i}": {"text": f"ticket {i}"} for i in range(60)}
    )
    reports = []

    def runner(k: int) -> None:  # each runner has its own connection, as two processes would
        reports.append(BatchRunner(DeadLetterQueue(path), processor, owner=f"runner-{k}").run("b1"))

    threads = [threading.Thread(target=runner, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(reports) == 2 and all(r.done for r in reports), "both runners took part"
    assert sorted(calls) == sorted(f"t{i}" for i in range(60))
    twice = [item for item, n in calls.items() if n > 1]
    assert twice == [], f"{len(twice)} items were sent to the model twice"
    assert sorted(reports[0].done + reports[1].done) == sorted(calls)
    assert BatchRunner(DeadLetterQueue(path), processor).counts("b1") == {"pending": 0, "done": 60, "dead": 0}


def test_a_dead_runners_lease_expires_and_another_takes_the_item_over(tmp_path):
    path = tmp_path / "batch.db"
    clock = ManualClock(1000.0)
    seen: list[tuple[str, str]] = []

    def make(owner):
        return BatchRunner(
            DeadLetterQueue(path, clock=clock),
            lambda i, p: seen.append((owner, i)) or "ok",
            owner=owner,
            lease_s=60,
        )

    crashed, survivor = make("crashed"), make("survivor")
    crashed.enqueue("b", {"a": 1, "b": 2})
    claimed = crashed._claim("b")  # claims "a", then the process dies before processing it
    assert claimed["item_id"] == "a" and set(survivor.leases("b")) == {"a"}
    report = survivor.run("b")
    assert report.done == ["b"] and report.remaining == 1  # "a" is leased: left alone
    clock.advance(61)
    report = survivor.run("b")
    assert report.done == ["a"] and report.remaining == 0
    assert seen == [("survivor", "b"), ("survivor", "a")]


def test_a_database_from_before_leases_is_upgraded(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE batch_items (batch_id TEXT NOT NULL, item_id TEXT NOT NULL, payload TEXT NOT NULL, "
        "status TEXT NOT NULL DEFAULT 'pending', starts INTEGER NOT NULL DEFAULT 0, result TEXT, error TEXT, "
        "updated_at REAL NOT NULL, PRIMARY KEY (batch_id, item_id));"
        "INSERT INTO batch_items (batch_id, item_id, payload, updated_at) VALUES ('b', 'x', '1', 0);"
    )
    conn.commit()
    conn.close()
    runner = BatchRunner(DeadLetterQueue(path), lambda i, p: p + 1)
    assert runner.run("b").done == ["x"] and runner.results("b") == {"x": 2}
