"""Scripted recordings of lesson 06, the agent loop (labelled ``scripted``: written by the course, not a model).

Three scripts, each run through the library code the lesson calls, against a scripted provider, so the
recorded requests are exactly the ones the lesson sends:

* the math agent solving the train problem in eight steps, with one invalid step it must correct;
* an agent that keeps checking and never answers, stopped by ``max_iterations``;
* the map-reduce review of the synthetic 50-file pull request: one JSON review per file (one of them
  corrected once), then the overall review written from the findings.

Re-running replaces the scripted entries and keeps the ``recorded`` ones (SmolLM2 samples made by
``06_agent_loop_local.py``):

    .venv/bin/python scripts/recordings/06_agent_loop.py
"""

from __future__ import annotations

import json
from typing import Any

from course_lib.lessons.l06_agent_loop.pr_review import review_pr
from course_lib.lessons.l06_agent_loop.pr_synthetic import ISSUE_KINDS, PRFile, synthetic_pr
from course_lib.orchestrator import Orchestrator
from course_lib.providers.replay.recordings import RecordingStore
from course_lib.providers.scripted import ScriptedProvider

NAME = "06_agent_loop"
MODEL = "gpt-4o-mini"
TRAIN = "If a train travels 60 mph for 2.5 hours, then 80 mph for 1.5 hours, what's the average speed?"
PENS = "A shop sells pens at 3 for $2. How much do 12 pens cost?"
FINAL_BUDGET = 700


def step(n: int, kind: str, thought: str, **extra: str) -> str:
    return json.dumps({"step": n, "step_type": kind, "thought": thought, **extra})


TRAIN_STEPS = [
    step(1, "analyze", "Average speed is total distance over total time, not the mean of the two speeds."),
    step(2, "calculate", "Distance of the first leg: 60 mph for 2.5 hours.", expression="60 * 2.5"),
    # Units inside the expression: the calculator refuses it and the loop asks for a correction.
    step(3, "calculate", "Distance of the second leg.", expression="80 mph * 1.5 h"),
    step(3, "calculate", "Distance of the second leg: 80 mph for 1.5 hours.", expression="80 * 1.5"),
    step(4, "calculate", "Total distance: both legs together.", expression="150 + 120"),
    step(5, "calculate", "Total time: both legs together.", expression="2.5 + 1.5"),
    step(6, "calculate", "Average speed: total distance over total time.", expression="270 / 4"),
    step(
        7,
        "verify",
        "The mean of the two speeds would be 70; the answer must be lower, because more time was spent at 60 mph.",
        expression="(60 + 80) / 2",
    ),
    step(
        8,
        "final_answer",
        "The calculator's result, checked against the mean of the speeds.",
        answer="67.5 mph",
    ),
]

PENS_STEPS = [
    step(1, "calculate", "12 pens are groups of 3.", expression="12 / 3"),
    step(2, "calculate", "Each group costs $2.", expression="4 * 2"),
    step(3, "verify", "Check: 4 groups of 3 pens make 12 pens.", expression="4 * 3"),
    step(4, "verify", "Check the price per pen times 12.", expression="2 / 3 * 12"),
    step(5, "verify", "Check once more: 8 dollars for 4 groups.", expression="8 / 4"),
]

SINGLE_SHOT = "The average speed is 70 mph."

# ----------------------------------------------------------------------------------- PR review

WHAT = {
    "api": "Adds HTTP handlers",
    "domain": "Adds domain rules",
    "storage": "Adds the storage layer",
    "jobs": "Adds the nightly closing job",
    "migration": "Creates the table",
    "test": "Adds tests",
    "web": "Adds the billing table and API client",
    "config": "Adds billing settings",
    "doc": "Documents the lifecycle and events",
}

ADVICE = {
    "sql_injection": "search() puts team_id and the search text into the SQL with an f-string; pass them as query parameters.",
    "missing_auth_check": "the export endpoint never calls require_team_member, so any signed-in user can export another team's data.",
    "debug_enabled": "debug and log_sql are on in the production config, so SQL with customer data would reach the logs.",
    "float_money": "the discount is computed in float euros and truncated back to cents; use Decimal or integer cents.",
    "missing_none_check": "plans.current() returns None for a team without a plan, so reading seat_price_cents raises.",
    "unbounded_retry": "the push retries forever with no backoff or limit; a ledger outage would spin the job.",
    "n_plus_one": "with_lines() runs one query per item; load all lines in one query.",
    "off_by_one_pagination": "the page slice is size + 1 rows long, so the last row repeats on the next page.",
    "missing_index": "parent_id is a foreign key without an index; joins and deletes on the parent will scan.",
    "broad_except": "except Exception: pass hides every failure; log it and let the job retry.",
    "naive_datetime": "datetime.now() is naive local time and ignores when the period started; use an aware UTC time.",
    "skipped_test": "the double-payment test is skipped as flaky, so that rule is no longer tested.",
}


def subject(file: PRFile) -> str:
    stem = file.path.rsplit("/", 1)[-1].split(".")[0]
    for prefix, suffix in (("test_", ""), ("close_", ""), ("", "_store"), ("", "Table")):
        stem = stem.removeprefix(prefix).removesuffix(suffix) if prefix or suffix else stem
    return stem.lstrip("0123456789_").replace("create_", "").replace("_", " ").lower()


def scripted_review(file: PRFile) -> dict[str, Any]:
    """What a careful reviewer writes about one file: found from the planted issues."""
    issues = [
        {"kind": i.kind, "line": i.line, "severity": i.severity, "description": ADVICE[i.kind]}
        for i in sorted(file.issues, key=lambda i: -i.severity)
    ]
    what = f"{WHAT[file.kind]} for {subject(file)}"
    summary = f"{what}; " + (ISSUE_KINDS[file.issues[0].kind].title if issues else "no problems found") + "."
    if len(issues) > 1:
        worst = max(file.issues, key=lambda i: i.severity)
        summary = f"{what}; {worst.title}, and {len(issues) - 1} more problem."
    return {"path": file.path, "summary": summary, "severity": file.severity, "issues": issues}


def review_responder(files: list[PRFile], corrected: str) -> Any:
    """Replies to the per-file and final calls; the file ``corrected`` first gets a low severity."""
    by_path = {f.path: f for f in files}

    def reply(messages: list[dict[str, Any]], params: dict[str, Any]) -> str:
        first_user = messages[1]["content"]
        if first_user.startswith("Pull request:"):
            return final_review(first_user)
        path = first_user.split(": ", 1)[1].split("\n", 1)[0]
        review = scripted_review(by_path[path])
        if path == corrected and len(messages) == 2:
            return "Here is the review:\n" + json.dumps({**review, "severity": 2})
        return json.dumps(review)

    return reply


def final_review(prompt: str) -> str:
    """The overall review: the first finding of each of the three most severe kinds, then the good parts."""
    picked: dict[str, tuple[str, str]] = {}
    for line in prompt.splitlines():
        if line.startswith("- ") and "(severity" in line and "[" in line:
            path = line[2:].split(" (severity")[0]
            kind, _, where = line.rsplit("[", 1)[1].split(",")[0].rstrip("]").partition(" at ")
            picked.setdefault(kind, (path, where))
    fixes = [
        f"{n}. {path} ({where}): {ADVICE[kind]}"
        for n, (kind, (path, where)) in enumerate(list(picked.items())[:3], 1)
    ]
    return (
        "REQUEST CHANGES\n"
        + "\n".join(fixes)
        + "\nThe SQL injection recurs in several storage files: fix it once in a shared query helper.\n"
        "Good: integer cents and Decimal rounding in most of the domain code, soft deletes with an audit "
        "trail, and tests that check every query is scoped to one team."
    )


def main() -> None:
    store = RecordingStore(NAME)
    for key in [k for k, e in store.entries.items() if e.provenance.source == "scripted"]:
        del store.entries[key]

    def keep(provider: ScriptedProvider, replies: list[str], note: str) -> None:
        for call, reply in zip(provider.calls, replies, strict=True):
            store.add_scripted(
                messages=call.messages, params=call.params, model=MODEL, responses=[reply], note=note
            )

    provider = ScriptedProvider(TRAIN_STEPS)
    result = Orchestrator(provider, max_iterations=10).run(TRAIN)
    assert result.status == "answered" and result.answer == "67.5 mph" and not provider.remaining, result
    keep(
        provider, TRAIN_STEPS, "Scripted math agent: eight steps, one refused expression corrected."
    )

    provider = ScriptedProvider(PENS_STEPS)
    result = Orchestrator(provider, max_iterations=5).run(PENS)
    assert result.status == "max_iterations" and not provider.remaining, result
    keep(
        provider,
        PENS_STEPS,
        "Scripted agent that keeps verifying and never answers: stopped by max_iterations.",
    )

    store.add_scripted(
        messages=[{"role": "user", "content": TRAIN}],
        params={"temperature": 0.0},
        model=MODEL,
        responses=[SINGLE_SHOT],
        note="Scripted single-shot answer that averages the two speeds (a classic mistake).",
    )

    pr = synthetic_pr()
    files = list(pr.files)
    corrected = next(f.path for f in files if any(i.kind == "missing_none_check" for i in f.issues))
    provider = ScriptedProvider(review_responder(files, corrected))
    review = review_pr(provider, files, title=pr.title, final_budget=FINAL_BUDGET, model=MODEL)
    assert not review.failed and len(review.reviews) == len(files), review.failed
    for call in provider.calls:
        reply = review_responder(files, corrected)(call.messages, call.params)
        store.add_scripted(
            messages=call.messages,
            params=call.params,
            model=MODEL,
            responses=[reply],
            note="Scripted per-file review / overall review of the synthetic pull request (checkpoint of §6).",
        )
    print(f"wrote {len(store)} entries ({len(provider.calls)} PR review calls) to {store.save()}")


if __name__ == "__main__":
    main()
