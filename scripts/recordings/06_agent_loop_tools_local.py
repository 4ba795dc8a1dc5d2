"""A real native tool-calling run of lesson 06's agent loop from SmolLM2-135M-Instruct.

    COURSE_PROVIDER=record COURSE_RECORD_UPSTREAM=local COURSE_RECORD_TO=06_agent_loop \
        .venv/bin/python scripts/recordings/06_agent_loop_tools_local.py

Runs :func:`course_lib.lessons.l06_agent_loop.native.tool_calling_run` on the train problem through the
recording provider, so the lesson replays the run call for call: the forced calculator call (the
server constrains its arguments to the tool's schema), the ``tool`` message with the result, and
whatever the model does next.
"""

from course_lib.lessons.l06_agent_loop.native import LOCAL_MODEL, round_trip, summarize, tool_calling_run
from course_lib.providers.registry import get_provider

result = tool_calling_run(get_provider(model=LOCAL_MODEL))
print("\n".join(round_trip(result)))
print(summarize(result))
