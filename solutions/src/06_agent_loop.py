# %% [markdown]
# # Exercise 06 · The agent loop
#
# Four pieces of the lesson's engineering (`notebooks/06_agent_loop.ipynb`): the loop's termination
# logic, memory tiers, a context builder that never breaks its budget, and the map step of a large
# pull-request review. Complete each function or class where it says so, run its `check(...)` cell for
# instant feedback, and grade the whole notebook with `course grade exercises/06_agent_loop.ipynb`.

# %% tags=["parameters"]
MODEL = "gpt-4o-mini"
REVIEW_INSTRUCTIONS = (
    "You review one file of a pull request. Reply with one JSON object only: "
    '{"summary": "<one sentence>", "severity": <0-10, 0 if the file is fine>}'
)

# %%
import json
from collections.abc import Callable

from course_lib.grading import check
from course_lib.tokens import count_message_tokens

# %% [markdown]
# ## 6.1 Termination: the loop always stops
#
# Write the controller of an agent loop. `next_step(history)` is the model: it receives the list of
# steps so far and returns the next step, a dict with a `"step_type"` (and an `"answer"` when the step
# type is `"final_answer"`). Call it, append the step to the history, and repeat until
#
# - it returns a `"final_answer"` step: return `{"status": "answered", "answer": <its answer>, ...}`, or
# - it has been called `max_iterations` times without a final answer: return
#   `{"status": "max_iterations", "answer": None, ...}`. Never call it more often than that (a final
#   answer on the last allowed call still counts).
#
# Both results also carry `"iterations"` (how many times `next_step` was called) and `"steps"` (every
# step it returned, in order). Each call must see all earlier steps in `history`. Raise `ValueError` when
# `max_iterations` is below 1.

# %%
def run_loop(next_step: Callable[[list[dict]], dict], max_iterations: int) -> dict:
    """Call next_step until a final answer or max_iterations calls; say which."""
    # BEGIN SOLUTION: the loop, the history update and both stop conditions
    if max_iterations < 1:
        raise ValueError(f"max_iterations must be at least 1, got {max_iterations}")
    history: list[dict] = []
    for iteration in range(1, max_iterations + 1):
        step = next_step(list(history))
        history.append(step)
        if step.get("step_type") == "final_answer":
            return {"status": "answered", "answer": step.get("answer"), "iterations": iteration, "steps": history}
    return {"status": "max_iterations", "answer": None, "iterations": max_iterations, "steps": history}
    # END SOLUTION


# %%
check("6.1", run_loop)

# %% [markdown]
# ## 6.2 Memory tiers: working → short-term → long-term
#
# `TieredMemory(summarise, working_limit, short_term_limit)` keeps three lists, oldest first:
#
# - `working`: the most recent steps, verbatim, at most `working_limit` of them;
# - `short_term`: summaries of the steps that left working memory, at most `short_term_limit`;
# - `long_term`: every summary that left short-term memory (unbounded here; a real agent puts these in a
#   vector store).
#
# `add(step)` appends the step to working memory. When working memory is over its limit, its **oldest**
# step leaves, is summarised with `summarise(step)` (once), and the summary joins short-term memory; when
# short-term memory is over its limit, its **oldest** summary moves, unchanged, to long-term memory.
# Raise `ValueError` if either limit is below 1.

# %%
class TieredMemory:
    """Working, short-term and long-term memory with promotion of the oldest entries."""

    def __init__(self, summarise: Callable[[str], str], working_limit: int = 3, short_term_limit: int = 5):
        # BEGIN SOLUTION: check the limits and start with three empty lists
        if working_limit < 1 or short_term_limit < 1:
            raise ValueError("both limits must be at least 1")
        self.summarise = summarise
        self.working_limit = working_limit
        self.short_term_limit = short_term_limit
        self.working: list[str] = []
        self.short_term: list[str] = []
        self.long_term: list[str] = []
        # END SOLUTION

    def add(self, step: str) -> None:
        """Add a step and move the oldest entries down the tiers."""
        # BEGIN SOLUTION: append, then promote the oldest entries while a tier is over its limit
        self.working.append(step)
        if len(self.working) > self.working_limit:
            oldest = self.working.pop(0)
            self.short_term.append(self.summarise(oldest))
        if len(self.short_term) > self.short_term_limit:
            self.long_term.append(self.short_term.pop(0))
        # END SOLUTION


# %%
check("6.2", TieredMemory)

# %% [markdown]
# ## 6.3 A context within a token budget
#
# Build the messages for the next call: the system prompt, then the task as a user message, then the
# steps as assistant messages (`{"role": "assistant", "content": step}`), oldest first. When the whole
# thing is over `budget` tokens, drop the **oldest** steps until it fits, keeping as many recent steps as
# fit. Count the tokens of the whole request with `count_message_tokens(messages, model)`: every message
# costs a few tokens of framing on top of its content, and the reply primer a few more. The system prompt
# and the task are always kept; if they alone exceed the budget, raise `ValueError`. Don't change the
# list you are given.

# %%
def build_context(system: str, task: str, steps: list[str], budget: int, model: str = MODEL) -> list[dict]:
    """System prompt, task, and the most recent steps that fit in budget tokens."""
    # BEGIN SOLUTION: keep the longest run of recent steps that fits, counted with count_message_tokens
    head = [{"role": "system", "content": system}, {"role": "user", "content": task}]
    if count_message_tokens(head, model) > budget:
        raise ValueError("the system prompt and the task alone exceed the budget")
    kept: list[dict] = []
    for step in reversed(steps):
        candidate = [{"role": "assistant", "content": step}, *kept]
        if count_message_tokens(head + candidate, model) > budget:
            break
        kept = candidate
    return head + kept
    # END SOLUTION


# %%
check("6.3", build_context)

# %% [markdown]
# ## 6.4 Map: one review per file, no history between files
#
# The map step of the lesson's pull-request review. `files` is a list of `(path, diff)` pairs. For each
# file, send a request of exactly two messages, the system message `REVIEW_INSTRUCTIONS` and a user
# message holding the file's path and diff, with `provider.complete(messages, temperature=0)`. Never put
# two files in one request. A reply is valid when `json.loads` gives a dict with a non-empty string
# `"summary"` and an integer `"severity"` from 0 to 10. If it is not, ask once more: the same two
# messages, then the bad reply as an assistant message, then a user message that says what was wrong. If
# that reply is valid too, use it; otherwise the file's result is `None`, and the review goes on.
#
# Return a dict mapping each path, in the order given, to `{"summary": ..., "severity": ...}` or `None`.

# %%
def review_files(provider, files: list[tuple[str, str]]) -> dict[str, dict | None]:
    """One call per file (plus one correction at most); path -> summary and severity, or None."""
    # BEGIN SOLUTION: validate each reply, correct once, never mix files
    def problem(text: str) -> str | None:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            return f"not valid JSON: {exc}"
        if not isinstance(data, dict):
            return "the reply must be a JSON object"
        summary, severity = data.get("summary"), data.get("severity")
        if not isinstance(summary, str) or not summary.strip():
            return '"summary" must be a non-empty string'
        if isinstance(severity, bool) or not isinstance(severity, int) or not 0 <= severity <= 10:
            return '"severity" must be an integer from 0 to 10'
        return None

    results: dict[str, dict | None] = {}
    for path, diff in files:
        messages = [
            {"role": "system", "content": REVIEW_INSTRUCTIONS},
            {"role": "user", "content": f"File: {path}\n```diff\n{diff}\n```"},
        ]
        reply = provider.complete(messages, temperature=0).text
        error = problem(reply)
        if error is not None:
            retry = [*messages, {"role": "assistant", "content": reply},
                     {"role": "user", "content": f"Your reply could not be used: {error}. Reply with the JSON object only."}]  # fmt: skip
            reply = provider.complete(retry, temperature=0).text
            error = problem(reply)
        if error is None:
            data = json.loads(reply)
            results[path] = {"summary": data["summary"], "severity": data["severity"]}
        else:
            results[path] = None
    return results
    # END SOLUTION


# %%
check("6.4", review_files)
