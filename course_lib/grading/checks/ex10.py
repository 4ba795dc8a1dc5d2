"""Checks of exercise 10, the chain-of-thought orchestrator (lesson 10).

10.1 validates the step schema across fields (property-based too); 10.2 is a calculator that agrees with
Python's arithmetic on generated expressions and refuses everything that is not arithmetic; 10.3 is the
agent loop, driven by scripted models: it stops on a final answer or at the iteration cap with the right
status, feeds calculator results and errors back, survives replies that are not JSON, and sums the
tokens of the whole run.
"""

from __future__ import annotations

import json
import math
import operator
from typing import Any

from ...providers.base import ChatResult, Choice, Usage
from ...steps import numbers_in
from . import CheckFailed, call, property_check, question, scripted_provider, show

__all__ = ["check_calculate", "check_solve", "check_step_schema"]

# ---------------------------------------------------------------- 10.1

_STEP_TYPES = ("analyze", "calculate", "verify", "final_answer")
_VALID_STEPS = [
    {"step": 1, "step_type": "analyze", "thought": "Compound interest: A = P * (1 + r/n) ** (n*t)."},
    {"step": 2, "step_type": "calculate", "thought": "The monthly factor.", "expression": "1 + 0.05 / 12"},
    {"step": 3, "step_type": "verify", "thought": "Compare with simple interest."},
    {"step": 4, "step_type": "verify", "thought": "Simple interest.", "expression": "1000 * (1 + 0.05 * 2)"},
    {"step": 5, "step_type": "final_answer", "thought": "From the calculator.", "answer": "$1,104.94"},
    {"step": 12, "step_type": "analyze", "thought": "Step numbers go on past 9."},
]
_INVALID_STEPS = [
    (
        {"step": 2, "step_type": "calculate", "thought": "I will compute 240 * 0.15."},
        "a calculate step without an 'expression' gives the calculator nothing to run: check the step "
        "type against the fields in the model validator",
    ),
    (
        {"step": 2, "step_type": "calculate", "thought": "t", "expression": ""},
        "an empty expression is no expression: a calculate step needs a non-empty one",
    ),
    (
        {"step": 3, "step_type": "final_answer", "thought": "Done."},
        "a final_answer step without an 'answer' would end the loop with nothing to report",
    ),
    (
        {"step": 3, "step_type": "final_answer", "thought": "Done.", "answer": ""},
        "an empty answer is no answer: a final_answer step needs a non-empty one",
    ),
    ({"step": 0, "step_type": "analyze", "thought": "t"}, "step numbers start at 1: 0 is not a step"),
    ({"step": -2, "step_type": "analyze", "thought": "t"}, "step numbers are positive"),
    ({"step": 1, "step_type": "conclude", "thought": "t"}, "'conclude' is not one of the four step types"),
    ({"step": 1, "step_type": "analyze"}, "every step needs a 'thought'"),
    (
        {
            "step_type": "final_answer",
            "thought": "All calculations verified",
            "action": "Return final amount",
            "result": "$1,104.90",
            "next_step_needed": False,
        },
        "an older step format (no step number, the answer in 'result') must not pass",
    ),
]


def _validate(step_cls: Any, data: dict[str, Any]) -> Any:
    """``step_cls.model_validate(data)``; a ValueError passes through, other crashes become hints."""
    try:
        return step_cls.model_validate(dict(data))
    except (NotImplementedError, ValueError):
        raise
    except Exception as exc:
        detail = f": {exc}" if str(exc) else ""
        raise CheckFailed(
            f"Step.model_validate({show(data)}) raised {type(exc).__name__}{detail}; raise ValueError for an "
            "invalid step (pydantic turns it into a ValidationError)"
        ) from exc


def _accepts(step_cls: Any, data: dict[str, Any]) -> Any:
    try:
        return _validate(step_cls, data)
    except ValueError as exc:
        first = " ".join(str(exc).split())[:160]
        raise CheckFailed(f"Step.model_validate({show(data)}) rejected a valid step: {first}") from None


def _rejects(step_cls: Any, data: dict[str, Any], why: str) -> None:
    try:
        got = _validate(step_cls, data)
    except ValueError:
        return
    raise CheckFailed(
        f"Step.model_validate({show(data)}) accepted it as {show(got)}; expected a ValidationError ({why})"
    )


@question("10.1", points=2, title="the step schema, validated across fields", target="Step")
def check_step_schema(Step: Any) -> None:
    """Valid steps pass with their fields; missing expressions and answers and bad step numbers fail."""
    if not callable(getattr(Step, "model_validate", None)):
        raise CheckFailed(
            f"Step should be a pydantic model (a class deriving from BaseModel); it is {show(Step)}"
        )
    for data in _VALID_STEPS:
        got = _accepts(Step, data)
        for key, value in data.items():
            if getattr(got, key, None) != value:
                raise CheckFailed(
                    f"Step.model_validate({show(data)}) gave {key}={show(getattr(got, key, None))}; "
                    f"expected {show(value)} (keep the fields as given)"
                )
    for data, why in _INVALID_STEPS:
        _rejects(Step, data, why)

    from hypothesis import strategies as st

    def valid_exactly_when_the_rules_hold(
        number: int, step_type: str, expression: str | None, answer: str | None
    ) -> None:
        data: dict[str, Any] = {"step": number, "step_type": step_type, "thought": "t"}
        # an expression never on a final answer, and an empty one only where the rule decides it
        if step_type != "final_answer" and (expression or (step_type == "calculate" and expression == "")):
            data["expression"] = expression
        if step_type == "final_answer" and answer is not None:
            data["answer"] = answer
        valid = (
            number >= 1
            and (step_type != "calculate" or bool(data.get("expression")))
            and (step_type != "final_answer" or bool(data.get("answer")))
        )
        if valid:
            _accepts(Step, data)
        else:
            rules = (
                "step >= 1, a calculate step has a non-empty expression, a final_answer a non-empty answer"
            )
            _rejects(Step, data, rules)

    property_check(
        valid_exactly_when_the_rules_hold,
        number=st.integers(min_value=-3, max_value=40),
        step_type=st.sampled_from(_STEP_TYPES),
        expression=st.sampled_from([None, "", "2 * 3", "(1 + 2) / 4"]),
        answer=st.sampled_from([None, "", "6", "$1,104.94"]),
        max_examples=60,
    )


# ---------------------------------------------------------------- 10.2

_ARITHMETIC = [
    ("240 * 0.15", 240 * 0.15),
    ("1000 * (1 + 0.05 / 12) ** (12 * 2)", 1000 * (1 + 0.05 / 12) ** (12 * 2)),
    ("(60 * 2.5 + 80 * 1.5) / (2.5 + 1.5)", (60 * 2.5 + 80 * 1.5) / (2.5 + 1.5)),
    ("-3 + 5", 2),
    ("-(2 - 7) * +3", 15),
    ("2 ** 10", 1024),
    ("17 // 5", 3),
    ("17 % 5", 2),
    ("7 / 2", 3.5),
    ("75 * (1 - 0.20)", 75 * (1 - 0.20)),
]
_NOT_ARITHMETIC = [
    ("x + 1", "names are not numbers: refuse ast.Name"),
    ("abs(-2)", "function calls are not arithmetic: refuse ast.Call"),
    (
        "__import__('os').sep",
        "this imports a module and reads from it: eval() runs any Python the model writes",
    ),
    ("(2).real", "attribute access is not arithmetic: refuse ast.Attribute"),
    ("'ab' * 3", "strings are not numbers"),
    ("[1, 2][0]", "lists and subscripts are not arithmetic"),
    ("1 < 2", "comparisons are not arithmetic"),
    ("(lambda: 7)()", "lambdas are code, not arithmetic"),
    ("2 +", "this is not a complete expression: turn the SyntaxError into a ValueError"),
    ("two plus two", "words are not arithmetic"),
    ("", "an empty expression has no value"),
]


def _calc(calculate: Any, expression: str) -> Any:
    return call(calculate, expression, timeout=5)


def _refuses(
    calculate: Any, expression: str, why: str, errors: tuple[type[BaseException], ...] = (ValueError,)
) -> None:
    what = f"calculate({expression!r})"
    try:
        got = calculate(expression)
    except errors:
        return
    except NotImplementedError:
        raise
    except Exception as exc:
        raise CheckFailed(
            f"{what} raised {type(exc).__name__}; expected ValueError ({why}). Catch what your code raises "
            "and raise ValueError, so the loop can show the model a clear message"
        ) from None
    raise CheckFailed(f"{what} returned {show(got)}; expected ValueError ({why})")


_OPS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}


def _render(tree: Any) -> str:
    if isinstance(tree, tuple):
        if tree[0] == "neg":
            return f"(-{_render(tree[1])})"
        op, left, right = tree
        return f"({_render(left)} {op} {_render(right)})"
    return repr(tree)


def _value(tree: Any) -> float:
    """Python's own arithmetic on the tree: ZeroDivisionError when a division by zero happens."""
    if isinstance(tree, tuple):
        if tree[0] == "neg":
            return -_value(tree[1])
        op, left, right = tree
        return _OPS[op](_value(left), _value(right))
    return tree


@question("10.2", points=2, title="a calculator that cannot run code", target="calculate")
def check_calculate(calculate: Any) -> None:
    """Agrees with Python on arithmetic (fixed and generated cases); ValueError for anything else."""
    for expression, expected in _ARITHMETIC:
        got = _calc(calculate, expression)
        if (
            isinstance(got, bool)
            or not isinstance(got, (int, float))
            or not math.isclose(got, expected, rel_tol=1e-9)
        ):
            raise CheckFailed(f"calculate({expression!r}) returned {show(got)}; expected {expected!r}")
    for expression, why in _NOT_ARITHMETIC:
        _refuses(calculate, expression, why)
    for expression in ("10 / 0", "5 // (3 - 3)", "7 % 0"):
        _refuses(calculate, expression, "division by zero", (ValueError, ZeroDivisionError))

    from hypothesis import strategies as st

    leaf = st.one_of(
        st.integers(min_value=0, max_value=999),
        st.integers(min_value=1, max_value=99_999).map(lambda n: n / 100),
    )
    trees = st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.tuples(st.sampled_from(sorted(_OPS)), inner, inner),
            st.tuples(st.just("neg"), inner),
        ),
        max_leaves=8,
    )

    def agrees_with_python(tree: Any) -> None:
        expression = _render(tree)
        try:
            expected = _value(tree)
        except ZeroDivisionError:
            _refuses(calculate, expression, "division by zero", (ValueError, ZeroDivisionError))
            return
        got = calculate(expression)
        if isinstance(got, bool) or not isinstance(got, (int, float)):
            raise CheckFailed(
                f"calculate({expression!r}) returned {show(got)}; expected the number {expected!r}"
            )
        if not math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-9):
            raise CheckFailed(
                f"calculate({expression!r}) returned {got!r}; Python's arithmetic gives {expected!r} "
                "(mind unary minus and the order of operations)"
            )

    property_check(agrees_with_python, tree=trees, max_examples=80)


# ---------------------------------------------------------------- 10.3

PROBLEM = "What are 127 * 389 and 7 / 8?"
_USAGES = [(120, 15), (180, 20), (240, 18), (300, 22)]


def _chat(reply: Any, prompt: int, completion: int) -> ChatResult:
    text = reply if isinstance(reply, str) else json.dumps(reply)
    return ChatResult(
        choices=[Choice(text=text)],
        usage=Usage(prompt_tokens=prompt, completion_tokens=completion),
        source="scripted",
    )


def _step(n: int, kind: str, thought: str, **extra: str) -> dict[str, Any]:
    return {"step": n, "step_type": kind, "thought": thought, **extra}


class _Calculator:
    """The calculator the check hands to ``solve``: known answers, or a ValueError, and a log of calls."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values, self.calls = values, []

    def __call__(self, expression: str) -> Any:
        self.calls.append(expression)
        value = self.values.get(expression)
        if isinstance(value, Exception):
            raise value
        if value is None:
            raise ValueError(f"the check's calculator was not expecting {expression!r}")
        return value


class _LoopRanOn(Exception):
    """Raised by a scripted model asked far more often than the cap allows."""


def _script(replies: list[ChatResult], *, then: Any = None, limit: int = 40) -> Any:
    """A scripted provider answering ``replies`` in order, then ``then(n)`` forever (up to ``limit`` calls)."""
    state = {"n": 0}

    def answer(messages: list[dict[str, Any]], params: dict[str, Any]) -> Any:
        state["n"] += 1
        n = state["n"]
        if n > limit:
            return _LoopRanOn(f"the loop made more than {limit} calls")
        if n <= len(replies):
            return replies[n - 1]
        if then is None:
            return _LoopRanOn(f"the scripted model has only {len(replies)} replies")
        return then(n)

    return scripted_provider(answer)


def _solve(
    solve: Any, provider: Any, calculator: Any, max_iterations: int, story: str, **extra: Any
) -> dict[str, Any]:
    try:
        got = call(
            solve,
            provider,
            PROBLEM,
            max_iterations=max_iterations,
            calculator=calculator,
            timeout=10,
            **extra,
        )
    except CheckFailed as exc:
        if isinstance(exc.__cause__, _LoopRanOn):
            raise CheckFailed(
                f"{story}: solve kept calling the model ({len(provider.calls)} calls with "
                f"max_iterations={max_iterations}); {exc.__cause__}. Count each accepted step as an iteration and "
                "each invalid reply against that step's corrections, and stop at max_iterations, when the "
                "corrections run out, or at a final answer"
            ) from None
        raise CheckFailed(f"{story}: {exc}") from None
    if not isinstance(got, dict) or not {"status", "answer", "iterations", "tokens"} <= set(got):
        raise CheckFailed(
            f"{story}: solve returned {show(got)}; expected a dict with 'status', 'answer', 'iterations' and 'tokens'"
        )
    return got


def _after_reply(messages: list[dict[str, Any]], reply: str) -> list[dict[str, Any]] | None:
    """The messages after the first one that holds ``reply``; None when the reply is not in the request."""
    where = [i for i, m in enumerate(messages) if reply.strip() in str(m.get("content") or "")]
    return messages[where[0] + 1 :] if where else None


def _fed_back(provider: Any, call_index: int, reply: str, story: str, what: str) -> list[dict[str, Any]]:
    messages = provider.calls[call_index].messages
    after = _after_reply(messages, reply)
    if after is None:
        raise CheckFailed(
            f"{story}: request {call_index + 1} does not contain the model's previous reply {show(reply)}; append "
            "each reply to the conversation as an assistant message, so the model sees its own steps"
        )
    if not after or after[-1].get("role") != "user":
        raise CheckFailed(
            f"{story}: request {call_index + 1} ends with {show(messages[-1])}; after the model's reply, add a user "
            f"message with {what}"
        )
    return after


def _check_answered_run(solve: Any) -> None:
    story = "a scripted model that analyses, calculates 127 * 389, verifies 7 / 8 and answers"
    steps = [
        _step(1, "analyze", "Two numbers to compute."),
        _step(2, "calculate", "The product.", expression="127 * 389"),
        _step(3, "verify", "The ratio, checked by the calculator.", expression="7 / 8"),
        _step(4, "final_answer", "Both numbers came from the calculator.", answer="49403 and 0.875"),
    ]
    replies = [_chat(s, p, c) for s, (p, c) in zip(steps, _USAGES, strict=True)]
    extra = _chat(_step(5, "analyze", "(a reply after the final answer)"), 999, 99)
    provider = _script(replies, then=lambda n: extra)
    calculator = _Calculator({"127 * 389": 49403, "7 / 8": 0.875})
    got = _solve(solve, provider, calculator, 8, story)
    calls = len(provider.calls)
    if calls == 0:
        raise CheckFailed(f"{story}: solve returned {show(got)} without calling provider.complete(messages)")
    if calls > 4:
        raise CheckFailed(
            f"{story}: solve made {calls} calls; a final_answer step must end the loop at once (4 calls)"
        )
    first = provider.calls[0].messages
    if first[0].get("role") != "system" or not any(
        m.get("role") == "user" and PROBLEM in str(m.get("content")) for m in first
    ):
        raise CheckFailed(
            f"{story}: the first request was {show(first)}; start with the SYSTEM message, then a user message "
            "holding the problem"
        )
    if calls < 4:
        raise CheckFailed(
            f"{story}: solve stopped after {calls} call(s) with {show(got)}; it should go on to the final answer"
        )
    if got["status"] != "answered" or got["answer"] != "49403 and 0.875":
        raise CheckFailed(
            f"{story}: solve returned status={show(got['status'])}, answer={show(got['answer'])}; expected "
            "'answered' and the final_answer step's answer, '49403 and 0.875'"
        )
    if got["iterations"] != 4:
        raise CheckFailed(f"{story}: solve reported iterations={show(got['iterations'])}; it took 4 steps")
    if calculator.calls[:1] != ["127 * 389"]:
        raise CheckFailed(
            f"{story}: the calculator passed to solve was called with {show(calculator.calls)}; send each step's "
            "expression to the `calculator` argument (not to a calculator of your own), so tests and tools can "
            "be swapped in"
        )
    if calculator.calls != ["127 * 389", "7 / 8"]:
        raise CheckFailed(
            f"{story}: the calculator was called with {show(calculator.calls)}; a verify step with an expression "
            "goes to the calculator too: expected ['127 * 389', '7 / 8']"
        )
    for index, value, reply in ((2, 49403, replies[1].text), (3, 0.875, replies[2].text)):
        after = _fed_back(provider, index, reply, story, f"the calculator's result, {value}")
        written = [float(n) for m in after for n in numbers_in(str(m.get("content") or ""))]
        if value not in written:
            raise CheckFailed(
                f"{story}: after the model's step, request {index + 1} says {show([m.get('content') for m in after])}; "
                f"it should hand back the calculator's result, {value}, so the model uses it"
            )
    total = sum(p + c for p, c in _USAGES)
    if got["tokens"] != total:
        last = sum(_USAGES[-1])
        cause = (
            "that is only the last call's tokens, a common mistake: add up every call's reply.usage.total_tokens"
            if got["tokens"] == last
            else "add up reply.usage.total_tokens of every call, the first and the last included"
        )
        raise CheckFailed(
            f"{story}: solve reported tokens={show(got['tokens'])}; the 4 calls used {total} ({cause})"
        )


def _check_the_cap(solve: Any) -> None:
    for cap in (3, 1):
        story = f"a scripted model that never gives a final answer, max_iterations={cap}"
        provider = _script([], then=lambda n: _chat(_step(n, "analyze", f"Still thinking ({n})."), 50, 10))
        got = _solve(solve, provider, _Calculator({}), cap, story)
        calls = len(provider.calls)
        if calls != cap:
            raise CheckFailed(
                f"{story}: solve made {calls} call(s); expected exactly {cap} (an off-by-one in the loop's bound?)"
            )
        if got["status"] != "max_iterations" or got["answer"] is not None:
            raise CheckFailed(
                f"{story}: solve returned status={show(got['status'])}, answer={show(got['answer'])}; expected "
                "'max_iterations' and None, so the caller knows there is no answer"
            )
        if got["iterations"] != cap or got["tokens"] != 60 * cap:
            raise CheckFailed(
                f"{story}: solve reported iterations={show(got['iterations'])}, tokens={show(got['tokens'])}; "
                f"expected {cap} and {60 * cap} (each call used 60 tokens)"
            )


def _check_invalid_replies(solve: Any) -> None:
    story = "a scripted model whose first reply is prose, not JSON"
    prose = "Sure! Let me work that out for you."
    replies = [
        _chat(prose, 100, 8),
        _chat(_step(1, "calculate", "The product.", expression="127 * 389"), 150, 20),
        _chat(_step(2, "final_answer", "From the calculator.", answer="49403"), 200, 10),
    ]
    provider = _script(replies)
    got = _solve(solve, provider, _Calculator({"127 * 389": 49403}), 8, story)
    if len(provider.calls) >= 2:
        _fed_back(provider, 1, prose, story, "what was wrong with it, so the model can correct itself")
    if got["status"] != "answered" or got["answer"] != "49403" or got["tokens"] != 488:
        raise CheckFailed(
            f"{story}: solve returned {show(got)}; expected status 'answered', answer '49403' and 488 tokens (every "
            "call counts, the invalid one too): tell the model what was wrong and carry on"
        )
    if got["iterations"] != 2:
        raise CheckFailed(
            f"{story}: solve reported iterations={show(got['iterations'])}; expected 2, the accepted steps: an "
            "invalid reply is a correction, not an iteration (charging an iteration per correction lets a few "
            "bad replies end the run before the model has taken its steps)"
        )

    story = "a scripted model that needs two corrections at each of its two steps, max_iterations=2"
    bad = [_chat("Let me think.", 30, 5), _chat('{"step": "one"}', 30, 5)]
    replies = [
        *bad,
        _chat(_step(1, "analyze", "Two numbers to compute."), 60, 10),
        *bad,
        _chat(_step(2, "final_answer", "Done.", answer="49403 and 0.875"), 60, 10),
    ]
    provider = _script(replies)
    got = _solve(solve, provider, _Calculator({}), 2, story)
    if got["status"] != "answered" or got["iterations"] != 2 or got["tokens"] != 280:
        raise CheckFailed(
            f"{story}: solve made {len(provider.calls)} call(s) and returned {show(got)}; expected status "
            "'answered' after 6 calls, 2 iterations and 280 tokens: corrections do not use up iterations, and "
            "each accepted step starts its own count of max_corrections"
        )

    for corrections in (None, 1, 0):
        cap = 2 if corrections is None else corrections
        extra = {} if corrections is None else {"max_corrections": corrections}
        shown = "the default max_corrections=2" if corrections is None else f"max_corrections={corrections}"
        story = f"a scripted model that never writes JSON, max_iterations=4, {shown}"
        provider = _script([], then=lambda n: _chat("I think the answer is 42.", 80, 9))
        got = _solve(solve, provider, _Calculator({}), 4, story, **extra)
        calls = len(provider.calls)
        if calls != 1 + cap or got["status"] != "invalid_output" or got["answer"] is not None:
            raise CheckFailed(
                f"{story}: solve made {calls} call(s) and returned {show(got)}; expected {1 + cap} calls (the reply "
                f"and {cap} correction(s)) and status 'invalid_output' with no answer: count each invalid reply "
                "against the step's max_corrections and stop when they run out"
            )
        if got["iterations"] != 0 or got["tokens"] != 89 * calls:
            raise CheckFailed(
                f"{story}: solve reported iterations={show(got['iterations'])}, tokens={show(got['tokens'])}; "
                f"expected 0 (no step was accepted) and {89 * calls} (every call used 89 tokens)"
            )


def _check_calculator_errors(solve: Any) -> None:
    story = "a scripted model whose first expression the calculator refuses"
    error = ValueError("cannot parse '2 +* 3': invalid syntax")
    replies = [
        _chat(_step(1, "calculate", "Add them.", expression="2 +* 3"), 100, 10),
        _chat(_step(2, "calculate", "Add them, fixed.", expression="2 + 3"), 120, 10),
        _chat(_step(3, "final_answer", "From the calculator.", answer="5"), 140, 10),
    ]
    provider = _script(replies)
    got = _solve(solve, provider, _Calculator({"2 +* 3": error, "2 + 3": 5}), 8, story)
    if len(provider.calls) >= 2:
        after = _fed_back(provider, 1, replies[0].text, story, "the calculator's error")
        if not any("cannot parse" in str(m.get("content")) for m in after):
            raise CheckFailed(
                f"{story}: the next request says {show([m.get('content') for m in after])}; put the calculator's "
                "error message in it, so the model can fix its expression"
            )
    if got["status"] != "answered" or got["answer"] != "5":
        raise CheckFailed(f"{story}: solve returned {show(got)}; expected it to carry on and answer '5'")


@question("10.3", points=3, title="the agent loop and its termination", target="solve", timeout=60)
def check_solve(solve: Any) -> None:
    """Stops on a final answer or at the cap, feeds results and errors back, survives prose, sums tokens."""
    _check_answered_run(solve)
    _check_the_cap(solve)
    _check_invalid_replies(solve)
    _check_calculator_errors(solve)
