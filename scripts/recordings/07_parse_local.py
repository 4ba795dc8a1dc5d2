"""Lesson 07's typed replies: ``client.chat.completions.parse(...)`` into a pydantic model, recorded on SmolLM2-135M.

    course record --into 07_structured_output --upstream local --start-local -- \
        scripts/recordings/07_parse_local.py

The SDK sends ``ConstrainedContact``'s schema in OpenAI's strict form (``additionalProperties: false``,
``strict: true``); the local provider translates it, below the SDK, into llama.cpp's own form, which
the server enforces with a grammar. The lesson replays the first text's call unchanged.
"""

from course_lib.lessons.l07_structured_output.constrained import LOCAL_MODEL, ConstrainedContact
from course_lib.lessons.l07_structured_output.layers import CONTACT_PARAMS, CONTACT_TEXTS, contact_messages
from course_lib.providers.registry import get_provider

client = get_provider(model=LOCAL_MODEL).client
for text in CONTACT_TEXTS[:3]:
    completion = client.chat.completions.parse(
        model=LOCAL_MODEL,
        messages=contact_messages(text, "rules"),
        response_format=ConstrainedContact,
        **CONTACT_PARAMS,
    )
    print(repr(completion.choices[0].message.parsed), flush=True)
