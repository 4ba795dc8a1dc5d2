"""Lesson 06's evidence box: each claim about the agent loop and what backs it (lesson 06).

The measured figures are recomputed from the SmolLM2-135M recordings by the same functions the lesson
calls (:mod:`course_lib.lessons.l06_agent_loop.small_model` and
:mod:`course_lib.lessons.l06_agent_loop.native`); the test suite checks that they still match the text.
"""

from __future__ import annotations

from course_lib.calculator import format_number
from course_lib.lessons._evidence import Claim
from course_lib.lessons.l06_agent_loop.native import TRAIN_ANSWER, summarize, tool_calling_run
from course_lib.lessons.l06_agent_loop.small_model import correction_counts, json_protocol_runs

__all__ = [
    "CLAIMS",
    "json_protocol_corrections",
    "json_protocol_endings",
    "tool_call_answer",
    "tool_call_round_trip",
]

RECORDINGS = "06_agent_loop"


def json_protocol_endings() -> str:
    """How the small model's four JSON-protocol runs ended (lesson 06)."""
    c = correction_counts(json_protocol_runs())
    ends = ", ".join(f"{n} {status}" for status, n in sorted(c.statuses.items()))
    return f"{c.runs} runs: {ends}; {c.statuses.get('answered', 0)} answered"


def json_protocol_corrections() -> str:
    """How many of the small model's corrections produced a step the loop accepted (lesson 06)."""
    c = correction_counts(json_protocol_runs())
    return f"{c.accepted} of {c.asked} corrections accepted"


def tool_call_round_trip() -> str:
    """What the native tool-calling run did: tool calls made, refused, and how it ended (lesson 06)."""
    s = summarize(tool_calling_run())
    return (
        f"{s.tool_calls} tool call, {s.invalid_tool_calls} refused by validation; "
        f"{s.status} after {s.iterations} iterations ({s.calls} model calls)"
    )


def tool_call_answer() -> str:
    """The tool-calling run's answer beside the right one (lesson 06)."""
    s = summarize(tool_calling_run())
    verdict = "right" if s.right else "wrong"
    return f"{s.answer!r}: {verdict} (the right answer is {format_number(TRAIN_ANSWER)} mph)"


CLAIMS = [
    Claim(
        "A loop bounds its worst case whatever the model does: the small model's runs all stop, none answers",
        "measured",
        "4 runs: 3 invalid_output, 1 max_iterations; 0 answered",
        where="A real small model in the loop",
        recordings=RECORDINGS,
        figure=json_protocol_endings,
    ),
    Claim(
        "Showing the validation error back does not repair a 135M model's steps",
        "measured",
        "0 of 6 corrections accepted",
        where="A real small model in the loop",
        recordings=RECORDINGS,
        figure=json_protocol_corrections,
    ),
    Claim(
        "The native tools / tool_calls round trip runs on the 135M model when tool_choice names the tool",
        "measured",
        "1 tool call, 0 refused by validation; answered after 2 iterations (2 model calls)",
        where="Native tool calls",
        recordings=RECORDINGS,
        figure=tool_call_round_trip,
    ),
    Claim(
        "A valid tool call is not a correct one: the arguments match the schema, the expression is wrong",
        "measured",
        "'The answer is 871.462374127319': wrong (the right answer is 67.5 mph)",
        where="Native tool calls",
        recordings=RECORDINGS,
        figure=tool_call_answer,
    ),
    Claim(
        "Using tools well is a capability of larger models",
        "cited",
        "Schick et al., 2023, Toolformer: Language Models Can Teach Themselves to Use Tools (NeurIPS): "
        "on GPT-2 models of 124M to 1.6B parameters and GPT-J 6.7B, the ability to leverage the tools "
        "(calculator, QA, Wikipedia search) only emerges at around 775M parameters",
        where="Native tool calls",
    ),
    Claim(
        "Error feedback helps large models repair their output, by a modest margin",
        "cited",
        "Chen et al., 2023, Teaching Large Language Models to Self-Debug: with unit-test feedback, up to "
        "12 % higher accuracy on TransCoder and MBPP; Olausson et al., 2024, Is Self-Repair a Silver "
        "Bullet for Code Generation? (ICLR): on Code Llama, GPT-3.5 and GPT-4, gains are often modest once "
        "the cost of repair is counted, and larger with better feedback",
        where="A real small model in the loop",
    ),
    Claim(
        "Self-correction lets the loop accept a step after a refused one",
        "illustrated",
        "a scripted eight-step math agent with one refused expression at step 3",
        where="The math agent, step by step",
    ),
    Claim(
        "max_iterations stops an agent that never commits to an answer",
        "illustrated",
        "a scripted agent that keeps verifying; the loop and its stop rule are real code",
        where="Termination",
    ),
    Claim(
        "A full-history loop bills its history once per step; hierarchical memory and map-reduce bound the prompt",
        "illustrated",
        "a synthetic 50-file pull request generated by the course and scripted reviews; every token count is "
        "computed with tiktoken",
        where="Reviewing a 50-file pull request",
    ),
]
