# %% [markdown]
# # Exercise 11 · Evaluation
#
# Four pieces of lesson 11's evaluation pipeline (`notebooks/11_evaluation.ipynb`): a scorer that grades a
# JSON extraction field by field, a pass rate with its Wilson interval, the regression gate that blocks a
# prompt change, and a prompt of your own that must beat a threshold **on the real local model**.
# Complete each function where it says `raise NotImplementedError`, run its `check(...)` cell for instant
# feedback, and grade the whole notebook with `course grade exercises/11_evaluation.ipynb`. Use the
# standard library and the imports below.
#
# Question 11.4 runs SmolLM2-135M on this machine: it needs the `local` extra
# (`pip install 'course-lib[local]'`). The grader starts the model server when none is running; without
# the extra that question is reported as *not graded* and the total says the grade is incomplete.

# %% tags=["parameters"]
ALPHA = 0.05

# %%
import json
import math

from course_lib.grading import check

# %% [markdown]
# ## 11.1 A field-by-field JSON scorer
#
# An extraction step must return a JSON object with the fields of a known answer (`truth`). Write
# `score_extraction(answer, truth)` that returns a dict with `"valid"` and one entry per key of `truth`,
# every value a `bool`:
#
# - `"valid"` is `True` only when the whole answer, stripped of surrounding whitespace, parses as a JSON
#   **object**: a code fence, prose around it, a list or a reply cut off are not valid.
# - A field is right when the answer is valid and has that key with the right value: strings compare
#   ignoring case and surrounding spaces; anything else must be equal and of the same type (`"36"` is not
#   `36`). A missing key is a wrong field. When the answer is invalid, every field is wrong.

# %%
def score_extraction(answer: str, truth: dict) -> dict:
    """``{"valid": ..., <field>: ...}`` for one JSON answer against the known ``truth``."""
    # BEGIN SOLUTION: parse the whole answer, then compare field by field
    try:
        value = json.loads(answer.strip())
    except ValueError:
        value = None
    valid = isinstance(value, dict)
    scores = {"valid": valid}
    for key, expected in truth.items():
        got = value.get(key) if valid else None
        if isinstance(expected, str):
            right = isinstance(got, str) and got.strip().casefold() == expected.strip().casefold()
        else:
            right = valid and key in value and type(got) is type(expected) and got == expected
        scores[key] = bool(right)
    return scores
    # END SOLUTION


# %%
print(score_extraction('{"name": "ada lovelace", "age": "36"}', {"name": "Ada Lovelace", "age": 36, "city": "London"}))

# %%
check("11.1", score_extraction)

# %% [markdown]
# ## 11.2 A pass rate with its interval
#
# One run of a stochastic function proves little. Write `pass_rate_interval(passes)`: given one `bool`
# per answer, return `(rate, low, high)`, the pass rate and its 95 % **Wilson score interval** (z = 1.96):
#
# $$\text{centre} = \frac{p + \frac{z^2}{2n}}{1 + \frac{z^2}{n}}, \qquad
# \text{half} = \frac{z}{1 + \frac{z^2}{n}}\sqrt{\frac{p(1-p)}{n} + \frac{z^2}{4n^2}}$$
#
# clipped to [0, 1]. Raise `ValueError` for an empty list. (The normal approximation p ± 1.96·SE collapses
# to [0, 0] when nothing passed; Wilson does not.)

# %%
def pass_rate_interval(passes: list[bool], z: float = 1.96) -> tuple[float, float, float]:
    """The pass rate of ``passes`` and its Wilson interval, as ``(rate, low, high)``."""
    # BEGIN SOLUTION: the Wilson score interval
    n = len(passes)
    if n == 0:
        raise ValueError("no answers: no pass rate")
    p = sum(bool(x) for x in passes) / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return p, max(0.0, centre - half), min(1.0, centre + half)
    # END SOLUTION


# %%
rate, low, high = pass_rate_interval([True] * 37 + [False] * 7)
print(f"{rate:.1%} [{low:.1%}, {high:.1%}]")

# %%
check("11.2", pass_rate_interval)

# %% [markdown]
# ## 11.3 The regression gate
#
# Two prompt versions ran on the same cases and epochs: `baseline` and `candidate` map each case id to a
# list of `bool`s, one per epoch. Write `regression_gate(baseline, candidate, alpha=0.05)` that returns
# `True` when the candidate may ship and `False` when it regresses:
#
# - pair the answers (same case, same epoch) and count **lost** (passed before, fails now) and **gained**;
# - the exact McNemar test: with n = lost + gained and k = min(lost, gained),
#   p = min(1, 2 · Σ_{i ≤ k} C(n, i) / 2ⁿ) (p = 1 when n = 0);
# - block (`False`) when lost > gained and p < alpha; otherwise ship (`True`).
#
# Raise `ValueError` when the two runs do not cover the same cases (or the same number of epochs).

# %%
def regression_gate(baseline: dict, candidate: dict, alpha: float = ALPHA) -> bool:
    """True when ``candidate`` may ship: no significant paired regression against ``baseline``."""
    # BEGIN SOLUTION: pair the answers, count the flips, exact McNemar
    if set(baseline) != set(candidate):
        raise ValueError("the runs cover different cases")
    lost = gained = 0
    for case, before in baseline.items():
        after = candidate[case]
        if len(after) != len(before):
            raise ValueError(f"{case}: different numbers of epochs")
        lost += sum(b and not a for b, a in zip(before, after))
        gained += sum(a and not b for b, a in zip(before, after))
    n = lost + gained
    p = 1.0 if n == 0 else min(1.0, 2 * sum(math.comb(n, i) for i in range(min(lost, gained) + 1)) / 2**n)
    return not (lost > gained and p < alpha)
    # END SOLUTION


# %%
before = {f"case-{i}": [True] * 5 for i in range(10)}
after = {f"case-{i}": [i > 3] * 5 for i in range(10)}
print("ship" if regression_gate(before, after) else "blocked")

# %%
check("11.3", regression_gate)

# %% [markdown]
# ## 11.4 A prompt that beats the threshold on the real model
#
# The task of lesson 11: pull the person's full name out of one sentence and answer with exactly
# `{"name": "..."}`, nothing else. Write `name_messages(sentence)` that returns the chat messages to send:
# a system prompt, as many worked examples as you like (user / assistant turns), and the sentence as the
# last user message.
#
# The grader sends your messages to **SmolLM2-135M** at temperature 0 for sentences you have not seen, and
# counts the answers that are exactly `{"name": "<the right name>"}`. It needs **50 %** of them. The
# instruction alone scores far below that on this model (measured: see the lesson); worked examples are
# what a small model copies. Keep the prompt short: the grader has a minute.

# %%
def name_messages(sentence: str) -> list[dict]:
    """The messages that ask the model for ``{"name": ...}`` from ``sentence``."""
    # BEGIN SOLUTION: a system prompt and worked examples as chat turns
    system = 'Extract the full name of the person in the sentence. Reply with JSON only, exactly like {"name": "..."}.'
    examples = [
        ("Good morning, I'm Tomas Rivera from the Leeds office.", "Tomas Rivera"),
        ("The ticket was opened by Hannah Schmidt yesterday.", "Hannah Schmidt"),
        ("You can reach me, Kwame Mensah, on extension 214.", "Kwame Mensah"),
    ]
    messages = [{"role": "system", "content": system}]
    for text, name in examples:
        messages += [
            {"role": "user", "content": text},
            {"role": "assistant", "content": json.dumps({"name": name})},
        ]
    return messages + [{"role": "user", "content": sentence}]
    # END SOLUTION


# %%
for message in name_messages("Please forward this to Rafael Souza.")[-3:]:
    print(message)

# %% tags=["nbval-ignore-output"]
check("11.4", name_messages)

# %% [markdown]
# ## Done
#
# Grade the whole notebook with `course grade exercises/11_evaluation.ipynb`. The lesson's library versions
# are `course_lib.evals.scorers.json_fields`, `course_lib.evals.stats.wilson_interval` and
# `course_lib.evals.gate.gate` (run from CI as `python -m course_lib.evals.gate`).
