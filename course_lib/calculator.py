"""A safe arithmetic calculator: the tool the orchestrator runs instead of trusting a model's sums (lesson 10).

A common mistake is a calculator that is ``eval(expression)``, which runs any Python a model (or a prompt injection)
writes. This one parses the expression with :mod:`ast` and evaluates only a whitelist: int and float
literals, ``+ - * / // % **``, parentheses and unary ``+``/``-``. Names, calls, attributes,
subscripts, strings, comprehensions and everything else are rejected before anything runs, and
results are kept to a bounded size so ``9 ** 9 ** 9`` fails fast instead of eating the machine.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable

__all__ = [
    "MAX_EXPRESSION_CHARS",
    "MAX_INT_BITS",
    "CalculatorError",
    "check_expression",
    "format_number",
    "normalize_expression",
    "safe_eval",
]

Number = int | float

MAX_EXPRESSION_CHARS = 500
"""Longest expression accepted; arithmetic a model needs is far shorter."""
MAX_INT_BITS = 4096
"""Largest integer (in bits, about 1,230 decimal digits) any literal or intermediate result may have."""
_MAX_NODES = 200

_BINARY: dict[type[ast.operator], Callable[[Number, Number], Number]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[Number], Number]] = {ast.UAdd: operator.pos, ast.USub: operator.neg}
_SYMBOLS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%"}
_TRANSLATE = str.maketrans({"×": "*", "÷": "/", "−": "-", "^": "**"})


class CalculatorError(ValueError):
    """The expression is not plain arithmetic, or evaluating it failed (lesson 10)."""


def normalize_expression(expression: str) -> str:
    """Map the symbols people and models write (× ÷ − ^) to Python's (lesson 10)."""
    return expression.translate(_TRANSLATE).strip()


def _describe(node: ast.AST) -> str:
    try:
        text = ast.unparse(node)
    except Exception:  # pragma: no cover - unparse handles every node ast.parse produces
        text = type(node).__name__
    return text if len(text) <= 40 else text[:39] + "…"


def _reject(node: ast.AST) -> CalculatorError:
    kinds = {
        ast.Name: "names/variables are not allowed",
        ast.Call: "function calls are not allowed",
        ast.Attribute: "attribute access is not allowed",
        ast.Subscript: "subscripts are not allowed",
        ast.List: "lists are not allowed",
        ast.Tuple: "tuples are not allowed",
        ast.Compare: "comparisons are not allowed",
        ast.BoolOp: "'and'/'or' are not allowed",
    }
    for kind, message in kinds.items():
        if isinstance(node, kind):
            return CalculatorError(
                f"{message} ({_describe(node)!r}); write plain numbers and + - * / // % **"
            )
    if isinstance(node, ast.BinOp | ast.UnaryOp):
        op = type(node.op).__name__
        return CalculatorError(f"operator {op} is not allowed; use + - * / // % ** and parentheses")
    return CalculatorError(
        f"{type(node).__name__} ({_describe(node)!r}) is not arithmetic; use numbers, + - * / // % ** "
        "and parentheses only"
    )


def _parse(expression: str) -> ast.Expression:
    if not isinstance(expression, str):
        raise CalculatorError(f"expression must be a string, got {type(expression).__name__}")
    text = normalize_expression(expression)
    if not text:
        raise CalculatorError("expression is empty; give an arithmetic expression such as '240 * 0.15'")
    if len(text) > MAX_EXPRESSION_CHARS:
        raise CalculatorError(
            f"expression is {len(text)} characters long; the limit is {MAX_EXPRESSION_CHARS}"
        )
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        detail = exc.msg if isinstance(exc, SyntaxError) else str(exc) or type(exc).__name__
        raise CalculatorError(f"cannot parse {text!r}: {detail}") from None
    nodes = list(ast.walk(tree))
    if len(nodes) > _MAX_NODES:
        raise CalculatorError(f"expression has {len(nodes)} parts; the limit is {_MAX_NODES}")
    for node in nodes:
        if isinstance(node, ast.Expression):
            continue
        if isinstance(node, ast.Constant):
            if type(node.value) not in (int, float):
                raise CalculatorError(f"only numbers are allowed, not {node.value!r}")
            _check_size(node.value)
        elif isinstance(node, ast.BinOp):
            if type(node.op) not in _BINARY:
                raise _reject(node)
        elif isinstance(node, ast.UnaryOp):
            if type(node.op) not in _UNARY:
                raise _reject(node)
        elif not isinstance(node, ast.operator | ast.unaryop):
            raise _reject(node)
    return tree


def check_expression(expression: str) -> str:
    """Check that ``expression`` is plain arithmetic without evaluating it; return it normalised (lesson 10)."""
    _parse(expression)
    return normalize_expression(expression)


def _check_size(value: Number) -> Number:
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise CalculatorError(
            f"result has {value.bit_length()} bits; the limit is {MAX_INT_BITS} (about 1,230 digits)"
        )
    if isinstance(value, float) and not math.isfinite(value):
        raise CalculatorError("result is too large to represent (overflow to infinity)")
    return value


def _show(value: Number) -> str:
    return f"({value})" if value < 0 else str(value)


def _power(base: Number, exponent: Number) -> Number:
    # |base| ** exponent needs at least (bit_length - 1) * exponent bits: refuse before computing.
    big = isinstance(base, int) and isinstance(exponent, int) and exponent > 0 and abs(base) > 1
    if big and (base.bit_length() - 1) * exponent > MAX_INT_BITS:  # type: ignore[union-attr]
        raise CalculatorError(
            f"{_show(base)} ** {exponent} is too large; results are limited to {MAX_INT_BITS} bits"
        )
    result = operator.pow(base, exponent)
    if isinstance(result, complex):
        raise CalculatorError(f"{_show(base)} ** {_show(exponent)} is not a real number")
    return result


def _eval(node: ast.AST) -> Number:
    if isinstance(node, ast.Expression):
        return _eval(node.body)
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.UnaryOp):
        return _UNARY[type(node.op)](_eval(node.operand))
    assert isinstance(node, ast.BinOp)  # _parse admitted nothing else
    left, right = _eval(node.left), _eval(node.right)
    op = type(node.op)
    try:
        if op is ast.Pow:
            return _check_size(_power(left, right))
        return _check_size(_BINARY[op](left, right))
    except ZeroDivisionError:
        raise CalculatorError(
            f"division by zero in {_show(left)} {_SYMBOLS.get(op, '**')} {_show(right)}"
        ) from None
    except OverflowError:
        raise CalculatorError("result is too large to represent as a float") from None


def safe_eval(expression: str) -> Number:
    """Evaluate plain arithmetic safely; raise :class:`CalculatorError` for anything else (lesson 10).

    >>> safe_eval("1000 * (1 + 0.05 / 12) ** (12 * 2)")
    1104.941335558327
    """
    tree = _parse(expression)
    try:
        return _eval(tree)
    except RecursionError:
        raise CalculatorError("expression is nested too deeply") from None


def format_number(value: Number) -> str:
    """Render a calculator result exactly and deterministically (``repr`` for floats) (lesson 10)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected an int or float, got {type(value).__name__}")
    return str(value) if isinstance(value, int) else repr(value)
