"""Command-line rough edges: non-UTF-8 arguments, malformed server answers, a provider that cannot be built."""

from __future__ import annotations

import subprocess
import sys

import httpx2
import openai

from course_lib.cli import cot
from course_lib.cli.doctor import diagnose
from course_lib.providers.base import ConfigurationError
from course_lib.providers.faulty import FaultSchedule, faulty_handler
from course_lib.providers.openai_adapter import OpenAIProvider
from course_lib.retry import RetryPolicy


def test_cot_orchestrator_takes_a_non_utf8_argument_without_a_traceback():
    done = subprocess.run(
        [sys.executable, "-m", "course_lib.cli.cot", b"What is 15% of 240? caf\xe9"],
        capture_output=True,
        timeout=120,
    )
    stderr = done.stderr.decode("utf-8", "replace")
    assert "Traceback" not in stderr and "UnicodeEncodeError" not in stderr
    assert done.returncode in (cot.EXIT_NO_ANSWER, cot.EXIT_CONFIG)
    assert "not UTF-8" in stderr
    assert "caf\ufffd" in done.stdout.decode("utf-8") + stderr


def test_cot_orchestrator_reports_a_malformed_answer_as_a_provider_error(capsys):
    handler = faulty_handler(lambda request: None, FaultSchedule(then="malformed_body"))
    client = openai.OpenAI(
        api_key="test",
        base_url="http://malformed.invalid/v1",
        max_retries=0,
        http_client=httpx2.Client(transport=httpx2.MockTransport(handler)),
    )
    provider = OpenAIProvider(
        client, model="gpt-4o-mini", retry=RetryPolicy(max_attempts=2), sleep=lambda s: None
    )
    code = cot.main(["What is 15% of 240?"], provider=provider)
    _out, err = capsys.readouterr()
    assert code == cot.EXIT_NO_ANSWER
    assert "provider error" in err and "not a valid response" in err and "2 attempts" in err


def test_doctor_fails_when_the_provider_cannot_be_built(monkeypatch):
    import course_lib.providers.registry as registry

    def broken(*a, **k):
        raise ConfigurationError("recordings file x.jsonl is corrupt")

    monkeypatch.setattr(registry, "get_provider", broken)
    row = next(r for r in diagnose() if r["check"] == "provider")
    assert not row["ok"] and "corrupt" in row["detail"]


def test_doctor_fails_on_a_corrupt_recordings_file_named_in_the_environment(monkeypatch, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n")
    monkeypatch.setenv("COURSE_RECORDINGS", str(bad))
    rows = {r["check"]: r for r in diagnose()}
    assert not rows["provider"]["ok"] and not rows["recordings"]["ok"]
