"""Format consistency of name extraction, zero-shot vs few-shot, on SmolLM2-135M-Instruct (lesson 03).

Three prompting conditions (plain zero-shot, zero-shot with a format rule, few-shot with three
examples) × five sentences × 8 samples at temperature 0.7 = 40 answers per condition, each sorted
into a shape by ``course_lib.lessons.l03_prompt_fundamentals.format_check.classify_format``.

Record the answers from the local model (the server must be running, see ``course serve-local``)::

    COURSE_PROVIDER=record COURSE_RECORD_UPSTREAM=local COURSE_RECORD_TO=03_prompt_fundamentals \\
        python scripts/experiments/03_format_consistency.py --write

Without those variables the same script replays the recorded answers and recomputes the rates;
``--write`` stores them in ``03_format_consistency.result.json`` beside this script.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from course_lib.lessons.l03_prompt_fundamentals.format_check import run_format_experiment, summarise
from course_lib.providers.registry import get_provider

MODEL = "SmolLM2-135M-Instruct"
SAMPLES = 8
TEMPERATURE = 0.7
MAX_TOKENS = 40
RESULT = Path(__file__).with_name("03_format_consistency.result.json")


def main(argv: list[str] | None = None) -> int:
    """Run (or replay) the experiment, print the rates, optionally write them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"store the summary in {RESULT.name}")
    args = parser.parse_args(argv)
    provider = get_provider(model=MODEL, recordings="03_prompt_fundamentals")
    samples = run_format_experiment(provider, samples=SAMPLES, temperature=TEMPERATURE, max_tokens=MAX_TOKENS)
    summary = summarise(samples)
    for row in summary:
        print(
            f"{row.condition:26} n={row.n:3}  target format {row.target_rate:6.1%}  "
            f"exact+right name {row.exact_rate:6.1%}  most common {row.modal_kind} {row.modal_rate:6.1%}  "
            f"{row.kinds}"
        )
    if args.write:
        result = {
            "model": MODEL,
            "temperature": TEMPERATURE,
            "max_tokens": MAX_TOKENS,
            "samples_per_sentence": SAMPLES,
            "sources": sorted({s.source for s in samples}),
            "summary": [row.model_dump() for row in summary],
        }
        RESULT.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print(f"wrote {RESULT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
