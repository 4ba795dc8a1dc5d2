"""The audit log: append-only, hash-chained, no content; a changed or removed line is noticed."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from course_lib.audit import GENESIS, AuditLog, AuditRecord
from course_lib.providers.scripted import ScriptedProvider
from course_lib.redaction import Redacting


def test_records_chain_and_survive_a_reopen(tmp_path) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path, clock=lambda: 1.0)
    first = log.append(who="team-a", model="gpt-4o-mini", prompt_tokens=10, redactions={"EMAIL": 1})
    assert first.seq == 1 and first.prev == GENESIS
    again = AuditLog(path, clock=lambda: 2.0)
    second = again.append(who="team-b", model="gpt-4o-mini")
    assert second.seq == 2 and second.prev != GENESIS
    assert [r.who for r in AuditLog(path).records()] == ["team-a", "team-b"]
    assert again.verify() == []


@pytest.mark.parametrize("tamper", ["edit", "drop", "swap"])
def test_a_changed_removed_or_reordered_line_is_noticed(tmp_path, tamper: str) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path, clock=lambda: 0.0)
    for who in ("a", "b", "c"):
        log.append(who=who, model="m", redactions={"CARD": 1})
    lines = path.read_text().splitlines()
    if tamper == "edit":
        record = json.loads(lines[1])
        record["redactions"] = {}
        lines[1] = json.dumps(record, sort_keys=True, separators=(",", ":"))
    elif tamper == "drop":
        del lines[1]
    else:
        lines[0], lines[1] = lines[1], lines[0]
    path.write_text("\n".join(lines) + "\n")
    assert AuditLog(path).verify() != []


def test_a_record_refuses_fields_it_does_not_have() -> None:
    with pytest.raises(ValidationError):
        AuditRecord(seq=1, at=0.0, who="a", model="m", prompt="the raw prompt")  # type: ignore[call-arg]


def test_a_failed_call_is_audited_with_its_error_type() -> None:
    def boom(messages, params):
        return TimeoutError("slow")

    log = AuditLog()
    provider = Redacting(ScriptedProvider(boom), audit=log, who="team-a")
    with pytest.raises(TimeoutError):
        provider.complete([{"role": "user", "content": "card 4111 1111 1111 1111"}])
    (record,) = log.records()
    assert record.outcome == "TimeoutError" and record.redactions == {"CARD": 1}
    assert "4111" not in log.text()
