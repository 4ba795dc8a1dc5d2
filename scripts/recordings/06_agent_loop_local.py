"""Real samples of lesson 06 from SmolLM2-135M-Instruct: the small model inside the agent loop.

COURSE_PROVIDER=record COURSE_RECORD_UPSTREAM=local COURSE_RECORD_TO=06_agent_loop \
    .venv/bin/python scripts/recordings/06_agent_loop_local.py

The orchestrator asks the model for JSON steps on the train problem: one greedy run (temperature 0)
and RUNS runs at temperature 0.7, each with at most 4 iterations and 2 corrections per step. The
lesson replays exactly these runs to show how the loop copes with a model that drifts from the step
format. Run the scripted script (06_agent_loop.py) first; this one adds the ``recorded`` entries.
"""

from __future__ import annotations

from course_lib.orchestrator import DEFAULT_PARAMS, Orchestrator
from course_lib.providers.registry import get_provider

MODEL = "SmolLM2-135M-Instruct"
TRAIN = "If a train travels 60 mph for 2.5 hours, then 80 mph for 1.5 hours, what's the average speed?"
RUNS = 3
GREEDY = {**DEFAULT_PARAMS, "max_tokens": 160}
SAMPLED = {**GREEDY, "temperature": 0.7}


def main() -> None:
    provider = get_provider(model=MODEL)
    direct = provider.complete([{"role": "user", "content": TRAIN}], temperature=0.0, max_tokens=80)
    print("single shot:", repr(direct.text))
    for params in [GREEDY] + [SAMPLED] * RUNS:
        result = Orchestrator(provider, max_iterations=4, max_corrections=2, params=params).run(TRAIN)
        print(
            f"t={params['temperature']}: {result.status} after {result.iterations} iteration(s), {result.calls} call(s)"
        )


if __name__ == "__main__":
    main()
