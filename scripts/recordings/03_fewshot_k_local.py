"""Real answers of lesson 03's few-shot sweep from SmolLM2-135M-Instruct (run under recording).

The name-to-JSON task with k = 0, 1, 2, 3, 5 and 8 worked examples, 4 samples per sentence at
temperature 0.7 (k = 0 and k = 3 are the format experiment's requests, already recorded with 8
samples; the sweep replays their first 4).

    course record --into 03_prompt_fundamentals --upstream local --start-local -- \\
        scripts/recordings/03_fewshot_k_local.py
"""

from course_lib.lessons.l03_prompt_fundamentals.k_sweep import run_k_sweep
from course_lib.providers.registry import get_provider

for point in run_k_sweep(get_provider(model="SmolLM2-135M-Instruct"), (1, 2, 5, 8)):
    print(f"k={point.k}: {point.right}/{point.n} exact, {point.prompt_tokens:.0f} prompt tokens")
