"""The chain-of-thought orchestrator: an agent loop over validated JSON steps with a calculator tool (lesson 10).

Each iteration asks the model for its next :class:`~course_lib.steps.ReasoningStep` as JSON. An
invalid reply is shown back to the model with the validation error (a bounded number of
corrections); a retryable provider error (429, timeout, 5xx) is retried with backoff and is not a
format error. Arithmetic never comes from the model: ``calculate`` steps are run by the calculator
tool and its result is fed back. The loop ends on a ``final_answer`` step or after
``max_iterations``, and the result says which. Every step is reported as it happens (a callback,
and :meth:`Orchestrator.iter_events` as a generator), and the result counts the tokens of the
whole run, per iteration and in total (a common mistake is to report only the last call's).

Three protocols share the loop, its iteration bound and its self-correction: ``json`` (the step as
a JSON object in the reply's text, JSON mode where the server has it), ``schema`` (the same step,
with ``response_format`` carrying the step's JSON schema so a server that enforces schemas can only
produce well-formed steps) and ``tools`` (native tool calls: the calculator is a ``tools`` entry,
its result goes back in a ``tool`` message, and a reply in plain text is the final answer).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from typing import Any, Literal

from .calculator import Number, format_number, safe_eval
from .constrained import step_response_format
from .providers.base import ProviderError, Usage
from .retry import RetryPolicy
from .steps import (
    SYSTEM_PROMPT,
    EventKind,
    OrchestratorResult,
    ReasoningStep,
    Status,
    StepEvent,
    StepRecord,
    next_step_message,
    numbers_in,
    problem_message,
    tool_error_message,
    tool_result_message,
    ungrounded_numbers,
    written_matches,
)
from .tool_calls import (
    NOT_RUN,
    TOOLS_SYSTEM_PROMPT,
    ToolChoice,
    iter_tool_step,
    tool_message,
    tools_for,
)
from .validators import RetryNotice, ValidationAttempt, ValidationFailedError, iter_validated

__all__ = [
    "DEFAULT_PARAMS",
    "PROTOCOLS",
    "Orchestrator",
    "OrchestratorResult",
    "StepEvent",
    "StepRecord",
    "next_step_message",
]

Tool = Callable[[str], Number]
DEFAULT_PARAMS: dict[str, Any] = {"temperature": 0.0, "response_format": {"type": "json_object"}}
"""Sampling parameters of every call: deterministic, and JSON mode where the server supports it."""
Protocol = Literal["json", "schema", "tools"]
PROTOCOLS: tuple[str, ...] = ("json", "schema", "tools")
"""How the model hands over a step: JSON in its text, schema-constrained JSON, or native tool calls (lesson 10)."""


class Orchestrator:
    """The agent loop: ask for a step, validate or correct it, run its tool, repeat until an answer (lesson 10).

    ``provider`` is any object with ``complete(messages, **params)``. ``tools`` maps a tool name to
    a function of an expression (default: the safe calculator). ``compact`` may shrink the history
    before each call (memory summarisation); ``keep_corrections`` keeps failed replies and their
    correction messages in the history instead of only the accepted reply. ``protocol`` picks how
    steps arrive (see the module); ``tool_choice`` (tools protocol only) is sent with every call, or is
    a function of the iteration number, e.g. :func:`~course_lib.tool_calls.forced_then_auto`.
    """

    def __init__(
        self,
        provider: Any,
        *,
        max_iterations: int = 10,
        max_corrections: int = 2,
        tools: Mapping[str, Tool] | None = None,
        params: Mapping[str, Any] | None = None,
        system_prompt: str | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], Any] = time.sleep,
        on_event: Callable[[StepEvent], Any] | None = None,
        compact: Callable[[list[dict[str, Any]]], Sequence[Mapping[str, Any]]] | None = None,
        keep_corrections: bool = False,
        protocol: Protocol = "json",
        tool_choice: ToolChoice = None,
    ) -> None:
        if protocol not in PROTOCOLS:
            raise ValueError(f"unknown protocol {protocol!r}; use one of: {', '.join(PROTOCOLS)}")
        if tool_choice is not None and protocol != "tools":
            raise ValueError("tool_choice only applies to protocol='tools'")
        if max_iterations < 1:
            raise ValueError(f"max_iterations must be at least 1, got {max_iterations}")
        if max_corrections < 0:
            raise ValueError(f"max_corrections must be 0 or more, got {max_corrections}")
        self.provider = provider
        self.max_iterations = max_iterations
        self.max_corrections = max_corrections
        self.tools: dict[str, Tool] = dict(tools) if tools is not None else {"calculator": safe_eval}
        self.params = dict(DEFAULT_PARAMS if params is None else params)
        self.protocol = protocol
        self.tool_choice = tool_choice
        default_prompt = TOOLS_SYSTEM_PROMPT if protocol == "tools" else SYSTEM_PROMPT
        self.system_prompt = default_prompt if system_prompt is None else system_prompt
        self.retry = retry if retry is not None else RetryPolicy()
        self.sleep = sleep
        self.on_event = on_event
        self.compact = compact
        self.keep_corrections = keep_corrections

    def _emit(self, event: StepEvent) -> StepEvent:
        if self.on_event is not None:
            self.on_event(event)
        return event

    def params_for(self, iteration: int, expected_step: int) -> dict[str, Any]:
        """The sampling parameters of the calls in ``iteration``, for the protocol in use."""
        params = dict(self.params)
        if self.protocol == "schema":
            params["response_format"] = step_response_format(expected_step)
        elif self.protocol == "tools":
            params.pop("response_format", None)
            params["tools"] = tools_for(list(self.tools))
            choice = self.tool_choice(iteration) if callable(self.tool_choice) else self.tool_choice
            if choice is not None:
                params["tool_choice"] = choice
        return params

    def _ask(
        self, outgoing: list[dict[str, Any]], iteration: int, expected_step: int, on_retry: Any
    ) -> Generator[ValidationAttempt, None, Any]:
        common = {"retry": self.retry, "sleep": self.sleep, "on_retry": on_retry}
        params = self.params_for(iteration, expected_step)
        if self.protocol == "tools":
            return iter_tool_step(
                self.provider,
                outgoing,
                1 + self.max_corrections,
                expected_step=expected_step,
                tools=tuple(self.tools),
                params=params,
                **common,
            )
        return iter_validated(
            self.provider,
            outgoing,
            ReasoningStep,
            1 + self.max_corrections,
            params=params,
            context={"expected_step": expected_step, "tools": tuple(self.tools)},
            **common,
        )

    def _tool_messages(
        self, record: StepRecord, call_id: str | None, skipped: Sequence[str]
    ) -> list[dict[str, Any]]:
        if record.tool_error is not None:
            content = f"error: {record.tool_error}"
        else:
            content = f"{record.step.expression} = {format_number(record.value)}"  # type: ignore[arg-type]
        return [tool_message(str(call_id), content)] + [tool_message(i, NOT_RUN) for i in skipped]

    def _run_tool(self, record: StepRecord) -> tuple[StepRecord, str]:
        step = record.step
        expression = step.expression or ""
        tool = self.tools.get(step.tool_name)
        try:
            if tool is None:
                raise LookupError(f"no tool named {step.tool_name!r}; available: {sorted(self.tools)}")
            value = tool(expression)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise TypeError(f"the tool returned {type(value).__name__}, not a number")
        except Exception as exc:
            error = str(exc) or type(exc).__name__
            update = {"tool": step.tool_name, "tool_error": error}
            return record.model_copy(update=update), tool_error_message(
                step.step, expression, error, step.tool_name
            )
        claims = numbers_in(step.result or "")
        claim_ok = any(written_matches(c, value) for c in claims) if claims else None
        update = {"tool": step.tool_name, "value": value, "claim_ok": claim_ok}
        return record.model_copy(update=update), tool_result_message(
            step.step, expression, value, step.tool_name
        )

    def iter_events(self, problem: str) -> Generator[StepEvent, None, OrchestratorResult]:
        """Run the loop, yielding a :class:`StepEvent` for everything that happens; returns the result."""
        problem = (problem or "").strip()
        if not problem:
            raise ValueError("the problem is empty; pass a question for the orchestrator to solve")
        history: list[dict[str, Any]] = [
            {"role": "system", "content": self.system_prompt},
            {"role": "user", "content": problem_message(problem)},
        ]
        steps: list[StepRecord] = []
        per_iteration: list[Usage] = []
        invalid: list[ValidationAttempt] = []
        pending: list[StepEvent] = []
        calls = 0
        status: Status = "max_iterations"
        answer: str | None = None
        error: str | None = None
        for iteration in range(1, self.max_iterations + 1):
            spent = Usage()

            def on_retry(notice: RetryNotice, iteration: int = iteration) -> None:
                why = f"{type(notice.error).__name__}: {notice.error}"
                event = StepEvent(
                    kind="provider_retry", iteration=iteration, error=why, delay_s=notice.delay_s
                )
                pending.append(self._emit(event))

            outgoing = [dict(m) for m in (self.compact(history) if self.compact else history)]
            attempts = self._ask(outgoing, iteration, len(steps) + 1, on_retry)
            try:
                while True:
                    try:
                        attempt = next(attempts)
                    except StopIteration as stop:
                        validated = stop.value
                        break
                    calls += 1
                    spent = spent + attempt.usage
                    yield from _drain(pending)
                    if not attempt.ok:
                        invalid.append(attempt)
                        event = StepEvent(
                            kind="invalid_output", iteration=iteration, raw=attempt.raw, error=attempt.error
                        )
                        yield self._emit(event)
            except ValidationFailedError as exc:
                per_iteration.append(spent)
                status, error = "invalid_output", str(exc)
                break
            except ProviderError as exc:
                yield from _drain(pending)
                per_iteration.append(spent)
                status, error = "provider_error", f"{type(exc).__name__}: {exc}"
                break
            per_iteration.append(spent)
            new_messages = validated.messages[len(outgoing) :]
            history.extend(new_messages if self.keep_corrections else new_messages[-1:])
            call_id, skipped = None, ()
            if self.protocol == "tools":
                call_id, skipped = validated.value.call_id, validated.value.skipped
                step: ReasoningStep = validated.value.step
            else:
                step = validated.value
            record = StepRecord(
                iteration=iteration,
                step=step,
                raw=validated.attempts[-1].raw,
                attempts=len(validated.attempts),
                usage=spent,
            )
            yield self._emit(StepEvent(kind="step", iteration=iteration, record=record))
            if step.step_type == "final_answer":
                steps.append(record)
                status, answer = "answered", step.answer
                break
            if step.expression:
                record, message = self._run_tool(record)
                kind: EventKind = "tool_error" if record.tool_error else "tool_result"
                yield self._emit(StepEvent(kind=kind, iteration=iteration, record=record))
            else:
                message = next_step_message(step.step)
            if call_id is not None:
                history.extend(self._tool_messages(record, call_id, skipped))
            else:
                history.append({"role": "user", "content": message})
            steps.append(record)
        else:
            error = (
                f"no final answer after {self.max_iterations} iteration(s); raise max_iterations "
                "or break the problem into smaller questions"
            )
        computed = [r.value for r in steps if r.value is not None]
        result = OrchestratorResult(
            problem=problem,
            status=status,
            answer=answer,
            error=error,
            steps=steps,
            iterations=len(per_iteration),
            calls=calls,
            usage=sum(per_iteration, Usage()),
            usage_per_iteration=per_iteration,
            invalid_outputs=invalid,
            ungrounded=ungrounded_numbers(answer, computed, problem) if answer else [],
            messages=history,
        )
        yield self._emit(StepEvent(kind="finished", iteration=len(per_iteration), result=result))
        return result

    def run(self, problem: str) -> OrchestratorResult:
        """Solve ``problem`` and return the :class:`OrchestratorResult` (events still go to ``on_event``)."""
        events = self.iter_events(problem)
        while True:
            try:
                next(events)
            except StopIteration as stop:
                return stop.value

    def stream(self, problem: str) -> Iterator[StepEvent]:
        """Iterate over the events of a run; the last one (``finished``) carries the result."""
        yield from self.iter_events(problem)


def _drain(pending: list[StepEvent]) -> Iterator[StepEvent]:
    while pending:
        yield pending.pop(0)
