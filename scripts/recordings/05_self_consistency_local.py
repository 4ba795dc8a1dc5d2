"""Real samples of lesson 05 from SmolLM2-135M-Instruct (run under `course record`).

    course record --into 05_self_consistency --upstream local --start-local -- \\
        scripts/recordings/05_self_consistency_local.py

Records two things; the quiz pools themselves are recorded by ``scripts/experiments/05_vote_accuracy.py``:

- temperature and diversity: two quiz questions at temperature 0 (5 samples: greedy decoding gives
  the same answer every time) and at 1.2 (21 samples), beside the 0.7 pools of the experiment;
- the small model on the triage prompt: seven samples for one case, to show what the gate does with
  a model that rarely answers in the requested format.
"""

from course_lib.lessons.l05_self_consistency.triage import TriagePipeline
from course_lib.lessons.l05_self_consistency.vote_eval import QUIZ, collect_pools
from course_lib.providers.registry import get_provider

TEMPERATURE_DEMO = [
    item for item in QUIZ if item.question in ("What is 4 times 3?", "Is water wet? Answer yes or no.")
]

provider = get_provider(model="SmolLM2-135M-Instruct")
for temperature, samples in ((0.0, 5), (1.2, 21)):
    for pool in collect_pools(provider, TEMPERATURE_DEMO, samples=samples, temperature=temperature):
        print(temperature, pool.question, pool.answers)

pipeline = TriagePipeline(provider, n=7, concurrency=1, max_tokens=120)
record = pipeline.triage("Persistent headache for 3 days, mild fever, fatigue")
print(record.tier, record.recommendation, record.votes, record.reason)
