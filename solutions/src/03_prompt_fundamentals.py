# %% [markdown]
# # Exercise 03: prompt engineering fundamentals
#
# You build the pieces of lesson 03's dynamic few-shot service: the few-shot request, a system prompt
# assembled from parts, a top-k example selector, the monthly cost of a static vs a dynamic prompt, and
# the classifier's few-shot prompt.
# Complete each function where it says `raise NotImplementedError`, run its `check(...)` cell for instant
# feedback, and grade the whole notebook with `course grade exercises/03_prompt_fundamentals.ipynb`.

# %% tags=["parameters"]
MODEL = "gpt-4o-mini"
REQUESTS_PER_MONTH = 100_000

# %%
import json
import math

from course_lib.cost import price_of
from course_lib.grading import check
from course_lib.tokens import count_message_tokens

# %% [markdown]
# ## 3.1 A few-shot message builder
#
# Return the chat messages of a few-shot request: the system message first when `system` is given (and
# not empty), then for each `(input, output)` example a `user` message with the input followed by an
# `assistant` message with the output, in order, and last the `query` as a `user` message. Every message
# is a dict `{"role": ..., "content": ...}`; use the texts exactly as given. An empty or blank query
# raises `ValueError`. Do not change the list you are given.

# %%
def build_few_shot(examples: list[tuple[str, str]], query: str, system: str | None = None) -> list[dict]:
    """System prompt, worked examples as user/assistant pairs, then the query."""
    # BEGIN SOLUTION: build the messages
    if not query.strip():
        raise ValueError("the query is empty")
    messages = [{"role": "system", "content": system}] if system else []
    for given, wanted in examples:
        messages.append({"role": "user", "content": given})
        messages.append({"role": "assistant", "content": wanted})
    messages.append({"role": "user", "content": query})
    return messages
    # END SOLUTION


# %%
check("3.1", build_few_shot)

# %% [markdown]
# ## 3.2 A system prompt from parts
#
# Assemble a system prompt from a role and three lists. Each part gets a heading on a line of its own,
# named `ROLE`, `CONSTRAINTS`, `OUTPUT FORMAT` and `TONE` (any style: `# ROLE`, `ROLE:`, `## Role` …), in
# that order. The role text goes under `ROLE`; each item of a list goes on its own line under its heading
# (a bullet list works). A list with no items gets no heading at all. A blank role raises `ValueError`.
# The wording around the parts is yours: the check looks at sections and content only.

# %%
def build_system_prompt(role: str, constraints: list[str], output_format: list[str], tone: list[str]) -> str:
    """One headed section per part that has content: role, constraints, output format, tone."""
    # BEGIN SOLUTION: assemble the sections
    if not role.strip():
        raise ValueError("a system prompt needs a role")
    sections = [f"# ROLE\n{role.strip()}"]
    for title, items in (("CONSTRAINTS", constraints), ("OUTPUT FORMAT", output_format), ("TONE", tone)):
        if items:
            sections.append(f"# {title}\n" + "\n".join(f"- {item}" for item in items))
    return "\n\n".join(sections)
    # END SOLUTION


# %%
check("3.2", build_system_prompt)

# %% [markdown]
# ## 3.3 Top-k example selection
#
# `examples` is a list of dicts with a `"text"` and a `"label"`. `embed` turns a list of texts into a list
# of vectors (lists of floats, **not** necessarily of length 1). Return the `k` examples whose texts are
# most similar to `query` by **cosine similarity**, most similar first; all of them, ranked, when `k` is
# larger than the list. `k < 1` raises `ValueError`. Return the example dicts themselves.

# %%
def top_k(query: str, examples: list[dict], k: int, embed) -> list[dict]:
    """The k examples nearest to the query by cosine similarity, nearest first."""
    # BEGIN SOLUTION: embed, score, rank
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    vectors = embed([query] + [e["text"] for e in examples])

    def cosine(a, b):
        dot = sum(x * y for x, y in zip(a, b))
        return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))

    scored = [(cosine(vectors[0], v), i) for i, v in enumerate(vectors[1:])]
    scored.sort(key=lambda pair: (-pair[0], pair[1]))
    return [examples[i] for _, i in scored[:k]]
    # END SOLUTION


# %%
check("3.3", top_k)

# %% [markdown]
# Try it on the course's 50 labelled contract clauses with the real offline MiniLM embedding model:

# %%
from course_lib.embeddings import embed
from course_lib.retrieval import load_examples

clauses = [e.model_dump() for e in load_examples()]
query = "The landlord may enter the flat for repairs after giving 24 hours' notice."
for example in top_k(query, clauses, 3, embed):
    print(f"{example['label']:10} {example['text'][:80]}")

# %% [markdown]
# ## 3.4 Static vs dynamic: the monthly bill
#
# Compare two prompts for the same job. Count each prompt's tokens with
# `count_message_tokens(messages, model)`, take the model's prices (USD per million tokens) from
# `price_of(model).input` and `.output`, and bill `output_tokens` of output per request. Return a dict
# with `static_tokens`, `dynamic_tokens` (per request), `static_usd`, `dynamic_usd` (per month, for
# `requests_per_month` requests) and `saving`: `1 - dynamic_usd / static_usd`, or `0.0` when `static_usd`
# is 0.

# %%
def monthly_costs(static_messages, dynamic_messages, *, model, requests_per_month, output_tokens) -> dict:
    """Tokens per request and USD per month of a static and a dynamic few-shot prompt."""
    # BEGIN SOLUTION: count, price, compare
    price = price_of(model)
    result = {}
    for name, messages in (("static", static_messages), ("dynamic", dynamic_messages)):
        tokens = count_message_tokens(messages, model)
        per_request = (tokens * price.input + output_tokens * price.output) / 1_000_000
        result[f"{name}_tokens"] = tokens
        result[f"{name}_usd"] = per_request * requests_per_month
    result["saving"] = 1 - result["dynamic_usd"] / result["static_usd"] if result["static_usd"] else 0.0
    return result
    # END SOLUTION


# %%
check("3.4", monthly_costs)

# %% [markdown]
# ## 3.5 The clause classifier's prompt
#
# Write the prompt the service sends: `clause_messages(clause, examples, labels)`, where `examples` is a
# list of dicts with a `"text"` and a `"label"` (the nearest clauses from 3.3) and `labels` the allowed
# categories. The request must have:
#
# - a **system** message that lists **every** label of `labels` by its exact name (from the argument,
#   never a fixed list) and asks for a reply that is JSON only: `{"label": "<one of the labels>"}`;
# - each example as a worked example in the right roles: its text in a **user** message, and the reply
#   you want for it, that JSON with its label, in the **assistant** message right after;
# - last, the clause, unchanged, as a **user** message.
#
# The wording is yours (`build_few_shot` and `build_system_prompt` from above may help). The check sends
# your messages to a scripted model that only picks from labels the system message lists, only writes
# JSON when asked to, and copies the reply format of the worked examples it is shown.

# %%
def clause_messages(clause: str, examples: list[dict], labels: list[str]) -> list[dict]:
    """Few-shot messages: the labels and the JSON format in the system message, worked examples, the clause."""
    # BEGIN SOLUTION: a system prompt from parts, examples as user/assistant pairs with JSON replies
    system = build_system_prompt(
        "You classify clauses of rental contracts.",
        ["Choose exactly one label from this list: " + ", ".join(labels) + "."],
        ['Reply with JSON only: {"label": "<one of the labels>"}.'],
        [],
    )
    pairs = [(e["text"], json.dumps({"label": e["label"]})) for e in examples]
    return build_few_shot(pairs, clause, system)
    # END SOLUTION


# %%
check("3.5", clause_messages)

# %% [markdown]
# Put the pieces together: all 50 clauses in every request, or only the 3 nearest.

# %%
system = build_system_prompt(
    "You classify contract clauses.",
    ["Answer with one of the categories shown in the examples."],
    ["The category name only, nothing else."],
    [],
)
pairs = [(e["text"], e["label"]) for e in clauses]
nearest = [(e["text"], e["label"]) for e in top_k(query, clauses, 3, embed)]
costs = monthly_costs(
    build_few_shot(pairs, query, system),
    build_few_shot(nearest, query, system),
    model=MODEL,
    requests_per_month=REQUESTS_PER_MONTH,
    output_tokens=10,
)
print(f"{costs['static_tokens']} vs {costs['dynamic_tokens']} prompt tokens; "
      f"${costs['static_usd']:,.2f} vs ${costs['dynamic_usd']:,.2f} a month; saving {costs['saving']:.0%}")
