"""Real samples of lesson 04 from SmolLM2-135M-Instruct: direct vs step-by-step answers to decimal comparisons.

COURSE_PROVIDER=record COURSE_RECORD_UPSTREAM=local COURSE_RECORD_TO=04_chain_of_thought \
    python scripts/recordings/04_chain_of_thought_local.py

Each question is asked directly and with the chain-of-thought prompt: once greedily (temperature 0)
and SAMPLES times at temperature 0.7. The lesson replays exactly these requests.
"""

from course_lib.cot import COMPARISONS, cot_messages, direct_messages, tally_answers
from course_lib.providers.registry import get_provider

MODEL = "SmolLM2-135M-Instruct"
SAMPLES = 8
DIRECT = {"max_tokens": 24}
COT = {"max_tokens": 256}

provider = get_provider(model=MODEL)
for comparison in COMPARISONS:
    for mode, build, params in (("direct", direct_messages, DIRECT), ("cot", cot_messages, COT)):
        messages = build(comparison.question)
        greedy = provider.complete(messages, temperature=0, **params)
        texts = [provider.complete(messages, temperature=0.7, **params).text for _ in range(SAMPLES)]
        tally = tally_answers(texts, comparison)
        print(f"{comparison.question:40} {mode:6} greedy={greedy.text[:40]!r} sampled: {tally}")
