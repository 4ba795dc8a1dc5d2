"""Helpers for writing checks: call learner code safely and turn surprises into specific hints (exercises).

Every helper raises :class:`~course_lib.grading.registry.CheckFailed` with a message written for the
learner: what was called, with which input, what came back and what was expected. Checks built from
them accept any correct implementation, because they test behaviour, never the shape of the code.
"""

from __future__ import annotations

import asyncio
import inspect
import math
import reprlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from ..providers.faulty import FaultSchedule, FaultyProvider
from ..providers.scripted import ScriptedProvider
from .registry import CheckFailed
from .remote import LearnerUnresponsive
from .sandbox import TimeLimitExceeded, run_with_time_limit

__all__ = [
    "call",
    "call_with_text",
    "describe_call",
    "expect_close",
    "expect_equal",
    "expect_raises",
    "expect_type",
    "faulty_provider",
    "is_close",
    "property_check",
    "scripted_provider",
    "show",
]


class _ShortRepr(reprlib.Repr):
    """reprlib with callables shown by name (no memory addresses in hints)."""

    def repr_function(self, obj: Any, level: int) -> str:
        return f"<function {obj.__name__}>"

    repr_builtin_function_or_method = repr_method = repr_function


_repr = _ShortRepr()
_repr.maxstring = 60
_repr.maxother = 60
_repr.maxlist = _repr.maxtuple = _repr.maxdict = _repr.maxset = 8
_repr.maxlevel = 3


def show(value: Any) -> str:
    """A short repr for hints: long strings and lists are cut with an ellipsis (exercises)."""
    return _repr.repr(value)


def _name(fn: Any) -> str:
    return getattr(fn, "__name__", None) or type(fn).__name__


def call_with_text(fn: Callable[..., Any], /, *args: Any, hint: str) -> Any:
    """:func:`call` for a prompt builder given untrusted text: a crash gets ``hint`` (how to insert the
    text safely) appended in brackets (exercises)."""
    try:
        return call(fn, *args)
    except CheckFailed as exc:
        raise CheckFailed(f"{exc} ({hint})") from None


def describe_call(fn: Any, args: Sequence[Any] = (), kwargs: Mapping[str, Any] | None = None) -> str:
    """``name(arg, key=value)`` with short reprs, to say in a hint which call went wrong (exercises)."""
    parts = [show(a) for a in args] + [f"{k}={show(v)}" for k, v in (kwargs or {}).items()]
    return f"{_name(fn)}({', '.join(parts)})"


def _type_names(types: type | tuple[type, ...]) -> str:
    items = types if isinstance(types, tuple) else (types,)
    return " or ".join(t.__name__ for t in items)


def call(fn: Callable[..., Any], /, *args: Any, timeout: float | None = None, **kwargs: Any) -> Any:
    """Call the learner's ``fn``; awaits a coroutine result; a crash or overrun becomes a hint (exercises).

    ``NotImplementedError`` passes through, so the grader can say the function is still a stub.
    """
    what = describe_call(fn, args, kwargs)
    if not callable(fn):
        raise CheckFailed(f"`{_name(fn)}` should be a function, but it is a {type(fn).__name__}")

    def invoke() -> Any:
        result = fn(*args, **kwargs)
        if inspect.isawaitable(result):
            result = asyncio.run(_await(result))
        return result

    try:
        if _remote(fn):
            with _deadline(timeout):
                return fn(*args, **kwargs)
        return run_with_time_limit(invoke, timeout=timeout)
    except TimeLimitExceeded:
        if timeout is None:
            raise  # the check's own time limit: the question times out
        raise CheckFailed(f"{what} did not return within {timeout:g} s (an endless loop?)") from None
    except (NotImplementedError, CheckFailed, LearnerUnresponsive):
        raise
    except Exception as exc:
        detail = f": {exc}" if str(exc) else ""
        raise CheckFailed(f"{what} raised {type(exc).__name__}{detail}") from exc


def _remote(fn: Any) -> bool:
    from .remote import RemoteObject

    return isinstance(fn, RemoteObject)


def _deadline(timeout: float | None) -> Any:
    from .remote import deadline_in

    return deadline_in(timeout)


async def _await(awaitable: Any) -> Any:
    return await awaitable


def expect_type(value: Any, types: type | tuple[type, ...], what: str) -> Any:
    """Fail unless ``value`` is an instance of ``types``; ``what`` names the value in the hint (exercises)."""
    if not isinstance(value, types):
        raise CheckFailed(
            f"{what} returned {show(value)}, a {type(value).__name__}; expected a {_type_names(types)}"
        )
    return value


def expect_equal(actual: Any, expected: Any, what: str, hint: str = "") -> None:
    """Fail unless ``actual == expected``, saying what came back and what was expected (exercises)."""
    if actual != expected:
        extra = f" ({hint})" if hint else ""
        raise CheckFailed(f"{what} returned {show(actual)}; expected {show(expected)}{extra}")


def is_close(actual: Any, expected: Any, *, rel: float = 1e-6, abs_tol: float = 1e-9) -> bool:
    """True when numbers (or equal-shaped lists / dicts of numbers) agree within a tolerance (exercises)."""
    if isinstance(expected, Mapping):
        return (
            isinstance(actual, Mapping)
            and set(actual) == set(expected)
            and all(is_close(actual[k], expected[k], rel=rel, abs_tol=abs_tol) for k in expected)
        )
    if isinstance(expected, (list, tuple)):
        return (
            isinstance(actual, (list, tuple))
            and len(actual) == len(expected)
            and all(is_close(a, e, rel=rel, abs_tol=abs_tol) for a, e in zip(actual, expected, strict=True))
        )
    if isinstance(expected, (int, float)) and not isinstance(expected, bool):
        if isinstance(actual, bool) or not isinstance(actual, (int, float)):
            return False
        return math.isclose(actual, expected, rel_tol=rel, abs_tol=abs_tol)
    return bool(actual == expected)


def expect_close(
    actual: Any, expected: Any, what: str, *, rel: float = 1e-6, abs_tol: float = 1e-9, hint: str = ""
) -> None:
    """Like :func:`expect_equal` for numbers, with a relative and an absolute tolerance (exercises)."""
    if not is_close(actual, expected, rel=rel, abs_tol=abs_tol):
        extra = f" ({hint})" if hint else ""
        raise CheckFailed(f"{what} returned {show(actual)}; expected about {show(expected)}{extra}")


def expect_raises(
    exc_types: type[BaseException] | tuple[type[BaseException], ...],
    fn: Callable[..., Any],
    /,
    *args: Any,
    timeout: float | None = None,
    why: str = "",
    **kwargs: Any,
) -> BaseException:
    """Fail unless ``fn(*args, **kwargs)`` raises one of ``exc_types``; return the exception (exercises)."""
    what = describe_call(fn, args, kwargs)
    reason = f" ({why})" if why else ""
    try:
        if _remote(fn):
            with _deadline(timeout):
                result = fn(*args, **kwargs)
        else:
            result = run_with_time_limit(fn, *args, timeout=timeout, **kwargs)
    except exc_types as exc:
        return exc
    except TimeLimitExceeded:
        if timeout is None:
            raise  # the check's own time limit: the question times out
        raise CheckFailed(f"{what} did not return within {timeout:g} s (an endless loop?)") from None
    except (NotImplementedError, LearnerUnresponsive):
        raise
    except Exception as exc:
        raise CheckFailed(
            f"{what} raised {type(exc).__name__}; expected {_type_names(exc_types)}{reason}"
        ) from exc
    raise CheckFailed(
        f"{what} returned {show(result)}; expected it to raise {_type_names(exc_types)}{reason}"
    )


class _ScriptedSpec(ScriptedProvider):
    """A scripted provider that can also be described as plain data, to be rebuilt in the learner's process."""

    def __init__(self, replies: list[Any] | Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(replies, **kwargs)
        self._spec = {
            "kind": "scripted",
            "replies": replies,
            "model": kwargs.get("model", "scripted-model"),
            "repeat_last": bool(kwargs.get("repeat_last", False)),
        }

    def course_spec(self) -> dict[str, Any]:
        """The plain description the learner's process rebuilds this provider from."""
        return dict(self._spec)


class _FaultySpec(FaultyProvider):
    """A faulty provider that can also be described as plain data (see :class:`_ScriptedSpec`)."""

    def __init__(self, faults: list[str | None], reply: Any, retry_after: float | None) -> None:
        answer = reply if callable(reply) else (lambda messages, params: reply)
        super().__init__(
            ScriptedProvider(answer),
            FaultSchedule(list(faults)),
            retry_after=retry_after,
            sleep=lambda s: None,
        )
        self._spec = {"kind": "faulty", "faults": list(faults), "reply": reply, "retry_after": retry_after}

    def course_spec(self) -> dict[str, Any]:
        """The plain description the learner's process rebuilds this provider from."""
        return dict(self._spec)


def scripted_provider(replies: Iterable[Any] | Callable[..., Any], **kwargs: Any) -> ScriptedProvider:
    """A :class:`ScriptedProvider` for a check: replies from a list or a function; records ``.calls``.

    In an isolated grading run the provider is rebuilt inside the learner's process from its plain
    description, and the calls it received come back here after each request (exercises).
    """
    return _ScriptedSpec(replies if callable(replies) else list(replies), **kwargs)


def faulty_provider(
    faults: Sequence[str | None],
    *,
    reply: str | Callable[..., Any] = "OK",
    retry_after: float | None = 0.0,
) -> FaultyProvider:
    """A :class:`FaultyProvider` failing on the given schedule, then answering ``reply``; never sleeps.

    ``.calls`` counts attempts; ``.inner.calls`` holds the requests that got through (exercises).
    """
    return _FaultySpec(list(faults), reply, retry_after)


class _PropertyFailure(Exception):
    """A property did not hold for one generated example."""

    def __init__(self, message: str, example: str) -> None:
        super().__init__(message)
        self.message = message
        self.example = example


def property_check(
    prop: Callable[..., Any],
    *,
    max_examples: int = 50,
    deadline_ms: float | None = 2000,
    **strategies: Any,
) -> None:
    """Run ``prop(**example)`` on hypothesis-generated examples; the smallest failure becomes the hint.

    ``deadline_ms`` bounds one example; its default leaves room for calls that cross into the learner's
    process on a loaded machine (the question's own time limit still bounds the whole check).

    ``prop`` raises :class:`CheckFailed` when the property does not hold (any other exception from the
    learner's code counts as a failure too). Runs are derandomised, so a grade is repeatable, and use
    no example database, so nothing is written to disk (exercises).
    """
    try:
        from hypothesis import HealthCheck, Phase, Verbosity, given, settings
        from hypothesis.errors import DeadlineExceeded, Flaky
    except ModuleNotFoundError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError("property checks need hypothesis: pip install hypothesis") from exc

    def example_test(**example: Any) -> None:
        shown = ", ".join(f"{k}={show(v)}" for k, v in example.items())
        try:
            prop(**example)
        except CheckFailed as exc:
            raise _PropertyFailure(str(exc), shown) from None
        except (NotImplementedError, LearnerUnresponsive):
            raise
        except Exception as exc:
            detail = f": {exc}" if str(exc) else ""
            raise _PropertyFailure(f"raised {type(exc).__name__}{detail}", shown) from None

    config = settings(
        max_examples=max_examples,
        deadline=deadline_ms,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        verbosity=Verbosity.quiet,
        print_blob=False,
        report_multiple_bugs=False,
    )
    try:
        config(given(**strategies)(example_test))()
    except _PropertyFailure as exc:
        raise CheckFailed(f"{exc.message} — for example with {exc.example}") from None
    except (DeadlineExceeded, Flaky):
        slow = f", or took longer than {deadline_ms:g} ms for one call" if deadline_ms else ""
        raise CheckFailed(
            f"gave different results for the same input{slow}: make it deterministic and quick"
        ) from None
