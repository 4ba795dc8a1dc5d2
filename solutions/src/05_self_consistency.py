# %% [markdown]
# # Exercise 05 · Self-consistency
#
# Four pieces of the lesson's engineering (`notebooks/05_self_consistency.ipynb`): a majority vote that
# reports ties, a vote weighted by the model's own confidence, the gate that decides between answering
# and escalating, and the early-stopping rule. Complete each function where it says so, run its
# `check(...)` cell for instant feedback, and grade the whole notebook with
# `course grade exercises/05_self_consistency.ipynb`. Use only the standard library (no `course_lib`
# voting functions): the checks compare your code with hand-worked cases and generated ones, so any
# correct implementation passes, and each failure says what was called, what came back and why.

# %% tags=["parameters"]
HIGH = 0.85
MODERATE = 0.70

# %%
import math
from dataclasses import dataclass

from course_lib.grading import check


@dataclass(frozen=True)
class Tally:
    """The outcome of a majority vote."""

    winner: str | None  # the answer with the most votes (None when no sample answered)
    counts: dict[str, int]  # votes per answer; abstentions (None) are not an answer
    tied: list[str]  # every answer sharing the top count when two or more do, else []
    total: int  # samples taken, abstentions included


# %% [markdown]
# ## 5.1 Majority vote that reports ties
#
# Write `majority_vote(answers)`. Each entry is one sample's answer, or `None` when the sample had no
# readable answer. Return a `Tally`:
#
# - `counts`: how many samples gave each answer (`None` is not counted as an answer);
# - `total`: the number of samples, **abstentions included**, so unreadable samples lower the agreement;
# - `winner`: the answer with the most votes; on a tie, the tied answer that appears **first** in
#   `answers`; `None` when no sample answered;
# - `tied`: when two or more answers share the top count, all of them (any order); otherwise `[]`.
#
# `["B", "A", "A", "B", None]` is a tie: winner `"B"`, tied `["B", "A"]`, total 5. A tie that is broken
# silently looks like a real majority; reporting it lets the gate (5.3) escalate it.

# %%
def majority_vote(answers: list[str | None]) -> Tally:
    """Count the answers, pick the winner (first seen on a tie), and report ties and the total."""
    # BEGIN SOLUTION: count, find the top count, then the winner and the tied answers
    counts: dict[str, int] = {}
    for answer in answers:
        if answer is not None:
            counts[answer] = counts.get(answer, 0) + 1
    best = max(counts.values(), default=0)
    leaders = [a for a in counts if counts[a] == best]  # a dict keeps first-seen order
    return Tally(
        winner=leaders[0] if leaders else None,
        counts=counts,
        tied=leaders if len(leaders) > 1 else [],
        total=len(answers),
    )
    # END SOLUTION


# %%
check("5.1", majority_vote)

# %% [markdown]
# ## 5.2 Vote weighted by confidence
#
# Write `weighted_vote(answers, logprobs)`. `logprobs[i]` is the list of token log-probabilities of
# sample *i* (each ≤ 0), or `None` / `[]` when the provider sent none.
#
# - A sample's confidence is `exp(mean of its token logprobs)`: the geometric mean of its token
#   probabilities, in (0, 1]. A sample without logprobs weighs 1.0.
# - An answer's score is the sum of the confidences of the samples that gave it; `None` answers vote for
#   nothing.
# - Return `(winner, scores)`: the answer with the highest score (the first seen on equal scores), and
#   the dict of scores. With no answers, return `(None, {})`.
#
# Log-probabilities are negative: adding them up as they are would make the *least* sure samples count
# most. With `["A", "B", "B"]` and logprobs `[[-0.05], [-0.7], [-0.7]]`, B wins (about 0.99 to 0.95).

# %%
def weighted_vote(answers: list[str | None], logprobs: list[list[float] | None]) -> tuple[str | None, dict[str, float]]:
    """Sum exp(mean logprob) per answer; the answer with the largest sum wins."""
    # BEGIN SOLUTION: a confidence per sample, summed per answer, then the largest score
    scores: dict[str, float] = {}
    for answer, tokens in zip(answers, logprobs, strict=True):
        if answer is None:
            continue
        confidence = math.exp(sum(tokens) / len(tokens)) if tokens else 1.0
        scores[answer] = scores.get(answer, 0.0) + confidence
    if not scores:
        return None, {}
    return max(scores, key=scores.get), scores  # max keeps the first of equal scores
    # END SOLUTION


# %%
check("5.2", weighted_vote)

# %% [markdown]
# ## 5.3 The gate: answer, caveat or escalate
#
# Write `decide(counts, total, *, high=HIGH, moderate=MODERATE)`. `counts` maps each answer to its votes;
# `total` is the number of samples, abstentions included. The agreement is the top count divided by
# `total`. Return
#
# - `"escalate"` when there are no votes, or when the top count is shared by two or more answers (a tie);
# - otherwise `"high"` when the agreement is **at least** `high`, `"moderate"` when it is at least
#   `moderate`, and `"escalate"` below that.
#
# With seven samples and the lesson's thresholds (0.85 and 0.70): 6/7 is high, 5/7 is moderate, 4/7 escalates.

# %%
def decide(counts: dict[str, int], total: int, *, high: float = HIGH, moderate: float = MODERATE) -> str:
    """Map a vote to 'high', 'moderate' or 'escalate'; ties and empty votes escalate."""
    # BEGIN SOLUTION: no votes or a tie escalate; otherwise compare the agreement with the thresholds
    votes = [c for c in counts.values() if c > 0]
    if not votes or total <= 0:
        return "escalate"
    top = max(votes)
    if votes.count(top) > 1:
        return "escalate"
    agreement = top / total
    if agreement >= high:
        return "high"
    if agreement >= moderate:
        return "moderate"
    return "escalate"
    # END SOLUTION


# %%
check("5.3", decide)

# %% [markdown]
# ## 5.4 Early stopping: when is the winner fixed?
#
# A run plans `n` samples and reads them one by one. After `k` samples it can stop once the leader's count
# minus the runner-up's count is **greater than** the `n - k` samples still to come: then no answer can
# catch up with the leader, not even tie. (With only one answer so far, the runner-up has 0.)
#
# Write `samples_needed(answers, n)`: the smallest such `k` for the answers in the order given, or
# `len(answers)` when the winner is never fixed early. `answers` has at most `n` entries and no `None`.

# %%
def samples_needed(answers: list[str], n: int) -> int:
    """How many of the answers, in order, a run of n samples needs before its winner is fixed."""
    # BEGIN SOLUTION: keep counts as samples arrive; stop when the margin beats the samples left
    counts: dict[str, int] = {}
    for k, answer in enumerate(answers, start=1):
        counts[answer] = counts.get(answer, 0) + 1
        ranked = sorted(counts.values(), reverse=True)
        runner_up = ranked[1] if len(ranked) > 1 else 0
        if ranked[0] - runner_up > n - k:
            return k
    return len(answers)
    # END SOLUTION


# %%
check("5.4", samples_needed)

# %% [markdown]
# ## Putting it together
#
# Seven triage samples, one of them unreadable: a vote, its weighted twin and the gate's decision.

# %%
samples = ["SCHEDULE", "SCHEDULE", None, "MONITOR", "SCHEDULE", "SCHEDULE", "MONITOR"]
tally = majority_vote(samples)
print(tally)
print("decision:", decide(tally.counts, tally.total))
print("weighted:", weighted_vote(samples, [[-0.1], [-0.2], None, [-0.05], [-0.3], [-0.1], [-0.02]]))
print("samples needed of 7:", samples_needed([s or "?" for s in samples], 7))
