# %% [markdown]
# # Exercise 08 · Token economics
#
# Three pieces of the lesson's engineering (`notebooks/08_token_economics.ipynb`): pricing a request with
# cached tokens, averaging the cost of a routing mix, and a budget breaker that stops a runaway. Complete
# each function or class where it says so, run its `check(...)` cell for instant feedback, and grade the
# whole notebook with `course grade exercises/08_token_economics.ipynb`. Use only the standard library:
# the checks compare your code with hand-computed prices on many cases, so any correct implementation
# passes, and each failure says what was called, what came back and what was expected.

# %% tags=["parameters"]
WINDOW_S = 3600.0

# %%
import time
from collections.abc import Callable

from course_lib.grading import check
from course_lib.guards import ManualClock

# %% [markdown]
# ## 8.1 The cost of a request, cached tokens included
#
# Write `request_cost_usd(prompt_tokens, completion_tokens, cached_tokens, rates)`. `rates` holds prices in
# **USD per million tokens**: `"input"`, `"output"` and, when the model has one, `"cached_input"`.
#
# - `cached_tokens` are *part of* `prompt_tokens` (the provider served them from its prompt cache): bill
#   them at the cached rate, and only the other `prompt_tokens - cached_tokens` at the input rate;
# - a model without a cached rate (the key is missing or `None`) bills cached tokens at the input rate;
# - `completion_tokens` bill at the output rate;
# - raise `ValueError` for a negative count, or for more cached tokens than prompt tokens.
#
# The lesson's cached request (a 550-token prompt, 500 of them cached, at $30 / $3 per million) costs $0.003.

# %%
def request_cost_usd(prompt_tokens: int, completion_tokens: int, cached_tokens: int, rates: dict) -> float:
    """USD for one request: uncached prompt, cached prompt and completion tokens, each at its rate."""
    # BEGIN SOLUTION: validate, then price the three kinds of token
    if min(prompt_tokens, completion_tokens, cached_tokens) < 0:
        raise ValueError("token counts cannot be negative")
    if cached_tokens > prompt_tokens:
        raise ValueError("cached_tokens are part of prompt_tokens, so they cannot exceed them")
    cached_rate = rates.get("cached_input")
    if cached_rate is None:
        cached_rate = rates["input"]
    dollars = (
        (prompt_tokens - cached_tokens) * rates["input"]
        + cached_tokens * cached_rate
        + completion_tokens * rates["output"]
    )
    return dollars / 1_000_000
    # END SOLUTION


# %%
check("8.1", request_cost_usd)

# %% [markdown]
# ## 8.2 The average cost of a routing mix
#
# A router spreads requests over models. Write `blended_cost(weights, cost_per_request)`: `weights` maps a
# model to its share of the traffic, given as **any non-negative numbers** (shares, percentages or request
# counts); `cost_per_request` maps a model to its USD per request. Return the average USD per request.
#
# - Normalise the weights into shares that sum to 1 (`{"cheap": 60, "strong": 40}` means 60 % / 40 %).
# - Raise `ValueError` for a negative weight, or when the weights sum to 0 (an empty mix included).
# - Raise `KeyError` or `ValueError` when a model in `weights` has no cost. Models with a cost but no
#   weight are simply not used.
#
# Whatever the mix, the result lies between the cheapest and the dearest model it uses, and multiplying
# every weight by the same number does not change it: the check tests both on generated mixes.

# %%
def blended_cost(weights: dict[str, float], cost_per_request: dict[str, float]) -> float:
    """Average USD per request when traffic is spread over models in proportion to `weights`."""
    # BEGIN SOLUTION: validate, normalise the weights, then take the weighted average
    if any(w < 0 for w in weights.values()):
        raise ValueError("weights are shares of traffic and cannot be negative")
    total = sum(weights.values())
    if total <= 0:
        raise ValueError("the weights sum to 0: the mix sends no traffic anywhere")
    missing = [m for m in weights if m not in cost_per_request]
    if missing:
        raise KeyError(f"no cost per request for {missing}")
    return sum(w / total * cost_per_request[m] for m, w in weights.items())
    # END SOLUTION


# %%
check("8.2", blended_cost)

# %% [markdown]
# ## 8.3 A budget breaker on a fake clock
#
# Complete `HourlyBudget(cap, clock=time.time, window_s=WINDOW_S)`: a spend cap per window of `window_s`
# seconds (an hour by default). Time comes from `clock()`, seconds as a float, so a test can drive it with
# a `ManualClock`.
#
# - `allow(estimated_cost)` is asked **before** a call: `True` when the spend recorded in the current
#   window plus the call's estimate stays within the cap (ending exactly at the cap is fine), else `False`.
#   It records nothing.
# - `record(cost)` adds a call's real cost to the current window, after the call.
# - `spent()` is the USD recorded in the current window.
# - Windows are aligned on the clock: the window holding time `t` is `[k × window_s, (k + 1) × window_s)`
#   with `k = floor(t / window_s)`, so with the default a new window starts exactly on every hour.
#
# A common mistake is a breaker that compares the spend *so far* with the cap and records spend only after the call, so the
# call that crosses the cap still goes out. Yours refuses it.

# %%
class HourlyBudget:
    """Refuses a call whose estimated cost could take the current window's spend past `cap` USD."""

    def __init__(self, cap: float, *, clock: Callable[[], float] = time.time, window_s: float = WINDOW_S) -> None:
        # BEGIN SOLUTION: keep the cap, the clock and spend per window
        self.cap, self.clock, self.window_s = cap, clock, window_s
        self._spent: dict[int, float] = {}
        # END SOLUTION

    def allow(self, estimated_cost: float) -> bool:
        """True if spend in this window plus `estimated_cost` stays within the cap."""
        # BEGIN SOLUTION: compare spend so far plus this call's estimate with the cap
        return self.spent() + estimated_cost <= self.cap
        # END SOLUTION

    def record(self, cost: float) -> None:
        """Add a call's real cost to the current window."""
        # BEGIN SOLUTION: add to the window that holds the current time
        window = int(self.clock() // self.window_s)
        self._spent[window] = self._spent.get(window, 0.0) + cost
        # END SOLUTION

    def spent(self) -> float:
        """USD recorded in the current window."""
        # BEGIN SOLUTION: look up the window that holds the current time
        return self._spent.get(int(self.clock() // self.window_s), 0.0)
        # END SOLUTION


# %%
check("8.3", HourlyBudget)

# %% [markdown]
# ### Your breaker against the 3 am runaway
#
# The lesson's stuck agent (scripted: its draft is cut at `max_tokens`, so it never finishes) behind your
# breaker, with a $5 hourly cap and an estimate of $0.19 a call (slightly above the real $0.18018).

# %%
from course_lib.cost import request_cost
from course_lib.lessons.l08_token_economics.runaway import agent_messages, clock_label, stuck_agent_provider

clock = ManualClock(3 * 3600)
budget = HourlyBudget(5.0, clock=clock)
agent = stuck_agent_provider("gpt-4")
while budget.allow(0.19) and len(agent.calls) < 1000:
    reply = agent.complete(agent_messages(), max_tokens=2000)
    budget.record(request_cost(reply, "gpt-4").total)
    clock.advance(0.6)
print(f"{len(agent.calls)} calls, ${budget.spent():.5f} of the $5.00 cap, stopped at {clock_label(clock())}")
