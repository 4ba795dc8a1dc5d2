"""Real answers of lesson 03 from SmolLM2-135M-Instruct (run under record, after the scripted script).

COURSE_PROVIDER=record COURSE_RECORD_UPSTREAM=local COURSE_RECORD_TO=03_prompt_fundamentals \\
    python scripts/recordings/03_prompt_fundamentals_local.py

It records (1) the small model's answers to a JSON-only system prompt with a conflicting user
request, and (2) contract-clause classification with no examples vs the 3 nearest examples
retrieved from the other 49 clauses (leave-one-out), for the first two clauses of every label.
The format-consistency experiment is recorded by ``scripts/experiments/03_format_consistency.py``.
"""

from course_lib.providers.registry import get_provider
from course_lib.retrieval import FewShotSelector, fewshot_messages

provider = get_provider(model="SmolLM2-135M-Instruct")

CONFLICT = [
    {"role": "system", "content": "You only output JSON. Never use prose."},
    {"role": "user", "content": "Write a poem about coding."},
]
for _ in range(3):
    print(repr(provider.complete(CONFLICT, temperature=0.7, max_tokens=60).text))

K = 3
selector = FewShotSelector()
queries = [e for e in selector.examples if e.id.endswith(("-1", "-2"))]
for example in queries:
    others = [r.example for r in selector.select(example.text, K + 1) if r.example.id != example.id][:K]
    for shots in ([], others):
        messages = fewshot_messages(shots, example.text, system=selector.system, labels=selector.labels)
        answer = provider.complete(messages, temperature=0, max_tokens=8).text
        print(f"{example.id:16} k={len(shots)}  {answer!r}")
