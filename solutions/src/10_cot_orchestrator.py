# %% [markdown]
# # Exercise 10 · Build a chain-of-thought orchestrator
#
# Three pieces of the lesson's orchestrator (`notebooks/10_cot_orchestrator.ipynb`): the schema every step
# must fit, a calculator that cannot run code, and the loop that ties them to a model. Complete each piece
# where it says so, run its `check(...)` cell for instant feedback, and grade the whole notebook with
# `course grade exercises/10_cot_orchestrator.ipynb`. The checks drive your code with many cases and with
# scripted models, so any correct implementation passes, and each failure says what was called, what came
# back and what was expected. Use pydantic and the standard library only.

# %% tags=["parameters"]
MAX_ITERATIONS = 8

# %%
import ast
import json
import operator
from typing import Literal

from pydantic import BaseModel, model_validator

from course_lib.grading import check

# %% [markdown]
# ## 10.1 The step schema
#
# Every reply of the model must be one JSON object that fits `Step`. The fields and their types are given;
# write the validator that checks what the types alone cannot:
#
# - `step` is a positive step number (1, 2, 3, …): 0 and negative numbers are invalid;
# - a `calculate` step needs a non-empty `expression` (the calculator has nothing to run otherwise);
# - a `final_answer` step needs a non-empty `answer`.
#
# Nothing else is required: `analyze` and `verify` steps may have an `expression` or not. Raise `ValueError`
# with a message the model can act on; pydantic turns it into a `ValidationError` (itself a `ValueError`).
# A naive schema has none of these rules, and a `next_step_needed` flag that can contradict the step
# type; here `final_answer` is the one signal that ends the loop.

# %%
class Step(BaseModel):
    """One reasoning step as the model must write it."""

    step: int
    step_type: Literal["analyze", "calculate", "verify", "final_answer"]
    thought: str
    expression: str | None = None
    answer: str | None = None

    @model_validator(mode="after")
    def _fits_its_type(self) -> "Step":
        # BEGIN SOLUTION: check the step number and the fields each step type needs
        if self.step < 1:
            raise ValueError(f"step must be 1 or more, not {self.step}")
        if self.step_type == "calculate" and not self.expression:
            raise ValueError("a calculate step needs an 'expression' for the calculator")
        if self.step_type == "final_answer" and not self.answer:
            raise ValueError("a final_answer step needs a non-empty 'answer'")
        return self
        # END SOLUTION


# %%
check("10.1", Step)

# %% [markdown]
# ## 10.2 A calculator that cannot run code
#
# A common mistake is a calculator that is `eval(expression)`: whatever the model writes, Python runs, including
# `__import__('os').system(...)`. Write `calculate(expression)` that evaluates **plain arithmetic only**:
#
# - int and float numbers, `+ - * / // % **`, parentheses, and unary `-` / `+`;
# - anything else raises `ValueError`: names (`x + 1`), calls (`abs(-2)`), attributes (`(2).real`), strings,
#   lists, comparisons, text that is not Python at all;
# - division by zero raises `ValueError` (or `ZeroDivisionError`).
#
# Hint: `ast.parse(expression, mode="eval")` gives a tree; evaluate it yourself, node by node, and refuse
# every kind of node you did not plan for. The lesson's `course_lib.calculator` also limits huge powers
# such as `9 ** 9 ** 9`; that is not required here.

# %%
def calculate(expression: str) -> int | float:
    """The value of a plain arithmetic expression; ValueError for anything else."""
    # BEGIN SOLUTION: parse with ast, evaluate only numbers, arithmetic operators and parentheses
    binary = {
        ast.Add: operator.add,
        ast.Sub: operator.sub,
        ast.Mult: operator.mul,
        ast.Div: operator.truediv,
        ast.FloorDiv: operator.floordiv,
        ast.Mod: operator.mod,
        ast.Pow: operator.pow,
    }
    unary = {ast.USub: operator.neg, ast.UAdd: operator.pos}

    def value(node: ast.AST) -> int | float:
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            return node.value
        if isinstance(node, ast.UnaryOp) and type(node.op) in unary:
            return unary[type(node.op)](value(node.operand))
        if isinstance(node, ast.BinOp) and type(node.op) in binary:
            try:
                return binary[type(node.op)](value(node.left), value(node.right))
            except ZeroDivisionError:
                raise ValueError("division by zero") from None
        raise ValueError(f"not plain arithmetic: {ast.unparse(node)!r}")

    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"cannot parse {expression!r}: {exc.msg}") from None
    return value(tree.body)
    # END SOLUTION


# %%
check("10.2", calculate)

# %% [markdown]
# ## 10.3 The loop, and when it stops
#
# Write `solve(provider, problem, max_iterations=MAX_ITERATIONS, calculator=calculate, max_corrections=2)`,
# the agent loop:
#
# 1. Start the conversation with the `SYSTEM` message below and a user message holding the `problem`.
# 2. Each call, `reply = provider.complete(messages)`, appends `reply.text` to the conversation as an
#    `assistant` message. An **iteration** is one accepted step: a reply that is a valid `Step`.
# 3. If the reply is not a valid step (not a JSON object, or not a valid `Step`), it is a **correction**:
#    append a `user` message that says what was wrong and call again. A correction does not use up an
#    iteration (charging an iteration per correction is the bug lesson 10 warns about: a few bad replies
#    would end the run before the model has taken its steps). Each step may have at most
#    `max_corrections` corrections; when an invalid reply comes and they have run out, stop with `status`
#    `"invalid_output"` and answer `None`. The count starts again at each accepted step.
# 4. A `final_answer` step ends the loop at once: return `status` `"answered"` and its `answer`.
# 5. A step with an `expression` (a `calculate` step, or a `verify` step with one) goes to
#    `calculator(expression)`. Append a `user` message with the result, written exactly as the calculator
#    returned it (`str(value)`), so the model uses the calculator's number instead of its own. If the
#    calculator raises `ValueError`, put the error message in that user message instead; don't crash.
# 6. After `max_iterations` accepted steps without a final answer, stop with `status` `"max_iterations"`
#    and answer `None`.
#
# Return a dict: `"status"`, `"answer"`, `"iterations"` (accepted steps) and `"tokens"`: the tokens of the
# **whole run**, every call's `reply.usage.total_tokens` added up, corrections included. (A common mistake
# is to report only the last call's tokens, which under-counts a seven-step run several times over.)

# %%
SYSTEM = (
    "You solve problems one step at a time. Reply with exactly one JSON object per message: "
    '{"step": <1, 2, ...>, "step_type": "analyze" | "calculate" | "verify" | "final_answer", '
    '"thought": "...", "expression": "<plain arithmetic, for calculate>", "answer": "<for final_answer>"}. '
    "Never do arithmetic yourself: put it in expression and use the calculator's result."
)


def solve(
    provider, problem: str, max_iterations: int = MAX_ITERATIONS, calculator=calculate, max_corrections: int = 2
) -> dict:
    """Run the agent loop until a final answer, max_iterations accepted steps or too many corrections."""
    # BEGIN SOLUTION: the loop: call, validate (correct within a budget), stop on a final answer, calculate
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": f"Problem: {problem}"}]
    tokens = iterations = corrections = 0
    while iterations < max_iterations:
        reply = provider.complete(messages)
        tokens += reply.usage.total_tokens
        messages.append({"role": "assistant", "content": reply.text})
        try:
            step = Step.model_validate_json(reply.text)
        except ValueError as exc:
            if corrections == max_corrections:
                return {"status": "invalid_output", "answer": None, "iterations": iterations, "tokens": tokens}
            corrections += 1
            messages.append({"role": "user", "content": f"Your reply is not a valid step: {exc}\nReply with one JSON object."})
            continue
        iterations += 1
        corrections = 0
        if step.step_type == "final_answer":
            return {"status": "answered", "answer": step.answer, "iterations": iterations, "tokens": tokens}
        if step.expression:
            try:
                feedback = f"Calculator: {step.expression} = {calculator(step.expression)}"
            except ValueError as exc:
                feedback = f"The calculator could not evaluate {step.expression!r}: {exc}"
        else:
            feedback = "Go on with the next step."
        messages.append({"role": "user", "content": f"{feedback}\nReply with step {step.step + 1}."})
    return {"status": "max_iterations", "answer": None, "iterations": iterations, "tokens": tokens}
    # END SOLUTION


# %%
check("10.3", solve)

# %% [markdown]
# ### Your loop on a scripted run
#
# A scripted model (written by the course, not a real one) solves the lesson's discount problem; each reply
# reports 300 prompt and 40 completion tokens. Your loop should answer after three calls and count the
# tokens of all three.

# %%
from course_lib.providers.base import ChatResult, Choice, Usage
from course_lib.providers.scripted import ScriptedProvider


def scripted(text: str) -> ChatResult:
    return ChatResult(choices=[Choice(text=text)], usage=Usage(prompt_tokens=300, completion_tokens=40))


replies = [
    {"step": 1, "step_type": "calculate", "thought": "Before the discount.", "expression": "3 * 25"},
    {"step": 2, "step_type": "calculate", "thought": "20% off the 75.", "expression": "75 * (1 - 0.20)"},
    {"step": 3, "step_type": "final_answer", "thought": "From the calculator.", "answer": "$60.00"},
]
provider = ScriptedProvider([scripted(json.dumps(r)) for r in replies])
print(solve(provider, "If I buy 3 shirts at $25 each and get 20% discount, what do I pay?"))
