"""Measure the enforcement layers of lesson 07 on SmolLM2-135M-Instruct, recording every sample.

For each of the 24 contact texts: a naive prompt, strict rules with an example answer, our rules
without one (prompt only), then the full stack (our rules + JSON mode + pydantic validation +
self-correction, up to 4 attempts) through ``generate_validated``, the same loop without JSON mode,
and the schema-constrained layer (our rules with ``Contact``'s JSON schema in ``response_format``,
enforced by the local server's grammar). Every layer is scored *valid* (parses and matches the
schema) and *correct* (the right values). Lesson 07 replays the recorded samples and recomputes
every figure printed here.

    COURSE_PROVIDER=record COURSE_RECORD_UPSTREAM=local COURSE_RECORD_TO=07_structured_output \
        python scripts/experiments/07_enforcement_layers.py [constrained]

With ``constrained`` only the schema-constrained layer is asked (and recorded); the table is then
computed from the recordings of the other layers.
"""

from __future__ import annotations

import sys
from typing import Any

from course_lib.lessons.l07_structured_output.constrained import constrained_outputs, layer_counts
from course_lib.lessons.l07_structured_output.layers import Contact, run_contact_experiment
from course_lib.providers.registry import get_provider

MODEL = "SmolLM2-135M-Instruct"
MAX_ATTEMPTS = 4


def report(provider: Any, replayed: Any = None) -> None:
    """Run the experiment through ``provider`` and print its figures (the older layers from ``replayed`` if given)."""
    from course_lib.lessons.l07_structured_output.widgets import (
        attempt_budget,
        repeated_retries,
        success_by_attempt,
        tally_outputs,
    )

    experiment = run_contact_experiment(replayed or provider, max_attempts=MAX_ATTEMPTS)
    constrained = constrained_outputs(provider, experiment.texts)
    for style, raws in experiment.outputs.items():
        print(tally_outputs(style, raws, Contact, experiment.texts))
    print(tally_outputs("json_mode", [run[0].raw for run in experiment.loops], Contact, experiment.texts))
    print(tally_outputs("constrained", constrained, Contact, experiment.texts))
    for label, runs in (
        ("full stack", experiment.loops),
        ("without JSON mode", experiment.prompt_only_loops),
    ):
        shares = [round(x, 3) for x in success_by_attempt(runs, MAX_ATTEMPTS)]
        print(f"{label}: first valid at attempt k: {shares}")
        for k in range(1, MAX_ATTEMPTS + 1):
            print("   ", attempt_budget(runs, k))
        print("    retries repeating the previous reply verbatim (repeats, retries):", repeated_retries(runs))
    print("valid vs correct:")
    for row in layer_counts(experiment, constrained):
        print("   ", row)


if __name__ == "__main__":
    live = get_provider(model=MODEL)
    if sys.argv[1:] == ["constrained"]:
        report(live, get_provider("replay", model=MODEL, recordings="07_structured_output"))
    else:
        report(live)
