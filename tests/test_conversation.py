"""Tests for course_lib.conversation: message builders, windows, the token-budget trimmer, state."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.conversation import (
    BudgetTooSmallError,
    Conversation,
    assistant_message,
    keep_last_turns,
    prompt_tokens_per_turn,
    sliding_window,
    split_system,
    split_turns,
    system_message,
    tool_message,
    trim_to_budget,
    user_message,
)
from course_lib.providers.base import RateLimitError
from course_lib.providers.scripted import ScriptedProvider
from course_lib.tokens import count_message_tokens

SYS = {"role": "system", "content": "You are a Python tutor."}


def u(text: str) -> dict:
    return {"role": "user", "content": text}


def a(text: str) -> dict:
    return {"role": "assistant", "content": text}


def chars(messages) -> int:
    """A simple, predictable counter for tests: one token per character of content."""
    return sum(len(m.get("content") or "") for m in messages)


# --------------------------------------------------------------------------- builders


def test_message_builders_have_openai_shape():
    assert system_message("Be brief.") == {"role": "system", "content": "Be brief."}
    assert user_message("hi") == {"role": "user", "content": "hi"}
    assert user_message("hi", name="ana") == {"role": "user", "content": "hi", "name": "ana"}
    assert assistant_message("4") == {"role": "assistant", "content": "4"}
    call = {"id": "c1", "type": "function", "function": {"name": "add", "arguments": "{}"}}
    assert assistant_message(None, tool_calls=[call]) == {
        "role": "assistant",
        "content": None,
        "tool_calls": [call],
    }
    assert tool_message("5", tool_call_id="c1") == {"role": "tool", "content": "5", "tool_call_id": "c1"}


def test_builders_reject_incomplete_messages():
    with pytest.raises(ValueError, match="content or tool_calls"):
        assistant_message(None)
    with pytest.raises(ValueError, match="tool_call_id"):
        tool_message("5", tool_call_id="")


def test_split_system_and_turns():
    msgs = [SYS, a("Hello!"), u("q1"), a("a1"), u("q2")]
    pinned, rest = split_system(msgs)
    assert pinned == [SYS]
    assert rest == msgs[1:]
    assert split_turns(rest) == [[a("Hello!")], [u("q1"), a("a1")], [u("q2")]]


# --------------------------------------------------------------------------- sliding window


def test_sliding_window_keeps_system_and_last_messages():
    msgs = [SYS, u("q1"), a("a1"), u("q2"), a("a2"), u("q3")]
    assert sliding_window(msgs, 3) == [SYS, u("q2"), a("a2"), u("q3")]
    assert sliding_window(msgs, 10) == msgs


def test_sliding_window_never_starts_with_an_orphan_answer():
    msgs = [SYS, u("q1"), a("a1"), u("q2"), a("a2")]
    # The last 3 messages would be a1, q2, a2: a1 answers a question that was cut.
    assert sliding_window(msgs, 3) == [SYS, u("q2"), a("a2")]


def test_sliding_window_zero_keeps_only_system():
    # list[-0:] is the whole list; a window of 0 must keep no history at all.
    assert sliding_window([SYS, u("q1"), a("a1")], 0) == [SYS]
    with pytest.raises(ValueError):
        sliding_window([SYS], -1)


def test_sliding_window_keeps_tool_results_with_their_call():
    call = {"id": "c1", "type": "function", "function": {"name": "add", "arguments": "{}"}}
    msgs = [
        SYS,
        u("q1"),
        a("a1"),
        u("add 2 and 3"),
        assistant_message(None, tool_calls=[call]),
        tool_message("5", tool_call_id="c1"),
        a("5"),
    ]
    assert sliding_window(msgs, 4) == [SYS, *msgs[3:]]
    assert sliding_window(msgs, 3) == [SYS]  # the latest turn does not fit in 3; never cut it in half


def test_keep_last_turns():
    msgs = [SYS, u("q1"), a("a1"), u("q2"), a("a2"), u("q3")]
    assert keep_last_turns(msgs, 2) == [SYS, u("q2"), a("a2"), u("q3")]
    assert keep_last_turns(msgs, 0) == [SYS]
    assert keep_last_turns(msgs, 9) == msgs


# --------------------------------------------------------------------------- token budget


def test_trim_drops_oldest_turns_until_it_fits():
    msgs = [SYS, u("aaaa"), a("bbbb"), u("cccc"), a("dddd"), u("eeee")]
    base = len(SYS["content"])
    assert trim_to_budget(msgs, base + 20, counter=chars) == msgs
    assert trim_to_budget(msgs, base + 19, counter=chars) == [SYS, u("cccc"), a("dddd"), u("eeee")]
    assert trim_to_budget(msgs, base + 4, counter=chars) == [SYS, u("eeee")]


def test_trim_raises_when_system_prompt_alone_is_over_budget():
    msgs = [{"role": "system", "content": "x" * 100}, u("hi")]
    with pytest.raises(BudgetTooSmallError) as info:
        trim_to_budget(msgs, 50, counter=chars)
    assert info.value.needed == 102
    assert info.value.budget == 50
    assert "102" in str(info.value) and "50" in str(info.value) and "Raise the budget" in str(info.value)


def test_trim_with_tiktoken_counts():
    msgs = [SYS, u("What is a list comprehension?"), a("A compact loop."), u("Show one with a filter.")]
    full = count_message_tokens(msgs)
    last = count_message_tokens([SYS, msgs[-1]])
    assert trim_to_budget(msgs, full) == msgs
    assert trim_to_budget(msgs, full - 1) == [SYS, msgs[-1]]
    assert trim_to_budget(msgs, last) == [SYS, msgs[-1]]
    with pytest.raises(BudgetTooSmallError):
        trim_to_budget(msgs, last - 1)


def test_trim_keeps_the_whole_latest_turn_including_tool_calls():
    call = {"id": "c1", "type": "function", "function": {"name": "add", "arguments": "{}"}}
    latest = [u("add"), assistant_message(None, tool_calls=[call]), tool_message("5", tool_call_id="c1")]
    msgs = [SYS, u("old question"), a("old answer"), *latest]
    assert trim_to_budget(msgs, chars([SYS, *latest]), counter=chars) == [SYS, *latest]


# --------------------------------------------------------------------------- properties

ROLES = st.sampled_from(["user", "assistant", "tool"])
TEXT = st.text(alphabet="abc xyz.,!", max_size=30)
MESSAGE = st.builds(lambda r, t: {"role": r, "content": t}, ROLES, TEXT)
SYSTEMS = st.lists(st.builds(lambda t: {"role": "system", "content": t}, TEXT), max_size=2)
CONVERSATIONS = st.tuples(SYSTEMS, st.lists(MESSAGE, max_size=12))


def _latest_turn_start(rest):
    users = [i for i, m in enumerate(rest) if m["role"] == "user"]
    return users[-1] if users else max(len(rest) - 1, 0)


@settings(max_examples=150, deadline=None)
@given(CONVERSATIONS, st.integers(min_value=0, max_value=250))
def test_trim_property(conv, budget):
    pinned, rest = conv
    msgs = pinned + rest
    mandatory = pinned + rest[_latest_turn_start(rest) :]
    if count_message_tokens(mandatory) > budget:
        with pytest.raises(BudgetTooSmallError):
            trim_to_budget(msgs, budget)
        return
    out = trim_to_budget(msgs, budget)
    assert count_message_tokens(out) <= budget
    assert out[: len(pinned)] == pinned  # the system prompt is always kept, first
    kept = out[len(pinned) :]
    assert kept == rest[len(rest) - len(kept) :]  # a suffix: order preserved, only the oldest dropped
    assert out[len(out) - len(mandatory) + len(pinned) :] == mandatory[len(pinned) :]  # latest turn kept
    if kept != rest:
        if any(m["role"] == "user" for m in rest):
            assert kept[0]["role"] == "user"  # trimmed history starts at a turn boundary
        else:
            assert kept == rest[-1:]  # no user message at all: the last message is the latest turn
        # and no longer turn-aligned suffix would have fitted: the trimmer drops no more than needed
        start = len(rest) - len(kept)
        earlier = [i for i in range(start) if i == 0 or rest[i]["role"] == "user"]
        if earlier:
            assert count_message_tokens(pinned + rest[earlier[-1] :]) > budget


@settings(max_examples=150, deadline=None)
@given(CONVERSATIONS, st.integers(min_value=0, max_value=15))
def test_sliding_window_property(conv, n):
    pinned, rest = conv
    out = sliding_window(pinned + rest, n)
    assert out[: len(pinned)] == pinned
    kept = out[len(pinned) :]
    assert len(kept) <= n
    assert kept == rest[len(rest) - len(kept) :]
    if kept and kept != rest:
        assert kept[0]["role"] == "user"
    if len(rest) <= n:
        assert kept == rest


@settings(max_examples=100, deadline=None)
@given(CONVERSATIONS, st.integers(min_value=0, max_value=6))
def test_keep_last_turns_property(conv, n):
    pinned, rest = conv
    out = keep_last_turns(pinned + rest, n)
    assert out[: len(pinned)] == pinned
    kept = out[len(pinned) :]
    assert kept == rest[len(rest) - len(kept) :]
    assert len(split_turns(kept)) <= n
    if kept and kept != rest:
        assert kept[0]["role"] == "user"


# --------------------------------------------------------------------------- conversation state


def test_ask_sends_the_whole_history_and_appends_the_answer():
    provider = ScriptedProvider(["Use pandas.read_csv.", "Pass header=None."])
    conv = Conversation("You are a Python tutor.")
    first = conv.ask(provider, "How do I read a CSV file?")
    second = conv.ask(provider, "What if it has no header?", temperature=0)
    assert first.text == "Use pandas.read_csv."
    assert second.text == "Pass header=None."
    assert provider.calls[1].messages == [
        {"role": "system", "content": "You are a Python tutor."},
        u("How do I read a CSV file?"),
        a("Use pandas.read_csv."),
        u("What if it has no header?"),
    ]
    assert provider.calls[1].params == {"temperature": 0}
    assert conv.history[-1] == a("Pass header=None.")
    assert len(conv) == 5
    assert conv.system_prompt == "You are a Python tutor."


def test_tokens_resent_grow_every_turn_without_trimming():
    provider = ScriptedProvider(lambda m, p: "An answer of a few words.")
    conv = Conversation("You are a Python tutor.")
    for q in ["First question?", "Second question?", "Third question?", "Fourth question?"]:
        conv.ask(provider, q)
    assert conv.sent_tokens == [count_message_tokens(c.messages) for c in provider.calls]
    assert all(b > a for a, b in zip(conv.sent_tokens, conv.sent_tokens[1:], strict=False))
    assert conv.tokens_per_turn() == conv.sent_tokens


def test_window_bounds_what_is_sent():
    provider = ScriptedProvider(lambda m, p: "ok")
    conv = Conversation("sys", max_messages=3)
    for i in range(6):
        conv.ask(provider, f"question {i}")
    for call in provider.calls:
        assert call.messages[0] == {"role": "system", "content": "sys"}
        assert len(call.messages) <= 4
        assert call.messages[-1]["role"] == "user"
    assert provider.calls[-1].messages == [
        {"role": "system", "content": "sys"},
        u("question 4"),
        a("ok"),
        u("question 5"),
    ]
    assert len(conv.history) == 13  # the transcript itself is kept whole


def test_token_budget_bounds_what_is_sent():
    provider = ScriptedProvider(lambda m, p: "a fairly long answer " * 5)
    conv = Conversation("sys", max_tokens=80)
    for i in range(8):
        conv.ask(provider, f"question number {i}")
    assert max(conv.sent_tokens) <= 80
    assert conv.token_count() <= 80
    untrimmed = conv.tokens_per_turn()
    assert untrimmed[-1] > 80
    assert conv.tokens_per_turn(max_tokens=80) == conv.sent_tokens


def test_failed_call_takes_the_question_back():
    provider = ScriptedProvider([RateLimitError("429 slow down"), "fine"])
    conv = Conversation("sys")
    with pytest.raises(RateLimitError):
        conv.ask(provider, "hello")
    assert conv.history == [{"role": "system", "content": "sys"}]
    conv.ask(provider, "hello")
    assert [m["role"] for m in conv.history] == ["system", "user", "assistant"]


def test_budget_error_surfaces_from_ask_and_rolls_back():
    conv = Conversation("x " * 200, max_tokens=20)
    with pytest.raises(BudgetTooSmallError):
        conv.ask(ScriptedProvider(["never"]), "hi")
    assert len(conv.history) == 1


def test_aask_uses_acomplete():
    provider = ScriptedProvider(["pong"])
    conv = Conversation()
    result = asyncio.run(conv.aask(provider, "ping"))
    assert result.text == "pong"
    assert conv.history == [u("ping"), a("pong")]
    assert conv.system_prompt is None


def test_conversation_rejects_a_window_that_would_drop_the_question():
    with pytest.raises(ValueError, match="max_messages"):
        Conversation("sys", max_messages=0)


def test_prompt_tokens_per_turn_matches_explicit_prompts():
    msgs = [SYS, u("q one"), a("answer one"), u("q two"), a("answer two"), u("q three")]
    expected = [
        count_message_tokens(msgs[:2]),
        count_message_tokens(msgs[:4]),
        count_message_tokens(msgs[:6]),
    ]
    assert prompt_tokens_per_turn(msgs) == expected
    windowed = prompt_tokens_per_turn(msgs, max_messages=1)
    assert windowed == [count_message_tokens([SYS, m]) for m in (msgs[1], msgs[3], msgs[5])]
