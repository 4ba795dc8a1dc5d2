"""Real runs of lesson 10 from SmolLM2-135M-Instruct: the orchestrator's own prompts on the lesson's problems.

COURSE_PROVIDER=record COURSE_RECORD_UPSTREAM=local COURSE_RECORD_TO=10_cot_orchestrator \
    python scripts/recordings/10_cot_orchestrator_local.py

The orchestrator runs exactly as the lesson runs it (same system prompt, problem messages,
corrections and parameters), so every request it makes is recorded and the lesson replays the
runs call for call: greedily on each problem, and once at temperature 0.8 with a larger correction
budget, to see whether sampling lets the model out of its repeated mistake. Run the scripted
script (10_cot_orchestrator.py) first; this one adds the recorded entries beside the scripted ones.
"""

import sys

from course_lib.orchestrator import DEFAULT_PARAMS, Orchestrator
from course_lib.providers.registry import get_provider

MODEL = "SmolLM2-135M-Instruct"
GREEDY = {**DEFAULT_PARAMS, "max_tokens": 200}
SAMPLED = {**GREEDY, "temperature": 0.8}
PROBLEMS = [
    "What is 15% of 240?",
    "If I buy 3 shirts at $25 each and get 20% discount, what do I pay?",
    "If I invest $1000 at 5% annual interest compounded monthly for 2 years, how much will I have?",
    "If a train travels 60 mph for 2.5 hours, then 80 mph for 1.5 hours, what's the average speed?",
]
RUNS = [(problem, GREEDY, 2) for problem in PROBLEMS] + [(PROBLEMS[0], SAMPLED, 4)]
ONLY = sys.argv[1:]  # run only the runs whose temperature is given, e.g. "0.8"

provider = get_provider(model=MODEL)
for problem, params, corrections in RUNS:
    if ONLY and str(params["temperature"]) not in ONLY:
        continue
    orchestrator = Orchestrator(provider, max_iterations=10, max_corrections=corrections, params=params)
    result = orchestrator.run(problem)
    print(
        f"t={params['temperature']} {result.status:14} iterations={result.iterations} calls={result.calls} "
        f"tokens={result.usage.total_tokens}: {problem[:50]}",
        flush=True,
    )
