"""Real next-token distributions and model-written prompts of lesson 01 from SmolLM2-135M-Instruct (run under recording).

Two measurements, both on the real local model:

- **Entropy.** Each request of ``ENTROPY_PAIRS`` is sent once in its vague and once in its specific
  form, at temperature 0 with ``logprobs=True, top_logprobs=20`` and ``max_tokens=8``; the lesson
  computes the entropy over the top 20 at each of those answer tokens.
- **Model-written prompts.** The model is asked (``META_PROMPT``, 4 samples at temperature 0.8) to write
  the instruction for a name-to-JSON extraction; the human-written instruction and each candidate are
  then scored on 5 development sentences and 10 held-out ones, 2 samples each at temperature 0.7.

Start the server yourself (``course serve-local``) or let the command start it:

    course record --into 01_gigo --upstream local --start-local -- \\
        scripts/recordings/01_gigo_entropy_local.py

It makes 12 + 4 + 5 × 15 × 2 = 166 calls, about two minutes on two cores.
"""

from course_lib.lessons.l01_gigo.entropy import (
    META_PARAMS,
    META_PROMPT,
    entropy_summary,
    measure_entropy,
    score_instruction,
)
from course_lib.lessons.l01_gigo.prompt_search import DEV, HELD_OUT, HUMAN_INSTRUCTION, exact_name
from course_lib.providers.registry import get_provider

CANDIDATES = 4

provider = get_provider(model="SmolLM2-135M-Instruct")
rows = measure_entropy(provider)
for row in rows:
    print(f"{row.intent:16} {row.form:8} {row.mean_bits:5.2f} bits  {row.answer[:60]!r}")
print(entropy_summary(rows))

candidates = [
    provider.complete([{"role": "user", "content": META_PROMPT}], **META_PARAMS).text
    for _ in range(CANDIDATES)
]
for instruction in [HUMAN_INSTRUCTION, *candidates]:
    if not instruction.strip():
        print("empty candidate, skipped")
        continue
    dev = score_instruction(provider, instruction, DEV, exact_name)
    test = score_instruction(provider, instruction, HELD_OUT, exact_name)
    print(f"dev {dev.right}/{dev.total}  held-out {test.right}/{test.total}  {instruction[:80]!r}")
