"""Lesson 10's evidence box: each claim about the orchestrator and what backs it (lesson 10).

The measured figures are recomputed from the SmolLM2-135M recordings by the functions the lesson calls
(:mod:`course_lib.lessons.l10_cot_orchestrator.small_model` and ``native``); the test suite checks that
they still match the text below.
"""

from __future__ import annotations

from course_lib.lessons._evidence import Claim
from course_lib.lessons.l10_cot_orchestrator.native import RECORDINGS, NativeTally, measure, tally
from course_lib.lessons.l10_cot_orchestrator.small_model import json_runs

__all__ = ["CLAIMS", "json_protocol", "repeated_corrections", "schema_protocol", "tools_protocol"]


def _counts(t: NativeTally) -> str:
    return (
        f"finished {t.finished}/{t.problems}, right {t.right}/{t.problems}, "
        f"valid replies {t.valid_replies}/{t.valid_replies + t.invalid_replies}"
    )


def json_protocol() -> str:
    """Finished, right and valid counts of the JSON step protocol on the small model (lesson 10)."""
    return "JSON steps: " + _counts(tally("json", json_runs()))


def schema_protocol() -> str:
    """Finished, right and valid counts of schema-constrained steps on the small model (lesson 10)."""
    return "schema-constrained steps: " + _counts(measure("schema")[0])


def tools_protocol() -> str:
    """Finished, right and valid counts of native tool calls on the small model (lesson 10)."""
    return "native tool calls: " + _counts(measure("tools")[0])


def repeated_corrections() -> str:
    """How many of the JSON-protocol corrections were different from the reply before them (lesson 10)."""
    runs = json_runs()
    changed = sum(
        " ".join(b.raw.split()) != " ".join(a.raw.split())
        for r in runs
        for a, b in zip(r.invalid_outputs, r.invalid_outputs[1:], strict=False)
    )
    corrections = sum(max(len(r.invalid_outputs) - 1, 0) for r in runs)
    accepted = sum(1 for r in runs for s in r.steps if s.attempts > 1)
    return f"{accepted} of {corrections} corrections accepted; {changed} of {corrections} changed the reply at all"


CLAIMS = [
    Claim(
        "On a 135M model the JSON step protocol yields no valid step, and the loop still stops every run",
        "measured",
        "JSON steps: finished 0/4, right 0/4, valid replies 0/12",
        where="A real small model in the loop",
        recordings=RECORDINGS,
        figure=json_protocol,
    ),
    Claim(
        "Showing the error back does not repair a 135M model's steps",
        "measured",
        "0 of 8 corrections accepted; 2 of 8 changed the reply at all",
        where="A real small model in the loop",
        recordings=RECORDINGS,
        figure=repeated_corrections,
    ),
    Claim(
        "Schema-constrained steps make every reply valid, not the run correct",
        "measured",
        "schema-constrained steps: finished 0/4, right 0/4, valid replies 20/20",
        where="The same loop on constrained steps and native tool calls",
        recordings=RECORDINGS,
        figure=schema_protocol,
    ),
    Claim(
        "Native tool calls run the same loop; the small model finishes one problem, wrongly",
        "measured",
        "native tool calls: finished 1/4, right 0/4, valid replies 2/11",
        where="The same loop on constrained steps and native tool calls",
        recordings=RECORDINGS,
        figure=tools_protocol,
    ),
    Claim(
        "Handing the arithmetic to a program beats chain-of-thought arithmetic on large models",
        "cited",
        "Gao et al., 2023, PAL: Program-aided Language Models (ICML): Codex writing Python run by an "
        "interpreter beat PaLM-540B with chain-of-thought on GSM8K by 15 points of top-1 accuracy",
        where="Step 4 · The calculator tool",
    ),
    Claim(
        "Large models follow complex JSON schemas reliably with constrained decoding",
        "cited",
        "OpenAI, 2024, Introducing Structured Outputs in the API: gpt-4o-2024-08-06 with structured outputs "
        "scored 100 % on OpenAI's complex JSON-schema following evaluation, gpt-4-0613 under 40 % (vendor-reported)",
        where="The same loop on constrained steps and native tool calls",
    ),
    Claim(
        "eval as a calculator runs code; the AST whitelist refuses it before anything runs",
        "illustrated",
        "computed in the lesson: eval imports a module; safe_eval refuses the exploit string, names and huge powers",
        where="Step 4 · The calculator tool",
    ),
    Claim(
        "Counting only the last call's tokens under-reports a run several times over",
        "illustrated",
        "a scripted seven-step run; its tokens counted with tiktoken, summed over every call",
        where="Step 3 · The loop",
    ),
    Claim(
        "Self-correction, retries with backoff and two caps give every run an honest status",
        "illustrated",
        "scripted replies with injected 429, 500 and 400 faults; the loop, the retries and the caps are real code",
        where="Step 5 · Self-correction, retries and the two caps",
    ),
    Claim(
        "Summarising old steps (never the problem) cuts the prompt tokens and keeps the answer",
        "illustrated",
        "the scripted compound-interest run with and without the compaction hook; tokens counted with tiktoken",
        where="Step 6 · Memory summarisation",
    ),
]
