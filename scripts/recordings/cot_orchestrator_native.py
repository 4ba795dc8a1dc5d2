"""Scripted recordings for ``cot-orchestrator --tools`` and ``--constrained`` (lesson 10).

The replies are written by the course (labelled ``scripted``), not by a model: what a capable model
typically does on each protocol. The orchestrator runs against a scripted provider and every request
it makes is stored with the reply it got, so the command replays them exactly. Re-run after changing
the loop's prompts, tools or step schema:

    .venv/bin/python scripts/recordings/cot_orchestrator_native.py [OUTPUT.jsonl]

The real small model's runs on both protocols are in ``10_cot_orchestrator.jsonl``
(``scripts/recordings/10_cot_orchestrator_native_local.py``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from course_lib.orchestrator import Orchestrator
from course_lib.providers.base import ChatResult, Choice
from course_lib.providers.kinds import load_kinds
from course_lib.providers.replay.recordings import RecordingStore, resolve_recordings
from course_lib.providers.scripted import ScriptedProvider

MODEL = load_kinds()["replay"].default_model
NOTE = "Scripted by the course to show the orchestrator's {protocol} protocol; not a model's output."
PERCENT = "What is 15% of 240?"
COMPOUND = "If I invest $1000 at 5% annual interest compounded monthly for 2 years, how much will I have?"


def step(n: int, kind: str, thought: str, **extra: str) -> str:
    return json.dumps({"step": n, "step_type": kind, "thought": thought, **extra})


def tool_call(call_id: str, expression: str) -> ChatResult:
    call = {
        "id": call_id,
        "type": "function",
        "function": {"name": "calculator", "arguments": json.dumps({"expression": expression})},
    }
    return ChatResult(
        choices=[Choice(text="", finish_reason="tool_calls", tool_calls=[call])], source="scripted"
    )


#: protocol -> problem -> (replies in order, the answer the run must end with)
SCRIPTS: dict[str, dict[str, tuple[list, str]]] = {
    "schema": {
        PERCENT: (
            [
                step(1, "calculate", "15% of 240 is 240 times 0.15.", expression="240 * 0.15"),
                step(2, "final_answer", "The calculator gave the value.", answer="36"),
            ],
            "36",
        ),
        COMPOUND: (
            [
                step(
                    1,
                    "calculate",
                    "A = P * (1 + r/n) ** (n*t).",
                    expression="1000 * (1 + 0.05 / 12) ** (12 * 2)",
                ),
                step(2, "final_answer", "Rounded to cents.", answer="$1,104.94"),
            ],
            "$1,104.94",
        ),
    },
    "tools": {
        PERCENT: ([tool_call("call_pct_1", "240 * 0.15"), "15% of 240 is 36."], "15% of 240 is 36."),
        COMPOUND: (
            [
                # A first call the calculator cannot read, answered with the error, then corrected.
                tool_call("call_ci_1", "1000 * (1 + 5% / 12) ** 24"),
                tool_call("call_ci_2", "1000 * (1 + 0.05 / 12) ** 24"),
                "After 2 years you will have $1,104.94.",
            ],
            "After 2 years you will have $1,104.94.",
        ),
    },
}


def build(path: str | Path) -> Path:
    """Run the orchestrator on every script and write the requests it made, with their replies, to ``path``."""
    path = Path(path)
    if path.exists():
        path.unlink()  # regenerate from scratch: stale requests must not linger
    store = RecordingStore(path)
    for protocol, scripts in SCRIPTS.items():
        for problem, (replies, expected) in scripts.items():
            provider = ScriptedProvider(replies)
            result = Orchestrator(provider, protocol=protocol).run(problem)  # type: ignore[arg-type]
            if result.answer != expected or provider.remaining:
                raise SystemExit(f"{protocol} script for {problem!r} did not run as written: {result.status}")
            for call, reply in zip(provider.calls, replies, strict=True):
                response = (
                    reply
                    if isinstance(reply, str)
                    else {
                        "content": None,
                        "tool_calls": reply.choices[0].tool_calls,
                        "finish_reason": "tool_calls",
                    }
                )
                store.add_scripted(
                    messages=call.messages,
                    params=call.params,
                    model=MODEL,
                    responses=[response],
                    note=NOTE.format(protocol=protocol),
                )
    return store.save()


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else "cot_orchestrator_native"
    print(f"wrote {build(resolve_recordings(target))}")
