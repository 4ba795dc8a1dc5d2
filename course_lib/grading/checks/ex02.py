"""Checks of exercise 02, the anatomy of an API request (lesson 02).

2.1 renders Llama-3's chat format byte for byte (compared with the official template's output on
generated conversations), 2.2 is a sliding window that keeps the system prompt and never starts with an
orphaned answer, 2.3 trims history to a token budget and fails fast when the budget cannot be met,
2.4 is one stateful chat turn that sends the history and leaves it unchanged when the call fails.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from ...conversation import BudgetTooSmallError
from ...conversation import sliding_window as reference_window
from ...conversation import trim_to_budget as reference_trim
from ...providers.base import ProviderError
from ...providers.templates import render_llama3 as reference_llama3
from . import (
    CheckFailed,
    call,
    current_value,
    expect_equal,
    expect_type,
    faulty_provider,
    learner_copy,
    property_check,
    question,
    scripted_provider,
    show,
)

__all__ = ["check_ask", "check_render_llama3", "check_sliding_window", "check_trim_to_budget"]

Messages = list[dict[str, Any]]
_LOOP_LIMIT = 2.0  # seconds: any correct answer to these questions returns in milliseconds


def _msg(role: str, content: str) -> dict[str, Any]:
    return {"role": role, "content": content}


def _conversation(turns: int, *, system: bool = True, answer_last: bool = True) -> Messages:
    msgs = [_msg("system", "You are the on-call assistant.")] if system else []
    for i in range(1, turns + 1):
        msgs.append(_msg("user", f"question {i} about the outage"))
        if i < turns or answer_last:
            msgs.append(_msg("assistant", f"answer {i}: check the dashboards and the deploy log"))
    return msgs


def _roles(messages: Any) -> Any:
    try:
        return [m["role"] for m in messages]
    except (TypeError, KeyError):
        return messages


# --------------------------------------------------------------------------- strategies


def _text() -> Any:
    from hypothesis import strategies as st

    return st.text(alphabet=st.sampled_from(list("abcXYZ019 .,:?!\n\t-")), max_size=16)


def _any_conversations() -> Any:
    """Any roles in any order (the Llama-3 template renders them all)."""
    from hypothesis import strategies as st

    message = st.builds(_msg, st.sampled_from(["system", "user", "assistant"]), _text())
    return st.lists(message, min_size=1, max_size=6)


def _chats() -> Any:
    """An optional system prompt, then user/assistant messages starting with a user message."""
    from hypothesis import strategies as st

    @st.composite
    def build(draw: Any) -> Messages:
        msgs = [_msg("system", draw(_text()))] if draw(st.booleans()) else []
        roles = ["user", *draw(st.lists(st.sampled_from(["user", "assistant"]), max_size=9))]
        for i, role in enumerate(roles):
            msgs.append(_msg(role, f"{role} {i} " + draw(_text())))
        return msgs

    return build()


# --------------------------------------------------------------------------- 2.1 Llama-3 renderer


def _run(fn: Callable[..., Any], what: str, *args: Any, **kwargs: Any) -> Any:
    """Call the learner's function with a time limit; hints name the call briefly (``what``)."""
    try:
        return call(fn, *args, timeout=_LOOP_LIMIT, **kwargs)
    except CheckFailed as exc:
        cause = exc.__cause__
        if cause is None and "did not return within" in str(exc):
            raise CheckFailed(f"{what} did not return within {_LOOP_LIMIT:g} s (an endless loop?)") from None
        if cause is not None:
            detail = f": {cause}" if str(cause) else ""
            raise CheckFailed(f"{what} raised {type(cause).__name__}{detail}") from cause
        raise


_HEADER_WITHOUT_BLANK_LINE = re.compile(r"<\|end_header_id\|>(?!\n\n)")


def _llama3_hint(got: str, expected: str, generation: bool) -> str:
    if not got.startswith("<|begin_of_text|>"):
        return "the prompt starts with <|begin_of_text|>"
    if _HEADER_WITHOUT_BLANK_LINE.search(got):
        return "put two newlines after every <|end_header_id|>, the generation prompt's header included"
    if "<|eot_id|>\n" in got:
        return "nothing follows <|eot_id|>: the next header starts right after it"
    header = "<|start_header_id|>assistant<|end_header_id|>\n\n"
    if generation and not got.endswith(header):
        return "with add_generation_prompt=True, end with the assistant's header and two newlines"
    if not generation and got.endswith(("<|end_header_id|>\n\n", "<|end_header_id|>\n")):
        return "with add_generation_prompt=False, end right after the last <|eot_id|>"
    if re.sub(r"\s", "", got) == re.sub(r"\s", "", expected):
        return "trim the whitespace around each message's content, as the official template does"
    at = next(
        (i for i, (a, b) in enumerate(zip(got, expected, strict=False)) if a != b),
        min(len(got), len(expected)),
    )
    return (
        f"first difference at character {at}: got {got[at : at + 25]!r}, expected {expected[at : at + 25]!r}"
    )


def _compare_llama3(render: Callable[..., Any], messages: Messages, generation: bool) -> None:
    kwargs = {} if generation else {"add_generation_prompt": False}
    what = f"render_llama3(<{len(messages)} messages>{'' if generation else ', add_generation_prompt=False'})"
    got = _run(render, what, [dict(m) for m in messages], **kwargs)
    expect_type(got, str, what)
    expected = reference_llama3(messages, add_generation_prompt=generation)
    if got != expected:
        raise CheckFailed(
            f"{what} is not byte-exact: {_llama3_hint(got, expected, generation)}; messages: {show(messages)}"
        )


@question("2.1", points=2, title="Llama-3 renderer, byte-exact", target="render_llama3")
def check_render_llama3(render_llama3: Any) -> None:
    """The official Meta-Llama-3-8B-Instruct layout on fixed and generated conversations."""
    fixed = [
        [_msg("system", "You are a JSON parser."), _msg("user", "Extract: John Smith")],
        [_msg("user", "What is 2+2?"), _msg("assistant", "4"), _msg("user", "And 2+3?")],
        [_msg("system", "  Be brief.\n"), _msg("user", "\tHi there  ")],
    ]
    for messages in fixed:
        _compare_llama3(render_llama3, messages, True)
    _compare_llama3(render_llama3, fixed[1], False)

    def agrees(messages: Messages, generation: bool) -> None:
        _compare_llama3(render_llama3, messages, generation)

    from hypothesis import strategies as st

    property_check(agrees, messages=_any_conversations(), generation=st.booleans(), max_examples=60)


# --------------------------------------------------------------------------- 2.2 sliding window


def _window_hint(messages: Messages, n: int, got: Messages) -> str:
    system = [m for m in messages[:1] if m["role"] == "system"]
    if got[: len(system)] != system:
        return "keep the system prompt first, always"
    rest = got[len(system) :]
    if len(rest) > n:
        if n == 0:
            return "with a window of 0 send the system prompt alone (beware: messages[-0:] is the whole list)"
        return f"send at most {n} messages besides the system prompt"
    if rest and rest[0]["role"] != "user" and rest != messages[len(system) :]:
        return "the kept history must start at a user message: never send an answer whose question was cut"
    return "keep the longest run of recent messages that fits the window and starts at a user message"


def _compare_window(window: Callable[..., Any], messages: Messages, n: int) -> None:
    given = [dict(m) for m in messages]
    what = f"sliding_window(<roles {_roles(messages)}>, {n})"
    got = _run(window, what, given, n)
    expect_type(got, list, what)
    expected = reference_window(messages, n)
    if given != messages:
        raise CheckFailed(
            f"{what} changed the list it was given: return a new list, leave the transcript alone"
        )
    if got != expected:
        raise CheckFailed(
            f"{what} returned roles {show(_roles(got))}; expected {show(_roles(expected))}: "
            + _window_hint(messages, n, got)
        )


@question("2.2", points=2, title="sliding window that keeps the system prompt", target="sliding_window")
def check_sliding_window(sliding_window: Any) -> None:
    """System prompt kept, window 0 means the system prompt alone, no orphaned answer, longest fit."""
    chat = _conversation(3)
    for n in (0, 1, 2, 3, 4, 6, 10):
        _compare_window(sliding_window, chat, n)
    _compare_window(sliding_window, _conversation(2, system=False), 2)
    _compare_window(sliding_window, _conversation(3, answer_last=False), 2)

    from hypothesis import strategies as st

    def agrees(messages: Messages, n: int) -> None:
        _compare_window(sliding_window, messages, n)

    property_check(agrees, messages=_chats(), n=st.integers(0, 8), max_examples=60)


# --------------------------------------------------------------------------- 2.3 token budget


def count_words(messages: Sequence[dict[str, Any]]) -> int:
    """The checks' token counter: 4 per message plus one per word of content."""
    return sum(4 + len(str(m.get("content") or "").split()) for m in messages)


def _budget_hint(messages: Messages, budget: int, got: Messages, expected: Messages) -> str:
    if count_words(got) > budget:
        return f"the result counts {count_words(got)} > {budget} tokens: keep dropping the oldest turn"
    if expected[:1] and expected[0]["role"] == "system" and got[:1] != expected[:1]:
        return "keep the system prompt"
    last_user = max(i for i, m in enumerate(messages) if m["role"] == "user")
    if got[-(len(messages) - last_user) :] != messages[last_user:]:
        return "always keep the latest turn: the last user message and everything after it"
    if len(got) < len(expected):
        return "dropped more than needed: stop as soon as the prompt fits"
    return "drop whole turns (a user message and the replies after it), oldest first"


def _compare_budget(trim: Callable[..., Any], messages: Messages, budget: int) -> None:
    given = [dict(m) for m in messages]
    what = f"trim_to_budget(<roles {_roles(messages)}>, {budget}, count)"
    try:
        expected = reference_trim(messages, budget, counter=count_words)
    except BudgetTooSmallError as too_small:
        try:
            got = _run(trim, what, given, budget, count_words)
        except CheckFailed as exc:
            if isinstance(exc.__cause__, BudgetTooSmallError):
                return
            if isinstance(exc.__cause__, ValueError):
                raise CheckFailed(
                    f"{what} raised {type(exc.__cause__).__name__}; raise BudgetTooSmallError instead"
                ) from None
            raise
        raise CheckFailed(
            f"{what} returned roles {show(_roles(got))}, but the system prompt and the latest turn alone need "
            f"{too_small.needed} > {budget} tokens: raise BudgetTooSmallError(needed, max_tokens)"
        ) from None
    try:
        got = _run(trim, what, given, budget, count_words)
    except CheckFailed as exc:
        if isinstance(exc.__cause__, ValueError):
            raise CheckFailed(
                f"{what} raised {type(exc.__cause__).__name__}, but {show(_roles(expected))} fits in "
                f"{count_words(expected)} <= {budget} tokens: return it (raise only when even the system prompt "
                "and the latest turn do not fit)"
            ) from None
        raise
    expect_type(got, list, what)
    if given != messages:
        raise CheckFailed(
            f"{what} changed the list it was given: return a new list, leave the transcript alone"
        )
    if got != expected:
        raise CheckFailed(
            f"{what} returned roles {show(_roles(got))}; expected {show(_roles(expected))}: "
            + _budget_hint(messages, budget, got, expected)
        )


@question("2.3", points=2, title="token-budget trimmer that terminates", target="trim_to_budget")
def check_trim_to_budget(trim_to_budget: Any) -> None:
    """Fits the budget by dropping the oldest turns; raises, quickly, when it cannot."""
    chat = _conversation(3, answer_last=False)  # system + 2 answered turns + the new question
    full = count_words(chat)
    for budget in (full, full - 1, full - 14, count_words([chat[0], chat[-1]])):
        _compare_budget(trim_to_budget, chat, budget)
    # A common mistake: the system prompt alone is over budget, so nothing can be dropped.
    system_only = count_words(chat[:1])
    _compare_budget(trim_to_budget, chat, system_only - 1)
    _compare_budget(trim_to_budget, chat, count_words([chat[0], chat[-1]]) - 1)
    no_system = _conversation(3, system=False)
    _compare_budget(trim_to_budget, no_system, 44)
    _compare_budget(trim_to_budget, no_system, 12)

    from hypothesis import strategies as st

    def agrees(messages: Messages, budget: int) -> None:
        _compare_budget(trim_to_budget, messages, budget)

    property_check(agrees, messages=_chats(), budget=st.integers(0, 80), max_examples=60, deadline_ms=None)


# --------------------------------------------------------------------------- 2.4 a stateful turn


def _sent(provider: Any, i: int) -> Messages:
    """The messages of the provider's i-th request, role and content only."""
    if len(provider.calls) <= i:
        raise CheckFailed(
            f"ask made {len(provider.calls)} request(s) where {i + 1} were expected: "
            "call provider.complete(messages, **params) once per question"
        )
    return [{"role": m.get("role"), "content": m.get("content")} for m in provider.calls[i].messages]


@question("2.4", points=2, title="one stateful chat turn", target="ask")
def check_ask(ask: Any) -> None:
    """Sends the (windowed) history, appends question and answer, rolls back when the call fails."""
    system = _msg("system", "Be brief.")
    provider = scripted_provider(["A1", "A2"])
    history = learner_copy(ask, [dict(system)])  # the learner's code appends to it in place
    got = _run(ask, "ask(provider, [system], 'Q1')", provider, history, "Q1")
    expect_equal(got, "A1", "ask(provider, [system], 'Q1')", "return the answer's text")
    expect_equal(
        _sent(provider, 0),
        [system, _msg("user", "Q1")],
        "the first request",
        "send the history plus the question",
    )
    _run(ask, "ask(provider, history, 'Q2', temperature=0)", provider, history, "Q2", temperature=0)
    expected = [system, _msg("user", "Q1"), _msg("assistant", "A1"), _msg("user", "Q2")]
    if _sent(provider, 1) != expected:
        raise CheckFailed(
            f"the second request sent roles {show(_roles(_sent(provider, 1)))}; expected {_roles(expected)}: "
            "the model remembers nothing, so send the whole history with the new question"
        )
    expect_equal(
        provider.calls[1].params, {"temperature": 0}, "the parameters passed on", "pass **params to complete"
    )
    expect_equal(
        current_value(history),
        [*expected, _msg("assistant", "A2")],
        "the history after two turns",
        "append Q and A",
    )

    last_two = lambda msgs: [msgs[0], *msgs[-2:]]  # noqa: E731 - a window the check controls
    windowed = scripted_provider(["A3"])
    _run(ask, "ask(provider, history, 'Q3', window=...)", windowed, history, "Q3", window=last_two)
    want = [system, _msg("assistant", "A2"), _msg("user", "Q3")]
    if _sent(windowed, 0) != want:
        raise CheckFailed(
            f"with window=<system + last two>, the request had roles {show(_roles(_sent(windowed, 0)))}; "
            f"expected {_roles(want)}: apply window to the history including the new question"
        )
    if len(current_value(history)) != 7:
        raise CheckFailed(
            f"after a windowed turn the history has {len(current_value(history))} messages, expected 7: "
            "the window trims the request, never the transcript"
        )

    failing = faulty_provider(["server_error"], reply="A4")
    before = [dict(m) for m in current_value(history)]
    try:
        _run(ask, "ask(<failing provider>, history, 'Q4')", failing, history, "Q4")
    except CheckFailed as exc:
        if not isinstance(exc.__cause__, ProviderError):
            raise
    else:
        raise CheckFailed("ask returned although the provider raised ServerError: let the error propagate")
    if current_value(history) != before:
        raise CheckFailed(
            f"after a failed call the history changed from {len(before)} to {len(current_value(history))} messages: take the "
            "question back out, so a retry does not send it twice"
        )
    retry = _run(ask, "ask(provider, history, 'Q4') after a ServerError", failing, history, "Q4")
    expect_equal(retry, "A4", "the retry after a ServerError")
