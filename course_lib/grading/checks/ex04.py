"""Checks of exercise 04, chain of thought (exercises).

4.1 builds a chain-of-thought request; 4.2 reads the final answer, not the first number; 4.3 audits a
model's refund claim with date arithmetic done in code, boundary included; 4.4 turns streamed pieces
cut anywhere into complete JSON-line steps, as soon as each line ends (property-based); 4.5 writes the
refund request whose reply 4.3 audits (checked through a scripted model that only knows the windows,
decision names and JSON keys the system messages give it; the wording is free).
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any

from ...providers.base import validate_messages
from . import (
    CheckFailed,
    call,
    call_with_text,
    expect_close,
    expect_raises,
    expect_type,
    property_check,
    question,
    scripted_provider,
    show,
)

__all__ = [
    "check_audit_refund",
    "check_cot_messages",
    "check_final_answer",
    "check_iter_steps",
    "check_refund_messages",
]

# ---------------------------------------------------------------- 4.1


@question("4.1", points=1, title="a chain-of-thought request", target="cot_messages")
def check_cot_messages(cot_messages: Any) -> None:
    """Messages with instructions for steps and an Answer line, the question last and unchanged."""
    for q in ("Is 9.11 greater than 9.8?", "What is {x} + {y} if x = 2 and y = 3? Give 100% of it."):
        what = f"cot_messages({show(q)})"
        messages = expect_type(call(cot_messages, q), list, what)
        if len(messages) < 2 or not all(
            isinstance(m, dict) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str)
            for m in messages
        ):
            raise CheckFailed(
                f"{what} returned {show(messages)}; expected a list of at least two dicts with 'role' and "
                "'content' strings: the instructions, then the question"
            )
        if messages[-1]["role"] != "user" or q not in messages[-1]["content"]:
            raise CheckFailed(
                f"{what}: the last message is {show(messages[-1])}; expected a user message containing the "
                "question exactly as given (watch out for .format() and % on text with braces)"
            )
        instructions = " ".join(m["content"] for m in messages[:-1]).lower()
        if messages[0]["role"] != "system" or "step" not in instructions or "answer:" not in instructions:
            raise CheckFailed(
                f"{what}: the first message should be a system message asking for numbered steps "
                "('Step 1:', …) and a final line 'Answer: …' that final_answer can find; "
                f"it is {show(messages[0])}"
            )
    first = call(cot_messages, "Is 1 greater than 2?")
    first.append({"role": "user", "content": "tampered"})
    again = call(cot_messages, "Is 3 greater than 4?")
    leftovers = [m for m in again if "tampered" in str(m) or "Is 1 greater than 2?" in str(m)]
    if leftovers:
        raise CheckFailed(
            f"a second call returned {show(leftovers)} from the first call: build a new list each time "
            "instead of appending to one shared list"
        )
    for blank in ("", "   "):
        expect_raises(ValueError, cot_messages, blank, why="an empty question cannot be answered")


# ---------------------------------------------------------------- 4.2

_ANSWERS = [
    (
        "Step 1: Compare 9.11 and 9.8.\nStep 2: 9.8 = 9.80 and 0.80 > 0.11.\nAnswer: 9.8",
        9.8,
        "the first numbers are the step number and 9.11 from the question; the answer is on the Answer line",
    ),
    (
        "Step 1: 12 apples.\nAnswer: 12\nWait, I forgot the 3 in the bag.\nStep 2: 12 + 3 = 15\nAnswer: 15",
        15,
        "when there are two Answer lines, the last one counts",
    ),
    (
        "Step 1: it was 3.5 degrees at noon.\nFinal answer: -4.5 degrees at night",
        -4.5,
        "'Final answer:' counts as an answer line, and the number may be negative",
    ),
    (
        "step 1: 3 boxes of 4\nANSWER: 12 apples, not 9",
        12,
        "Answer lines are case-insensitive, and the first number on the line is the answer",
    ),
    (
        "Step 1: 10 * 3 = 30\nStep 2: 30 + 5 = 35",
        35,
        "with no Answer line, the conclusion is the last number in the text",
    ),
    ("I am not sure how to compare these.", None, "no number at all: return None"),
    (
        "Step 1: 2 + 2 = 4\nAnswer: four",
        None,
        "the Answer line has no number: return None rather than guess from the reasoning",
    ),
    ("Answer: $3.50 each, 2 for $6", 3.5, "the first number on the answer line; '$' is not part of it"),
]


@question("4.2", points=2, title="read the final answer, not the first number", target="final_answer")
def check_final_answer(final_answer: Any) -> None:
    """The number on the last Answer line; else the last number; None when there is none."""
    for text, expected, why in _ANSWERS:
        what = f"final_answer({show(text)})"
        got = call(final_answer, text)
        if expected is None:
            if got is not None:
                raise CheckFailed(f"{what} returned {show(got)}; expected None ({why})")
            continue
        if isinstance(got, bool) or not isinstance(got, (int, float)):
            raise CheckFailed(f"{what} returned {show(got)}; expected the number {expected} ({why})")
        expect_close(got, expected, what, hint=why)

    from hypothesis import strategies as st

    numbers = st.integers(min_value=-10_000, max_value=10_000).map(lambda n: n / 100)

    def reads_the_answer_line(reasoning: list[float], answer: float) -> None:
        lines = [f"Step {i}: consider {x} and {-x * 2}" for i, x in enumerate(reasoning, start=1)]
        text = "\n".join([*lines, f"Answer: {answer}"])
        got = final_answer(text)
        if isinstance(got, bool) or not isinstance(got, (int, float)) or abs(got - answer) > 1e-9:
            raise CheckFailed(f"final_answer({show(text)}) returned {show(got)}; expected {answer}")

    property_check(
        reads_the_answer_line, reasoning=st.lists(numbers, max_size=4), answer=numbers, max_examples=60
    )


# ---------------------------------------------------------------- 4.3

_WINDOWS = {"defective_product": 90, "changed_mind": 30, "shipping_damage": 14, "other": 30}


def _order(purchased: str, requested: str) -> dict[str, str]:
    return {"id": "ORD-1", "purchased_at": purchased, "requested_at": requested, "reason": "…"}


def _claim(days: int, category: str, decision: str) -> dict[str, Any]:
    return {"days_elapsed": days, "category": category, "decision": decision}


_REFUNDS = [
    # order, claim, windows, expected (days, decision, days_ok, decision_ok), why
    (
        _order("2024-01-15", "2024-03-20"),
        _claim(64, "defective_product", "APPROVE"),
        None,
        (65.0, "APPROVE", False, True),
        "2024 is a leap year: 16 + 29 + 20 = 65 days",
    ),
    (
        _order("2024-02-10", "2024-03-12"),
        _claim(30, "changed_mind", "APPROVE"),
        None,
        (31.0, "DENY", False, False),
        "31 days is past a 30-day window, whatever the model claimed",
    ),
    (
        _order("2024-03-01T12:00:00", "2024-03-31T12:00:00"),
        _claim(30, "changed_mind", "APPROVE"),
        None,
        (30.0, "APPROVE", True, True),
        "exactly 30 days is still within a 30-day window (<=, not <)",
    ),
    (
        _order("2024-03-01T12:00:00", "2024-03-31T13:00:00"),
        _claim(30, "changed_mind", "APPROVE"),
        None,
        (30 + 1 / 24, "DENY", True, False),
        "30 days and 1 hour is past a 30-day window: compare the whole time, not timedelta.days",
    ),
    (
        _order("2024-05-01T18:45:00", "2024-05-03T09:15:00"),
        _claim(1, "shipping_damage", "APPROVE"),
        None,
        (1 + 14.5 / 24, "APPROVE", True, True),
        "1 day and 14.5 hours, well inside 14 days",
    ),
    (
        _order("2024-06-01", "2024-06-09"),
        _claim(8, "changed_mind", "APPROVE"),
        {"changed_mind": 7},
        (8.0, "DENY", True, False),
        "use the windows passed in, not fixed numbers",
    ),
    (
        _order("2024-07-01", "2024-07-09"),
        _claim(8, "wrong_size", "APPROVE"),
        None,
        (8.0, "REVIEW", True, False),
        "a category the policy does not know goes to a person: REVIEW",
    ),
]


def _audit(audit_refund: Any, order: dict, claim: dict, windows: dict | None) -> Any:
    if windows is None:
        return call(audit_refund, dict(order), dict(claim))
    return call(audit_refund, dict(order), dict(claim), windows=dict(windows))


@question("4.3", points=2, title="refund policy checked in code", target="audit_refund")
def check_audit_refund(audit_refund: Any) -> None:
    """Days from total_seconds, an inclusive window, the code's verdict against the model's claim."""
    for order, claim, windows, (days, decision, days_ok, decision_ok), why in _REFUNDS:
        what = f"audit_refund({order['purchased_at']} → {order['requested_at']}, {show(claim)})"
        got = expect_type(_audit(audit_refund, order, claim, windows), dict, what)
        missing = {"days", "decision", "days_ok", "decision_ok"} - set(got)
        if missing:
            raise CheckFailed(f"{what} returned {show(got)}; it lacks the key(s) {sorted(missing)}")
        if (
            isinstance(got["days"], bool)
            or not isinstance(got["days"], (int, float))
            or abs(got["days"] - days) > 1e-6
        ):
            cause = (
                "timedelta.seconds is only the part after whole days: use total_seconds() / 86400"
                if isinstance(got["days"], (int, float)) and got["days"] < 1 <= days
                else f"{why}; days is the elapsed time as a float, total_seconds() / 86400"
            )
            raise CheckFailed(f"{what} gave days={show(got['days'])}; expected {days:.4f} ({cause})")
        if got["decision"] != decision:
            raise CheckFailed(f"{what} gave decision={show(got['decision'])}; expected {decision!r} ({why})")
        if got["days_ok"] is not days_ok or got["decision_ok"] is not decision_ok:
            raise CheckFailed(
                f"{what} gave days_ok={show(got['days_ok'])}, decision_ok={show(got['decision_ok'])}; expected "
                f"{days_ok} and {decision_ok} (the claim's days must equal the whole days elapsed, its "
                "decision the code's decision)"
            )
    expect_raises(
        ValueError,
        audit_refund,
        _order("2024-03-02", "2024-03-01"),
        _claim(0, "other", "APPROVE"),
        why="a refund requested before the purchase means the data is wrong",
    )

    from hypothesis import strategies as st

    start = datetime(2024, 1, 1)

    def decides_by_elapsed_time(minutes_in: int, offset_minutes: int, category: str) -> None:
        purchased = start + timedelta(minutes=minutes_in)
        requested = purchased + timedelta(minutes=offset_minutes)
        order = _order(purchased.isoformat(), requested.isoformat())
        got = audit_refund(order, _claim(0, category, "APPROVE"))
        within = requested - purchased <= timedelta(days=_WINDOWS[category])
        expected = "APPROVE" if within else "DENY"
        if not isinstance(got, dict) or got.get("decision") != expected:
            raise CheckFailed(
                f"audit_refund({purchased.isoformat()} → {requested.isoformat()}, {category}) decided "
                f"{show(got.get('decision') if isinstance(got, dict) else got)}; expected {expected!r}"
            )

    property_check(
        decides_by_elapsed_time,
        minutes_in=st.integers(min_value=0, max_value=366 * 24 * 60),
        offset_minutes=st.one_of(
            st.integers(min_value=0, max_value=120 * 24 * 60),
            st.sampled_from([14, 30, 90]).flatmap(
                lambda d: st.integers(min_value=d * 1440 - 2, max_value=d * 1440 + 2)
            ),
        ),
        category=st.sampled_from(sorted(_WINDOWS)),
        max_examples=80,
    )


# ---------------------------------------------------------------- 4.4

_STEPS = [
    {"step": "analyze", "content": "The customer wants a refund for {a blender}."},
    {"step": "think", "content": 'Defective: 90 days.\nLine two, with "quotes".'},
    {"step": "final", "content": "Yes, within the window."},
]
_TEXT = "".join(json.dumps(s) + "\n" for s in _STEPS)


def _word_pieces(text: str) -> list[str]:
    """Cut before each run of whitespace, as the replay does: '\\n{"step":' arrives as one piece."""
    import re

    return re.findall(r"\s*\S+|\s+", text)


class _Recorder:
    """An iterator of pieces that remembers how many were read."""

    def __init__(self, pieces: list[str]) -> None:
        self.pieces, self.read = pieces, 0

    def __iter__(self) -> _Recorder:
        return self

    def __next__(self) -> str:
        if self.read >= len(self.pieces):
            raise StopIteration
        self.read += 1
        return self.pieces[self.read - 1]


def _run(what: str, fn: Any, *args: Any) -> Any:
    """Run learner code (or code driving it) directly, turning a crash into a hint."""
    try:
        return fn(*args)
    except (NotImplementedError, CheckFailed):
        raise
    except Exception as exc:
        detail = f": {exc}" if str(exc) else ""
        raise CheckFailed(f"{what} raised {type(exc).__name__}{detail}") from exc


def _steps(iter_steps: Any, pieces: list[str], what: str) -> list[Any]:
    return _run(what, lambda: list(iter_steps(iter(list(pieces)))))


@question("4.4", points=2, title="steps from a stream cut anywhere", target="iter_steps")
def check_iter_steps(iter_steps: Any) -> None:
    """Every complete line is one step, whatever the cuts; each step comes out as soon as its line ends."""
    cases = [
        (
            _word_pieces(_TEXT),
            _STEPS,
            "a piece can hold the end of one line and the start of the next ('\\n{\"step\":'): split the "
            "buffer at every newline and keep the unfinished tail",
        ),
        (list(_TEXT), _STEPS, "pieces of one character"),
        ([_TEXT], _STEPS, "the whole text in one piece"),
        ([_TEXT.rstrip("\n")], _STEPS, "the last line has no newline: yield it when the stream ends"),
        (
            ["\n", json.dumps(_STEPS[0]) + "\n  \n\n", json.dumps(_STEPS[2])],
            [_STEPS[0], _STEPS[2]],
            "skip blank and whitespace-only lines",
        ),
        ([], [], "an empty stream has no steps"),
    ]
    for pieces, expected, why in cases:
        what = f"iter_steps({show(pieces)})"
        got = _steps(iter_steps, pieces, what)
        if got != expected:
            raise CheckFailed(f"{why}. {what} gave {len(got)} step(s), expected {len(expected)}: {show(got)}")

    pieces = _word_pieces(_TEXT)
    completes_first = next(i for i, p in enumerate(pieces) if "\n" in p) + 1
    recorder = _Recorder(pieces)
    first = _run(
        "reading the first step of iter_steps(<stream>)", lambda: next(iter(iter_steps(recorder)), None)
    )
    if first != _STEPS[0] or recorder.read > completes_first:
        raise CheckFailed(
            f"the first step came out after reading {recorder.read} of {len(pieces)} pieces; its line is "
            f"complete after {completes_first}. Yield each step as soon as its line ends (a generator), "
            "so the user sees it while the rest is still streaming"
        )
    expect_raises(
        ValueError,
        lambda: list(iter_steps(iter([json.dumps(_STEPS[0]) + "\n", "not json\n"]))),
        why="a line that is not JSON is a broken stream: raise, don't drop it silently",
    )

    from hypothesis import strategies as st

    def same_steps_for_any_cut(steps: list[dict], cuts: list[int]) -> None:
        text = "".join(json.dumps(s) + "\n" for s in steps)
        points = sorted({c % (len(text) + 1) for c in cuts})
        parts = [text[i:j] for i, j in zip([0, *points], [*points, len(text)], strict=True)]
        got = list(iter_steps(iter(parts)))
        if got != steps:
            raise CheckFailed(f"iter_steps({show(parts)}) gave {show(got)}; expected {show(steps)}")

    step = st.fixed_dictionaries(
        {"step": st.sampled_from(["analyze", "think", "final"]), "content": st.text(max_size=30)}
    )
    property_check(
        same_steps_for_any_cut,
        steps=st.lists(step, max_size=4),
        cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=10),
        max_examples=80,
    )


# ---------------------------------------------------------------- 4.5

_STORE_WINDOWS = {"warranty_repair": 365, "late_delivery": 7, "changed_mind": 30}
_SHOP_WINDOWS = {"defective_product": 90, "changed_mind": 30, "shipping_damage": 14, "other": 30}

#: (request, windows, days elapsed, category, the right decision); each decision differs from what a
#: model assuming a 30-day window would give.
_REFUND_CASES: list[tuple[str, dict[str, int], int, str, str]] = [
    ("The kettle I bought 200 days ago stopped heating. {order 17} Refund 100%?", _STORE_WINDOWS, 200,
     "warranty_repair", "APPROVE"),
    ("My parcel came 12 days late and I want my money back.", _STORE_WINDOWS, 12, "late_delivery", "DENY"),
    ("The box arrived crushed; I bought it 20 days ago.\nCan I get a refund?", _SHOP_WINDOWS, 20,
     "shipping_damage", "DENY"),
]  # fmt: skip
_KEYS = ("days_elapsed", "category", "decision")


def _window_stated(system: str, category: str, days: int) -> bool:
    return any(
        re.search(rf"(?<![A-Za-z0-9_]){re.escape(category)}(?![A-Za-z0-9_])", line)
        and re.search(rf"(?<![\d.]){days}(?![\d])", line)
        for line in system.splitlines()
    )


def _refund_model(request: str, windows: dict[str, int], days: int, category: str) -> Any:
    """A scripted model: knows only the windows stated in the system messages (30 days otherwise), uses
    APPROVE / DENY and the JSON keys only when given them."""

    def reply(messages: list[dict], params: dict[str, Any]) -> str:
        if messages[-1]["role"] != "user" or request not in messages[-1]["content"]:
            return "Happy to help! What would you like a refund for?"
        system = "\n".join(m["content"] for m in messages if m["role"] == "system")
        window = windows[category] if _window_stated(system, category, windows[category]) else 30
        approve = days <= window
        if "APPROVE" in system and "DENY" in system:
            decision = "APPROVE" if approve else "DENY"
        else:
            decision = "refund granted" if approve else "no refund"
        if "json" not in system.lower() or not all(key in system for key in _KEYS):
            return f"It has been {days} days since the purchase, so: {decision}."
        return json.dumps({"days_elapsed": days, "category": category, "decision": decision})

    return reply


@question("4.5", points=2, title="the refund prompt that 4.3 audits", target="refund_messages")
def check_refund_messages(refund_messages: Any) -> None:
    """Every window on a line with its days, APPROVE/DENY, JSON with the three keys, the request last; any
    wording."""
    for request, windows, days, category, decision in _REFUND_CASES:
        given = dict(windows)
        what = f"refund_messages({show(request)}, {show(given)})"
        built = call_with_text(
            refund_messages,
            request,
            given,
            hint="the request contains braces, % or a newline: insert it as it is, never through "
            "str.format or % on the customer's text",
        )
        messages = expect_type(built, list, what)
        if given != windows:
            raise CheckFailed(f"{what} changed the windows it was given: read them, do not modify them")
        try:
            validate_messages(messages)
        except Exception as exc:
            raise CheckFailed(
                f"{what} returned messages the API would refuse: {exc} "
                "(each message is a dict with a 'role' and a string 'content')"
            ) from None
        if messages[-1]["role"] != "user" or request not in messages[-1]["content"]:
            raise CheckFailed(
                f"{what}: the last message is {show(messages[-1])}; end with a user message holding the "
                "customer's request exactly as given"
            )
        got = scripted_provider(_refund_model(request, windows, days, category)).complete(messages).text
        try:
            parsed = json.loads(got)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict) and parsed.get("decision") == decision:
            continue
        said = f"a model given {what} replied {show(got)}"
        system = "\n".join(m["content"] for m in messages if m["role"] == "system")
        unstated = [c for c, d in windows.items() if not _window_stated(system, c, d)]
        if unstated:
            raise CheckFailed(
                f"{said}, assuming a 30-day window: the system messages do not state the window of "
                f"{show(unstated)}; write every category of `windows` with its days in digits on one line"
            )
        if "APPROVE" not in system or "DENY" not in system:
            raise CheckFailed(f"{said}: name the two decisions, APPROVE and DENY, in the system instructions")
        missing = [key for key in _KEYS if key not in system]
        raise CheckFailed(
            f"{said}, which code cannot parse: ask for JSON only with the keys days_elapsed, category and "
            f"decision (missing: {show(missing)})"
        )
