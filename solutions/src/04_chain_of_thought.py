# %% [markdown]
# # Exercise 04 · Chain of thought
#
# Five pieces of the lesson's engineering (`notebooks/04_chain_of_thought.ipynb`). Complete each function
# where it says so, run its `check(...)` cell for instant feedback, and grade the whole notebook with
# `course grade exercises/04_chain_of_thought.ipynb`. Use only the standard library.

# %% tags=["parameters"]
POLICY_WINDOWS = {"defective_product": 90, "changed_mind": 30, "shipping_damage": 14, "other": 30}

# %%
import json
import re
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta

from course_lib.grading import check

# %% [markdown]
# ## 4.1 A chain-of-thought request
#
# Return the messages for a chain-of-thought request: first a **system** message that asks the model to
# reason in numbered steps (`Step 1: …`, `Step 2: …`) and to finish with one line `Answer: <answer>`,
# then the question, unchanged, as the **user** message. The wording of the instructions is yours; the
# format contract (steps, then an `Answer:` line) is what 4.2 relies on. A question may contain braces or
# `%` signs. Raise `ValueError` for an empty (or blank) question.

# %%
def cot_messages(question: str) -> list[dict[str, str]]:
    """A system message asking for numbered steps and a final 'Answer:' line, then the question."""
    # BEGIN SOLUTION: build the system message and the user message
    if not question or not question.strip():
        raise ValueError("the question is empty")
    system = (
        "Work through the question step by step before you answer.\n"
        'Write each step on its own line: "Step 1: ...", "Step 2: ...".\n'
        'Finish with one line "Answer: <your answer>" and write nothing after it.'
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": question}]
    # END SOLUTION


# %%
check("4.1", cot_messages)

# %% [markdown]
# ## 4.2 Read the final answer, not the first number
#
# A reply restates the question's numbers before it concludes, so the first number is usually wrong.
# Return, as a `float`:
#
# - the first number on the **last** line that starts with `Answer:` (any case; `Final answer:` counts
#   too); if that line has no number, return `None` rather than guess from the reasoning;
# - with no `Answer:` line at all, the **last** number in the text (the conclusion comes last);
# - `None` when there is no number.
#
# Numbers may be negative and have decimals (`-4.5`, `9.80`); a `$` before a number is not part of it.

# %%
def final_answer(text: str) -> float | None:
    """The number on the last 'Answer:' line, else the last number in the text, else None."""
    # BEGIN SOLUTION: find the last Answer line, then the number on it
    number = re.compile(r"-?\d+(?:\.\d+)?")
    answer_lines = re.findall(r"(?im)^\s*(?:final\s+)?answer\s*:(.*)$", text)
    if answer_lines:
        found = number.search(answer_lines[-1])
        return float(found.group()) if found else None
    numbers = number.findall(text)
    return float(numbers[-1]) if numbers else None
    # END SOLUTION


# %%
check("4.2", final_answer)

# %% [markdown]
# ## 4.3 The refund policy, checked in code
#
# The model reads a refund request and replies with its reasoning as JSON, for example
# `{"days_elapsed": 30, "category": "changed_mind", "decision": "APPROVE"}`. Its numbers are claims.
# Given the `order` (`purchased_at` and `requested_at` as ISO 8601 text such as `"2024-01-15"` or
# `"2024-01-15T14:30:00"`; use `datetime.fromisoformat`) and the `claim`, return a dict:
#
# - `"days"`: the time elapsed, in days, as a float (30 days and 12 hours is 30.5);
# - `"decision"`: `"APPROVE"` if the refund was requested **at most** `windows[category]` days after the
#   purchase (exactly 30 days is inside a 30-day window; 30 days and 1 hour is not), else `"DENY"`; the
#   category comes from the claim, and a category not in `windows` gives `"REVIEW"` (a person decides);
# - `"days_ok"`: whether the claim's `days_elapsed` equals the whole days that elapsed;
# - `"decision_ok"`: whether the claim's `decision` equals yours.
#
# Raise `ValueError` when the refund was requested before the purchase. Careful: `timedelta.seconds` is
# not the whole duration.

# %%
def audit_refund(order: dict, claim: dict, windows: dict[str, int] = POLICY_WINDOWS) -> dict:
    """Recompute the days, apply the policy window, and compare with the model's claim."""
    # BEGIN SOLUTION: compute the elapsed time, the decision, and the comparison
    elapsed = datetime.fromisoformat(order["requested_at"]) - datetime.fromisoformat(order["purchased_at"])
    if elapsed < timedelta(0):
        raise ValueError("the refund was requested before the purchase")
    days = elapsed.total_seconds() / 86400
    window = windows.get(claim["category"])
    if window is None:
        decision = "REVIEW"
    else:
        decision = "APPROVE" if elapsed <= timedelta(days=window) else "DENY"
    return {
        "days": days,
        "decision": decision,
        "days_ok": claim["days_elapsed"] == int(days),
        "decision_ok": claim["decision"] == decision,
    }
    # END SOLUTION


# %%
check("4.3", audit_refund)

# %% [markdown]
# ## 4.4 Steps from a stream cut anywhere
#
# A streamed reply carries one JSON object per line, `{"step": "...", "content": "..."}`, but the server
# cuts the text into pieces wherever it likes: one piece may end a line and start the next
# (`'\n{"step":'`). Write a generator that reads the pieces and **yields each step as soon as its line is
# complete**, so the user sees it while the rest is still streaming. Skip blank lines; a last line with
# no newline still counts when the stream ends; a line that is not JSON raises `ValueError`
# (`json.JSONDecodeError` is one). Any way of cutting the same text must give the same steps.

# %%
def iter_steps(deltas: Iterable[str]) -> Iterator[dict]:
    """Yield each JSON-line step as soon as its line is complete."""
    # BEGIN SOLUTION: keep a buffer, split at newlines, keep the unfinished tail
    buffer = ""
    for delta in deltas:
        buffer += delta
        *lines, buffer = buffer.split("\n")
        for line in lines:
            if line.strip():
                yield json.loads(line)
    if buffer.strip():
        yield json.loads(buffer)
    # END SOLUTION


# %%
check("4.4", iter_steps)

# %% [markdown]
# ## 4.5 The refund prompt that 4.3 audits
#
# 4.3 checks a model's refund claim; write the request that makes the model produce one.
# `refund_messages(request, windows)` returns the messages for a refund request `request` (the customer's
# text) under the policy `windows` (category → days):
#
# - one or more **system** messages that state the policy: **every** category of `windows` by its exact
#   name, each with its window in days written in digits **on the same line** (e.g.
#   `- late_delivery: 7 days`);
# - the two decisions, `APPROVE` and `DENY`, by these exact names;
# - a reply format code can parse: JSON only, with the keys `days_elapsed`, `category` and `decision`
#   (listing `days_elapsed` first lets the model work out the days before it decides);
# - the customer's text, unchanged, as the **last** message, a user message.
#
# The wording is yours. The check sends your messages to a scripted model that only knows the windows the
# system messages state (it assumes 30 days otherwise), only uses decision names and keys it is given,
# and grades the decision it returns.

# %%
def refund_messages(request: str, windows: dict[str, int]) -> list[dict]:
    """A system message with the policy windows, the decisions and the JSON format; the request last."""
    # BEGIN SOLUTION: one line per policy window, the decisions, the JSON keys; the request as the user turn
    system = "\n".join(
        [
            "You decide refund requests under this policy. A refund is allowed if it is requested at most",
            "the category's window after the purchase:",
            *(f"- {category}: {days} days" for category, days in windows.items()),
            "First work out how many whole days passed since the purchase, then decide APPROVE or DENY.",
            'Reply with JSON only: {"days_elapsed": <days>, "category": "<category>", "decision": "APPROVE"}',
        ]
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": request}]
    # END SOLUTION


# %%
check("4.5", refund_messages)
