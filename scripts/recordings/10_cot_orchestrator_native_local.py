"""Real runs of lesson 10 from SmolLM2-135M-Instruct with schema-constrained steps and with native tool calls.

    COURSE_PROVIDER=record COURSE_RECORD_UPSTREAM=local COURSE_RECORD_TO=10_cot_orchestrator \
        .venv/bin/python scripts/recordings/10_cot_orchestrator_native_local.py [schema] [tools]

Each of the lesson's four problems runs through the orchestrator exactly as
:func:`course_lib.lessons.l10_cot_orchestrator.native.run_problems` runs it, so the lesson replays the
runs call for call. The local server enforces each step's schema with a grammar (``schema``) and
constrains the forced calculator call's arguments to the tool's parameter schema (``tools``).
"""

import sys

from course_lib.lessons.l10_cot_orchestrator.native import LOCAL_MODEL, run_problems, tally
from course_lib.providers.registry import get_provider

protocols = sys.argv[1:] or ["schema", "tools"]
provider = get_provider(model=LOCAL_MODEL)
for protocol in protocols:
    results = run_problems(provider, protocol)
    for r in results:
        print(
            f"{protocol} {r.status:14} iterations={r.iterations} calls={r.calls} answer={r.answer!r}",
            flush=True,
        )
    print(tally(protocol, results), flush=True)
