"""Self-consistency on SmolLM2-135M-Instruct: single-sample vs majority vs weighted vote accuracy by N (lesson 05).

Twelve easy quiz questions with known answers (``course_lib.lessons.l05_self_consistency.vote_eval.QUIZ``), 21 samples each at
temperature 0.7 with token logprobs. The votes for N = 1, 3, 5, 7, 11 are computed afterwards by
drawing N of the 21 recorded samples, 400 seeded draws per question, without replacement.

Record the samples from the local model (the server must be running, see ``course serve-local``)::

    COURSE_PROVIDER=record COURSE_RECORD_UPSTREAM=local COURSE_RECORD_TO=05_self_consistency \\
        python scripts/experiments/05_vote_accuracy.py --write

Without those variables the same script replays the recorded samples and recomputes the figures;
``--write`` stores them in ``05_vote_accuracy.result.json`` beside this script.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from course_lib.lessons.l05_self_consistency.vote_eval import collect_pools, pool_accuracy, vote_curve
from course_lib.providers.registry import get_provider

MODEL = "SmolLM2-135M-Instruct"
SAMPLES = 21
TEMPERATURE = 0.7
MAX_TOKENS = 10
TOP_LOGPROBS = 3
NS = (1, 3, 5, 7, 11)
DRAWS = 400
SEED = 5
RESULT = Path(__file__).with_name("05_vote_accuracy.result.json")


def main(argv: list[str] | None = None) -> int:
    """Run (or replay) the experiment, print the accuracy by N, optionally write it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"store the summary in {RESULT.name}")
    args = parser.parse_args(argv)
    provider = get_provider(model=MODEL, recordings="05_self_consistency")
    pools = collect_pools(
        provider, samples=SAMPLES, temperature=TEMPERATURE, max_tokens=MAX_TOKENS, top_logprobs=TOP_LOGPROBS
    )
    for pool in pools:
        counts = {a: pool.answers.count(a) for a in dict.fromkeys(pool.answers)}
        print(f"{pool.question:48} gold {pool.gold:4} single {pool_accuracy(pool):5.0%}  {counts}")
    curve = vote_curve(pools, NS, draws=DRAWS, seed=SEED)
    for point in curve:
        print(
            f"N={point.n:2}  majority {point.majority_accuracy:6.1%}  weighted {point.weighted_accuracy:6.1%}  "
            f"agreement {point.agreement:6.1%}  ties {point.tie_rate:5.1%}  tokens/question {point.tokens_per_question:6.0f}"
        )
    if args.write:
        result = {
            "model": MODEL,
            "samples_per_question": SAMPLES,
            "temperature": TEMPERATURE,
            "max_tokens": MAX_TOKENS,
            "draws": DRAWS,
            "seed": SEED,
            "single_sample": {p.question: pool_accuracy(p) for p in pools},
            "curve": [p.model_dump() for p in curve],
        }
        RESULT.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print(f"wrote {RESULT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
