# %% [markdown]
# # Exercise 01: garbage in, garbage out
#
# Five pieces of the banking support bot from lesson 01 (`notebooks/01_gigo.ipynb`). Complete each function
# where it says so, run its `check(...)` cell for instant feedback, and grade the whole notebook with
# `course grade exercises/01_gigo.ipynb`.
#
# The checks call your functions with their own inputs, scripted models and fake classifiers, so any
# correct implementation passes; each failure says what was called, what came back and what was expected.

# %% tags=["parameters"]
MIN_CONFIDENCE = 0.6

# %%
import re

from course_lib.grading import check

# %% [markdown]
# ## 1.1 The intent classifier's prompt
#
# The cheap tier asks a small model which category a query belongs to. Write
# `intent_messages(query, categories)` returning the chat messages for that call:
#
# - list **every** category by its exact name (build the list from `categories`, never a fixed list), and
#   ask for exactly one of them;
# - put the customer's text **unchanged** in a user message, and end with that user message (customer
#   text never goes into the system instructions, and braces or `%` in it must survive);
# - ask for a reply code can parse: JSON with a `"category"` key, e.g. `{"category": "<one of the
#   categories>"}` (you may ask for a confidence too). An example that names a real label only fits the
#   category sets that contain it: use a placeholder, or a label taken from `categories`.
#
# The check sends your messages to a scripted model that answers only what the request makes answerable,
# in the format it asks for, and parses the reply.

# %%
def intent_messages(query: str, categories: list[str]) -> list[dict]:
    """Messages asking a small model to put the query in exactly one of the categories, as JSON."""
    # BEGIN SOLUTION: a system message with the categories and the JSON format, then the query as the user turn
    system = (
        "You classify customer support messages. Choose exactly one category from this list: "
        + ", ".join(categories)
        + '.\nReply with JSON only, like {"category": "<one of the categories>", "confidence": 0.9}.'
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": query}]
    # END SOLUTION


# %%
check("1.1", intent_messages)

# %% [markdown]
# ## 1.2 FAQ rules with `re.search`
#
# Write `faq_answer(query, rules)`. `rules` is a list of `(pattern, answer)` pairs, where each pattern is a
# regular expression. Return the answer of the **first** rule whose pattern is found **anywhere** in the
# query, ignoring case; return `None` when no rule matches. (A common mistake is a loop that calls `re.match`, which only
# matches at the start of the text.)

# %%
def faq_answer(query: str, rules: list[tuple[str, str]]) -> str | None:
    """The canned answer of the first rule found anywhere in the query (any case), or None."""
    # BEGIN SOLUTION: re.search with IGNORECASE, first match wins
    for pattern, answer in rules:
        if re.search(pattern, query, re.IGNORECASE):
            return answer
    return None
    # END SOLUTION


# %%
check("1.2", faq_answer)

# %% [markdown]
# ## 1.3 Choose the tier
#
# Write `choose_tier(query, *, faq, classify, routes, min_confidence=MIN_CONFIDENCE)` returning the name of
# the tier that answers the query:
#
# - `faq(query)` returns a canned answer or `None`. If it returns an answer, the tier is `"faq"`, and the
#   classifier must **not** be called (the free tier exists to avoid model calls).
# - Otherwise call `classify(query)` once; it returns `(category, confidence)`.
# - A confidence **below** `min_confidence` escalates to `"large"`. (Equal is not below.)
# - Otherwise the tier is `routes[category]`, and `"large"` for a category with no route.

# %%
def choose_tier(query: str, *, faq, classify, routes: dict[str, str], min_confidence: float = MIN_CONFIDENCE) -> str:
    """'faq' when a rule answers; else the category's route, or 'large' when unsure or unrouted."""
    # BEGIN SOLUTION: rules first, then one classifier call, then the confidence bar and the route
    if faq(query) is not None:
        return "faq"
    category, confidence = classify(query)
    if confidence < min_confidence:
        return "large"
    return routes.get(category, "large")
    # END SOLUTION


# %%
check("1.3", choose_tier)

# %% [markdown]
# ## 1.4 Daily cost per tier, and in total
#
# You ran a sample batch and know the tier at which each query ended (`tiers`, e.g.
# `["faq", "large", "small", ...]`). Write `daily_cost(tiers, cost_per_query, queries_per_day)` projecting
# that mix to a day's traffic:
#
# - return a dict with one entry per tier of `cost_per_query` (in dollars per day; `0.0` for a tier no query
#   reached) plus `"total"`, the sum over **all** tiers;
# - a tier's daily cost is its share of the batch × `queries_per_day` × its cost per query;
# - raise `ValueError` for an empty batch, and for a tier in `tiers` that has no entry in `cost_per_query`
#   (name it in the message).

# %%
def daily_cost(tiers: list[str], cost_per_query: dict[str, float], queries_per_day: float) -> dict[str, float]:
    """Each tier's cost per day, and the total, for the tier mix of a sample batch."""
    # BEGIN SOLUTION: shares of the batch, times traffic and cost per query, summed over every tier
    if not tiers:
        raise ValueError("the batch is empty: there is no tier mix to project")
    unknown = sorted(set(tiers) - set(cost_per_query))
    if unknown:
        raise ValueError(f"no cost per query for tier(s) {unknown}")
    per_day = {
        tier: tiers.count(tier) / len(tiers) * queries_per_day * cost for tier, cost in cost_per_query.items()
    }
    return {**per_day, "total": sum(per_day.values())}
    # END SOLUTION


# %%
check("1.4", daily_cost)

# %% [markdown]
# ## 1.5 From a vague prompt to a specific one
#
# The bot's first answer prompt was the customer's text alone, `[{"role": "user", "content": query}]`:
# the model had to guess what the bank offers, when to give up and how long to write, and it guessed.
# Write `grounded_messages(query, facts, fallback, max_words)`, the specific version:
#
# - one or more **system** messages that give the model every fact of `facts` word for word, and tell
#   it to answer only from them;
# - the exact reply to give when the facts do not answer the question: `fallback`, quoted in the
#   instructions as it is (so the model can copy it);
# - the length limit: at most `max_words` words, with the number written in digits;
# - the customer's text, unchanged, as the **last** message, a user message (customer text never goes
#   into the system instructions; braces or `%` in any of the texts must survive).
#
# The wording is yours. The check sends your messages to a scripted model that only knows what the
# system messages tell it, only falls back or keeps to the limit when told how, and grades its replies.

# %%
def grounded_messages(query: str, facts: list[str], fallback: str, max_words: int) -> list[dict]:
    """Messages that ground the answer in the facts, say what to reply when they do not cover it, and cap its length."""
    # BEGIN SOLUTION: the facts, the fallback and the limit in the system message; the query last
    system = "\n".join(
        [
            "You answer customer questions for the bank's support chat.",
            "Answer only from these facts; do not add anything they do not say:",
            *(f"- {fact}" for fact in facts),
            f'If the facts do not answer the question, reply exactly: "{fallback}"',
            f"Keep the answer to at most {max_words} words.",
        ]
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": query}]
    # END SOLUTION


# %%
check("1.5", grounded_messages)

# %% [markdown]
# ## Putting it together
#
# The lesson's batch, routed by your functions: Example Bank's FAQ rules, the batch's labels standing in
# for a perfect classifier, and the assumed per-tier costs for 100,000 queries a day.

# %%
from course_lib.lessons.l01_gigo.banking import ASSUMED_TIER_COSTS, load_banking_kb
from course_lib.lessons.l01_gigo.scenario import BANKING_BATCH

kb = load_banking_kb()
rules = [(rule.pattern, rule.answer) for rule in kb.faq]
labels = dict(BANKING_BATCH)
tiers = [
    choose_tier(q, faq=lambda q: faq_answer(q, rules), classify=lambda q: (labels[q], 0.9), routes=kb.tiers)
    for q in labels
]
costs = daily_cost(tiers, {name: tier.cost_per_query for name, tier in ASSUMED_TIER_COSTS.items()}, 100_000)
print({name: tiers.count(name) for name in ASSUMED_TIER_COSTS})
print({name: round(value) for name, value in costs.items()})

# %% [markdown]
# ## Done?
#
# Grade the whole notebook: `course grade exercises/01_gigo.ipynb`. The grader runs every check itself,
# whatever cells you ran or deleted.
