# %% [markdown]
# # Exercise 02: the anatomy of an API request
#
# Four pieces of the request layer from lesson 02 (`notebooks/02_api_request.ipynb`). Complete each function
# where it says so, run its `check(...)` cell for instant feedback, and grade the whole notebook with
# `course grade exercises/02_api_request.ipynb`.
#
# Messages are dicts with a `"role"` (`system`, `user`, `assistant`) and a string `"content"`. The
# checks compare your functions with the library's on many generated conversations, so any correct
# implementation passes; each failure says what was called, what came back and what was expected.

# %% tags=["parameters"]
LLAMA3_BOS = "<|begin_of_text|>"

# %%
from course_lib.conversation import BudgetTooSmallError
from course_lib.grading import check


# %% [markdown]
# ## 2.1 A byte-exact Llama-3 renderer
#
# A raw-completion server needs the chat rendered as the model's prompt string. Write
# `render_llama3(messages, add_generation_prompt=True)` for Meta-Llama-3-Instruct's official format:
#
# - the prompt starts with `LLAMA3_BOS` (`<|begin_of_text|>`);
# - each message is `<|start_header_id|>ROLE<|end_header_id|>`, **two** newlines, the content with the
#   whitespace around it trimmed, then `<|eot_id|>`, and **nothing** after `<|eot_id|>`;
# - with `add_generation_prompt=True`, it ends with the assistant's header and its two newlines, where
#   the model's answer begins.
#
# A common mistake puts one newline after each header and one after `<|eot_id|>`: the model never saw
# that layout in training. One wrong byte is a wrong answer here.

# %%
def render_llama3(messages: list[dict], add_generation_prompt: bool = True) -> str:
    """Render a chat as Meta-Llama-3-Instruct's prompt string."""
    # BEGIN SOLUTION: header, two newlines, trimmed content, <|eot_id|>; the assistant header at the end
    parts = [LLAMA3_BOS]
    for message in messages:
        role, content = message["role"], message["content"].strip()
        parts.append(f"<|start_header_id|>{role}<|end_header_id|>\n\n{content}<|eot_id|>")
    if add_generation_prompt:
        parts.append("<|start_header_id|>assistant<|end_header_id|>\n\n")
    return "".join(parts)
    # END SOLUTION


# %%
check("2.1", render_llama3)


# %% [markdown]
# ## 2.2 A sliding window that keeps the system prompt
#
# Write `sliding_window(messages, max_messages)`. The conversation may start with one system message;
# the messages after it start with a user message. Return a **new** list:
#
# - the system message (if there is one), always, first;
# - then the longest run of the most recent messages that has at most `max_messages` messages and starts
#   at a user message (or is the whole history), so the model never sees an answer whose question was cut;
# - with `max_messages=0`, the system message alone. (A common mistake, `messages[-max_history:]`, keeps
#   *everything* when `max_history` is 0, because `-0` is `0`.)

# %%
def sliding_window(messages: list[dict], max_messages: int) -> list[dict]:
    """The system prompt plus the longest recent run of at most max_messages messages starting at a user message."""
    # BEGIN SOLUTION: split off the system prompt, then find the earliest start that fits
    head = [m for m in messages[:1] if m["role"] == "system"]
    rest = messages[len(head) :]
    for start in range(len(rest) + 1):
        tail = rest[start:]
        if len(tail) <= max_messages and (start == 0 or not tail or tail[0]["role"] == "user"):
            return head + tail
    return head
    # END SOLUTION


# %%
check("2.2", sliding_window)


# %% [markdown]
# ## 2.3 A token-budget trimmer that terminates
#
# Write `trim_to_budget(messages, max_tokens, count)`, where `count(messages)` returns the prompt tokens of
# a message list (the checks pass their own counter). Messages are as in 2.2, with at least one user
# message. A *turn* is a user message and the replies after it. Return a new list:
#
# - the system message and the **latest turn** (the last user message and everything after it), always;
# - as many of the most recent earlier turns as fit: drop whole turns, oldest first, until
#   `count(result) <= max_tokens`;
# - if the system message and the latest turn alone are over budget, raise
#   `BudgetTooSmallError(needed, max_tokens)`, where `needed` is their count.
#
# A common mistake: a loop that pops the oldest message while the request is too big never ends when the system prompt alone is over
# budget. Yours must return or raise after at most one count per turn; the checks stop a function that
# takes longer than 2 seconds.

# %%
def trim_to_budget(messages: list[dict], max_tokens: int, count) -> list[dict]:
    """Drop the oldest turns until the prompt fits max_tokens; raise BudgetTooSmallError if it cannot."""
    # BEGIN SOLUTION: try the suffixes that start at a user message, longest first: a bounded loop
    head = [m for m in messages[:1] if m["role"] == "system"]
    rest = messages[len(head) :]
    starts = [i for i, m in enumerate(rest) if m["role"] == "user"]
    for start in starts:
        prompt = head + rest[start:]
        if count(prompt) <= max_tokens:
            return prompt
    raise BudgetTooSmallError(count(head + rest[starts[-1] :]), max_tokens)
    # END SOLUTION


# %%
check("2.3", trim_to_budget)


# %% [markdown]
# ## 2.4 One stateful chat turn
#
# The model remembers nothing, so the client keeps the transcript. Write
# `ask(provider, history, question, *, window=None, **params)`:
#
# - append `{"role": "user", "content": question}` to `history` (a list you change in place);
# - send `window(history)` (or the whole `history` when `window` is None) with
#   `provider.complete(messages, **params)`;
# - append the answer as `{"role": "assistant", "content": result.text}` and return `result.text`.
#
# `window` trims the **request**, never the transcript. When the provider raises, take the question back
# out of `history` and let the error propagate, so a retry does not send the question twice.

# %%
def ask(provider, history: list[dict], question: str, *, window=None, **params) -> str:
    """Send the question with the (windowed) history; keep the transcript; undo on failure."""
    # BEGIN SOLUTION: append, send, append the answer; take the question back if the call fails
    history.append({"role": "user", "content": question})
    try:
        request = window(history) if window is not None else list(history)
        result = provider.complete(request, **params)
    except Exception:
        history.pop()
        raise
    history.append({"role": "assistant", "content": result.text})
    return result.text
    # END SOLUTION


# %%
check("2.4", ask)

# %% [markdown]
# ## Done?
#
# Grade the whole notebook: `course grade exercises/02_api_request.ipynb`. The grader runs every check
# itself, whatever cells you ran or deleted.
