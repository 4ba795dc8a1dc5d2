"""Checks of exercise 07, structured output (lesson 07).

7.1 finds the JSON object in a reply wrapped in prose or code fences (explicit traps for greedy and
lazy regexes, then property-based); 7.2 is the self-correction loop, driven by scripted models: it
feeds the invalid reply and the validation error back, stops at the attempt cap and raises with every
attempt; 7.3 is an in-memory dead-letter queue whose human resolutions are validated and whose items
are never lost.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from pydantic import BaseModel, Field

from ...providers.scripted import ScriptExhaustedError
from . import (
    CheckFailed,
    call,
    expect_raises,
    expect_type,
    is_class,
    property_check,
    question,
    scripted_provider,
    show,
)

__all__ = ["check_correct_until_valid", "check_dead_letter_box", "check_extract_json"]

# ---------------------------------------------------------------- 7.1

_GREEDY_HINT = (
    "a greedy pattern such as \\{.*\\} runs to the LAST closing brace in the text; decode from each '{' "
    "with json.JSONDecoder().raw_decode instead"
)
_EXTRACT_CASES: list[tuple[str, Any, str]] = [
    ('{"name": "Ada", "age": 36}', {"name": "Ada", "age": 36}, "a bare JSON object"),
    (
        'Sure! Here is the data you asked for:\n{"city": "Oslo", "tags": ["a", "b"]}\nAnything else?',
        {"city": "Oslo", "tags": ["a", "b"]},
        "prose before and after the object",
    ),
    (
        '```json\n{\n  "a": {"b": [1, 2, {"c": null}]}\n}\n```',
        {"a": {"b": [1, 2, {"c": None}]}},
        "a code fence around a nested object: it ends at ITS matching brace, not at the first closing one",
    ),
    (
        'Result: {"id": 7}. Templates use {curly braces} too.',
        {"id": 7},
        f"the prose after the object contains braces: {_GREEDY_HINT}",
    ),
    (
        'First {"a": 1}, then a second object {"b": 2}.',
        {"a": 1},
        f"there are two objects: return the first one; {_GREEDY_HINT}",
    ),
    (
        '{"note": "close with } and open with {", "n": 2}',
        {"note": "close with } and open with {", "n": 2},
        "braces inside a JSON string are not structure: a lazy pattern such as \\{.*?\\} stops at the first "
        "'}' even inside a string",
    ),
    (
        'Fill in the template {name}: {"name": "Ada"}',
        {"name": "Ada"},
        "a '{' that does not start valid JSON must be skipped: try the next '{'",
    ),
    (
        'Here: {"price": 9.5, "ok": true, "note": "caf\\u00e9"}',
        {"price": 9.5, "ok": True, "note": "café"},
        "escapes",
    ),
]
_NO_JSON = [
    ("I am sorry, I cannot help with that.", "a reply with no JSON at all"),
    ("", "an empty reply"),
    ('{"name": "Ada", "age": ', "an object cut off by max_tokens"),
]


def _extract(extract_json: Any, text: str, hint: str) -> Any:
    try:
        return call(extract_json, text)
    except CheckFailed as exc:
        raise CheckFailed(f"{exc} ({hint})") from None


@question("7.1", points=2, title="JSON extraction from prose and fences", target="extract_json")
def check_extract_json(extract_json: Any) -> None:
    """Finds the first object past prose, fences, stray and quoted braces; raises ValueError when there is none."""
    for text, expected, hint in _EXTRACT_CASES:
        got = _extract(extract_json, text, hint)
        if got != expected:
            raise CheckFailed(
                f"extract_json({show(text)}) returned {show(got)}; expected {show(expected)} ({hint})"
            )
    for text, what in _NO_JSON:
        expect_raises(ValueError, extract_json, text, why=f"{what}: raise ValueError so the caller can retry")

    from hypothesis import strategies as st

    scalars = st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.text(max_size=8)
    values = st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
        max_leaves=8,
    )
    objects = st.dictionaries(st.text(max_size=6), values, min_size=1, max_size=4)
    before = st.text(alphabet="Here is the JSON:.!\n `", max_size=25)
    after = st.text(alphabet="Done. {} see notes:}\n`", max_size=25)
    fences = st.sampled_from([("", ""), ("```json\n", "\n```"), ("```\n", "\n```")])

    def recovered(obj: dict, indent: int | None, prose: str, tail: str, fence: tuple[str, str]) -> None:
        text = f"{prose}{fence[0]}{json.dumps(obj, indent=indent)}{fence[1]}{tail}"
        got = extract_json(text)
        if got != obj:
            raise CheckFailed(f"extract_json({show(text)}) returned {show(got)}; expected {show(obj)}")

    property_check(
        recovered,
        obj=objects,
        indent=st.sampled_from([None, 2]),
        prose=before,
        tail=after,
        fence=fences,
        max_examples=60,
    )


# ---------------------------------------------------------------- 7.2


class _Order(BaseModel):
    order_id: str = Field(pattern=r"^[0-9]{5}$")
    quantity: int = Field(ge=1)


_BASE = [
    {
        "role": "system",
        "content": "Reply with one JSON object: order_id (5 digits), quantity (integer >= 1).",
    },
    {"role": "user", "content": "Two units of order 12345, please."},
]
_GOOD = '{"order_id": "12345", "quantity": 2}'
_WRONG_TYPE = '{"order_id": "12345", "quantity": "two"}'
_WRONG_ID = '{"order_id": "A1234", "quantity": 2}'
_NOT_JSON = "Sorry, I cannot produce JSON today."


def _attempt_raws(exc: BaseException) -> list[Any]:
    attempts = getattr(exc, "attempts", None)
    if not isinstance(attempts, (list, tuple)):
        raise CheckFailed(
            f"the loop raised {type(exc).__name__} without an `attempts` list: raise "
            "CorrectionFailed(attempts) with every (reply, error) pair, so the item can go to a dead-letter queue"
        )
    raws = []
    for attempt in attempts:
        if isinstance(attempt, (tuple, list)) and len(attempt) == 2:
            raw, error = attempt
        else:
            raw, error = getattr(attempt, "raw", None), getattr(attempt, "error", None)
        if not isinstance(error, (str, Exception)) or not str(error).strip():
            raise CheckFailed(
                f"attempt {show(attempt)} carries no error message: keep each (reply, error) pair, the error as text"
            )
        raws.append(raw)
    return raws


def _attempt_pairs(exc: BaseException) -> list[tuple[Any, str]]:
    """The (reply, error text) pairs of a CorrectionFailed (tuples or objects with raw / error)."""
    _attempt_raws(exc)
    pairs = []
    for attempt in exc.attempts:  # type: ignore[attr-defined]
        if isinstance(attempt, (tuple, list)):
            raw, error = attempt
        else:
            raw, error = getattr(attempt, "raw", None), getattr(attempt, "error", None)
        pairs.append((raw, str(error)))
    return pairs


def _later_text(messages: list[dict], start: int) -> str:
    return "\n".join(str(m.get("content", "")) for m in messages[start:])


def _run(fn: Any, replies: list[str], max_attempts: int) -> tuple[Any, Any, BaseException | None]:
    provider = scripted_provider(list(replies))
    messages = copy.deepcopy(_BASE)
    try:
        result = call(fn, provider, messages, _Order, max_attempts=max_attempts)
    except CheckFailed as exc:
        cause = exc.__cause__
        if cause is None:
            raise
        if isinstance(cause, ScriptExhaustedError):
            raise CheckFailed(
                f"with max_attempts={max_attempts} and replies {show(replies)} the loop made "
                f"{len(provider.calls)} calls: max_attempts counts every call, the first one included"
            ) from None
        return provider, None, cause
    if messages != _BASE:
        raise CheckFailed(
            "the loop changed the `messages` list it was given: copy it and grow the copy (the caller reuses "
            "its messages for the next item)"
        )
    return provider, result, None


@question("7.2", points=3, title="self-correction loop with error feedback", target="correct_until_valid")
def check_correct_until_valid(correct_until_valid: Any) -> None:
    """Feeds the reply and the error back, stops at the cap, raises with every attempt (scripted models)."""
    provider, result, error = _run(correct_until_valid, [_GOOD], 3)
    if error is not None:
        raise CheckFailed(f"a valid first reply made the loop raise {type(error).__name__}: {error}")
    if not isinstance(result, _Order) or result != _Order(order_id="12345", quantity=2):
        raise CheckFailed(
            f"with a valid first reply the loop returned {show(result)}; expected the validated model instance "
            "_Order(order_id='12345', quantity=2), not a dict or the text"
        )
    if len(provider.calls) != 1:
        raise CheckFailed(f"a valid first reply should end the loop, but it made {len(provider.calls)} calls")
    if provider.calls[0].messages != _BASE:
        raise CheckFailed("the first request should be the messages you were given, unchanged")

    provider, result, error = _run(correct_until_valid, [_WRONG_TYPE, _GOOD], 3)
    if error is not None or result != _Order(order_id="12345", quantity=2) or len(provider.calls) != 2:
        raise CheckFailed(
            f"with replies [invalid, valid] the loop made {len(provider.calls)} call(s) and ended with "
            f"{show(error or result)}; expected 2 calls and the validated model"
        )
    second = provider.calls[1].messages
    if second[: len(_BASE)] != _BASE:
        raise CheckFailed("the second request must start with the caller's messages: keep the conversation")
    later = _later_text(second, len(_BASE))
    if _WRONG_TYPE not in later:
        raise CheckFailed(
            "the second request does not contain the invalid reply: append it (as the assistant's turn) so the "
            f"model sees what it wrote; the request was {show(second)}"
        )
    if "quantity" not in later or "integer" not in later.lower():
        raise CheckFailed(
            "the second request does not contain the validation error (it should name the field 'quantity' and "
            "say it must be an integer): put str(error) in a user message"
        )
    if second[-1].get("role") != "user":
        raise CheckFailed("the second request should end with a user message that asks for a corrected reply")

    provider, result, error = _run(correct_until_valid, [_NOT_JSON, _GOOD], 3)
    if error is not None or len(provider.calls) != 2:
        raise CheckFailed(
            f"a reply that is not JSON at all should count as a failed attempt and be corrected; the loop made "
            f"{len(provider.calls)} call(s) and ended with {show(error or result)} (catch ValueError: pydantic's "
            "ValidationError and json's JSONDecodeError are both ValueErrors)"
        )
    if _NOT_JSON not in _later_text(provider.calls[1].messages, len(_BASE)):
        raise CheckFailed("after a reply that is not JSON, the second request should show that reply too")

    replies = [_WRONG_TYPE, _WRONG_ID, _NOT_JSON, _GOOD, _GOOD]
    provider, result, error = _run(correct_until_valid, replies, 3)
    if error is None:
        raise CheckFailed(
            f"with three invalid replies and max_attempts=3 the loop returned {show(result)} after "
            f"{len(provider.calls)} calls; max_attempts counts every call, the first one included: expected 3 calls "
            "and then CorrectionFailed"
        )
    if len(provider.calls) != 3:
        raise CheckFailed(
            f"with max_attempts=3 and only invalid replies the loop made {len(provider.calls)} calls; "
            "max_attempts counts every call, the first one included"
        )
    raws = _attempt_raws(error)
    if raws != replies[:3]:
        raise CheckFailed(
            f"the error's attempts hold the replies {show(raws)}; expected all three, in order: {show(replies[:3])}"
        )
    # What each reply's error names (the reply's own text, if quoted in the error, does not count).
    said = [("quantity",), ("order_id",), ("json",)]
    for (raw, error_text), fragments in zip(_attempt_pairs(error), said, strict=False):
        if not any(f in error_text.replace(str(raw), "").lower() for f in fragments):
            raise CheckFailed(
                f"the attempt for the reply {show(raw)} keeps the error {show(error_text)}, which does not say what "
                f"was wrong with that reply (its validation error says {fragments[0]!r}): keep str(error) of that "
                "reply's own validation error"
            )
    if _WRONG_ID not in _later_text(provider.calls[2].messages, len(_BASE)):
        raise CheckFailed(
            "the third request should show the second reply and its error: feed back the latest failure"
        )

    provider, result, error = _run(correct_until_valid, [_WRONG_ID, _GOOD], 1)
    if error is None or len(provider.calls) != 1 or len(_attempt_raws(error)) != 1:
        raise CheckFailed(
            f"with max_attempts=1 and an invalid reply the loop made {len(provider.calls)} call(s) and ended with "
            f"{show(error or result)}; expected 1 call, then CorrectionFailed with 1 attempt"
        )

    provider = scripted_provider([_GOOD])
    expect_raises(
        ValueError,
        correct_until_valid,
        provider,
        copy.deepcopy(_BASE),
        _Order,
        max_attempts=0,
        why="max_attempts=0 cannot succeed: refuse it before calling the model",
    )
    if provider.calls:
        raise CheckFailed("with max_attempts=0 the loop called the model; raise ValueError first")


# ---------------------------------------------------------------- 7.3


class _Ticket(BaseModel):
    order_id: str = Field(pattern=r"^[0-9]{5}$")
    issue_type: str = Field(min_length=1)


_VALID = {"order_id": "12345", "issue_type": "refund_request"}
_INVALID = {"order_id": "12345A", "issue_type": "refund_request"}


def _box(cls: Any) -> Any:
    if not is_class(cls):
        raise CheckFailed("DeadLetterBox should be a class (class DeadLetterBox: …), but it is not")
    return call(cls)


def _pending(box: Any) -> list[str]:
    got = call(box.pending)
    expect_type(got, (list, tuple), "pending()")
    return list(got)


def _field(entry: Any, key: str) -> Any:
    if not isinstance(entry, dict) or key not in entry:
        raise CheckFailed(f"get(item_id) returned {show(entry)}; expected a dict with the key {key!r}")
    return entry[key]


@question("7.3", points=2, title="dead-letter queue: add and validated resolve", target="DeadLetterBox")
def check_dead_letter_box(DeadLetterBox: Any) -> None:
    """Items stay pending until a valid resolution; invalid ones are rejected and nothing is lost."""
    box = _box(DeadLetterBox)
    payload = {"text": "Invoice A-7731, charged twice"}
    kept = copy.deepcopy(payload)
    for item_id, attempts in (("e-1", ["a1"]), ("e-2", ["b1", "b2"]), ("e-3", ["c1"])):
        call(box.add, item_id, payload if item_id == "e-2" else {"text": item_id}, attempts)
    if _pending(box) != ["e-1", "e-2", "e-3"]:
        raise CheckFailed(
            f"after adding e-1, e-2, e-3, pending() returned {show(_pending(box))}; expected them in order"
        )
    entry = call(box.get, "e-2")
    if _field(entry, "payload") != kept or _field(entry, "attempts") != ["b1", "b2"]:
        raise CheckFailed(f"get('e-2') returned {show(entry)}; it should keep the payload and every attempt")
    if _field(entry, "status") != "pending" or _field(entry, "resolution") is not None:
        raise CheckFailed(f"get('e-2') returned {show(entry)}; a new item is 'pending' with resolution None")

    try:
        call(box.resolve, "e-2", dict(_INVALID), _Ticket)
    except CheckFailed as exc:
        if not isinstance(exc.__cause__, ValueError):
            raise
    else:
        raise CheckFailed(
            "resolve('e-2', {'order_id': '12345A', …}) was accepted; validate the person's data with "
            "model_cls.model_validate and let the ValidationError (a ValueError) reach the reviewer"
        )
    if "e-2" not in _pending(box) or _field(call(box.get, "e-2"), "status") != "pending":
        raise CheckFailed(
            "after a rejected resolution, e-2 is no longer pending: the item was lost; validate first, change "
            "the item only when the data is valid"
        )
    if _field(call(box.get, "e-2"), "resolution") is not None:
        raise CheckFailed("a rejected resolution was stored on the item; store only validated data")

    resolved = call(box.resolve, "e-2", dict(_VALID), _Ticket)
    if not isinstance(resolved, _Ticket) or resolved != _Ticket(**_VALID):
        raise CheckFailed(f"resolve returned {show(resolved)}; expected the validated model instance")
    if _pending(box) != ["e-1", "e-3"]:
        raise CheckFailed(
            f"after resolving e-2, pending() returned {show(_pending(box))}; expected ['e-1', 'e-3']"
        )
    entry = call(box.get, "e-2")
    if _field(entry, "status") != "resolved" or _field(entry, "resolution") != resolved:
        raise CheckFailed(
            f"after resolving, get('e-2') returned {show(entry)}; expected status 'resolved' and the model"
        )

    expect_raises(KeyError, box.resolve, "e-404", dict(_VALID), _Ticket, why="there is no such item")
    expect_raises(ValueError, box.resolve, "e-2", dict(_VALID), _Ticket, why="e-2 is already resolved")

    call(box.add, "e-3", {"text": "e-3"}, ["c2"])
    if _pending(box) != ["e-1", "e-3"] or _field(call(box.get, "e-3"), "attempts") != ["c1", "c2"]:
        raise CheckFailed(
            f"after adding e-3 again with attempt 'c2', pending() is {show(_pending(box))} and e-3's attempts are "
            f"{show(_field(call(box.get, 'e-3'), 'attempts'))}; expected it listed once with ['c1', 'c2']"
        )

    other = _box(DeadLetterBox)
    if _pending(other):
        raise CheckFailed(
            f"a new DeadLetterBox already has pending items {show(_pending(other))}: keep the items in the "
            "instance (set them up in __init__), not in a class attribute"
        )
