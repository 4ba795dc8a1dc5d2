"""Exercise 10: other styles pass, stubs score zero, planted bugs fail (notebooks: test_exercises.py)."""

from __future__ import annotations

import ast
import json
import operator
from typing import Literal

from exercise_support import assert_fails, assert_stubs_fail, stub
from pydantic import BaseModel, Field, ValidationError, model_validator

from course_lib.calculator import safe_eval
from course_lib.grading import load_exercise
from course_lib.grading.checks import ex10
from course_lib.steps import ReasoningStep

# --------------------------------------------------------------------------- correct implementations


class StepOk(BaseModel):
    """Another style: the step number as a field constraint, one validator per rule."""

    step: int = Field(ge=1)
    step_type: Literal["analyze", "calculate", "verify", "final_answer"]
    thought: str
    expression: str | None = None
    answer: str | None = None

    @model_validator(mode="after")
    def _expression(self) -> StepOk:
        if self.step_type == "calculate" and not (self.expression or "").strip():
            raise ValueError("calculate needs an expression")
        return self

    @model_validator(mode="after")
    def _answer(self) -> StepOk:
        if self.step_type == "final_answer" and not (self.answer or "").strip():
            raise ValueError("final_answer needs an answer")
        return self


class LibraryStep:
    """The lesson's own schema passes too (it is stricter, but not on anything the check asks)."""

    @staticmethod
    def model_validate(data):
        return ReasoningStep.model_validate(data)


def calculate_ok(expression):
    """Another style: a whitelist of node types checked first, then evaluated."""
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError as exc:
        raise ValueError(str(exc)) from None
    allowed = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Constant, ast.operator, ast.unaryop)
    for node in ast.walk(tree):
        if not isinstance(node, allowed) or (
            isinstance(node, ast.Constant) and type(node.value) not in (int, float)
        ):
            raise ValueError(f"not arithmetic: {type(node).__name__}")
        if isinstance(node, ast.unaryop) and not isinstance(node, ast.UAdd | ast.USub):
            raise ValueError("only unary + and -")
    ops = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}
    ops |= {ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow}

    def ev(node):
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.UnaryOp):
            return -ev(node.operand) if isinstance(node.op, ast.USub) else ev(node.operand)
        return ops[type(node.op)](ev(node.left), ev(node.right))

    return ev(tree.body)  # ZeroDivisionError is allowed through


SYSTEM = "Reply with one JSON step: step, step_type, thought, expression, answer."


def solve_ok(provider, problem, max_iterations=8, calculator=safe_eval, max_corrections=2):
    """Another style: a for loop per step with an inner retry loop, the lesson's schema, other wording."""
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": problem}]
    used = 0
    for steps in range(max_iterations):
        for _attempt in range(max_corrections + 1):
            reply = provider.complete(messages)
            used += reply.usage.total_tokens
            messages.append({"role": "assistant", "content": reply.text})
            try:
                step = StepOk.model_validate_json(reply.text)
                break
            except ValidationError as exc:
                messages.append({"role": "user", "content": f"Invalid: {exc.error_count()} error(s): {exc}"})
        else:
            return {"status": "invalid_output", "answer": None, "iterations": steps, "tokens": used}
        if step.step_type == "final_answer":
            return {"status": "answered", "answer": step.answer, "iterations": steps + 1, "tokens": used}
        note = "ok"
        if step.expression:
            try:
                note = f"= {calculator(step.expression)!r}"
            except ValueError as exc:
                note = f"error: {exc}"
        messages.append({"role": "user", "content": note})
    return {"status": "max_iterations", "answer": None, "iterations": max_iterations, "tokens": used}


def _charging_loop(
    *, per_correction_iteration=False, reset=True, budget=None, off_by_one=False, status="invalid_output"
):
    """The solution's loop with one of the iteration/correction mistakes planted."""

    def solve(provider, problem, max_iterations=8, calculator=safe_eval, max_corrections=2):
        allowed = max_corrections if budget is None else budget
        messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": problem}]
        used = iterations = corrections = 0
        while iterations < max_iterations:
            reply = provider.complete(messages)
            used += reply.usage.total_tokens
            messages.append({"role": "assistant", "content": reply.text})
            try:
                step = StepOk.model_validate_json(reply.text)
            except ValidationError as exc:
                if per_correction_iteration:
                    iterations += 1
                    messages.append({"role": "user", "content": f"Invalid: {exc}"})
                    continue
                if corrections == allowed + (1 if off_by_one else 0):
                    return {"status": status, "answer": None, "iterations": iterations, "tokens": used}
                corrections += 1
                messages.append({"role": "user", "content": f"Invalid: {exc}"})
                continue
            iterations += 1
            if reset:
                corrections = 0
            if step.step_type == "final_answer":
                return {"status": "answered", "answer": step.answer, "iterations": iterations, "tokens": used}
            try:
                note = f"= {calculator(step.expression)}" if step.expression else "ok"
            except ValueError as exc:
                note = f"error: {exc}"
            messages.append({"role": "user", "content": note})
        return {"status": "max_iterations", "answer": None, "iterations": iterations, "tokens": used}

    return solve


def test_solution_loop_shape_with_the_mistake_helper_passes() -> None:
    ex10.check_solve(_charging_loop())


def test_loop_charging_an_iteration_per_correction_fails() -> None:
    assert_fails(
        ex10.check_solve,
        _charging_loop(per_correction_iteration=True),
        "expected 2, the accepted steps",
        "not an iteration",
    )


def test_loop_whose_corrections_are_not_reset_per_step_fails() -> None:
    assert_fails(ex10.check_solve, _charging_loop(reset=False), "each accepted step starts its own count")


def test_loop_ignoring_the_max_corrections_argument_fails() -> None:
    assert_fails(ex10.check_solve, _charging_loop(budget=2), "max_corrections=1", "expected 2 calls")


def test_loop_allowing_one_correction_too_many_fails() -> None:
    assert_fails(ex10.check_solve, _charging_loop(off_by_one=True), "made 4 call(s)", "expected 3 calls")


def test_loop_reporting_the_wrong_status_when_corrections_run_out_fails() -> None:
    assert_fails(ex10.check_solve, _charging_loop(status="max_iterations"), "'invalid_output'")


def test_correct_implementations_in_another_style_pass() -> None:
    ex10.check_step_schema(StepOk)
    ex10.check_step_schema(LibraryStep)
    ex10.check_calculate(calculate_ok)
    ex10.check_calculate(safe_eval)
    ex10.check_solve(solve_ok)


def test_questions_registered_with_points() -> None:
    questions = load_exercise(10)
    assert [(q.id, q.points, q.targets) for q in questions] == [
        ("10.1", 2, ("Step",)),
        ("10.2", 2, ("calculate",)),
        ("10.3", 3, ("solve",)),
    ]


# --------------------------------------------------------------------------- planted bugs


def test_schema_without_cross_field_validation_fails() -> None:
    class NoCrossField(BaseModel):
        step: int = Field(ge=1)
        step_type: Literal["analyze", "calculate", "verify", "final_answer"]
        thought: str
        expression: str | None = None
        answer: str | None = None

    assert_fails(ex10.check_step_schema, NoCrossField, "accepted it", "without an 'expression'")


def test_schema_that_allows_step_zero_fails() -> None:
    class StepZero(StepOk):
        step: int = Field(ge=0)

    assert_fails(ex10.check_step_schema, StepZero, "'step': 0", "start at 1")


def test_schema_that_accepts_an_empty_answer_fails() -> None:
    class EmptyAnswer(BaseModel):
        step: int = Field(ge=1)
        step_type: Literal["analyze", "calculate", "verify", "final_answer"]
        thought: str
        expression: str | None = None
        answer: str | None = None

        @model_validator(mode="after")
        def _rules(self) -> EmptyAnswer:
            if self.step_type == "calculate" and not self.expression:
                raise ValueError("calculate needs an expression")
            if self.step_type == "final_answer" and self.answer is None:
                raise ValueError("final_answer needs an answer")
            return self

    assert_fails(ex10.check_step_schema, EmptyAnswer, "empty answer is no answer")


def test_schema_that_demands_an_expression_on_every_verify_fails() -> None:
    class TooStrict(StepOk):
        @model_validator(mode="after")
        def _verify(self) -> TooStrict:
            if self.step_type == "verify" and not self.expression:
                raise ValueError("verify needs an expression")
            return self

    assert_fails(ex10.check_step_schema, TooStrict, "rejected a valid step", "verify")


def test_eval_calculator_fails() -> None:
    def with_eval(expression):
        return eval(expression)  # a calculator that runs code

    assert_fails(ex10.check_calculate, with_eval, "calculate('x + 1') raised NameError")


def test_eval_without_builtins_still_fails() -> None:
    def restricted_eval(expression):
        try:
            return eval(expression, {"__builtins__": {}}, {})
        except (NameError, SyntaxError, TypeError) as exc:
            raise ValueError(str(exc)) from None

    assert_fails(ex10.check_calculate, restricted_eval, "calculate('(2).real') returned 2", "ast.Attribute")


def test_calculator_that_allows_names_fails() -> None:
    import math

    def with_names(expression):
        tree = ast.parse(expression, mode="eval")
        for node in ast.walk(tree):
            if isinstance(
                node, ast.Call | ast.Attribute | ast.Subscript | ast.Compare | ast.Lambda | ast.List
            ):
                raise ValueError("not arithmetic")
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                raise ValueError("not arithmetic")
        namespace = {"x": 1, "two": 2, "plus": 0, "pi": math.pi}
        return eval(compile(tree, "<calc>", "eval"), {"__builtins__": {}}, namespace)

    assert_fails(ex10.check_calculate, with_names, "calculate('x + 1') returned 2", "ast.Name")


def test_calculator_without_unary_minus_fails() -> None:
    def no_unary(expression):
        if "-" in expression.replace(" - ", ""):
            raise ValueError("unary minus is not supported")
        return calculate_ok(expression)

    assert_fails(ex10.check_calculate, no_unary, "('-3 + 5') raised ValueError")


def test_loop_reporting_only_the_last_calls_tokens_fails() -> None:
    def last_call_only(provider, problem, max_iterations=8, calculator=safe_eval):
        got = solve_ok(provider, problem, max_iterations, calculator)
        last = provider.calls and len(provider.calls)
        return {**got, "tokens": _LAST[0] if last else 0}

    _LAST: list[int] = [0]

    class Spy:
        def __init__(self, inner):
            self.inner, self.calls = inner, inner.calls

        def complete(self, messages, **params):
            reply = self.inner.complete(messages, **params)
            _LAST[0] = reply.usage.total_tokens
            return reply

    def last_call_tokens(provider, problem, max_iterations=8, calculator=safe_eval):
        return last_call_only(Spy(provider), problem, max_iterations, calculator)

    assert_fails(ex10.check_solve, last_call_tokens, "tokens=322", "only the last call's tokens")


def test_loop_that_ignores_the_final_answer_fails() -> None:
    def ignores_final(provider, problem, max_iterations=8, calculator=safe_eval):
        got = solve_ok(provider, problem, max_iterations, calculator)
        for _ in range(max_iterations - got["iterations"]):  # "make sure": keep asking
            provider.complete([{"role": "user", "content": "anything else?"}])
        return got

    assert_fails(ex10.check_solve, ignores_final, "must end the loop at once")


def test_loop_with_an_off_by_one_cap_fails() -> None:
    def one_extra(provider, problem, max_iterations=8, calculator=safe_eval):
        return solve_ok(provider, problem, max_iterations + 1, calculator)

    assert_fails(ex10.check_solve, one_extra, "made 4 call(s); expected exactly 3", "off-by-one")


def test_loop_that_does_not_feed_results_back_fails() -> None:
    def silent(provider, problem, max_iterations=8, calculator=safe_eval):
        messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": problem}]
        used = 0
        for i in range(1, max_iterations + 1):
            reply = provider.complete(messages)
            used += reply.usage.total_tokens
            messages.append({"role": "assistant", "content": reply.text})
            try:
                step = json.loads(reply.text)
            except json.JSONDecodeError:
                messages.append({"role": "user", "content": "That was not JSON."})
                continue
            if step["step_type"] == "final_answer":
                return {"status": "answered", "answer": step["answer"], "iterations": i, "tokens": used}
            if step.get("expression"):
                calculator(step["expression"])  # computed, but the model never hears of it
            messages.append({"role": "user", "content": "Next step."})
        return {"status": "max_iterations", "answer": None, "iterations": max_iterations, "tokens": used}

    assert_fails(ex10.check_solve, silent, "hand back the calculator's result, 49403")


def test_loop_that_ignores_the_calculator_argument_fails() -> None:
    def own_calculator(provider, problem, max_iterations=8, calculator=safe_eval):
        return solve_ok(provider, problem, max_iterations, safe_eval)

    assert_fails(ex10.check_solve, own_calculator, "`calculator` argument")


def test_loop_that_crashes_on_prose_fails() -> None:
    def trusting(provider, problem, max_iterations=8, calculator=safe_eval):
        messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": problem}]
        used = 0
        for i in range(1, max_iterations + 1):
            reply = provider.complete(messages)
            used += reply.usage.total_tokens
            step = json.loads(reply.text)  # the model always writes JSON, surely
            messages.append({"role": "assistant", "content": reply.text})
            if step["step_type"] == "final_answer":
                return {"status": "answered", "answer": step["answer"], "iterations": i, "tokens": used}
            value = calculator(step["expression"]) if step.get("expression") else None
            messages.append({"role": "user", "content": f"Result: {value}"})
        return {"status": "max_iterations", "answer": None, "iterations": max_iterations, "tokens": used}

    assert_fails(ex10.check_solve, trusting, "first reply is prose", "JSONDecodeError")


def test_loop_with_unbounded_corrections_fails() -> None:
    def corrections_are_free(provider, problem, max_iterations=8, calculator=safe_eval):
        messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": problem}]
        used, iteration = 0, 0
        while iteration < max_iterations:
            reply = provider.complete(messages)
            used += reply.usage.total_tokens
            messages.append({"role": "assistant", "content": reply.text})
            try:
                step = StepOk.model_validate_json(reply.text)
            except ValidationError as exc:
                messages.append({"role": "user", "content": f"Invalid: {exc}"})
                continue  # not counted: a model that never writes JSON loops forever
            iteration += 1
            if step.step_type == "final_answer":
                return {"status": "answered", "answer": step.answer, "iterations": iteration, "tokens": used}
            messages.append(
                {"role": "user", "content": f"= {calculator(step.expression)}" if step.expression else "ok"}
            )
        return {"status": "max_iterations", "answer": None, "iterations": iteration, "tokens": used}

    assert_fails(ex10.check_solve, corrections_are_free, "each invalid reply against that step's corrections")


def test_loop_that_crashes_on_a_calculator_error_fails() -> None:
    def fragile(provider, problem, max_iterations=8, calculator=safe_eval, max_corrections=2):
        def strict(expression):
            try:
                return calculator(expression)
            except ValueError as exc:
                raise RuntimeError(f"calculator failed: {exc}") from exc

        return solve_ok(provider, problem, max_iterations, strict, max_corrections)

    assert_fails(ex10.check_solve, fragile, "calculator refuses", "RuntimeError")


def test_loop_that_never_calls_the_model_fails_with_a_hint() -> None:
    def lazy(provider, problem, max_iterations=8, calculator=safe_eval):
        return {"status": "answered", "answer": "42", "iterations": 0, "tokens": 0}

    assert_fails(ex10.check_solve, lazy, "without calling provider.complete")


def test_stubs_fail_with_a_hint_and_missing_names_are_reported() -> None:
    class StubStep(BaseModel):
        step: int

        @model_validator(mode="after")
        def _rules(self):
            raise NotImplementedError("check the step number and the fields each step type needs")

    assert_stubs_fail(
        {
            "10.1": ("Step", StubStep),
            "10.2": ("calculate", stub),
            "10.3": ("solve", stub),
        },
        missing="10.3",
    )
