"""Real samples of lesson 00 from SmolLM2-135M-Instruct (run under `course record`).

course record --into 00_setup --upstream local --start-local -- scripts/recordings/00_setup_local.py
"""

from course_lib.providers.registry import get_provider

provider = get_provider(model="SmolLM2-135M-Instruct")
messages = [
    {"role": "system", "content": "You are a concise assistant for software engineers."},
    {"role": "user", "content": "In one sentence: what is a large language model, to a backend engineer?"},
]
for _ in range(3):
    result = provider.complete(messages, temperature=0.8, max_tokens=60)
    print(repr(result.text), result.usage)
