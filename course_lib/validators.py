"""Structured output: JSON extraction, pydantic validation and self-correction with error feedback (lesson 07).

Models asked for JSON often answer with prose around it, code fences, or the wrong types. The
layers here are: find the JSON in whatever came back (:func:`extract_json`), validate it against a
pydantic model with errors a model can act on (:func:`parse_output`), and, when it fails, show the
model its own output and the error and ask again, a bounded number of times
(:func:`generate_validated`). When every attempt fails, :class:`ValidationFailedError` carries all
of them, so nothing is lost (the dead-letter queue of lesson 07 stores exactly that).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from .providers.base import ChatResult, Message, Usage
from .retry import RetryPolicy

__all__ = [
    "InvalidOutputError",
    "JSONExtractionError",
    "RetryNotice",
    "Validated",
    "ValidationAttempt",
    "ValidationFailedError",
    "complete_with_retry",
    "correction_message",
    "extract_json",
    "format_validation_error",
    "generate_validated",
    "iter_validated",
    "parse_output",
]

T = TypeVar("T", bound=BaseModel)
_DECODER = json.JSONDecoder()
_MAX_SCAN_CHARS = 200_000


class JSONExtractionError(ValueError):
    """No JSON object could be found in a model's output (lesson 07)."""


class InvalidOutputError(ValueError):
    """A model's output is not JSON, or its JSON does not fit the schema; ``str()`` says why (lesson 07)."""

    def __init__(self, message: str, raw: str) -> None:
        super().__init__(message)
        self.raw = raw


def _clip(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _preview(text: str, width: int = 60) -> str:
    return repr(_clip(text, width))


def extract_json(text: str, *, allow_array: bool = False) -> Any:
    """Return the first JSON object in ``text``, ignoring prose and code fences around it (lesson 07).

    Handles ``` fences, "Sure! here:" before and notes after, nested braces and braces inside
    strings (the JSON decoder reads each candidate, not a regex). With ``allow_array`` a top-level
    array is accepted too. Raises :class:`JSONExtractionError` saying what was wrong.
    """
    if not isinstance(text, str):
        raise JSONExtractionError(f"expected the model's text, got {type(text).__name__}")
    wanted = (dict, list) if allow_array else (dict,)
    stripped = text.strip()
    try:
        whole = json.loads(stripped)
    except ValueError:
        pass
    else:
        if isinstance(whole, wanted):
            return whole
    starts = "{[" if allow_array else "{"
    first_error: str | None = None
    i, end = 0, min(len(text), _MAX_SCAN_CHARS)
    while i < end:
        if text[i] not in starts:
            i += 1
            continue
        try:
            value, stop = _DECODER.raw_decode(text, i)
        except ValueError as exc:
            if first_error is None:
                first_error = f"the JSON starting at character {i} is invalid: {exc.args[0]}"
            i += 1
            continue
        if isinstance(value, wanted):
            return value
        i = stop
    what = "JSON object or array" if allow_array else "JSON object"
    if first_error is not None:
        raise JSONExtractionError(f"no valid {what} in the reply; {first_error}")
    if not stripped:
        raise JSONExtractionError(f"the reply is empty; expected a {what}")
    raise JSONExtractionError(f"no {what} in the reply (it starts {_preview(stripped)})")


def format_validation_error(exc: ValidationError) -> str:
    """Pydantic errors as short lines a model (or a person) can act on: field, problem, value (lesson 07)."""
    lines = []
    for err in exc.errors(include_url=False):
        where = ".".join(str(part) for part in err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        if where:
            value = err.get("input")
            got = "" if isinstance(value, dict) else f" (got {_clip(json.dumps(value, default=str), 40)})"
            lines.append(f"- {where}: {message}{got}")
        else:
            lines.append(f"- {message}")
    return "\n".join(lines)


def parse_output(text: str, model_cls: type[T], *, context: Mapping[str, Any] | None = None) -> T:
    """Extract the JSON in ``text`` and validate it as ``model_cls`` (lesson 07).

    Raises :class:`InvalidOutputError` whose message lists every problem found.
    """
    try:
        data = extract_json(text)
    except JSONExtractionError as exc:
        raise InvalidOutputError(str(exc), text) from None
    try:
        return model_cls.model_validate(data, context=dict(context) if context is not None else None)
    except ValidationError as exc:
        detail = format_validation_error(exc)
        raise InvalidOutputError(f"the JSON does not match {model_cls.__name__}:\n{detail}", text) from None


def correction_message(raw: str, error: str) -> str:
    """The message that shows a model its invalid output and the error, and asks for a fix (lesson 07)."""
    return (
        "Your reply could not be used.\n"
        f"Error:\n{error}\n"
        f"Your reply was:\n{raw}\n"
        "Reply again with only the corrected JSON object."
    )


class ValidationAttempt(BaseModel):
    """One try at a valid answer: the raw text, the error (None if it passed) and its usage (lesson 07)."""

    model_config = ConfigDict(frozen=True)

    raw: str
    error: str | None = None
    usage: Usage = Usage()

    @property
    def ok(self) -> bool:
        """True if this attempt validated."""
        return self.error is None


@dataclass(frozen=True)
class RetryNotice:
    """A provider call failed with a retryable error and is about to be retried after ``delay_s`` (lesson 07)."""

    attempt: int
    error: BaseException
    delay_s: float


def complete_with_retry(
    provider: Any,
    messages: Sequence[Message],
    params: Mapping[str, Any] | None = None,
    *,
    retry: RetryPolicy | None = None,
    sleep: Callable[[float], Any] = time.sleep,
    on_retry: Callable[[RetryNotice], None] | None = None,
) -> ChatResult:
    """``provider.complete`` with retries of 429/timeout/5xx per ``retry``, reporting each retry (lesson 07).

    Without a policy it is a plain call. A non-retryable error, or the last one, is raised.
    """
    number = 1
    while True:
        try:
            return provider.complete(messages, **dict(params or {}))
        except Exception as error:
            if retry is None or not retry.should_retry(error, number):
                raise
            wait = retry.delay(number, getattr(error, "retry_after", None))
            if on_retry is not None:
                on_retry(RetryNotice(attempt=number, error=error, delay_s=wait))
            sleep(wait)
            number += 1


@dataclass(frozen=True)
class Validated(Generic[T]):
    """A validated answer with every attempt it took, the summed usage and the transcript (lesson 07)."""

    value: T
    attempts: list[ValidationAttempt]
    usage: Usage
    messages: list[dict[str, Any]] = field(default_factory=list)


class ValidationFailedError(Exception):
    """Every attempt produced invalid output; carries all attempts and the summed usage (lesson 07)."""

    def __init__(self, model_name: str, attempts: list[ValidationAttempt], usage: Usage) -> None:
        last = attempts[-1].error if attempts else "no attempts were made"
        super().__init__(
            f"no valid {model_name} after {len(attempts)} attempt(s); last error: {last}\n"
            "Send the item to a dead-letter queue for review, or raise max_attempts."
        )
        self.attempts = attempts
        self.usage = usage


def iter_validated(
    provider: Any,
    messages: Sequence[Message],
    model_cls: type[T],
    max_attempts: int = 3,
    *,
    params: Mapping[str, Any] | None = None,
    context: Mapping[str, Any] | None = None,
    retry: RetryPolicy | None = None,
    sleep: Callable[[float], Any] = time.sleep,
    on_retry: Callable[[RetryNotice], None] | None = None,
) -> Generator[ValidationAttempt, None, Validated[T]]:
    """Like :func:`generate_validated`, but yields each :class:`ValidationAttempt` as it completes (lesson 07)."""
    if max_attempts < 1:
        raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
    transcript = [dict(m) for m in messages]
    attempts: list[ValidationAttempt] = []
    usage = Usage()
    for _ in range(max_attempts):
        result = complete_with_retry(
            provider, transcript, params, retry=retry, sleep=sleep, on_retry=on_retry
        )
        usage = usage + result.usage
        raw = result.text
        try:
            value = parse_output(raw, model_cls, context=context)
        except InvalidOutputError as exc:
            attempt = ValidationAttempt(raw=raw, error=str(exc), usage=result.usage)
            attempts.append(attempt)
            yield attempt
            transcript.append({"role": "assistant", "content": raw or "(empty reply)"})
            transcript.append({"role": "user", "content": correction_message(raw, str(exc))})
            continue
        attempt = ValidationAttempt(raw=raw, usage=result.usage)
        attempts.append(attempt)
        yield attempt
        transcript.append({"role": "assistant", "content": raw})
        return Validated(value=value, attempts=attempts, usage=usage, messages=transcript)
    raise ValidationFailedError(model_cls.__name__, attempts, usage)


def generate_validated(
    provider: Any,
    messages: Sequence[Message],
    model_cls: type[T],
    max_attempts: int = 3,
    *,
    params: Mapping[str, Any] | None = None,
    context: Mapping[str, Any] | None = None,
    retry: RetryPolicy | None = None,
    sleep: Callable[[float], Any] = time.sleep,
    on_retry: Callable[[RetryNotice], None] | None = None,
) -> Validated[T]:
    """Ask until the answer validates as ``model_cls``, feeding each error back; at most ``max_attempts`` (lesson 07).

    Each failed attempt adds the model's raw reply and a user message with the error to the
    conversation. Provider errors are not format errors: pass ``retry`` to retry them with backoff,
    otherwise they propagate. Raises :class:`ValidationFailedError` (all attempts, summed usage).
    """
    gen = iter_validated(
        provider,
        messages,
        model_cls,
        max_attempts,
        params=params,
        context=context,
        retry=retry,
        sleep=sleep,
        on_retry=on_retry,
    )
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value
