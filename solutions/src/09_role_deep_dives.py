# %% [markdown]
# # Exercise 09 · Role deep dives
#
# Three pieces of the lesson's engineering (`notebooks/09_role_deep_dives.ipynb`), one for the backend
# engineer, one for DevOps and one for the platform team. Complete each function or class where it says
# so, run its `check(...)` cell for instant feedback, and grade the whole notebook with
# `course grade exercises/09_role_deep_dives.ipynb`. Use only the standard library and the imports below.

# %% tags=["parameters"]
DAY_S = 86_400
DEFAULT_LIMIT = 10_000

# %%
import time
from collections.abc import Callable

from course_lib.grading import check
from course_lib.guards import ManualClock
from course_lib.providers.base import ProviderError, RetryAfterTooLongError
from course_lib.providers.faulty import FaultyProvider
from course_lib.providers.scripted import ScriptedProvider

# %% [markdown]
# ## 9.1 Retry with backoff that honours `retry-after` (backend)
#
# Write `retry_call(provider, messages, ...)`: call `provider.complete(messages, **params)` and return
# its result; when the call fails with a **transient** provider error, wait and try again.
#
# - Transient errors are `ProviderError`s whose `.retryable` is `True`: `RateLimitError` (429),
#   `ProviderTimeout` and `ServerError` (5xx). Anything else, a `BadRequestError` (400) or an exception
#   that is not a `ProviderError`, is raised at once: retrying cannot fix it.
# - `max_attempts` counts the first call too. When the last attempt fails, raise its error; don't wait
#   after it.
# - After failed attempt *k* (1, 2, …) wait `min(max_delay, base_delay * 2 ** (k - 1))` seconds, but
#   never less than the error's `retry_after` (seconds, or `None`) when the server sent one: its wait
#   wins even over `max_delay`. Wait by calling `sleep(seconds)`, the function passed in (the check
#   passes a fake one and reads the waits).
# - Two limits keep a server from stalling the call. If `retry_after` is above `max_retry_after` (an
#   absolute ceiling, 60 s by default), or if the wait would end more than `deadline` seconds after the
#   first attempt began (measured with `clock()`; `deadline=None` means no deadline), don't sleep: raise
#   `RetryAfterTooLongError` at once, saying how long the server asked to wait and which limit it broke.
#   A wait exactly at a limit is allowed.
#
# `course_lib.retry.RetryPolicy` follows the same rule (its `max_retry_after` and `deadline`), and adds
# random jitter to each wait; leave the jitter out here so the check can read the schedule.

# %%
def retry_call(
    provider,
    messages: list[dict],
    *,
    max_attempts: int = 4,
    base_delay: float = 0.5,
    max_delay: float = 8.0,
    max_retry_after: float = 60.0,
    deadline: float | None = None,
    sleep: Callable[[float], object] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    **params,
):
    """provider.complete(messages, **params), retrying transient errors with capped exponential backoff."""
    # BEGIN SOLUTION: loop over the attempts; retry only retryable ProviderErrors, within the limits
    start = clock()
    for attempt in range(1, max_attempts + 1):
        try:
            return provider.complete(messages, **params)
        except ProviderError as error:
            if not error.retryable or attempt == max_attempts:
                raise
            wait = min(max_delay, base_delay * 2 ** (attempt - 1))
            if error.retry_after is not None:
                if error.retry_after > max_retry_after:
                    raise RetryAfterTooLongError(
                        f"the server asked to wait {error.retry_after:g} s, more than "
                        f"max_retry_after={max_retry_after:g} s",
                        retry_after=error.retry_after,
                    ) from error
                wait = max(wait, error.retry_after)
            if deadline is not None and clock() - start + wait > deadline:
                raise RetryAfterTooLongError(
                    f"waiting {wait:g} s would pass the call's deadline of {deadline:g} s",
                    retry_after=error.retry_after,
                ) from error
            sleep(wait)
    raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
    # END SOLUTION


# %% [markdown]
# Try it by hand before the check: a provider that answers 429 (`retry-after: 2`), then 500, then works.

# %%
waits = []
flaky = FaultyProvider(ScriptedProvider(["ok"]), ["rate_limit", "server_error"], retry_after=2.0)
print(retry_call(flaky, [{"role": "user", "content": "ping"}], sleep=waits.append).text, waits)

# %%
check("9.1", retry_call)

# %% [markdown]
# ## 9.2 A VRAM calculator (DevOps)
#
# Return the GPU memory, in GB (10^9 bytes), to serve a model:
#
# - weights: `params_billion` × 10^9 parameters × `bits` per weight (16 for fp16, 4 for int4; a byte is
#   8 bits);
# - KV cache: 2 (a key and a value) × `layers` × `kv_heads` × `head_dim` × `context_tokens` × `batch`
#   values of `kv_bits` each;
# - overhead: `overhead` × (weights + KV cache).
#
# Raise `ValueError` when `bits` is not positive or `params_billion` is negative.

# %%
def vram_gb(
    params_billion: float,
    bits: float,
    *,
    layers: int = 0,
    kv_heads: int = 0,
    head_dim: int = 0,
    context_tokens: int = 0,
    batch: int = 1,
    kv_bits: float = 16,
    overhead: float = 0.10,
) -> float:
    """Weights + KV cache + overhead, in GB."""
    # BEGIN SOLUTION: weights and KV cache in bytes, then the overhead, then GB
    if bits <= 0 or params_billion < 0:
        raise ValueError("bits must be positive and params_billion not negative")
    weights = params_billion * 1e9 * bits / 8
    kv_cache = 2 * layers * kv_heads * head_dim * context_tokens * batch * kv_bits / 8
    return (weights + kv_cache) * (1 + overhead) / 1e9
    # END SOLUTION


# %%
print(f"Llama-3-70B, fp16, 8k context: {vram_gb(70.554, 16, layers=80, kv_heads=8, head_dim=128, context_tokens=8192):.1f} GB")

# %%
check("9.2", vram_gb)

# %% [markdown]
# ## 9.3 A per-tenant quota manager (platform)
#
# The gateway gives each team a token budget per window (a day by default). Complete the class:
#
# - `limits` maps a tenant to its tokens per window; any other tenant gets `default_limit`.
# - Windows are aligned on the clock: the window of time *t* is `int(t // window_s)`, so with one-hour
#   windows, 3599.9 s and 0 s share a window and 3600 s starts a new one, where usage starts from zero.
# - `remaining(tenant)`: the tokens the tenant may still use in the current window.
# - `try_consume(tenant, tokens)`: if `tokens` fit in what remains, record them and return `True`;
#   otherwise record nothing and return `False` (a request is all or nothing). Raise `ValueError` for
#   `tokens < 1`.
# - Each tenant's usage is its own, and each manager's usage is its own. `clock()` returns seconds; the
#   check passes a `ManualClock` it moves forward.

# %%
class QuotaManager:
    """Token quotas per tenant per fixed window of the clock."""

    def __init__(
        self,
        limits: dict[str, int],
        *,
        default_limit: int = DEFAULT_LIMIT,
        window_s: float = DAY_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        # BEGIN SOLUTION: keep the settings and an empty usage table
        self.limits = dict(limits)
        self.default_limit = default_limit
        self.window_s = window_s
        self.clock = clock
        self.used: dict[tuple[str, int], int] = {}
        # END SOLUTION

    def remaining(self, tenant: str) -> int:
        """Tokens ``tenant`` may still use in the current window."""
        # BEGIN SOLUTION: the tenant's limit minus its usage in this window
        window = int(self.clock() // self.window_s)
        return self.limits.get(tenant, self.default_limit) - self.used.get((tenant, window), 0)
        # END SOLUTION

    def try_consume(self, tenant: str, tokens: int) -> bool:
        """Record ``tokens`` for ``tenant`` if they fit; return whether they did."""
        # BEGIN SOLUTION: refuse whole requests that do not fit, else record them
        if tokens < 1:
            raise ValueError(f"tokens must be at least 1, got {tokens}")
        if tokens > self.remaining(tenant):
            return False
        key = (tenant, int(self.clock() // self.window_s))
        self.used[key] = self.used.get(key, 0) + tokens
        return True
        # END SOLUTION


# %%
clock = ManualClock()
quotas = QuotaManager({"team-eng": 1_000}, default_limit=100, window_s=3600, clock=clock)
print(quotas.try_consume("team-eng", 800), quotas.try_consume("team-eng", 300), quotas.remaining("team-eng"))
clock.advance(3600)
print(quotas.remaining("team-eng"), quotas.remaining("team-intern"))

# %%
check("9.3", QuotaManager)
