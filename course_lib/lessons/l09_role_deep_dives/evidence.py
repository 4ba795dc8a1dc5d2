"""The evidence box of lesson 09: each claim the lesson makes, and what backs it.

Lesson 09 measures nothing on a model: its answers are scripted, its latencies come from a latency model
(replayed with simulated waits) or simulated vendors on a manual clock, and its business figures follow
from assumptions the lesson states. Facts about hardware and serving are cited.
"""

from __future__ import annotations

from course_lib.lessons._evidence import Claim

__all__ = ["CLAIMS"]

CLAIMS = [
    Claim(
        "Independent calls in parallel take the slowest call's time, not the sum; unequal answer "
        "lengths make the speedup smaller than the number of calls.",
        "illustrated",
        "scripted answers replayed with a latency model (0.5 s to the first token + 0.03 s a token); "
        "the wall-clock times differ from the model by the client's own work per call",
        "A · Parallel fan-out",
    ),
    Claim(
        "retry-after wins over the backoff, even above max_delay; above max_retry_after or past the "
        "call's deadline the call fails at once with RetryAfterTooLongError.",
        "illustrated",
        "course_lib.retry.RetryPolicy.plan_wait and RetryingProvider driven by FaultyProvider's injected "
        "429s; waits collected, never slept",
        "A · The retry-after rule",
    ),
    Claim(
        "A trimming loop that never drops the system prompt never ends when the system prompt alone is "
        "over budget.",
        "illustrated",
        "the naive loop run with a safety counter on a long system prompt, token counts from tiktoken",
        "A · The conversation buffer must terminate",
    ),
    Claim(
        "Serving memory = weights + KV cache (2 × layers × KV heads × head size × bytes per token) + "
        "overhead.",
        "cited",
        "model shapes from the Llama 2 (Touvron et al., 2023) and Llama 3 (Meta, 2024) model cards; "
        "vLLM's default gpu_memory_utilization of 0.9",
        "B · GPU memory by precision",
    ),
    Claim(
        "Retries turn errors into tail latency; a 600-request workload shows the error budget and burn rate.",
        "illustrated",
        "a simulated vendor with seeded log-normal latency and a seeded fault schedule, on a manual clock",
        "C · SRE",
    ),
    Claim(
        "A drift check on 100 examples raises false alarms and misses a real 5-point drop about half "
        "the time.",
        "illustrated",
        "exact binomial probabilities for the stated baseline (94 %) and drop (89 %)",
        "C · Drift checks need enough examples",
    ),
    Claim(
        "A shared cache keyed on system + '|' + user collides; keying the whole request does not.",
        "illustrated",
        "the naive key and course_lib.cache.cache_key computed on two colliding inputs",
        "D · A cache key that collides",
    ),
    Claim(
        "Saving over the bill after automation is not ROI; ROI, payback and build vs buy follow from "
        "stated assumptions.",
        "illustrated",
        "computed from the lesson's stated assumptions (tickets, minutes, wages, AI price, build cost)",
        "E · ROI and build vs buy",
    ),
]
