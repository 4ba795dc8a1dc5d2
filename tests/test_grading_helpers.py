"""Helpers for check authors: safe calls, comparisons, expected exceptions, fake providers, properties."""

from __future__ import annotations

import asyncio
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from course_lib.grading.helpers import (
    call,
    describe_call,
    expect_close,
    expect_equal,
    expect_raises,
    expect_type,
    faulty_provider,
    is_close,
    property_check,
    scripted_provider,
    show,
)
from course_lib.grading.registry import CheckFailed
from course_lib.providers.base import RateLimitError, ServerError

MESSAGES = [{"role": "user", "content": "hi"}]


def test_show_cuts_long_values_and_names_callables_without_addresses():
    assert "..." in show("x" * 500) and len(show("x" * 500)) < 80
    assert show(len) == "<function len>"
    assert show([].append) == "<function append>"
    assert "0x" not in describe_call(print, ([1, 2],), {"sep": "-"})
    assert describe_call(print, ([1, 2],), {"sep": "-"}) == "print([1, 2], sep='-')"


def test_call_returns_the_value_and_awaits_coroutines():
    async def double(x):
        await asyncio.sleep(0)
        return 2 * x

    assert call(lambda x: x + 1, 1) == 2
    assert call(double, 21) == 42


def test_call_turns_a_crash_into_a_hint_naming_the_call():
    def vote(answers):
        raise ValueError("no votes")

    with pytest.raises(CheckFailed, match=r"vote\(\[\]\) raised ValueError: no votes"):
        call(vote, [])


def test_call_lets_not_implemented_through_for_the_stub_hint():
    def stub():
        raise NotImplementedError

    with pytest.raises(NotImplementedError):
        call(stub)


def test_call_with_a_time_limit():
    def slow():
        time.sleep(5)

    start = time.monotonic()
    with pytest.raises(CheckFailed, match=r"did not return within 0\.2 s"):
        call(slow, timeout=0.2)
    assert time.monotonic() - start < 2


def test_call_on_something_not_callable():
    with pytest.raises(CheckFailed, match="should be a function, but it is a int"):
        call(3)


def test_expect_type_and_equal_say_what_came_back():
    assert expect_type("a", str, "f()") == "a"
    with pytest.raises(CheckFailed, match=r"f\(\) returned \('a', 2\), a tuple; expected a str or NoneType"):
        expect_type(("a", 2), (str, type(None)), "f()")
    with pytest.raises(CheckFailed, match=r"returned 2; expected 3 \(count both\)"):
        expect_equal(2, 3, "count()", "count both")
    expect_equal([1], [1], "same")


def test_is_close_handles_numbers_nested_lists_and_dicts():
    assert is_close(0.1 + 0.2, 0.3)
    assert is_close({"a": [1.0, 2.0]}, {"a": [1.0, 2.0 + 1e-12]})
    assert not is_close({"a": 1.0}, {"b": 1.0})
    assert not is_close([1.0], [1.0, 2.0])
    assert not is_close(True, 1)
    assert not is_close("1", 1)
    assert not is_close(1.0, 1.1)
    assert is_close(1.0, 1.05, rel=0.1)


@given(st.floats(allow_nan=False, allow_infinity=False, width=32))
def test_is_close_is_reflexive_and_detects_a_clear_difference(x):
    assert is_close(x, x)
    assert not is_close(x, x + max(1.0, abs(x)))


def test_expect_close_reports_the_expected_value():
    expect_close(0.30000000001, 0.3, "cost()")
    with pytest.raises(CheckFailed, match=r"cost\(\) returned 0\.5; expected about 0\.3"):
        expect_close(0.5, 0.3, "cost()")


def test_expect_raises():
    def strict(x):
        if x < 0:
            raise ValueError("negative")
        return x

    assert isinstance(expect_raises(ValueError, strict, -1), ValueError)
    with pytest.raises(CheckFailed, match=r"strict\(1\) returned 1; expected it to raise ValueError \(why\)"):
        expect_raises(ValueError, strict, 1, why="why")
    with pytest.raises(CheckFailed, match="raised ZeroDivisionError; expected ValueError"):
        expect_raises(ValueError, lambda: 1 / 0)


def test_faulty_provider_follows_its_schedule_without_sleeping():
    scripted_provider(["warm up"]).complete(MESSAGES)  # load the tokenizer outside the timed part
    provider = faulty_provider(["rate_limit", "server_error", "slow"], reply="fine", retry_after=2.0)
    with pytest.raises(RateLimitError) as info:
        provider.complete(MESSAGES)
    assert info.value.retry_after == 2.0
    with pytest.raises(ServerError):
        provider.complete(MESSAGES)
    start = time.monotonic()
    assert provider.complete(MESSAGES).text == "fine"  # a "slow" fault would sleep 2 s for real
    assert time.monotonic() - start < 1.5
    assert provider.complete(MESSAGES).text == "fine"
    assert provider.calls == 4 and len(provider.inner.calls) == 2


def test_scripted_provider_replies_in_order_and_records_calls():
    provider = scripted_provider(["one", "two"])
    assert [provider.complete(MESSAGES).text for _ in range(2)] == ["one", "two"]
    assert provider.calls[0].last_user == "hi"


def test_property_check_passes_a_true_property():
    property_check(lambda xs: None, xs=st.lists(st.integers()), max_examples=20)


def test_property_check_reports_the_smallest_counterexample():
    def buggy_max(xs):
        return xs[0] if xs else None  # wrong unless the maximum comes first

    def agrees(xs):
        if buggy_max(xs) != (max(xs) if xs else None):
            raise CheckFailed("wrong maximum")

    with pytest.raises(CheckFailed) as info:
        property_check(agrees, xs=st.lists(st.integers(min_value=0, max_value=9)), max_examples=100)
    assert str(info.value) == "wrong maximum — for example with xs=[0, 1]"


def test_property_check_turns_a_crash_into_a_hint():
    def crashes(xs):
        return 1 / len(xs)

    with pytest.raises(
        CheckFailed, match=r"raised ZeroDivisionError: division by zero — for example with xs=\[\]"
    ):
        property_check(crashes, xs=st.lists(st.integers()), max_examples=20)


def test_property_check_flags_a_function_too_slow_for_the_deadline():
    def slow(x):
        time.sleep(0.05)

    with pytest.raises(CheckFailed, match="took longer than 10 ms"):
        property_check(slow, x=st.integers(), max_examples=3, deadline_ms=10)
