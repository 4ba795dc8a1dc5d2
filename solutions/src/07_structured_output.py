# %% [markdown]
# # Exercise 07 · Structured output
#
# Three pieces of lesson 07's email pipeline (`notebooks/07_structured_output.ipynb`): find the JSON in a
# model's reply, the self-correction loop that feeds the validation error back, and a dead-letter queue
# whose human resolutions are validated. Complete each function or class where it says
# `raise NotImplementedError`, run its `check(...)` cell for instant feedback, and grade the whole
# notebook with `course grade exercises/07_structured_output.ipynb`. Use the standard library, pydantic
# and the imports below.

# %% tags=["parameters"]
MAX_ATTEMPTS = 3

# %%
import json
from typing import Any

from pydantic import BaseModel, Field

from course_lib.grading import check
from course_lib.providers.scripted import ScriptedProvider

# %% [markdown]
# ## 7.1 Find the JSON in a reply
#
# Models asked for JSON often answer `Sure! Here it is: {...}`, or wrap it in a ```` ```json ```` fence,
# or add a note after it. Write `extract_json(text)`: return the **first JSON object** (a `dict`) in
# `text`, whatever prose or fences surround it. Raise `ValueError` when the text holds no valid object
# (no JSON, an empty reply, or an object cut off before its end).
#
# Watch out: prose after the object may contain braces (`Use {name} here`), strings inside the object
# may contain braces too, and a `{` in the prose before it may not start JSON at all. A regular expression
# cannot tell these apart; `json.JSONDecoder().raw_decode(text, i)` decodes one value starting at index
# `i` and tells you where it ended.

# %%
def extract_json(text: str) -> dict:
    """The first JSON object in ``text``, skipping prose and code fences; ValueError if there is none."""
    # BEGIN SOLUTION: try to decode an object at each '{' in turn
    decoder = json.JSONDecoder()
    for i, char in enumerate(text):
        if char != "{":
            continue
        try:
            value, _ = decoder.raw_decode(text, i)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    raise ValueError(f"no JSON object in the reply: {text[:60]!r}")
    # END SOLUTION


# %%
print(extract_json('Sure! Here it is:\n```json\n{"name": "Ada", "note": "use {braces}"}\n```\nBye {}'))

# %%
check("7.1", extract_json)

# %% [markdown]
# ## 7.2 The self-correction loop
#
# Write `correct_until_valid(provider, messages, model_cls, max_attempts=3)`:
#
# 1. Call `provider.complete(conversation)` and take `.text`. Validate it with
#    `model_cls.model_validate_json(text)`; on success return the model instance.
# 2. When validation fails (pydantic's `ValidationError` and json's `JSONDecodeError` are both
#    `ValueError`s), add the model's reply as an `assistant` message and a `user` message that contains
#    the error (`str(error)`) and the invalid reply and asks for a corrected JSON object; then try again.
# 3. `max_attempts` counts every call, the first one included. When the last attempt fails, raise
#    `CorrectionFailed(attempts)`, where `attempts` lists every `(reply, error_message)` pair in order, so
#    the item can go to a dead-letter queue with its whole history.
#
# Don't change the `messages` list you are given (the caller reuses it): grow a copy. `max_attempts` below
# 1 raises `ValueError` before any call.

# %%
class CorrectionFailed(Exception):
    """Every attempt failed validation; ``attempts`` holds the (reply, error_message) pairs in order."""

    def __init__(self, attempts: list[tuple[str, str]]) -> None:
        super().__init__(f"no valid reply after {len(attempts)} attempt(s)")
        self.attempts = list(attempts)


def correct_until_valid(provider, messages: list[dict], model_cls: type[BaseModel], max_attempts: int = MAX_ATTEMPTS):
    """Ask until the reply validates as ``model_cls``, feeding each error back; at most ``max_attempts`` calls."""
    # BEGIN SOLUTION: call, validate, on failure append the reply and the error, then retry
    if max_attempts < 1:
        raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
    conversation = [dict(m) for m in messages]
    attempts: list[tuple[str, str]] = []
    for _ in range(max_attempts):
        reply = provider.complete(conversation).text
        try:
            return model_cls.model_validate_json(reply)
        except ValueError as error:
            attempts.append((reply, str(error)))
            conversation.append({"role": "assistant", "content": reply})
            conversation.append(
                {
                    "role": "user",
                    "content": f"Your reply failed validation:\n{error}\nYour reply was:\n{reply}\n"
                    "Reply again with only the corrected JSON object.",
                }
            )
    raise CorrectionFailed(attempts)
    # END SOLUTION


# %% [markdown]
# Try it with a scripted model that first sends the quantity as a word, then gets it right:

# %%
class Order(BaseModel):
    order_id: str = Field(pattern=r"^[0-9]{5}$")
    quantity: int = Field(ge=1)


scripted = ScriptedProvider(['{"order_id": "12345", "quantity": "two"}', '{"order_id": "12345", "quantity": 2}'])
request = [{"role": "user", "content": "Two units of order 12345, as JSON."}]
print(correct_until_valid(scripted, request, Order))
print("\n".join(scripted.calls[1].messages[-1]["content"].splitlines()[:4]))

# %%
check("7.2", correct_until_valid)

# %% [markdown]
# ## 7.3 A dead-letter queue with validated resolutions
#
# Items that fail every attempt go to a dead-letter queue, where a person fixes them. Write the class
# `DeadLetterBox` (in memory; the course's `DeadLetterQueue` does the same in SQLite):
#
# - `add(item_id, payload, attempts)` keeps a failed item; it is pending. Adding an id that is already
#   pending appends the new attempts to its list (nothing is lost) and keeps one entry.
# - `pending()` returns the ids awaiting review, in the order they were first added.
# - `get(item_id)` returns a dict with `"payload"`, `"attempts"` (a list), `"status"` (`"pending"` or
#   `"resolved"`) and `"resolution"` (`None` until resolved).
# - `resolve(item_id, data, model_cls)` validates the person's `data` with `model_cls.model_validate`.
#   Valid: the item becomes `"resolved"`, its resolution is the model instance, and `resolve` returns it.
#   Invalid: the `ValidationError` propagates and the item stays pending, unchanged. An unknown id raises
#   `KeyError`; an item that is not pending raises `ValueError`.

# %%
class DeadLetterBox:
    """An in-memory dead-letter queue: failed items wait for a person, who resolves them with valid data."""

    def __init__(self) -> None:
        """An empty box."""
        # BEGIN SOLUTION: keep the items in the instance, in insertion order
        self._items: dict[str, dict[str, Any]] = {}
        # END SOLUTION

    def add(self, item_id: str, payload: Any, attempts: list) -> None:
        """Keep a failed item, pending; an id already pending gets the new attempts appended."""
        # BEGIN SOLUTION: a new pending item, or more attempts for a pending one
        item = self._items.get(item_id)
        if item is not None and item["status"] == "pending":
            item["attempts"].extend(attempts)
            return
        self._items[item_id] = {"payload": payload, "attempts": list(attempts), "status": "pending", "resolution": None}
        # END SOLUTION

    def pending(self) -> list[str]:
        """Ids awaiting review, in the order they were first added."""
        # BEGIN SOLUTION: the ids whose status is pending
        return [item_id for item_id, item in self._items.items() if item["status"] == "pending"]
        # END SOLUTION

    def get(self, item_id: str) -> dict[str, Any]:
        """The item: payload, attempts, status and resolution."""
        # BEGIN SOLUTION: look the item up (KeyError when unknown)
        return self._items[item_id]
        # END SOLUTION

    def resolve(self, item_id: str, data: dict, model_cls: type[BaseModel]) -> BaseModel:
        """Validate a person's data; only valid data resolves the item."""
        # BEGIN SOLUTION: check the status, validate, and only then change the item
        item = self._items[item_id]
        if item["status"] != "pending":
            raise ValueError(f"{item_id} is already {item['status']}")
        value = model_cls.model_validate(data)
        item["status"], item["resolution"] = "resolved", value
        return value
        # END SOLUTION


# %%
box = DeadLetterBox()
box.add("e-1007", {"subject": "Invoice A-7731"}, ["A7731", "7731", "A-7731"])
try:
    box.resolve("e-1007", {"order_id": "A7731", "quantity": 1}, Order)
except ValueError as error:
    print("rejected:", str(error).splitlines()[0], "| still pending:", box.pending())
print(box.resolve("e-1007", {"order_id": "57731", "quantity": 1}, Order), "| pending:", box.pending())

# %%
check("7.3", DeadLetterBox)

# %% [markdown]
# ## Done
#
# Grade the whole notebook with `course grade exercises/07_structured_output.ipynb`. The lesson's library
# versions are `course_lib.validators.extract_json`, `generate_validated` and `course_lib.dlq.DeadLetterQueue`.
