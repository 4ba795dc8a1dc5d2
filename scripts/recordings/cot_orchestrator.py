"""Scripted recordings for the chain-of-thought orchestrator (lesson 10 and ``cot-orchestrator``).

The replies are written by the course (labelled ``scripted``), not by a model. To make the recorded
requests exactly what the loop sends, the orchestrator itself is run against a scripted provider
and every request it makes is stored with the reply it got. Re-run after changing the loop's
prompts or messages:

    .venv/bin/python scripts/recordings/cot_orchestrator.py [OUTPUT.jsonl]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from course_lib.orchestrator import Orchestrator
from course_lib.providers.kinds import load_kinds
from course_lib.providers.replay.recordings import RecordingStore, resolve_recordings
from course_lib.providers.scripted import ScriptedProvider

MODEL = load_kinds()["replay"].default_model
NOTE = (
    "Scripted by the course to show the orchestrator's loop (steps, calculator results, one "
    "self-correction); not a model's output."
)


def step(n: int, kind: str, thought: str, **extra: str) -> str:
    return json.dumps({"step": n, "step_type": kind, "thought": thought, **extra})


COMPOUND = "If I invest $1000 at 5% annual interest compounded monthly for 2 years, how much will I have?"

#: problem -> (the scripted replies in order, the answer the run must end with)
SCRIPTS: dict[str, tuple[list[str], str]] = {
    COMPOUND: (
        [
            step(
                1,
                "analyze",
                "This is compound interest with monthly compounding: A = P * (1 + r/n) ** (n*t) "
                "with P = 1000, r = 0.05, n = 12 and t = 2.",
            ),
            # The claimed result is a figure rounded by hand (1.004167 ** 24 taken as 1.1049),
            # a common slip; the calculator's value replaces it.
            step(
                2,
                "calculate",
                "Put the numbers into the formula and let the calculator evaluate it.",
                expression="1000 * (1 + 0.05 / 12) ** (12 * 2)",
                result="1104.90",
            ),
            # An invalid step type, to show the self-correction round trip.
            "Sure! Let me check it: "
            + step(
                3, "check", "Compounding should beat simple interest.", expression="1000 * (1 + 0.05 * 2)"
            ),
            step(
                3,
                "verify",
                "Compounding must give more than simple interest over the same two years.",
                expression="1000 * (1 + 0.05 * 2)",
            ),
            step(
                4,
                "final_answer",
                "The calculator's amount, rounded to cents, is above the 1100 of simple interest.",
                answer="$1,104.94",
            ),
        ],
        "$1,104.94",
    ),
    "What is 15% of 240?": (
        [
            step(1, "calculate", "15% of 240 is 240 times 0.15.", expression="240 * 0.15"),
            step(2, "final_answer", "The calculator gave the value.", answer="36"),
        ],
        "36",
    ),
    "If I buy 3 shirts at $25 each and get 20% discount, what do I pay?": (
        [
            step(
                1, "analyze", "The total before the discount is 3 times $25; the discount takes 20% off it."
            ),
            step(2, "calculate", "Total before the discount.", expression="3 * 25"),
            step(3, "calculate", "With 20% off I pay 80% of the total.", expression="75 * (1 - 0.20)"),
            step(4, "final_answer", "The calculator gave the discounted total.", answer="$60.00"),
        ],
        "$60.00",
    ),
    "If a train travels 60 mph for 2.5 hours, then 80 mph for 1.5 hours, what's the average speed?": (
        [
            step(
                1,
                "analyze",
                "Average speed is total distance over total time, not the average of the two speeds.",
            ),
            step(
                2,
                "calculate",
                "Total distance divided by total time.",
                expression="(60 * 2.5 + 80 * 1.5) / (2.5 + 1.5)",
            ),
            step(3, "final_answer", "The calculator gave the average speed.", answer="67.5 mph"),
        ],
        "67.5 mph",
    ),
}


def build(path: str | Path) -> Path:
    """Run the orchestrator on every script and write the requests it made, with their replies, to ``path``."""
    path = Path(path)
    if path.exists():
        path.unlink()  # regenerate from scratch: stale requests must not linger
    store = RecordingStore(path)
    for problem, (replies, expected) in SCRIPTS.items():
        provider = ScriptedProvider(replies)
        result = Orchestrator(provider).run(problem)
        if result.answer != expected or provider.remaining:
            raise SystemExit(
                f"script for {problem!r} did not run as written: {result.status}, {result.error}"
            )
        for call, reply in zip(provider.calls, replies, strict=True):
            store.add_scripted(
                messages=call.messages, params=call.params, model=MODEL, responses=[reply], note=NOTE
            )
    return store.save()


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else "cot_orchestrator"
    written = build(resolve_recordings(target))
    print(f"wrote {written}")
