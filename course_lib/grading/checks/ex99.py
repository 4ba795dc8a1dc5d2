"""Checks of exercise 99, the demo exercise that proves the grading machinery (exercises).

99.1 sums token usage over a run, 99.2 retries a provider call on transient errors (driven by a
faulty provider), 99.3 takes a majority vote with ties going to the earliest answer (property-based).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from ...providers.base import BadRequestError, ChatResult, Choice, ProviderError, ProviderTimeout, Usage
from . import (
    CheckFailed,
    call,
    expect_equal,
    expect_type,
    faulty_provider,
    property_check,
    question,
    show,
)

__all__ = ["check_call_with_retry", "check_majority_vote", "check_total_usage"]

_MESSAGES = [{"role": "user", "content": "Is the service up?"}]


def _result(prompt: int, completion: int, cached: int = 0) -> ChatResult:
    usage = Usage(prompt_tokens=prompt, completion_tokens=completion, cached_tokens=cached)
    return ChatResult(choices=[Choice(text="ok")], usage=usage, model="demo")


@question("99.1", points=1, title="total token usage of a run", target="total_usage")
def check_total_usage(total_usage: Any) -> None:
    """Every call's prompt, completion and cached tokens count, and an empty run costs nothing."""
    cases = [
        ([_result(10, 5), _result(20, 7, 3), _result(1, 1)], (31, 13, 3)),
        ([_result(4, 2, 1)], (4, 2, 1)),
        ([], (0, 0, 0)),
    ]
    for results, (prompt, completion, cached) in cases:
        what = f"total_usage(<{len(results)} results>)"
        got = expect_type(call(total_usage, results), Usage, what)
        actual = (got.prompt_tokens, got.completion_tokens, got.cached_tokens)
        if actual != (prompt, completion, cached):
            raise CheckFailed(
                f"{what} gave prompt/completion/cached tokens {actual}; expected {(prompt, completion, cached)}"
                " (add up every result's usage, the first and the last included)"
            )


def _retry(call_with_retry: Any, faults: list[str], max_attempts: int, sleeps: list[float]) -> Any:
    """Run the learner's retry wrapper against a provider failing with ``faults``; return (provider, outcome).

    The outcome is the result, or the ProviderError the wrapper let through.
    """
    provider = faulty_provider(faults, reply="up", retry_after=1.5)
    try:
        result = call(call_with_retry, provider, _MESSAGES, max_attempts=max_attempts, sleep=sleeps.append)
    except CheckFailed as exc:
        cause = exc.__cause__
        if isinstance(cause, ProviderError):
            return provider, cause
        if cause is None:
            raise
        story = ", then ".join(faults) or "no faults"
        raise CheckFailed(
            f"call_with_retry raised {type(cause).__name__}: {cause} (provider faults: {story}, "
            f"max_attempts={max_attempts})"
        ) from None
    return provider, result


@question("99.2", points=2, title="retry transient provider errors", target="call_with_retry")
def check_call_with_retry(call_with_retry: Any) -> None:
    """Retries 429/5xx/timeouts with a wait in between, honours retry-after, gives up on 400s and at the cap."""
    sleeps: list[float] = []
    provider, got = _retry(call_with_retry, ["rate_limit", "server_error"], 3, sleeps)
    what = "with a provider failing 429, then 500, then answering, call_with_retry(max_attempts=3)"
    if isinstance(got, ProviderError):
        raise CheckFailed(
            f"{what} raised {type(got).__name__} after {provider.calls} call(s); "
            "429 and 5xx errors are transient: wait, then try again"
        )
    expect_type(got, ChatResult, what)
    if got.text != "up" or provider.calls != 3:
        raise CheckFailed(
            f"{what} made {provider.calls} call(s) and returned {show(got.text)}; expected 3 and 'up'"
        )
    if provider.inner.calls[0].messages != _MESSAGES:
        raise CheckFailed("call_with_retry changed the messages: pass them to provider.complete unchanged")
    if len(sleeps) != 2 or any(
        isinstance(s, bool) or not isinstance(s, (int, float)) or s <= 0 for s in sleeps
    ):
        raise CheckFailed(
            f"{what} called sleep with {show(sleeps)}; expected two positive waits, one per retry"
        )
    if sleeps[0] != 1.5:
        raise CheckFailed(f"the 429 said retry_after=1.5 but the first wait was {show(sleeps[0])}: honour it")

    sleeps.clear()
    provider, got = _retry(call_with_retry, ["bad_request"], 3, sleeps)
    if not isinstance(got, BadRequestError) or provider.calls != 1 or sleeps:
        raise CheckFailed(
            f"with a 400 Bad Request, call_with_retry made {provider.calls} call(s) and ended with {show(got)}; "
            "a bad request cannot succeed on retry: raise it at once"
        )

    provider, got = _retry(call_with_retry, ["timeout"] * 6, 4, sleeps)
    if not isinstance(got, ProviderTimeout) or provider.calls != 4:
        raise CheckFailed(
            f"with a provider that always times out, call_with_retry(max_attempts=4) made {provider.calls} "
            f"call(s) and ended with {show(got)}; expected 4 calls, then the last error raised"
        )

    sleeps.clear()
    provider, got = _retry(call_with_retry, [], 3, sleeps)
    if not isinstance(got, ChatResult) or provider.calls != 1 or sleeps:
        raise CheckFailed("call_with_retry waited, retried or failed although the first call succeeded")


def _expected_vote(answers: list[str]) -> str | None:
    if not answers:
        return None
    counts = Counter(answers)
    best = max(counts.values())
    return next(a for a in answers if counts[a] == best)


@question("99.3", points=2, title="majority vote with ties", target="majority_vote")
def check_majority_vote(majority_vote: Any) -> None:
    """The most frequent answer wins, ties go to the answer seen first, no answers give None."""
    for answers in (["B", "A", "B", "A"], [], ["x"], ["a", "b", "b"], ["y", "z"]):
        expected = _expected_vote(answers)
        got = call(majority_vote, list(answers))
        what = f"majority_vote({show(answers)})"
        if expected is not None:
            expect_type(got, str, what)
        expect_equal(got, expected, what, "ties go to the answer seen first; no answers give None")

    from hypothesis import strategies as st

    def agrees(answers: list[str]) -> None:
        got = majority_vote(list(answers))
        expected = _expected_vote(answers)
        if got != expected:
            raise CheckFailed(f"majority_vote returned {show(got)}; expected {show(expected)}")

    property_check(agrees, answers=st.lists(st.sampled_from("ABCD"), max_size=12), max_examples=80)
