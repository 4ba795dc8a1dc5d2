"""The evidence box of lesson 08: each claim the lesson makes, and what backs it.

Lesson 08 measures nothing on a model: its figures are arithmetic on token counts (tiktoken), the dated
price table and assumptions the lesson states, and its two model answers are scripted. Claims about how
providers bill are cited from their documentation.
"""

from __future__ import annotations

from course_lib.lessons._evidence import Claim

__all__ = ["CLAIMS"]

CLAIMS = [
    Claim(
        "An output token costs several input tokens (2× on GPT-4, 4× on GPT-4o and GPT-4o-mini).",
        "cited",
        "the course's dated price table, course_lib/data/models.json (litellm's model price map, "
        "snapshot of 2026-11)",
        "1. The price table",
    ),
    Claim(
        "'4 characters per token' over-counts English prose and under-counts JSON, code and Japanese.",
        "illustrated",
        "computed with tiktoken (cl100k_base, o200k_base) on six sample texts written for the lesson; "
        "no model call",
        "3. Four characters per token?",
    ),
    Claim(
        "Reasoning tokens are reported inside completion_tokens and billed once, at the output rate.",
        "cited",
        "OpenAI API reference, chat completions usage: completion_tokens_details.reasoning_tokens "
        "(2024); the worked example's token counts are assumed, priced at GPT-4o's rates",
        "4. Hidden reasoning tokens",
    ),
    Claim(
        "Automatic prompt caching applies only from 1,024 prompt tokens, in 128-token steps; cached "
        "input is billed at a discount (half price on the GPT-4o family).",
        "cited",
        "OpenAI, 'Prompt caching' guide (October 2024); cached rates from the price table",
        "5. Prompt caching",
    ),
    Claim(
        "A batch API answers within 24 hours at half the price.",
        "cited",
        "OpenAI, 'Batch API' guide (2024); batch rates from the price table",
        "9. Batching",
    ),
    Claim(
        "Caching, routing, output limits, compression and batching together cut the support chat's "
        "bill by most of its cost; caching alone cannot remove more than prompt share × cacheable "
        "share × discount.",
        "illustrated",
        "computed from the lesson's stated assumptions (1 M requests a month, token counts, hit rate, "
        "routing mix, cap, compression, batch share) and the price table",
        "10. The optimisations together",
    ),
    Claim(
        "A meter that keeps the last response's usage reports one call's tokens and hit rate.",
        "illustrated",
        "three scripted usages run through the naive meter and through GuardedProvider's spend log",
        "11. Metering",
    ),
    Claim(
        "A budget breaker that prices prompt + max_tokens before each call stops spend at or under its "
        "cap; a per-second anomaly window never fires on a slow runaway.",
        "illustrated",
        "the runaway simulated on a manual clock, every step answered by the same scripted draft "
        "(source 'scripted')",
        "12. Checkpoint: the 3 am runaway",
    ),
]
