"""Real samples of lesson 01 from SmolLM2-135M-Instruct: one vague query, sampled many times (run under recording).

"Money not showing" is sent 16 times in each of three forms, at the same temperature: raw, as a bot
with no input handling sends it; classified (BALANCE) with the three best-matching policies
injected, as the banking pipeline sends it; and classified with only the best policy. The lesson
measures how far each set of answers spreads (course_lib.lessons.l01_gigo.scenario.answer_spread).

The entropy measurement and the model-written prompts are recorded by ``01_gigo_entropy_local.py``.

    COURSE_PROVIDER=record COURSE_RECORD_UPSTREAM=local COURSE_RECORD_TO=01_gigo \\
        python scripts/recordings/01_gigo_local.py
"""

from course_lib.lessons.l01_gigo.scenario import answer_spread, grounded_request, vague_request
from course_lib.providers.registry import get_provider

SAMPLES = 16
PARAMS = {"temperature": 0.8, "max_tokens": 80}
QUERY = "Money not showing"

provider = get_provider(model="SmolLM2-135M-Instruct")
requests = {
    "vague": vague_request(QUERY),
    "classified, 3 policies": grounded_request(QUERY, "BALANCE", k=3),
    "classified, 1 policy": grounded_request(QUERY, "BALANCE", k=1),
}
for name, messages in requests.items():
    texts = [provider.complete(messages, **PARAMS).text for _ in range(SAMPLES)]
    for text in texts:
        print(f"[{name}] {text[:100]!r}")
    print(name, answer_spread(texts))
