"""Real samples of lesson 04 from SmolLM2-135M-Instruct: direct vs step-by-step answers to decimal comparisons.

COURSE_PROVIDER=record COURSE_RECORD_UPSTREAM=local COURSE_RECORD_TO=04_chain_of_thought \
    python scripts/recordings/04_chain_of_thought_local.py

Each question is asked directly and with the chain-of-thought prompt: once greedily (temperature 0)
and SAMPLES times at temperature 0.7. The lesson replays exactly these requests. Requests that
already have enough recorded samples are skipped, so an interrupted run can simply be run again;
delete the file's recorded entries to record everything afresh.
"""

from course_lib.cot import COMPARISONS, cot_messages, direct_messages, tally_answers
from course_lib.providers.registry import get_provider
from course_lib.providers.replay.recordings import RecordingStore, canonical_request, request_key

MODEL = "SmolLM2-135M-Instruct"
SAMPLES = 8
DIRECT = {"max_tokens": 24}
COT = {"max_tokens": 256}


def missing(messages: list[dict], params: dict, wanted: int) -> int:
    """How many more samples this request needs."""
    body = {"model": MODEL, "messages": messages, **params}
    entry = RecordingStore("04_chain_of_thought").get(
        request_key(canonical_request("chat.completions", body))
    )
    return max(0, wanted - (len(entry.samples) if entry else 0))


provider = get_provider(model=MODEL)
for comparison in COMPARISONS:
    for mode, build, params in (("direct", direct_messages, DIRECT), ("cot", cot_messages, COT)):
        messages = build(comparison.question)
        for temperature, wanted in ((0, 1), (0.7, SAMPLES)):
            call = {"temperature": temperature, **params}
            texts = [provider.complete(messages, **call).text for _ in range(missing(messages, call, wanted))]
            print(
                f"{comparison.question:32} {mode:6} t={temperature}: {len(texts)} new, {tally_answers(texts, comparison)}"
            )
