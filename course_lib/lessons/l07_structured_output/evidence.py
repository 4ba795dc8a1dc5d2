"""Lesson 07's evidence box: each claim about structured output and what backs it (lesson 07).

The measured figures are recomputed from the SmolLM2-135M recordings by the functions the lesson calls
(:mod:`course_lib.lessons.l07_structured_output.constrained` and ``widgets``); the test suite checks that
they still match the text below.
"""

from __future__ import annotations

from course_lib.lessons._evidence import Claim
from course_lib.lessons.l07_structured_output.constrained import (
    CONTACT_TRUTH,
    LOCAL_MODEL,
    RECORDINGS,
    ConstrainedContact,
    measure_layers,
)
from course_lib.lessons.l07_structured_output.layers import (
    CONTACT_PARAMS,
    CONTACT_TEXTS,
    contact_messages,
    run_contact_experiment,
)
from course_lib.lessons.l07_structured_output.widgets import cumulative_success, repeated_retries

__all__ = [
    "CLAIMS",
    "constrained_layer",
    "example_leak",
    "json_mode_layer",
    "parsed_objects",
    "prompt_layers",
    "self_correction",
]


def _row(label: str) -> str:
    row = next(r for r in measure_layers() if r.layer == label)
    return f"{label}: valid {row.valid}/{row.total}, correct {row.correct}/{row.total}"


def constrained_layer() -> str:
    """Valid and correct counts of the schema-constrained layer (lesson 07)."""
    return _row("schema-constrained")


def json_mode_layer() -> str:
    """Valid and correct counts of JSON mode, and of the full stack after self-correction (lesson 07)."""
    return f"{_row('+ JSON mode')}; {_row('+ validation + correction')}"


def prompt_layers() -> str:
    """Valid and correct counts of the three prompts (lesson 07)."""
    return "; ".join(_row(label) for label in ("prompt: naive", "prompt: rules + example", "prompt: rules"))


def example_leak() -> str:
    """How many replies to the prompt with an example answer contain the example's values (lesson 07)."""
    from course_lib.providers.registry import get_provider

    provider = get_provider("replay", model=LOCAL_MODEL, recordings=RECORDINGS)
    outputs = run_contact_experiment(provider).outputs["rules_with_example"]
    copied = sum(any(v in raw for v in ("Jane Doe", "Portland", "jane@example.com")) for raw in outputs)
    return f"{copied} of {len(outputs)} replies echo the example's values"


def self_correction() -> str:
    """Texts valid only after a retry, and retries that repeated the previous reply (lesson 07)."""
    from course_lib.providers.registry import get_provider

    provider = get_provider("replay", model=LOCAL_MODEL, recordings=RECORDINGS)
    loops = run_contact_experiment(provider).loops
    gained = round((cumulative_success(loops, 4)[-1] - cumulative_success(loops, 1)[-1]) * len(loops))
    repeats, retries = repeated_retries(loops)
    return (
        f"{gained} of {len(loops)} texts became valid after a retry; "
        f"{repeats} of {retries} retries repeated the previous reply verbatim"
    )


def parsed_objects() -> str:
    """What ``parse()`` returned for the first three texts: typed objects, and how many are right (lesson 07)."""
    from course_lib.providers.registry import get_provider

    client = get_provider("replay", model=LOCAL_MODEL, recordings=RECORDINGS).client
    typed = right = 0
    for text, truth in zip(CONTACT_TEXTS[:3], CONTACT_TRUTH, strict=False):
        completion = client.chat.completions.parse(
            model=LOCAL_MODEL,
            messages=contact_messages(text, "rules"),
            response_format=ConstrainedContact,
            **CONTACT_PARAMS,
        )
        parsed = completion.choices[0].message.parsed
        typed += isinstance(parsed, ConstrainedContact)
        right += parsed is not None and all(
            str(v).casefold() == str(truth[k]).casefold() for k, v in parsed.model_dump().items()
        )
    return f"{typed} of 3 replies parsed into ConstrainedContact; {right} of 3 with the right values"


CLAIMS = [
    Claim(
        "Schema-constrained decoding makes every reply valid, not correct",
        "measured",
        "schema-constrained: valid 24/24, correct 11/24",
        where="Layer 3: schema-constrained decoding",
        recordings=RECORDINGS,
        figure=constrained_layer,
    ),
    Claim(
        "JSON mode fixes the syntax, not the schema or the values; self-correction added nothing on this model",
        "measured",
        "+ JSON mode: valid 9/24, correct 5/24; + validation + correction: valid 9/24, correct 5/24",
        where="Layer 2: JSON mode; Valid is not correct",
        recordings=RECORDINGS,
        figure=json_mode_layer,
    ),
    Claim(
        "Prompt rules with an example fix much of the shape, little of the content",
        "measured",
        "prompt: naive: valid 0/24, correct 0/24; prompt: rules + example: valid 18/24, correct 2/24; "
        "prompt: rules: valid 7/24, correct 3/24",
        where="Layer 1: prompt rules",
        recordings=RECORDINGS,
        figure=prompt_layers,
    ),
    Claim(
        "An example answer in the prompt leaks into the extracted values",
        "measured",
        "11 of 24 replies echo the example's values",
        where="Layer 1: prompt rules",
        recordings=RECORDINGS,
        figure=example_leak,
    ),
    Claim(
        "Error feedback does not repair a 135M model's replies: it repeats itself",
        "measured",
        "0 of 24 texts became valid after a retry; 54 of 54 retries repeated the previous reply verbatim",
        where="Layer 5: self-correction",
        recordings=RECORDINGS,
        figure=self_correction,
    ),
    Claim(
        "The SDK's parse() returns typed pydantic objects on replay; typed is not right",
        "measured",
        "3 of 3 replies parsed into ConstrainedContact; 1 of 3 with the right values",
        where="Typed replies with parse()",
        recordings=RECORDINGS,
        figure=parsed_objects,
    ),
    Claim(
        "Large models follow complex JSON schemas reliably with constrained decoding",
        "cited",
        "OpenAI, 2024, Introducing Structured Outputs in the API: gpt-4o-2024-08-06 with structured outputs "
        "scored 100 % on OpenAI's complex JSON-schema following evaluation, gpt-4-0613 under 40 % (vendor-reported)",
        where="Valid is not correct",
    ),
    Claim(
        "Error feedback helps large models repair their output, by a modest margin",
        "cited",
        "Chen et al., 2023, Teaching Large Language Models to Self-Debug: with unit-test feedback, up to "
        "12 % higher accuracy on TransCoder and MBPP; Olausson et al., 2024, Is Self-Repair a Silver "
        "Bullet for Code Generation? (ICLR): on Code Llama, GPT-3.5 and GPT-4, gains often modest once "
        "the cost of repair is counted",
        where="Layer 5: self-correction",
    ),
    Claim(
        "A validated pipeline with a dead-letter queue loses no email, through a provider outage and a human fix",
        "illustrated",
        "scripted large-model answers for 8 emails; the queue, its SQLite file, the outage and the replay are real code",
        where="Checkpoint: an email ETL that loses nothing",
    ),
]
