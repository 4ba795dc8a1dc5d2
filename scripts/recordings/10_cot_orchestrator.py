"""Scripted recordings of lesson 10 (labelled ``scripted``: written by the course, not by a model).

They show what a capable model does with the orchestrator's prompts: a seven-step compound-interest
run (with one reply in a two-signal step format without a step number, which our schema rejects and
the loop corrects), short problems, an answer with a number no tool
computed, and a problem that needs more iterations than a tight cap allows. To make the recorded
requests exactly what the loop sends, the orchestrator itself runs against a scripted provider
(with and without the memory-summarisation hook) and every request is stored with its reply.

    .venv/bin/python scripts/recordings/10_cot_orchestrator.py

Recorded (SmolLM2) entries in the file are kept; stale scripted ones are replaced.
"""

from __future__ import annotations

import json

from course_lib.calculator import format_number, safe_eval
from course_lib.lessons.l10_cot_orchestrator.memory import StepSummaryCompactor
from course_lib.orchestrator import Orchestrator
from course_lib.providers.replay.recordings import RecordingStore
from course_lib.providers.scripted import ScriptedProvider

MODEL = "gpt-4o"  # not the replay default, so these never answer the cot-orchestrator command's requests
NOTE = "Scripted by the course to show the orchestrator's loop ({what}); not a model's output."


def step(n: int, kind: str, thought: str, **extra: str) -> str:
    return json.dumps({"step": n, "step_type": kind, "thought": thought, **extra})


COMPOUND = "If I invest $1000 at 5% annual interest compounded monthly for 2 years, how much will I have?"
FACTOR = format_number(safe_eval("1 + 0.05 / 12"))  # what the calculator hands back after step 2
POWER = format_number(safe_eval(f"{FACTOR} ** 24"))  # ... and after step 4

#: problem -> (what it shows, the scripted replies in order, the status the full run must end with)
SCRIPTS: dict[str, tuple[str, list[str], str]] = {
    COMPOUND: (
        "seven steps, the calculator replacing the model's rounded arithmetic, one "
        "reply in a two-signal format without a step number corrected",
        [
            step(
                1,
                "analyze",
                "Compound interest, compounded monthly: A = P * (1 + r/n) ** (n*t) with P = 1000, "
                "r = 0.05, n = 12 and t = 2.",
            ),
            step(
                2,
                "calculate",
                "First the growth factor per month, 1 + r/n.",
                expression="1 + 0.05 / 12",
                result="1.004167",
            ),
            step(3, "calculate", "The number of compounding periods, n*t.", expression="12 * 2", result="24"),
            step(
                4,
                "calculate",
                "Raise the monthly factor from step 2 to the 24th power.",
                expression=f"{FACTOR} ** 24",
                result="1.1049",
            ),
            step(
                5,
                "calculate",
                "Multiply the principal by the factor from step 4.",
                expression=f"1000 * {POWER}",
                result="1104.90",
            ),
            step(
                6,
                "verify",
                "Compounding must give a little more than simple interest, 1000 * (1 + 0.05 * 2).",
                expression="1000 * (1 + 0.05 * 2)",
                result="1100",
            ),
            # A two-signal step format: no step number, the answer in "result". Rejected, then fixed.
            json.dumps(
                {
                    "step_type": "final_answer",
                    "thought": "All calculations verified",
                    "action": "Return final amount",
                    "result": "$1,104.94",
                    "next_step_needed": False,
                }
            ),
            step(
                7,
                "final_answer",
                "The calculator's amount from step 5, rounded to cents; it is above the 1100 of simple interest.",
                answer="$1,104.94",
            ),
        ],
        "answered",
    ),
    "What is 15% of 240?": (
        "a two-step run",
        [
            step(1, "calculate", "15% of 240 is 240 times 0.15.", expression="240 * 0.15", result="36"),
            step(2, "final_answer", "The calculator gave the value.", answer="36"),
        ],
        "answered",
    ),
    "If I buy 3 shirts at $25 each and get 20% discount, what do I pay?": (
        "an answer with a number no tool computed (the saving)",
        [
            step(1, "calculate", "The total before the discount is 3 times $25.", expression="3 * 25"),
            step(2, "calculate", "With 20% off I pay 80% of the total.", expression="75 * (1 - 0.20)"),
            step(
                3,
                "final_answer",
                "The calculator gave the discounted total.",
                answer="$60.00, a saving of $15",
            ),
        ],
        "answered",
    ),
    "If a train travels 60 mph for 2.5 hours, then 80 mph for 1.5 hours, what's the average speed?": (
        "distance over time, each number from the calculator",
        [
            step(
                1,
                "analyze",
                "Average speed is total distance over total time, not the average of the two speeds.",
            ),
            step(2, "calculate", "Total distance in miles.", expression="60 * 2.5 + 80 * 1.5"),
            step(3, "calculate", "Total time in hours.", expression="2.5 + 1.5"),
            step(4, "calculate", "Distance from step 2 over time from step 3.", expression="270.0 / 4.0"),
            step(5, "final_answer", "The calculator gave the average speed.", answer="67.5 mph"),
        ],
        "answered",
    ),
    (
        "A bat and a ball cost $1.10 in total. The bat costs $1.00 more than the ball. "
        "How much does the ball cost?"
    ): (
        "a problem that needs seven iterations, so a cap of five ends it without an answer",
        [
            step(1, "analyze", "Work in cents: the two cost 110 cents and the bat costs 100 cents more."),
            step(2, "calculate", "The quick guess: the ball is the difference.", expression="110 - 100"),
            step(
                3,
                "verify",
                "If the ball is 10, the bat is 110 and the total is",
                expression="10 + (10 + 100)",
            ),
            step(4, "analyze", "120 is not 110, so the guess is wrong: ball + (ball + 100) = 110."),
            step(5, "calculate", "Solve 2 * ball + 100 = 110 for the ball.", expression="(110 - 100) / 2"),
            step(6, "verify", "Ball 5, bat 105: the total must be 110.", expression="5 + (5 + 100)"),
            step(7, "final_answer", "The ball costs 5 cents.", answer="$0.05 (5 cents)"),
        ],
        "answered",
    ),
}


def main() -> None:
    store = RecordingStore("10_cot_orchestrator")
    for key in [k for k, e in store.entries.items() if e.provenance.source == "scripted"]:
        del store.entries[key]  # regenerate the scripted entries: stale requests must not linger
    runs = [(problem, None) for problem in SCRIPTS] + [(COMPOUND, StepSummaryCompactor(keep_last=2))]
    for problem, compact in runs:
        what, replies, expected = SCRIPTS[problem]
        provider = ScriptedProvider(replies, model=MODEL)
        result = Orchestrator(provider, compact=compact).run(problem)
        if result.status != expected or provider.remaining:
            raise SystemExit(
                f"script for {problem!r} did not run as written: {result.status}, {result.error}"
            )
        note = NOTE.format(what=what + (", memory summarised" if compact else ""))
        for call, reply in zip(provider.calls, replies, strict=True):
            store.add_scripted(
                messages=call.messages, params=call.params, model=MODEL, responses=[reply], note=note
            )
        print(f"{result.status:9} {result.iterations} iterations, {result.calls} calls: {problem[:60]}")
    print(f"wrote {len(store)} entries to {store.save()}")


if __name__ == "__main__":
    main()
