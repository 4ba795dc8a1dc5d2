"""Lesson 04's evidence box: each claim about chain of thought and what backs it (lesson 04).

The measured figures are recomputed from the SmolLM2-135M recordings by the same functions the
lesson calls (:mod:`course_lib.lessons.l04_chain_of_thought.experiment`); the test suite checks that
they still match the text below.
"""

from __future__ import annotations

from course_lib.lessons._evidence import Claim
from course_lib.lessons.l04_chain_of_thought.experiment import small_model_samples, summarise

__all__ = ["CLAIMS", "answer_lines", "outcomes", "token_cost"]

RECORDINGS = "04_chain_of_thought"


def answer_lines() -> str:
    """How many of the small model's CoT replies kept the ``Answer:`` line (lesson 04)."""
    cot = summarise(small_model_samples())["cot"]
    return f"{cot.with_answer_line} of {cot.total} CoT replies have an Answer: line; {cot.with_steps} have numbered steps"


def outcomes() -> str:
    """Right, wrong and unreadable replies, direct and step by step (lesson 04)."""
    s = summarise(small_model_samples())
    return "; ".join(
        f"{m.mode}: {m.right} right, {m.wrong} wrong, {m.missing} no answer (of {m.total})"
        for m in s.values()
    )


def token_cost() -> str:
    """Mean completion tokens, direct and step by step, and their ratio (lesson 04)."""
    s = summarise(small_model_samples())
    d, c = s["direct"].mean_completion_tokens, s["cot"].mean_completion_tokens
    return f"{d:.1f} tokens direct (cap 24), {c:.1f} with steps (cap 256): {c / d:.1f}x"


CLAIMS = [
    Claim(
        "A 135M model does not follow a chain-of-thought format",
        "measured",
        "0 of 32 CoT replies have an Answer: line; 3 have numbered steps",
        where="What a small real model does",
        recordings=RECORDINGS,
        figure=answer_lines,
    ),
    Claim(
        "On a 135M model, asking for steps gives no usable gain: most replies never commit to an answer",
        "measured",
        "direct: 4 right, 6 wrong, 22 no answer (of 32); cot: 8 right, 2 wrong, 22 no answer (of 32)",
        where="What a small real model does",
        recordings=RECORDINGS,
        figure=outcomes,
    ),
    Claim(
        "Steps cost output tokens",
        "measured",
        "21.1 tokens direct (cap 24), 116.1 with steps (cap 256): 5.5x",
        where="Trading compute for accuracy",
        recordings=RECORDINGS,
        figure=token_cost,
    ),
    Claim(
        "Chain-of-thought prompting helps large models, not small ones",
        "cited",
        "Wei et al., 2022, Chain-of-Thought Prompting Elicits Reasoning in Large Language Models (NeurIPS): "
        "gains only from about 100B parameters; PaLM 540B with eight CoT examples more than doubled its "
        "GSM8K solve rate and set a new state of the art; smaller models wrote fluent but illogical chains",
        where="What the literature reports about scale",
    ),
    Claim(
        "A zero-shot 'Let's think step by step' helps a large model",
        "cited",
        "Kojima et al., 2022, Large Language Models are Zero-Shot Reasoners (NeurIPS): InstructGPT "
        "text-davinci-002, MultiArith 17.7 % → 78.7 %, GSM8K 10.4 % → 40.7 %",
        where="What the literature reports about scale",
    ),
    Claim(
        "A large model answers 9.11 vs 9.8 wrongly at once and rightly in steps",
        "illustrated",
        "two replies scripted by the course (source scripted), not a measurement",
        where="A large model's typical replies",
    ),
    Claim(
        "Code that recomputes the model's day count catches a wrong refund",
        "illustrated",
        "four refund replies scripted by the course; the day counts and verdicts checked against them are computed",
        where="The refund decision with an audit trail",
    ),
    Claim(
        "Streaming shows the first step long before the answer is complete",
        "illustrated",
        "a scripted reply under simulated latency; the timeline is computed from the latency model",
        where="Streaming the steps",
    ),
    Claim(
        "Speculative CoT puts an answer on screen after the fast call, not the slow one",
        "illustrated",
        "scripted direct and step-by-step replies under simulated latency; the timeline is computed",
        where="Speculative chain of thought",
    ),
    Claim(
        "Reasoning models bill hidden reasoning tokens as completion tokens",
        "illustrated",
        "a usage block written by the course in the API's shape (completion_tokens_details.reasoning_tokens)",
        where="Models that reason before answering",
    ),
]
